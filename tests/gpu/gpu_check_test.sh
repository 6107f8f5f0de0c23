#!/usr/bin/env bash
# gpu_check's CPU mode as benchmarks/gpu/check.sh --device=cpu runs it, and the same check on the tests'
# stand-in second device (xpu:0), where any tensor the check leaves on the CPU fails the run.
set -euo pipefail

readonly GPU_CHECK=$1 ON_STAND_IN=$2
readonly TMP=${TEST_TMPDIR:-$(mktemp -d)}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Runs the check into $TMP/<name> and checks its outputs, `rows` throughput rows among them; the remaining
# arguments go to the program.
run_check() {
  local name=$1 binary=$2 rows=$3
  shift 3
  local out="$TMP/$name"
  mkdir -p "$out"
  local rc=0
  "$binary" --size=small --out="$out" "$@" >"$out/log" 2>&1 || rc=$?
  cat "$out/log"
  ((rc == 0)) || fail "$name: gpu_check exited with $rc"
  local json="$out/gpu_check.json" md="$out/gpu_check.md"
  [[ -s $json && -s $md ]] || fail "$name: gpu_check.json or gpu_check.md missing"
  grep -q '"passed": true' "$json" || fail "$name: parity did not pass"
  grep -q '"ok": false' "$json" && fail "$name: a parity value is not ok"
  # Three steps' values were compared: the contrast step's loss, the GAN step's and the joint step's losses.
  for value in '"value": "loss"' '"value": "d_r1"' '"value": "vi_cluster_original"' '"value": "grad_norm E_id"'; do
    grep -q "$value" "$json" || fail "$name: no $value in the parity values"
  done
  # Two steps x the batch sizes (x two precisions with --bf16) of throughput, each with a positive rate.
  local rates
  rates=$(grep -c '"images_per_second": [0-9]*\.*[0-9]*[1-9]' "$json" || true)
  ((rates == rows)) || fail "$name: expected $rows throughput rows with images/s > 0, found $rates"
  grep -q '^## Parity: passed' "$md" || fail "$name: gpu_check.md does not say the parity passed"
  echo "$name: ok"
}

run_check cpu "$GPU_CHECK" 8 --device=cpu --bf16
grep -q '"precision": "bf16 autocast"' "$TMP/cpu/gpu_check.json" || fail "cpu: no bf16 autocast throughput"
grep -q '"device_bf16_autocast": {' "$TMP/cpu/gpu_check.json" || fail "cpu: no bf16 autocast error"
run_check stand_in "$ON_STAND_IN" 2 --device=xpu --batches=4 --steps=1 --warmup=1
grep -q '"device": "xpu:0"' "$TMP/stand_in/gpu_check.json" || fail "stand_in: the check did not run on xpu:0"

# A device LibTorch does not have is refused with exit status 2 and a message.
rc=0
"$GPU_CHECK" --device=xpu --out="$TMP/none" >"$TMP/none.log" 2>&1 || rc=$?
((rc == 2)) || fail "--device=xpu without a backend: exit status $rc, expected 2"
grep -q "has no xpu backend" "$TMP/none.log" || fail "--device=xpu: unexpected message: $(cat "$TMP/none.log")"
echo "PASS"
