#!/usr/bin/env bash
# Reproduce the shipped CPU-default model (lfm3d_net/models/lfm3d_small.*, v12) on one GPU.
# Exactly the stages that made it: v1 = three stages on the named sources (~19 min), then
# v2 = four more with the procedural rigs mixed in (configs/small_curriculum.yaml, ~33 min),
# then v3 = three more with the per-keypoint front input (configs/small_fronts.yaml, ~27 min),
# v4 = two more with the robots and 1,000 procedural rigs per kind (~17 min; v1-v4 on an
# H100, 2026-11-23), v5 = three more with 13 more named sources (~23 min, H200, 2026-12-02),
# v6 = three more on v5's data with the new categories weighted up (~20 min, H200, 2026-12-02),
# v7 = one more of 20.5 min on v6's data with 4 sources per step (H200, 2026-12-02),
# v8 = one more of 24 min with bats and bipeds added and four gap categories weighted up (H200,
# 2026-12-02), v9 = one more of 24 min with every row behind its baseline weighted up by its gap
# (H200, 2026-12-02), v10 = three more of 8-8.5 min with the rows still behind weighted from
# their v9 gaps (H200, 2026-12-02/03), v11 = three more of 7.8-8.5 min weighted from v10's gaps
# (H200, 2026-12-03), v12 = three more of 6.2-8.5 min weighted from v11's gaps (H200, 2026-12-03),
# then the export. Each stage but v7's, v8's and v9's fits a 10-minute GPU
# call. The evaluation commands (CPU) are in training/results/small_v12/README.md.
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
# (v1 ran with all table8 sides 0; rigs.py names a table front since v2, commit b6da913.)
# v2: continue v1 (runs/small3/best, the config's init_from) with ~16 % procedural batches.
# Stages 1-3 ran side by side with the control arm configs/small_continue.yaml on the same
# GPU (training/results/small_v2/README.md); stage 4 alone, early-stopped at 7.6 of 8.9 min.
V2="bash training/reproduce.sh small_curriculum $DATA"
MINUTES=7.97 $V2 1
MINUTES=8.9 LR2=3e-4 $V2 2
MINUTES=7.4 LR3=2e-4 $V2 3
MINUTES=8.9 LR4=1.5e-4 $V2 4
# v3: continue v2 (runs/small_curriculum_s4/best, the config's init_from) with fronts; the new
# encoder column starts at zero. All three stages ran side by side with the control arm
# configs/small_v2_continue.yaml (training/results/small_v3/README.md).
V3="bash training/reproduce.sh small_fronts $DATA"
MINUTES=9.0 $V3 1
MINUTES=8.92 LR2=2e-4 $V3 2
MINUTES=8.83 LR3=1.5e-4 $V3 3
FINAL=3 $V3 export
# v4: continue v3 (runs/small_fronts_s3/best, the config's init_from) with the robot sources
# and 1,000 procedural rigs per kind; both stages ran side by side with arm A,
# configs/small_robots.yaml (training/results/small_v4/README.md).
V4="bash training/reproduce.sh small_robots_diverse $DATA"
MINUTES=8.5 $V4 1
MINUTES=8.08 LR2=1.5e-4 $V4 2
$V4 export
# v5: continue v4 (runs/small_robots_diverse_s2/best, the config's init_from) with 13 more named
# sources (fish, insects, reptiles, wild quadrupeds, bicycle, motorbike, sofa, bus, boat,
# monitor, laptop, box, shoe). Stages 1-2 ran side by side with arm H,
# configs/small_v5_holdout.yaml (four of the new categories held out); stage 3 alone
# (training/results/small_v5/README.md).
V5="bash training/reproduce.sh small_v5 $DATA"
MINUTES=8.0 $V5 1
MINUTES=7.6 LR2=1.5e-4 $V5 2
MINUTES=7.4 LR3=1.0e-4 $V5 3
# v6: continue v5 (runs/small_v5_s3/best, the config's init_from) on the same sources, the 13
# new ones at weight 1.0 instead of 0.6; stage 1 early-stopped on val MPJPE (patience 12, the
# default then), stages 2-3 at batch 8192 without early stop (training/results/small_v6/README.md).
V6="bash training/reproduce.sh small_v6 $DATA"
TRAIN_ARGS="--early-stop-patience 12" MINUTES=7.8 $V6 1
MINUTES=8 BATCH=8192 LR2=8e-5 $V6 2
MINUTES=9 BATCH=8192 LR3=5e-5 $V6 3
# v7: continue v6 (runs/small_v6_s3/best, the config's init_from) on the same data, 4 sources
# per step at batch 16384, one 20.5-min cosine stage (it ran in the background across three
# GPU calls), side by side with the k = 1 control arm (training/results/small_v7/README.md).
$PY -m training.train --config training/configs/small_v7.yaml --device cuda --data-dir "$DATA" \
    --sources-per-step 4 --out-dir runs/small_v7_k4 --time-budget-min 20.5
# v8: continue v7 (runs/small_v7_k4/best, the config's init_from) with bat16 and biped17 added,
# laptop, fish, box and insect weighted up; one 24-min cosine stage, alone on the GPU (started
# with training/background.sh and waited on across three GPU calls; training/results/small_v8/).
$PY -m training.train --config training/configs/small_v8.yaml --device cuda --data-dir "$DATA" \
    --time-budget-min 24
# v9: continue v8 (runs/small_v8/best, the config's init_from) on v8's data, each row still behind
# its per-rig baseline weighted up by its gap; one 24-min cosine stage, alone on the GPU, as v8
# (training/results/small_v9/).
$PY -m training.train --config training/configs/small_v9.yaml --device cuda --data-dir "$DATA" \
    --time-budget-min 24
# v10: continue v9 (runs/small_v9/best, the config's init_from) on v9's data, the rows still
# behind weighted from their v9 gaps; three cosine stages of 8-8.5 min, one per GPU call, each
# from the last one's final weights with a lower peak lr (training/results/small_v10/).
V10="$PY -m training.train --config training/configs/small_v10.yaml --device cuda --data-dir $DATA"
$V10 --time-budget-min 8
$V10 --init-from runs/small_v10/last.safetensors --lr 4e-5 --out-dir runs/small_v10b --time-budget-min 8.5
$V10 --init-from runs/small_v10b/last.safetensors --lr 3e-5 --out-dir runs/small_v10c --time-budget-min 8.5
# v11: continue v10 (runs/small_v10c/best, the config's init_from) on v10's data, each row
# weighted from its v10 gap; three cosine stages, one per GPU call, as v10
# (training/results/small_v11/).
V11="$PY -m training.train --config training/configs/small_v11.yaml --device cuda --data-dir $DATA"
$V11 --time-budget-min 8.5
$V11 --init-from runs/small_v11/last.safetensors --lr 3e-5 --out-dir runs/small_v11b --time-budget-min 8.5
$V11 --init-from runs/small_v11b/last.safetensors --lr 2e-5 --out-dir runs/small_v11c --time-budget-min 7.8
# v12: continue v11 (runs/small_v11c/best, the config's init_from) on v11's data, each row
# weighted from its v11 gap; three cosine stages, one per GPU call, as v11 (stage 3 got the
# 6.2 minutes the session's device time had left; training/results/small_v12/).
V12="$PY -m training.train --config training/configs/small_v12.yaml --device cuda --data-dir $DATA"
$V12 --time-budget-min 8.5
$V12 --init-from runs/small_v12/last.safetensors --lr 2e-5 --out-dir runs/small_v12b --time-budget-min 8.5
$V12 --init-from runs/small_v12b/last.safetensors --lr 1.5e-5 --out-dir runs/small_v12c --time-budget-min 6.2
$PY -m training.export_onnx --checkpoint runs/small_v12c/best --output runs/small_v12c/lfm3d_small_v12.onnx --check
echo "copy runs/small_v12c/{lfm3d_small_v12.onnx,best.safetensors,best.json} to lfm3d_net/models/lfm3d_small.{onnx,safetensors,json}"
