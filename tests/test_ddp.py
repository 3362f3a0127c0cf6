"""torchrun with 2 CPU processes (gloo): a few DDP steps, rank 0 alone writes the checkpoint."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_train import synthetic_source  # tests/ is on sys.path (pytest rootdir-less import)

ROOT = Path(__file__).resolve().parents[1]


def test_torchrun_two_cpu_ranks_train_and_rank0_saves(tmp_path):
    src = synthetic_source()
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "training.train", "--config", "training/configs/tiny_cpu.yaml", "--sources", src,
           "--steps", "4", "--log-every", "2", "--eval-every", "4", "--ckpt-every", "0",
           "--batch-size", "8", "--device", "cpu", "--threads", "1", "--out-dir", str(out)]
    env = {**os.environ, "CI": "true", "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_batch"] == 16 and summary["steps"] == 4
    assert (out / "last.safetensors").exists() and (out / "best.safetensors").exists()
    assert r.stdout.count("done:") == 1  # only rank 0 reports
