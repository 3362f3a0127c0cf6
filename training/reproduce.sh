#!/usr/bin/env bash
# Multi-stage GPU recipe of the experiments after the shipped v1 model: each stage fits a
# 10-minute GPU call; then ONNX export and both evals.
#
#   bash training/reproduce.sh CONFIG [DATA_DIR] [STAGE...]
#     CONFIG   training/configs/CONFIG.yaml: small_procedural (D=64), base (D=192),
#              small_continue / small_curriculum (continue v1 = runs/small3 of reproduce_small.sh),
#              small_fronts / small_v2_continue (continue v2), small_fronts_procedural and
#              small_robots / small_robots_diverse (continue v3)
#     DATA_DIR the shared npz files (+ deepmimic_motions/ and urdf/ on a machine without pybullet:
#              python -m training.data.robots DATA_DIR); default ../shared/data
#     STAGE    any of 1 2 3 4 export eval (default: 1 2 export eval, in order)
#
# Stage 1: batch = the config's (2048), lr = LR1 (default: the config's), cosine to min_lr over
# $MINUTES (7.5) min, starting from the config's init_from if it has one. Stage k > 1
# continues from stage k-1's best weights: batch BATCH (4096), peak lr LRk (LR2 5e-4, LR3 2.5e-4,
# LR4 1.5e-4), cosine over $MINUTES min. export/eval use the last stage run (FINAL, default 2).
#
# Procedural experiment (training/results/procedural/, H100 80GB): stage 1 of small_procedural
# and base side by side (MINUTES=7.2); stage 2 of base alone after small_procedural's stage 2
# ran out of GPU memory beside it (MINUTES=6.3), then small_procedural's alone (MINUTES=5.2).
# Steps reached are in runs/<CONFIG>_s*/summary.json and the results READMEs.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: reproduce.sh CONFIG [DATA_DIR] [STAGE...]}
DATA=${2:-../shared/data}
shift $(( $# >= 2 ? 2 : 1 ))
STAGES=${*:-1 2 export eval}
FINAL=${FINAL:-2}
LR1=${LR1:-}
LR2=${LR2:-5e-4}
LR3=${LR3:-2.5e-4}
LR4=${LR4:-1.5e-4}
BATCH=${BATCH:-4096}
PY=${PYTHON:-python3}
MINUTES=${MINUTES:-7.5}
# TRAIN_ARGS: more training.train flags for every stage (e.g. --early-stop-patience 12)
T="$PY -m training.train --config training/configs/$MODEL.yaml --device cuda --data-dir $DATA ${TRAIN_ARGS:-}"
S=runs/${MODEL}_s$FINAL
for stage in $STAGES; do
  echo "== $MODEL stage $stage ($(date -u +%H:%M:%S))"
  case $stage in
    1) $T --out-dir "runs/${MODEL}_s1" ${LR1:+--lr "$LR1"} --time-budget-min "$MINUTES" ;;
    2|3|4) lr_var=LR$stage
       $T --out-dir "runs/${MODEL}_s$stage" --init-from "runs/${MODEL}_s$((stage - 1))/best.safetensors" \
          --batch-size "$BATCH" --lr "${!lr_var}" --warmup-steps 50 --eval-every 250 \
          --time-budget-min "$MINUTES" ;;
    export) $PY -m training.export_onnx --checkpoint "$S/best" --output "$S/lfm3d_$MODEL.onnx" --check ;;
    eval)
      E="$PY -m training.eval --checkpoint $S/best --device cuda --data-dir $DATA --samples 1024"
      $E --out "$S/eval" --baseline-steps 1500 --transfer-steps 1500 --transfer-preset small \
         --transfer-batch-size 256 --transfer-minutes 0.6
      $E --out "$S/eval_clean" --clean --baseline-steps 1500 --transfer-steps 0 --no-figures ;;
    *) echo "reproduce.sh: unknown stage $stage (1 2 3 4 export eval)" >&2; exit 2 ;;
  esac
done
echo "ship: copy $S/{lfm3d_$MODEL.onnx,best.safetensors,best.json} to lfm3d_net/models/lfm3d_$MODEL.{onnx,safetensors,json}"
