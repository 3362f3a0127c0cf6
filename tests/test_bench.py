"""Benchmark scripts run end to end on a tiny model (tables only; no timing is asserted)."""
from bench import speed


def test_speed_quick_cpu_table_has_plain_and_flip_averaged_rows(tiny_onnx, capsys):
    speed.main(["--quick", "--no-gpu", "--threads", "1", "--flip-average", "--model", str(tiny_onnx)])
    out = capsys.readouterr().out
    assert "ORT CPU Lifter.lift, 1 thread(s)" in out
    assert "ORT CPU Lifter.lift flip_average, 1 thread(s)" in out


def test_train_throughput_runs_the_training_loop_once_per_batch_size(tmp_path):
    from bench import train_throughput
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("model_preset: tiny\nsources: [hand21_synthetic]\ndevice: cpu\n")
    rows = train_throughput.measure(str(cfg), [8, 16], seconds=30, device="cpu", steps=2)
    assert [(r["batch"], r["steps"], r["global_batch"]) for r in rows] == [(8, 2, 8), (16, 2, 16)]
    md = train_throughput.table(rows)
    assert md.splitlines()[0] == "| batch | steps | samples/s | wall s |"
    assert md.splitlines()[2].startswith("| 8 | 2 | ") and md.splitlines()[3].startswith("| 16 | 2 | ")


def test_train_throughput_reports_a_batch_that_runs_out_of_memory_and_goes_on(monkeypatch):
    import torch

    import training.train
    from bench import train_throughput

    def fake_train(cfg):
        if cfg.batch_size > 8:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return {"steps": 3, "train_samples_per_s": 100.0, "wall_seconds": 1.0}
    monkeypatch.setattr(training.train, "train", fake_train)
    rows = train_throughput.measure("training/configs/tiny_cpu.yaml", [8, 64, 8], seconds=1, device="cpu")
    assert [r.get("error") for r in rows] == [None, "out of memory", None]
    assert "| 64 | out of memory | | |" in train_throughput.table(rows)
