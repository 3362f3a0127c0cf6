#!/usr/bin/env bash
# A CPU check of the animal layouts (issue 28: a custom dog rig lifts at twice quadruped17's
# error on the real-world proxy's dog). Two arms from v12, side by side, one core each, for
# MINUTES (default 10): C on the quadrupeds and their layouts, X the same plus the animal
# layouts (quadruped_anatomy.py). Both forget every other category (quadrupeds only): this
# asks only whether the anatomy moves the dog rows, paired against C, and how far plain
# quadruped focus moves them against v12. Then the proxy, both pairs.
#   SEED=0 OUT=runs/anatomy_s0 bash training/anatomy_cpu_check.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-.device/data}
OUT=${OUT:-runs/anatomy_s${SEED:-0}}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
Q="quadruped17_synthetic quadruped17_wild $(for k in $(seq 0 15); do printf 'quadruped_layout_%02d ' "$k"; done)"
A="$(for k in $(seq 0 15); do printf 'animal_layout_%02d ' "$k"; done)"
for arm in C X; do
  S="$Q"; [ "$arm" = X ] && S="$Q $A"
  OMP_NUM_THREADS=1 $PY -m training.train --config training/configs/tiny_cpu.yaml --model-preset small \
    --set model.use_fronts=true --init-from lfm3d_net/models/lfm3d_small.safetensors --sources $S \
    --data-dir "$DATA" --batch-size 128 --steps 100000 --warmup-steps 20 --lr 5e-5 --schedule cosine \
    --time-budget-min "${MINUTES:-10}" --eval-every 500 --ckpt-every 100000 --val-batches 1 \
    --val-batch-size 64 --threads 1 --seed "${SEED:-0}" --out-dir "$OUT/$arm" > "$OUT/$arm.log" 2>&1 &
done
wait
for arm in C X; do
  tail -n 1 "$OUT/$arm.log"
  $PY -m training.export_onnx --checkpoint "$OUT/$arm/last" --output "$OUT/$arm.onnx" > /dev/null
done
R="$PY -m bench.realworld --threads 2"
$R --model lfm3d_net/models/lfm3d_small.onnx --model "$OUT/C.onnx" | tee "$OUT/v12_vs_C.md"
$R --model "$OUT/C.onnx" --model "$OUT/X.onnx" | tee "$OUT/C_vs_X.md"
