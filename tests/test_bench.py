"""Benchmark scripts run end to end on a tiny model (tables only; no timing is asserted)."""
from bench import speed


def test_speed_quick_cpu_table_has_plain_and_flip_averaged_rows(tiny_onnx, capsys):
    speed.main(["--quick", "--no-gpu", "--threads", "1", "--flip-average", "--model", str(tiny_onnx)])
    out = capsys.readouterr().out
    assert "ORT CPU Lifter.lift, 1 thread(s)" in out
    assert "ORT CPU Lifter.lift flip_average, 1 thread(s)" in out
