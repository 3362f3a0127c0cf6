#!/usr/bin/env bash
# The two-stage GPU recipe of the procedural-data experiment (training/results/procedural/):
# each stage fits a 10-minute GPU call; then ONNX export and both evals.
#
#   bash training/reproduce.sh CONFIG [DATA_DIR] [STAGE...]
#     CONFIG   small_procedural (D=64) | base (D=192): training/configs/CONFIG.yaml
#     DATA_DIR the shared npz files (+ deepmimic_motions/); default ../shared/data
#     STAGE    any of 1 2 export eval (default: all, in order)
#
# Stage 1: batch 2048, lr 1e-3, cosine to min_lr over $MINUTES (7.5) min. Stage 2 continues
# from stage 1's best weights: batch 4096, peak lr 5e-4, cosine over $MINUTES min.
# How the experiment ran (H100 80GB): stage 1 of both configs side by side (MINUTES=7.2);
# stage 2 of base alone after small_procedural's stage 2 ran out of GPU memory beside it
# (MINUTES=6.3), then small_procedural's stage 2 alone (MINUTES=5.2). Steps reached are in
# runs/<CONFIG>_s*/summary.json and the results README.
# The shipped lfm3d_small comes from training/reproduce_small.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: reproduce.sh CONFIG [DATA_DIR] [STAGE...]}
DATA=${2:-../shared/data}
shift $(( $# >= 2 ? 2 : 1 ))
STAGES=${*:-1 2 export eval}
PY=${PYTHON:-python3}
MINUTES=${MINUTES:-7.5}
T="$PY -m training.train --config training/configs/$MODEL.yaml --device cuda --data-dir $DATA"
S1=runs/${MODEL}_s1
S2=runs/${MODEL}_s2
for stage in $STAGES; do
  echo "== $MODEL stage $stage ($(date -u +%H:%M:%S))"
  case $stage in
    1) $T --out-dir "$S1" --time-budget-min "$MINUTES" ;;
    2) $T --out-dir "$S2" --init-from "$S1/best.safetensors" --batch-size 4096 --lr 5e-4 \
          --warmup-steps 50 --eval-every 250 --time-budget-min "$MINUTES" ;;
    export) $PY -m training.export_onnx --checkpoint "$S2/best" --output "$S2/lfm3d_$MODEL.onnx" --check ;;
    eval)
      E="$PY -m training.eval --checkpoint $S2/best --device cuda --data-dir $DATA --samples 1024"
      $E --out "$S2/eval" --baseline-steps 1500 --transfer-steps 1500 --transfer-preset small \
         --transfer-batch-size 256 --transfer-minutes 0.6
      $E --out "$S2/eval_clean" --clean --baseline-steps 1500 --transfer-steps 0 --no-figures ;;
    *) echo "reproduce.sh: unknown stage $stage (1 2 export eval)" >&2; exit 2 ;;
  esac
done
echo "ship: copy $S2/{lfm3d_$MODEL.onnx,best.safetensors,best.json} to lfm3d_net/models/lfm3d_$MODEL.{onnx,safetensors,json}"
