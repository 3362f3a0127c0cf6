#!/usr/bin/env bash
# One GPU job: train (time-budgeted) -> evaluate -> export ONNX -> copy results to $OUT.
# Export comes before eval so a slow eval never costs the ONNX file.
# Fits a 10-minute device call with the defaults (5 min training + ~3 min eval/export).
#
#   OUT=/tmp/out bash training/gpu_job.sh --config training/configs/CONFIG.yaml [--minutes 5] [--device cuda]
#       [--data-dir .device/data] [--name small] [--eval-samples 1024] [--baseline-steps 1000]
#       [--transfer-steps 1500] [--nproc 1] [--no-eval] [--no-export] [--resume]
#
# The repo travels without /work/shared beside it: copy the shared data into an ignored
# folder first (cp -r /work/shared/data .device/data) and pass --data-dir. No internet on
# the device: if Python packages are missing, put wheels in .device/wheels (installed with
# --no-index). Everything is written to runs/<name>/ and copied into $OUT at the end
# (also when a stage fails, so partial results come back).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=""
MINUTES=5
DEVICE=cuda
DATA_DIR=.device/data
NAME=""
EVAL_SAMPLES=1024
BASELINE_STEPS=1000
TRANSFER_STEPS=1500
NPROC=1
DO_EVAL=1
DO_EXPORT=1
RESUME=""
PY=${PYTHON:-python3}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    --eval-samples) EVAL_SAMPLES=$2; shift 2 ;;
    --baseline-steps) BASELINE_STEPS=$2; shift 2 ;;
    --transfer-steps) TRANSFER_STEPS=$2; shift 2 ;;
    --nproc) NPROC=$2; shift 2 ;;
    --no-eval) DO_EVAL=0; shift ;;
    --no-export) DO_EXPORT=0; shift ;;
    --resume) RESUME=--resume; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "gpu_job.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$CONFIG" ]] || { echo "gpu_job.sh: --config is required (training/configs/*.yaml)" >&2; exit 2; }
NAME=${NAME:-$(basename "$CONFIG" .yaml)}
RUN=runs/$NAME
OUT=${OUT:-out/$NAME}
mkdir -p "$RUN" "$OUT"

collect() {  # copy whatever exists, even after a failure
  set +e
  for f in "$RUN"/best.safetensors "$RUN"/best.json "$RUN"/last.json "$RUN"/summary.json \
           "$RUN"/config.json "$RUN"/train_log.csv "$RUN"/*.onnx "$RUN"/*.onnx.json \
           "$RUN"/eval/eval.md "$RUN"/eval/eval.json "$RUN"/eval/fig_person.png "$RUN"/eval/fig_hand.png \
           "$RUN"/eval/fig_quadruped.png "$RUN"/job.log; do
    [[ -f "$f" ]] && cp "$f" "$OUT"/
  done
  ls -la "$OUT"
}
trap collect EXIT
exec > >(tee -a "$RUN/job.log") 2>&1

echo "== device"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
$PY -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
missing=$($PY - <<'EOF'
import importlib.util as u
need = ["numpy", "yaml", "safetensors", "tqdm", "onnx", "matplotlib", "scipy"]
print(" ".join(m for m in need if u.find_spec(m) is None))
EOF
)
if [[ -n "$missing" ]]; then
  echo "missing Python modules: $missing"
  if [[ -d .device/wheels ]]; then
    $PY -m pip install -q --no-index --find-links .device/wheels numpy pyyaml safetensors tqdm onnx matplotlib scipy || true
  else
    echo "put wheels for them in .device/wheels (no internet on the device)"; exit 3
  fi
fi
[[ -d "$DATA_DIR" ]] || { echo "data dir $DATA_DIR not found (copy /work/shared/data there)"; exit 3; }

echo "== train ($CONFIG, ${MINUTES} min budget, $NPROC GPU(s))"
TRAIN_ARGS=(--config "$CONFIG" --device "$DEVICE" --time-budget-min "$MINUTES" --data-dir "$DATA_DIR" --out-dir "$RUN" $RESUME)
if [[ "$NPROC" -gt 1 ]]; then
  $PY -m torch.distributed.run --standalone --nproc_per_node="$NPROC" -m training.train "${TRAIN_ARGS[@]}"
else
  $PY -m training.train "${TRAIN_ARGS[@]}"
fi

if [[ $DO_EXPORT == 1 ]]; then
  echo "== export"
  $PY -m training.export_onnx --checkpoint "$RUN/best" --output "$RUN/lfm3d_$NAME.onnx" --check
fi

if [[ $DO_EVAL == 1 ]]; then
  echo "== eval"
  $PY -m training.eval --checkpoint "$RUN/best" --out "$RUN/eval" --device "$DEVICE" --data-dir "$DATA_DIR" \
    --samples "$EVAL_SAMPLES" --baseline-steps "$BASELINE_STEPS" --transfer-steps "$TRANSFER_STEPS" \
    --transfer-preset small --transfer-batch-size 256 --transfer-minutes 0.5
fi
echo "== done"
