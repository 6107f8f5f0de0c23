#!/usr/bin/env bash
# benchmarks/gpu/check.sh: builds the LibTorch-only core and gpu_check with CMake (CMakeLists.txt, -O2, parallel
# make) and runs the check: float64 parity of the three training steps on the device against the CPU, the float32
# (and with --bf16, bf16 autocast) error of each, images/s and peak memory of the joint and stage-1 steps.
# Results: gpu_check.json and gpu_check.md in --out, with the build time added to the markdown.
#
#   benchmarks/gpu/check.sh --device=cuda --bf16 --out=results   # a GPU machine: paper networks
#   benchmarks/gpu/check.sh --device=cpu                         # the CPU mode: small networks
#
# LibTorch: $LIBTORCH_PREFIX (a folder find_package(Torch) searches) if set, else python3's torch if it has one
# (a pip PyTorch: torch.utils.cmake_prefix_path, and its C++ ABI), else CMake's default paths (Debian's
# libtorch-dev). The build folder ($GCL_CHECK_BUILD_DIR, default $TMPDIR/gcl-gpu-check-build) is reused, so a
# second run rebuilds only what changed. Other arguments go to gpu_check (--help lists them). Needs cmake and a
# C++17 compiler; no Bazel, CAF, OpenCV, protobuf or glog. Exit status: gpu_check's (1: parity failed).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
device=cuda
out=$PWD/gpu-check-results
build=${GCL_CHECK_BUILD_DIR:-${TMPDIR:-/tmp}/gcl-gpu-check-build}
jobs=$(nproc 2>/dev/null || echo 2)
args=()
for arg in "$@"; do
  case $arg in
    --device=*) device=${arg#--device=} ;;
    --out=*) out=${arg#--out=} ;;
    --build-dir=*) build=${arg#--build-dir=} ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) args+=("$arg") ;;
  esac
done

die() {
  echo "check.sh: $*" >&2
  exit 2
}
command -v cmake >/dev/null || die "cmake not found (Debian: apt-get install cmake; ./bazelw installs it)"
mkdir -p "$out"
out=$(cd "$out" && pwd)

cmake_args=(-S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release)
if [[ -n ${LIBTORCH_PREFIX:-} ]]; then
  cmake_args+=("-DCMAKE_PREFIX_PATH=$LIBTORCH_PREFIX")
  echo "check.sh: LibTorch from LIBTORCH_PREFIX=$LIBTORCH_PREFIX"
elif python3 -c 'import torch' >/dev/null 2>&1; then
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  # A pip wheel's LibTorch may use either libstdc++ string ABI; everything linked with it must use the same one.
  abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix" "-DCMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=$abi")
  echo "check.sh: LibTorch from python3's torch $(python3 -c 'import torch; print(torch.__version__)') ($prefix, C++11 ABI $abi)"
else
  echo "check.sh: LibTorch from CMake's default paths (Debian's libtorch-dev)"
fi

start=$SECONDS
cmake "${cmake_args[@]}" >"$out/cmake.log" 2>&1 || { cat "$out/cmake.log" >&2; die "cmake configure failed (log: $out/cmake.log)"; }
grep -E '^-- (LibTorch|Peak CUDA memory)' "$out/cmake.log" || true
cmake --build "$build" -j "$jobs" >>"$out/cmake.log" 2>&1 || {
  tail -50 "$out/cmake.log" >&2
  die "build failed (log: $out/cmake.log)"
}
build_seconds=$((SECONDS - start))
echo "check.sh: built gpu_check in ${build_seconds} s with ${jobs} parallel jobs ($build)"

name=""
if [[ $device == cuda* ]] && command -v nvidia-smi >/dev/null; then
  index=${device#cuda}
  index=${index#:}
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader -i "${index:-0}" 2>/dev/null | head -1 || true)
fi

start=$SECONDS
rc=0
"$build/gpu_check" "--device=$device" "--out=$out" ${name:+"--device-name=$name"} "${args[@]}" || rc=$?
run_seconds=$((SECONDS - start))
if [[ -f $out/gpu_check.md ]]; then
  printf '\nBuilt by benchmarks/gpu/check.sh in %d s (cmake, %d parallel jobs); the check ran %d s.\n' \
    "$build_seconds" "$jobs" "$run_seconds" >>"$out/gpu_check.md"
fi
echo "check.sh: build ${build_seconds} s, check ${run_seconds} s, exit status ${rc}; results in $out"
exit "$rc"
