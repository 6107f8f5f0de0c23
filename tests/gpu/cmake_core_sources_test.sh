#!/usr/bin/env bash
# CMakeLists.txt builds exactly the .cc files of the Bazel targets it mirrors (//tests/gpu:core_sources, from
# Bazel's own dependency graph), and those targets depend on nothing but LibTorch: the CMake build must work
# where LibTorch is the only library installed.
set -euo pipefail

readonly CORE_SOURCES=$1 CMAKE_LISTS=$2

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

bazel_sources=$(sed -n 's/^src \(.*\.cc\)$/\1/p' "$CORE_SOURCES" | sort)
cmake_sources=$(grep -v '^ *#' "$CMAKE_LISTS" | grep -o '[A-Za-z0-9_/]*\.cc' | sort -u)
[[ -n $bazel_sources ]] || fail "no .cc files in $CORE_SOURCES"
if [[ "$bazel_sources" != "$cmake_sources" ]]; then
  diff <(echo "$bazel_sources") <(echo "$cmake_sources") >&2 || true
  fail "CMakeLists.txt's sources and the Bazel targets' differ (< Bazel, > CMakeLists.txt): add or remove them there"
fi

# Everything the targets reach is the project's own code or LibTorch; //third_party's other libraries (CAF,
# OpenCV, protobuf, glog, ...) and other repositories are not available where the CMake build runs.
others=$(sed -n 's/^dep //p' "$CORE_SOURCES" | grep -v -e '^//[a-z_]*[a-z_/]*:' -e '^@libtorch//:torch$' || true)
third_party=$(sed -n 's/^dep //p' "$CORE_SOURCES" | grep '^//third_party:' | grep -v '^//third_party:torch$' || true)
[[ -z $others && -z $third_party ]] || fail "the core depends on more than LibTorch: $others $third_party"
echo "PASS: $(echo "$bazel_sources" | wc -l) sources in both; dependencies: LibTorch only"
