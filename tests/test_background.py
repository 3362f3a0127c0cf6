"""training/background.sh: a detached command is waited on by its pid file, and its exit
status comes back (the device calls' way to run a stage longer than one call)."""
import os
import signal
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "training" / "background.sh"


def _bg(tmp_path, *args, timeout=30):
    env = {**os.environ, "BG_DIR": str(tmp_path)}
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_wait_returns_the_commands_exit_status_and_log(tmp_path):
    assert _bg(tmp_path, "start", "job", "bash", "-c", "echo step 10 done; exit 4").returncode == 0
    r = _bg(tmp_path, "wait", "job", "20")
    assert r.returncode == 4, r.stdout + r.stderr
    assert "step 10 done" in r.stdout and "job exited 4" in r.stdout
    assert _bg(tmp_path, "status", "job").stdout.strip() == "exited 4"


def test_wait_gives_up_after_its_limit_while_the_command_runs_on(tmp_path):
    _bg(tmp_path, "start", "long", "sleep", "30")
    try:
        r = _bg(tmp_path, "wait", "long", "1")
        assert r.returncode == 3 and "still running" in r.stdout, r.stdout
        assert _bg(tmp_path, "status", "long").stdout.strip() == "running"
        again = _bg(tmp_path, "start", "long", "sleep", "1")
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        os.killpg(int((tmp_path / "long.pid").read_text()), signal.SIGTERM)


def test_waiting_on_a_job_that_never_started_is_an_error(tmp_path):
    r = _bg(tmp_path, "wait", "nothing", "1")
    assert r.returncode == 2 and "never started" in r.stderr
    assert _bg(tmp_path, "status", "nothing").stdout.strip() == "not started"
