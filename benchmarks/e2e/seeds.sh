#!/usr/bin/env bash
# The seed study of docs/results.md: the same preset trained with run.seed 1, 2, 3 (network initialisation,
# batch order, augmentation and contrastive draws; the world stays the same), then one table of what each run's
# summary.json says: the warm-up baseline, GCL after its last epoch (never the best epoch chosen on test data),
# their difference, the strongest colour histogram on the same test split and GCL's ratio to it, and the
# real-footage split when the run evaluated it.
#
#   benchmarks/e2e/seeds.sh                         # quick preset, seeds 1 2 3, runs/seeds/seed{1,2,3}
#   benchmarks/e2e/seeds.sh --seeds=4,5 -- --set run.joint_epochs=4
#   benchmarks/e2e/seeds.sh --table-only
#
# Options: --config=NAME (default quick), --out=DIR (run.output_dir, default runs/seeds), --seeds=a,b,...
# (default 1,2,3), --force (train a seed again although its summary.json says completed), --table-only;
# arguments after `--` go to every train run. A seed whose run completed is kept, so an interrupted study
# continues where it stopped. Writes <out>/seed<N>.log and <out>/table.md; prints the table. Time the runs on a
# quiet machine: each prints its wall time into its report.md.
set -euo pipefail

cd "$(dirname "$0")/../.."
config="quick" out="runs/seeds" seeds="1,2,3" force=0 table_only=0
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config=*) config="${1#*=}" ;;
    --out=*) out="${1#*=}" ;;
    --seeds=*) seeds="${1#*=}" ;;
    --force) force=1 ;;
    --table-only) table_only=1 ;;
    --help|-h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "seeds.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=',' read -r -a seed_list <<< "$seeds"
for s in "${seed_list[@]}"; do
  [[ "$s" =~ ^[0-9]+$ ]] || { echo "seeds.sh: --seeds: '$s' is not a seed number" >&2; exit 2; }
done

mkdir -p "$out"
if [[ $table_only -eq 0 ]]; then
  ./bazelw build //tools/train:train
  for s in "${seed_list[@]}"; do
    name="seed$s"
    if [[ $force -eq 0 && -f "$out/$name/summary.json" ]] && grep -q '"completed": true' "$out/$name/summary.json"; then
      echo "== $name: done before ($out/$name/summary.json), skipped"
      continue
    fi
    rm -rf "${out:?}/$name"
    cmd=(bazel-bin/tools/train/train --config="$config" --set run.name="$name" --set run.output_dir="$out"
         --set run.seed="$s" "${extra[@]}")
    echo "== $name: ${cmd[*]}"
    start=$(date +%s)
    if ! "${cmd[@]}" > "$out/$name.log" 2>&1; then
      echo "seeds.sh: seed $s failed, see $out/$name.log:" >&2
      tail -5 "$out/$name.log" >&2
      exit 1
    fi
    echo "== $name: $(( $(date +%s) - start )) s"
  done
fi

# mAP (as a fraction) of entry `key` (baseline, gcl_last) of a summary.json.
map_of() { sed -n "s/.*\"$2\": {.*\"mAP\": \([-0-9.e+]*\).*/\1/p" "$1" | head -1; }
# The largest mAP among the reference entries of `split` with the given `learned` value.
reference_max() {
  grep "\"split\": \"$2\"" "$1" | grep "\"learned\": $3" | sed -n 's/.*"mAP": \([-0-9.e+]*\).*/\1/p' |
    awk 'BEGIN { m = "" } { if (m == "" || $1 > m) m = $1 } END { print m }'
}
# A reference entry's mAP by split and model name.
reference() { grep "\"split\": \"$2\", \"model\": \"$3\"" "$1" | sed -n 's/.*"mAP": \([-0-9.e+]*\).*/\1/p' | head -1; }
pct() { [[ -n "$1" ]] && awk -v x="$1" 'BEGIN { printf "%.1f", 100 * x }' || echo "-"; }
diff_pct() { [[ -n "$1" && -n "$2" ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", 100 * (a - b) }' || echo "-"; }
ratio() { [[ -n "$1" && -n "$2" ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }' || echo "-"; }

{
  echo "| seed | baseline mAP | GCL mAP | GCL - baseline | strongest histogram mAP | GCL / histogram | real footage: E_id after stage 1 / GCL / strongest histogram | wall time |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${seed_list[@]}"; do
    j="$out/seed$s/summary.json"
    if [[ ! -f "$j" ]]; then
      echo "| $s | not run | | | | | | |"
      continue
    fi
    b=$(map_of "$j" baseline) g=$(map_of "$j" gcl_last) h=$(reference_max "$j" test false)
    rb=$(reference "$j" "real footage" "E_id after stage 1") rg=$(reference "$j" "real footage" "GCL (last epoch)")
    rh=$(reference_max "$j" "real footage" false)
    wall=$(sed -n 's/.*"wall_seconds": \([0-9.]*\).*/\1/p' "$j" | awk '{ printf "%d:%02d", $1 / 60, $1 % 60 }')
    real="-"
    [[ -n "$rg" ]] && real="$(pct "$rb") / $(pct "$rg") / $(pct "$rh")"
    echo "| $s | $(pct "$b") | $(pct "$g") | $(diff_pct "$g" "$b") | $(pct "$h") | $(ratio "$g" "$h") | $real | $wall |"
  done
  echo
  echo "\`--config=$config\`${extra[*]:+ plus \`${extra[*]}\`}; mAP in % on the test split (GCL: the last stage-3 epoch)."
} > "$out/table.md"
cat "$out/table.md"
