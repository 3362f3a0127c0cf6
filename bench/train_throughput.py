"""Training throughput per batch size: short timed runs of the real training loop
(`training.train.train`: views rendered on the device, bf16 autocast on CUDA, AdamW step),
one after another in one process, so the sources are built once.

    python -m bench.train_throughput --config training/configs/small_v12.yaml --device cuda \\
        --data-dir DIR --batch-sizes 4096 8192 16384 32768 --seconds 30

Prints one markdown table: batch, optimiser steps, samples/s over the optimiser steps (the
`train_samples_per_s` of `summary.json`: validation and start-up excluded) and the run's wall
seconds. Each run starts from random weights (speed does not depend on them; the config's
`init_from` is ignored) at the config's lr, writes to a temporary directory and validates once,
on one small batch per source, at the end.
"""
from __future__ import annotations

import argparse
import gc
import tempfile

from bench.speed import machine_note


def measure(config: str, batch_sizes: list[int], seconds: float, device: str, data_dir: str = "",
            steps: int = 10**9, sources_per_step: int = 1) -> list[dict]:
    """One timed training run per batch size; returns their summaries (+ ``batch``), or
    ``{"batch": b, "error": "out of memory"}`` for a batch size the device cannot hold (the
    largest rig, 133 keypoints, sets the limit: attention scores grow as B x N^2)."""
    import torch

    from training.config import load_config
    from training.train import train
    rows = []
    for b in batch_sizes:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = load_config(config, {
                "batch_size": b, "steps": steps, "time_budget_min": seconds / 60, "device": device,
                "out_dir": tmp, "init_from": "", "eval_every": 10**9, "ckpt_every": 0, "early_stop_patience": 0,
                "val_batches": 1, "val_batch_size": 32, "warmup_steps": 0, "sources_per_step": sources_per_step,
                **({"data_dir": data_dir} if data_dir else {})})
            try:
                rows.append({"batch": b, **train(cfg)})
            except torch.OutOfMemoryError:
                rows.append({"batch": b, "error": "out of memory"})
        if "error" in rows[-1] and torch.cuda.is_available():
            gc.collect()  # outside the except block: its traceback holds the failed step's tensors
            torch.cuda.empty_cache()
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| batch | steps | samples/s | wall s |", "|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['batch']} | {r['error']} | | |" if "error" in r else
                     f"| {r['batch']} | {r['steps']:,} | {r['train_samples_per_s']:,.0f} | {r['wall_seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="training config YAML (its sources, weights, model)")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[4096, 8192, 16384])
    ap.add_argument("--seconds", type=float, default=30.0, help="training time per batch size")
    ap.add_argument("--steps", type=int, default=10**9, help="also stop each run after this many steps")
    ap.add_argument("--sources-per-step", type=int, default=1, help="chunks of independently drawn sources per step")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--data-dir", default="")
    args = ap.parse_args(argv)
    rows = measure(args.config, args.batch_sizes, args.seconds, args.device, args.data_dir, args.steps,
                   args.sources_per_step)
    gpu = next((r["gpu"] for r in rows if r.get("gpu")), None) or "CPU"
    print(f"\nTraining throughput, `{args.config}`, sources_per_step {args.sources_per_step}, {gpu}; "
          f"host: {machine_note()}\n")
    print(table(rows))


if __name__ == "__main__":
    main()
