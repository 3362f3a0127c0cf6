#!/usr/bin/env bash
# Reproduce the shipped CPU-default model (lfm3d_net/models/lfm3d_small.*) on one GPU.
# Exactly the three stages that made it (H100, 2026-11-23), then export and both evals.
# Each stage fits a 10-minute GPU call; together ~19 min of training.
#
#   bash training/reproduce_small.sh [DATA_DIR]   # DATA_DIR: the shared npz files (+ deepmimic_motions/)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
PY=${PYTHON:-python3}
T="$PY -m training.train --config training/configs/small.yaml --device cuda --data-dir $DATA"
# 1. batch 512, paper schedule (lr 1e-3, ReduceLROnPlateau), 6.5 min
$T --out-dir runs/small --time-budget-min 6.5
# 2. continue: batch 2048, cosine to min_lr over 7 min
$T --out-dir runs/small2 --init-from runs/small/best.safetensors --batch-size 2048 \
   --schedule cosine --time-budget-min 7.0 --warmup-steps 100 --eval-every 250
# 3. continue: batch 4096, peak lr 5e-4, cosine over 5 min
$T --out-dir runs/small3 --init-from runs/small2/best.safetensors --batch-size 4096 --lr 5e-4 \
   --schedule cosine --time-budget-min 5.0 --warmup-steps 50 --eval-every 250
$PY -m training.export_onnx --checkpoint runs/small3/best --output runs/small3/lfm3d_small.onnx --check
E="$PY -m training.eval --checkpoint runs/small3/best --device cuda --data-dir $DATA --samples 1024"
$E --out runs/small3/eval --baseline-steps 1500 --transfer-steps 1500 --transfer-preset small \
   --transfer-batch-size 256 --transfer-minutes 0.6
$E --out runs/small3/eval_clean --clean --baseline-steps 1500 --transfer-steps 0 --no-figures
echo "copy runs/small3/{lfm3d_small.onnx,best.safetensors,best.json} to lfm3d_net/models/lfm3d_small.{onnx,safetensors,json}"
