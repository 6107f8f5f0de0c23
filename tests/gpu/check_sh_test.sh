#!/usr/bin/env bash
# benchmarks/gpu/check.sh --device=cpu from the test's runfiles: the CMake build of the core and its CPU mode.
set -euo pipefail

readonly CHECK_SH=$1 TMP=${TEST_TMPDIR:-$(mktemp -d)}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

rc=0
GCL_CHECK_BUILD_DIR="$TMP/build" "$CHECK_SH" --device=cpu --out="$TMP/out" --batches=4 --steps=1 || rc=$?
((rc == 0)) || fail "check.sh exited with $rc"
grep -q '"passed": true' "$TMP/out/gpu_check.json" || fail "parity did not pass"
grep -q '^Built by benchmarks/gpu/check.sh in [0-9]* s' "$TMP/out/gpu_check.md" || fail "no build time in gpu_check.md"
[[ -x $TMP/build/gpu_check ]] || fail "no gpu_check in the build folder"
echo "PASS"
