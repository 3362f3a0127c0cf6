"""torchrun with 2 CPU processes (gloo): a few DDP steps, rank 0 alone writes the checkpoint."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_train import synthetic_source  # tests/ is on sys.path (pytest rootdir-less import)

ROOT = Path(__file__).resolve().parents[1]


def _torchrun(out, *args):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "training.train", "--config", "training/configs/tiny_cpu.yaml",
           "--steps", "4", "--log-every", "2", "--eval-every", "4", "--ckpt-every", "0",
           "--batch-size", "8", "--device", "cpu", "--threads", "1", "--out-dir", str(out), *args]
    env = {**os.environ, "CI": "true", "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def test_torchrun_two_cpu_ranks_train_and_rank0_saves(tmp_path):
    out = tmp_path / "ddp"
    r = _torchrun(out, "--sources", synthetic_source())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_batch"] == 16 and summary["steps"] == 4
    assert (out / "last.safetensors").exists() and (out / "best.safetensors").exists()
    assert r.stdout.count("done:") == 1  # only rank 0 reports


def test_torchrun_with_several_sources_per_step_trains_through_no_sync_chunks(tmp_path):
    # every chunk but the last runs its backward under DDP's no_sync; the last one reduces
    from safetensors.torch import load_file
    out = tmp_path / "ddp_chunks"
    _torchrun(out, "--sources", "hand21_synthetic", "chair10_synthetic", "--sources-per-step", "2")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_batch"] == 16 and summary["steps"] == 4
    weights = load_file(str(out / "last.safetensors"))
    assert all(bool(w.isfinite().all()) for w in weights.values())
