#!/usr/bin/env bash
# Reproduce the shipped CPU-default model (lfm3d_net/models/lfm3d_small.*, v12) on one GPU
# from its recipe, training/configs/small_v12.yaml: v11's weights (taken from git), then three
# cosine stages of 8.5, 8.5 and 6.2 minutes, each from the last one's final weights at a lower
# peak lr, then the ONNX export. ~23 GPU-minutes of training on an H200; each stage fits a 10-minute call.
#
# v12 was made this way (2026-12-03). v11 itself is the end of 27 earlier stages of other
# configs, from scratch (2026-11-23 .. 2026-12-03); that chain is not replayed here: it lives
# in git, `git show ff5b39c:training/reproduce_small.sh` with its configs at the same commit.
# Training on other GPUs, PyTorch versions or data orders gives a model within noise of v12,
# not the same bits; check it with the evaluation in docs/training.md.
#
#   bash training/reproduce_small.sh [DATA_DIR]   # DATA_DIR: the shared npz files (+ deepmimic_motions/)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
PY=${PYTHON:-python3}
V11=runs/v11/lfm3d_small_v11   # the config's init_from
mkdir -p runs/v11
for ext in safetensors json; do    # v11 as shipped (commit 74fc92f, the last before v12)
  git show "74fc92f:lfm3d_net/models/lfm3d_small.$ext" > "$V11.$ext"
done
T="$PY -m training.train --config training/configs/small_v12.yaml --device cuda --data-dir $DATA"
$T --time-budget-min 8.5                                                                     # stage 1, lr 3e-5
$T --init-from runs/small_v12/last.safetensors --lr 2e-5 --out-dir runs/small_v12b --time-budget-min 8.5
$T --init-from runs/small_v12b/last.safetensors --lr 1.5e-5 --out-dir runs/small_v12c --time-budget-min 6.2
$PY -m training.export_onnx --checkpoint runs/small_v12c/best --output runs/small_v12c/lfm3d_small.onnx --check
echo "to ship: copy runs/small_v12c/{lfm3d_small.onnx,best.safetensors,best.json}" \
     "to lfm3d_net/models/lfm3d_small.{onnx,safetensors,json}"
