#!/usr/bin/env bash
# The paper's Table 3 (loss ablation) on a small world: every row trains stages 2 and 3 with //tools/train:train
# from ONE shared stage-1 E_id (model.identity_init, run.warmup_epochs 0), so the rows differ only in the losses
# of stage 3; then the rows' summary.json files are gathered into a markdown table (docs/ablations.md).
#
#   nice -n 10 benchmarks/e2e/ablation.sh --init=runs/quick/export/eid_stage1.safetensors
#   benchmarks/e2e/ablation.sh --init=FILE --rows=l_vi,l_vi_prime -- --set run.joint_epochs=5
#   benchmarks/e2e/ablation.sh --table-only          # the table from the rows already in --out
#
# Rows (names for --rows; default order: the per-term rows first, then the others):
#   l_vi          L_gan + L_vi                     ablation.view_invariant_terms=L_VI
#   l_vi_prime    L_gan + L_vi + L'_vi             ablation.view_invariant_terms=L_VI_PRIME
#   gan_only      L_gan (generation only)          ablation.joint_mode=GENERATION_ONLY
#   contrast      L_vi^woGAN (contrast only)       ablation.joint_mode=CONTRAST_ONLY, no stage 2
#   contrast_tda  L_vi^woGAN + TDA                 ... + ablation.contrast_only_augmentation=true
#   full          L_gan + L_vi + L'_vi + L''_vi    ablation.view_invariant_terms=ALL (GCL)
#
# Options: --init=FILE (the stage-1 E_id; required unless --table-only), --config=NAME (preset, default quick),
# --out=DIR (run.output_dir, default runs/ablation), --seed=N (run.seed, default 1), --rows=a,b,..., --force (run
# a row again although its summary.json exists), --table-only; arguments after `--` go to every train run.
# A row whose <out>/<row>/summary.json exists is kept, so an interrupted study continues where it stopped.
# Writes <out>/<row>.log per row and <out>/table.md; prints the table.
#
# Stage 2 is shared too: it does not depend on the ablation switches (E_id frozen, no view-invariant loss), so
# the first GAN row trained keeps its checkpoint at the end of stage 2 (<out>/stage2/), and every later GAN row
# starts from a copy of it with --resume, which continues exactly as the uninterrupted run would
# (docs/ARCHITECTURE.md, "Checkpoints and resume"). That saves a stage 2 per row.
set -euo pipefail

cd "$(dirname "$0")/../.."
readonly ALL_ROWS=(l_vi l_vi_prime gan_only contrast contrast_tda full)

init="" config="quick" out="runs/ablation" seed=1 rows="" force=0 table_only=0
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --init=*) init="${1#*=}" ;;
    --config=*) config="${1#*=}" ;;
    --out=*) out="${1#*=}" ;;
    --seed=*) seed="${1#*=}" ;;
    --rows=*) rows="${1#*=}" ;;
    --force) force=1 ;;
    --table-only) table_only=1 ;;
    --help|-h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "ablation.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

selected=()
if [[ -n "$rows" ]]; then
  IFS=',' read -r -a selected <<< "$rows"
  for r in "${selected[@]}"; do
    [[ " ${ALL_ROWS[*]} " == *" $r "* ]] || { echo "ablation.sh: --rows: unknown row '$r' (${ALL_ROWS[*]})" >&2; exit 2; }
  done
else
  selected=("${ALL_ROWS[@]}")
fi

# Tab. 3 label and the --set flags of each row.
label() {
  case "$1" in
    l_vi) echo "L_gan + L_vi" ;;
    l_vi_prime) echo "L_gan + L_vi + L'_vi" ;;
    gan_only) echo "L_gan (generation only)" ;;
    contrast) echo "L_vi^woGAN (contrast only)" ;;
    contrast_tda) echo "L_vi^woGAN + TDA" ;;
    full) echo "L_gan + L_vi + L'_vi + L''_vi (GCL)" ;;
  esac
}
flags() {
  case "$1" in
    l_vi) echo "--set ablation.view_invariant_terms=L_VI" ;;
    l_vi_prime) echo "--set ablation.view_invariant_terms=L_VI_PRIME" ;;
    gan_only) echo "--set ablation.joint_mode=GENERATION_ONLY" ;;
    # No GAN in stage 3, so no stage 2 either (the config allows 0 epochs for CONTRAST_ONLY).
    contrast) echo "--set ablation.joint_mode=CONTRAST_ONLY --set run.gan_warmup_epochs=0" ;;
    contrast_tda)
      echo "--set ablation.joint_mode=CONTRAST_ONLY --set run.gan_warmup_epochs=0 --set ablation.contrast_only_augmentation=true"
      ;;
    full) echo "--set ablation.view_invariant_terms=ALL" ;;
  esac
}

mkdir -p "$out"
if [[ $table_only -eq 0 ]]; then
  [[ -n "$init" ]] || { echo "ablation.sh: --init=FILE (a stage-1 E_id, e.g. runs/quick/export/eid_stage1.safetensors) is required" >&2; exit 2; }
  [[ -f "$init" ]] || { echo "ablation.sh: --init: no file '$init'" >&2; exit 2; }
  init="$(cd "$(dirname "$init")" && pwd)/$(basename "$init")"
  ./bazelw build //tools/train:train
  for row in "${selected[@]}"; do
    if [[ $force -eq 0 && -f "$out/$row/summary.json" ]] && grep -q '"completed": true' "$out/$row/summary.json"; then
      echo "== $row: done before ($out/$row/summary.json), skipped"
      continue
    fi
    rm -rf "${out:?}/$row"  # a half-finished row starts over: its checkpoints belong to an older attempt
    # shellcheck disable=SC2046  # flags() is a list of words
    cmd=(bazel-bin/tools/train/train --config="$config" --set run.name="$row" --set run.output_dir="$out"
         --set run.seed="$seed" --set model.identity_init="$init" --set run.warmup_epochs=0 $(flags "$row"))
    gan_row=0
    [[ "$(flags "$row")" != *CONTRAST_ONLY* ]] && gan_row=1
    if [[ $gan_row -eq 1 && -f "$out/stage2/checkpoints/LATEST" ]]; then
      # No config.pbtxt in the copy: --resume then takes this row's own flags, not those of the stage-2 donor.
      mkdir -p "$out/$row" && cp -r "$out/stage2/checkpoints" "$out/$row/"
      cmd+=(--resume)
    elif [[ $gan_row -eq 1 ]]; then
      cmd+=(--set run.keep_checkpoints=100)  # keeps the stage-2 checkpoint for the rows after this one
    fi
    cmd+=("${extra[@]}")
    echo "== $row: ${cmd[*]}"
    start=$(date +%s)
    if ! "${cmd[@]}" > "$out/$row.log" 2>&1; then
      echo "ablation.sh: row $row failed, see $out/$row.log:" >&2
      tail -5 "$out/$row.log" >&2
      exit 1
    fi
    echo "== $row: $(( $(date +%s) - start )) s"
    if [[ $gan_row -eq 1 && ! -f "$out/stage2/checkpoints/LATEST" ]]; then
      # The checkpoint at the end of stage 2 is named by the global step there: the steps of stages 1 and 2.
      step=$(grep -v '"phase": "joint"' "$out/$row/metrics.jsonl" | sed -n 's/.*"steps": \([0-9]*\).*/\1/p' |
             awk '{ s += $1 } END { print s + 0 }')
      name=$(printf 'checkpoint-%012d.pb' "$step")
      if [[ -f "$out/$row/checkpoints/$name" ]]; then
        mkdir -p "$out/stage2/checkpoints"
        cp "$out/$row/checkpoints/$name" "$out/stage2/checkpoints/" && printf '%s' "$name" > "$out/stage2/checkpoints/LATEST"
        cp "$out/$row/config.pbtxt" "$out/stage2/config.pbtxt"  # for the record; not read back
        echo "== stage 2 of $row kept in $out/stage2/checkpoints/$name"
      else
        echo "ablation.sh: no $out/$row/checkpoints/$name: the other GAN rows train their own stage 2" >&2
      fi
    fi
  done
fi

# One number of summary.json: the metric `name` of entry `key` (baseline, gcl_last, gcl_best), in %.
metric() {
  local v
  v=$(sed -n "s/.*\"$2\": {.*\"$3\": \([-0-9.e+]*\).*/\1/p" "$1" | head -1)
  [[ -n "$v" ]] && awk -v x="$v" 'BEGIN { printf "%.1f", 100 * x }' || echo "-"
}
field() { sed -n "s/.*\"$2\": {\"phase\": \"[a-z_]*\", \"epoch\": \([0-9]*\).*/\1/p" "$1" | head -1; }

{
  echo "| Tab. 3 row | flags (beside the common ones) | baseline mAP | mAP | rank-1 | rank-5 | mINP | best mAP (joint epoch) | clusters, last epoch |"
  echo "|---|---|---|---|---|---|---|---|---|"
  baselines=()
  for row in "${ALL_ROWS[@]}"; do
    s="$out/$row/summary.json"
    if [[ ! -f "$s" ]]; then
      echo "| $(label "$row") | \`$(flags "$row")\` | not run | | | | | | |"
      continue
    fi
    b=$(metric "$s" baseline mAP)
    [[ "$b" != "-" ]] && baselines+=("$b/$(metric "$s" baseline rank1)")
    clusters=$(grep '"phase": "joint"' "$out/$row/metrics.jsonl" | tail -1 | sed -n 's/.*"clusters": \([0-9]*\).*/\1/p')
    echo "| $(label "$row") | \`$(flags "$row")\` | $b | $(metric "$s" gcl_last mAP) | $(metric "$s" gcl_last rank1)" \
         "| $(metric "$s" gcl_last rank5) | $(metric "$s" gcl_last mINP) | $(metric "$s" gcl_best mAP) ($(field "$s" gcl_best))" \
         "| ${clusters:--} |"
  done
  echo
  echo "Common flags: \`--config=$config --set run.seed=$seed --set model.identity_init=<stage-1 E_id> --set run.warmup_epochs=0${extra[*]:+ ${extra[*]}}\`."
  echo "mAP, CMC and mINP in % on the test split after the last stage-3 epoch. Baseline: E_id as loaded, evaluated"
  echo "after stage 2 (which leaves it untouched); the contrast-only rows have no stage 2 and so no evaluation before"
  echo "stage 3 (\"-\"): they start from the same E_id."
  distinct=$(printf '%s\n' "${baselines[@]}" | sort -u | wc -l)
  if [[ ${#baselines[@]} -gt 0 && $distinct -gt 1 ]]; then
    echo
    echo "WARNING: the rows' baselines (mAP/rank-1) differ: ${baselines[*]}; they should share one stage-1 E_id."
  fi
} > "$out/table.md"
cat "$out/table.md"
