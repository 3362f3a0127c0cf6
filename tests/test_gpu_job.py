"""training/gpu_job.sh, the one command of a device call, run on the CPU: a run longer than one
call goes out as run.tar parts, comes back as last.* only, and resumes where it stopped."""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.test_train import synthetic_source

REPO = Path(__file__).resolve().parents[1]


def gpu_job(tmp_path, out: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "OUT": str(out), "RUNS": str(tmp_path / "runs"), "PYTHON": sys.executable}
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    cmd = ["bash", "training/gpu_job.sh", "--config", "training/configs/tiny_cpu.yaml", "--name", "t",
           "--device", "cpu", "--data-dir", str(data), "--no-eval", "--no-export", "--resume",
           "--schedule-min", "5", *args]
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"gpu_job.sh failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def unpack(out: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    parts = sorted(out.glob("run.tar.part-*"))
    assert parts and (out / "job.log").exists(), f"nothing packed in {sorted(out.iterdir())}"
    whole = dest / "run.tar"
    whole.write_bytes(b"".join(p.read_bytes() for p in parts))
    with tarfile.open(whole) as t:
        t.extractall(dest, filter="data")
    whole.unlink()


def test_a_run_carried_as_last_only_resumes_where_it_stopped(tmp_path):
    if shutil.which("split") is None:
        pytest.skip("coreutils split missing")
    src = synthetic_source()
    first = gpu_job(tmp_path, tmp_path / "out1", "--", "--sources", src, "--steps", "4")
    assert "starting fresh" in first.stdout
    unpack(tmp_path / "out1", tmp_path / "back")
    assert (tmp_path / "back" / "last.optim.pt").exists() and (tmp_path / "back" / "best.safetensors").exists()
    # The next call gets the resume state and the log only (the device's size limit), on a new machine.
    shutil.rmtree(tmp_path / "runs")
    run = tmp_path / "runs" / "t"
    run.mkdir(parents=True)
    for f in ("last.safetensors", "last.json", "last.optim.pt", "train_log.csv"):
        shutil.copy(tmp_path / "back" / f, run / f)
    second = gpu_job(tmp_path, tmp_path / "out2", "--", "--sources", src, "--steps", "7")
    assert "starting fresh" not in second.stdout
    unpack(tmp_path / "out2", tmp_path / "back2")
    summary = json.loads((tmp_path / "back2" / "summary.json").read_text())
    assert summary["steps"] == 7, summary
    assert summary["trained_seconds_all_runs"] > summary["wall_seconds"], "the first call's time was not carried"
    assert (tmp_path / "back2" / "best.safetensors").exists(), "the resumed run left no best to export"
