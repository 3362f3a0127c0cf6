#!/usr/bin/env bash
# One GPU job: train (time-budgeted) -> export ONNX -> real-world proxy -> evaluate -> pack to $OUT.
# Export comes before eval so a slow eval never costs the ONNX file.
# Fits a 10-minute device call with the defaults (5 min training + ~3 min eval/export).
#
#   OUT=/tmp/out bash training/gpu_job.sh --config training/configs/CONFIG.yaml [--minutes 5] [--device cuda]
#       [--data-dir .device/data] [--name small] [--eval-samples 1024] [--baseline-steps 1000]
#       [--transfer-steps 1500] [--nproc 1] [--no-eval] [--clean-eval] [--no-export] [--resume]
#       [--schedule-min 60] [--proxy] [-- more training.train arguments]
#
# A run longer than one call (the large model): every call passes the same --schedule-min
# (the cosine horizon, minutes summed over calls) and --resume, which continues from
# runs/<name>/last when it is there (carry runs/<name>/last.* and train_log.csv) and starts
# fresh when it is not. --proxy runs bench.realworld, the shipped model against this one.
# --clean-eval is the category check (training.eval --clean, no baselines or transfer runs).
# Everything comes back as run.tar (split into run.tar.part-* of 15 MB: the device returns at
# most 8 files of 16 MB) and job.log; unpack with `cat run.tar.part-* | tar x`.
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
SCHEDULE_MIN=0
DO_PROXY=0
CLEAN_EVAL=0
EXTRA=()
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
    --clean-eval) CLEAN_EVAL=1; shift ;;
    --schedule-min) SCHEDULE_MIN=$2; shift 2 ;;
    --proxy) DO_PROXY=1; shift ;;
    --no-export) DO_EXPORT=0; shift ;;
    --resume) RESUME=--resume; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n 2,23p "$0"; exit 0 ;;
    *) echo "gpu_job.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$CONFIG" ]] || { echo "gpu_job.sh: --config is required (training/configs/*.yaml)" >&2; exit 2; }
NAME=${NAME:-$(basename "$CONFIG" .yaml)}
RUN=${RUNS:-runs}/$NAME   # RUNS: where runs live (default runs/)
OUT=${OUT:-out/$NAME}
mkdir -p "$RUN" "$OUT"

collect() {  # pack whatever exists, even after a failure
  set +e
  (cd "$RUN" && tar cf - --exclude='*.onnx' --exclude=tb --exclude=job.log .) \
    | split -b 15M -d - "$OUT/run.tar.part-"
  cp "$RUN/job.log" "$OUT"/ 2>/dev/null
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
if [[ -n "$RESUME" && ! -f "$RUN/last.safetensors" ]]; then
  echo "no $RUN/last.safetensors: starting fresh"; RESUME=""
fi
TRAIN_ARGS=(--config "$CONFIG" --device "$DEVICE" --time-budget-min "$MINUTES" --schedule-min "$SCHEDULE_MIN"
            --data-dir "$DATA_DIR" --out-dir "$RUN" $RESUME "${EXTRA[@]}")
if [[ "$NPROC" -gt 1 ]]; then
  $PY -m torch.distributed.run --standalone --nproc_per_node="$NPROC" -m training.train "${TRAIN_ARGS[@]}"
else
  $PY -m training.train "${TRAIN_ARGS[@]}"
fi

if [[ $DO_EXPORT == 1 ]]; then
  echo "== export"
  $PY -m training.export_onnx --checkpoint "$RUN/best" --output "$RUN/lfm3d_$NAME.onnx" --check
fi

if [[ $DO_PROXY == 1 ]]; then
  echo "== real-world proxy (shipped model, then this one)"
  $PY -m bench.realworld --data-dir "$DATA_DIR" --threads 8 --model lfm3d_net/models/lfm3d_small.onnx \
    --model "$RUN/lfm3d_$NAME.onnx" | tee "$RUN/proxy.md"
fi

if [[ $CLEAN_EVAL == 1 ]]; then
  echo "== category check (eval --clean)"
  $PY -m training.eval --checkpoint "$RUN/best" --out "$RUN/eval_clean" --device "$DEVICE" --data-dir "$DATA_DIR" \
    --samples "$EVAL_SAMPLES" --baseline-steps 0 --transfer-steps 0 --clean --no-figures
  cat "$RUN/eval_clean/eval.md"
fi

if [[ $DO_EVAL == 1 ]]; then
  echo "== eval"
  $PY -m training.eval --checkpoint "$RUN/best" --out "$RUN/eval" --device "$DEVICE" --data-dir "$DATA_DIR" \
    --samples "$EVAL_SAMPLES" --baseline-steps "$BASELINE_STEPS" --transfer-steps "$TRANSFER_STEPS" \
    --transfer-preset small --transfer-batch-size 256 --transfer-minutes 0.5
fi
echo "== done"
