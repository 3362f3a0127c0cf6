"""Train 3D-LFM: CPU, one GPU, or many GPUs with DistributedDataParallel.

    python -m training.train --config training/configs/tiny_cpu.yaml
    python -m training.train --config training/configs/small_v12.yaml --device cuda --time-budget-min 6
    torchrun --nproc_per_node=4 -m training.train --config training/configs/small_v12.yaml

Writes into ``out_dir``: ``config.json``, ``train_log.csv`` (+ TensorBoard events if
installed), ``last.{safetensors,json,optim.pt}``, ``best.{safetensors,json}`` (by val
MPJPE) and ``summary.json`` (final metrics, training throughput in samples/s).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from training.config import TrainConfig, add_config_args, config_from_namespace
from training.config import build_mixture, build_model, resolve_sources, training_sources
from training.metrics import lift_metrics

CSV_FIELDS = ["step", "loss", "lr", "val_loss", "val_mpjpe_pct", "val_pa_mpjpe_pct",
              "samples_per_s", "elapsed_s"]


# ----------------------------------------------------------------------------- distributed
@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_arg: str) -> tuple[Dist, torch.device]:
    """Start the process group when launched by torchrun (WORLD_SIZE > 1); pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    d = Dist(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    want_cuda = device_arg.startswith("cuda") or (device_arg == "auto" and torch.cuda.is_available())
    if want_cuda:
        index = d.local_rank if world > 1 or device_arg in ("auto", "cuda") else torch.device(device_arg).index
        device = torch.device("cuda", index or 0)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return d, device


def _sync(values: list[float], d: Dist, device: torch.device) -> list[float]:
    """Broadcast rank 0's values (stop flag, lr) so every rank takes the same decision."""
    if d.world_size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return t.tolist()


# ----------------------------------------------------------------------------- validation
def make_val_set(cfg: TrainConfig, device: torch.device) -> dict[str, list[dict]]:
    """Fixed, seeded validation batches per source (real data: held-out clips/subjects)."""
    from training.data.registry import REPORT_SOURCES
    names = resolve_sources(cfg.val_sources) if cfg.val_sources else training_sources(cfg)
    if not cfg.val_sources:  # not every procedural rig: the report subset of the training sources
        names = [n for n in names if n in REPORT_SOURCES] or names
    val = {}
    for i, name in enumerate(names):
        mix = build_mixture([name], {}, "val", cfg)
        gen = torch.Generator(device="cpu").manual_seed(10_000 + 97 * i + cfg.seed)
        val[name] = [_to(mix.batch(cfg.val_batch_size, gen, "cpu"), device) for _ in range(cfg.val_batches)]
    return val


def _to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


@torch.no_grad()
def validate(model: torch.nn.Module, val: dict[str, list[dict]], loss_fn) -> dict:
    """Mean val loss and camera-aligned MPJPE / PA-MPJPE (% of RMS radius), per source and overall."""
    was_training = model.training
    model.eval()
    per_source = {}
    for name, batches in val.items():
        losses, mp, pa = [], [], []
        for b in batches:
            pred = model(b["keypoints"], b["mask"], b["adjacency"], b["sides"], b["fronts"]).float()
            losses.append(float(loss_fn(pred, b["target"].float(), b["mask"])))
            m = lift_metrics(pred.cpu().numpy(), b["keypoints"].cpu().numpy(),
                             b["mask"].cpu().numpy(), b["target"].float().cpu().numpy())
            mp.append(m["mpjpe_pct"]), pa.append(m["pa_mpjpe_pct"])
        per_source[name] = {"loss": float(np.mean(losses)),
                            "mpjpe_pct": float(np.mean(np.concatenate(mp))),
                            "pa_mpjpe_pct": float(np.mean(np.concatenate(pa)))}
    model.train(was_training)
    # Average over sources (not samples) so each source counts alike.
    overall = {k: float(np.mean([s[k] for s in per_source.values()])) for k in ("loss", "mpjpe_pct", "pa_mpjpe_pct")}
    return {"overall": overall, "per_source": per_source}


# ----------------------------------------------------------------------------- checkpoints
def save(stem: Path, model: torch.nn.Module, cfg: TrainConfig, step: int, extra: dict,
         optimizer=None, plateau=None, state: dict | None = None) -> None:
    """Weights + JSON metadata via training.checkpoint; with an optimizer also ``stem.optim.pt``."""
    from training.checkpoint import save_checkpoint, save_optimizer
    meta = {"step": step, "train_config": cfg.to_dict(),
            "train_sources": training_sources(cfg), **extra}
    save_checkpoint(stem, model, meta)
    if optimizer is not None:
        save_optimizer(stem, {"optimizer": optimizer.state_dict(), "plateau": plateau.state_dict(),
                              "step": step, **(state or {})})


def load_resume(stem: Path, model, optimizer, plateau) -> dict:
    """Load weights + optimiser state saved by ``save``; returns the saved loop state."""
    from safetensors.torch import load_file
    from training.checkpoint import load_optimizer, stem_of
    stem = stem_of(stem)
    model.load_state_dict(load_file(str(stem) + ".safetensors"))
    state = load_optimizer(stem)
    optimizer.load_state_dict(state.pop("optimizer"))
    plateau.load_state_dict(state.pop("plateau"))
    return state


def cosine_lr(cfg: TrainConfig, step: int, elapsed_s: float) -> float:
    """Cosine decay from cfg.lr to cfg.min_lr; progress is the larger of the step fraction
    and the time fraction, so a time-budgeted run still ends at min_lr. elapsed_s: seconds
    of training so far, earlier resumed runs included; the time horizon is schedule_min
    (a run spread over several calls) or else time_budget_min."""
    frac = (step - cfg.warmup_steps) / max(cfg.steps - cfg.warmup_steps, 1)
    horizon_min = cfg.schedule_min or cfg.time_budget_min
    if horizon_min:
        frac = max(frac, elapsed_s / (60 * horizon_min))
    frac = min(max(frac, 0.0), 1.0)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * frac))


# ----------------------------------------------------------------------------- loop
def train(cfg: TrainConfig, resume: str | None = None) -> dict:
    """Run the training loop; returns the summary dict (rank 0 also writes it)."""
    from training.loss import procrustes_loss
    d, device = init_distributed(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)  # identical init on every rank (DDP also broadcasts rank 0's)
    out = Path(cfg.out_dir)
    if d.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    model = build_model(cfg).to(device)
    raw = model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                  betas=(cfg.beta1, cfg.beta2))
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience, min_lr=cfg.min_lr)
    step, best, bad_evals, trained_before_s = 0, math.inf, 0, 0.0
    if cfg.init_from and cfg.grow_from:
        raise ValueError("set init_from or grow_from, not both")
    if cfg.init_from and not resume:
        from training.checkpoint import init_weights
        init_weights(raw, cfg.init_from)
    if cfg.grow_from and not resume:
        from training.grow import grow_into
        grow_into(raw, cfg.grow_from, seed=cfg.seed)
    if cfg.schedule not in ("plateau", "cosine"):
        raise ValueError(f"schedule must be plateau or cosine, got {cfg.schedule!r}")
    if cfg.sources_per_step < 1 or cfg.batch_size % cfg.sources_per_step:
        raise ValueError(f"sources_per_step={cfg.sources_per_step} must be >= 1 and divide batch_size={cfg.batch_size}")
    if resume:
        stem = out / "last" if resume == "auto" else Path(resume)
        state = load_resume(stem, raw, optimizer, plateau)
        step, best, bad_evals = int(state["step"]), float(state["best"]), int(state["bad_evals"])
        trained_before_s = float(state.get("trained_s", 0.0))  # absent in checkpoints before schedule_min
        if not (out / "best.safetensors").exists():
            best = math.inf  # a run carried to another machine without its best: the next validation saves one
    if cfg.compile:
        model = torch.compile(model)
    if d.world_size > 1:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    mixture = build_mixture(training_sources(cfg), cfg.weights, "train", cfg)
    # Each rank draws different data; resuming shifts the stream so batches are not repeated.
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1000 * d.rank + 7919 * step)
    val = make_val_set(cfg, device) if d.main else {}
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if cfg.bf16 and device.type == "cuda"
                else nullcontext())

    log_rows, writer, tb = None, None, None
    if d.main:
        new_file = not (out / "train_log.csv").exists() or not resume
        log_fh = open(out / "train_log.csv", "w" if new_file else "a", newline="")
        writer = csv.DictWriter(log_fh, fieldnames=CSV_FIELDS)
        if new_file:
            writer.writeheader()
        tb = _tensorboard(out)
    show_bar = d.main and sys.stderr.isatty() and os.environ.get("CI", "").lower() != "true"
    from tqdm import tqdm
    bar = tqdm(total=cfg.steps, initial=step, disable=not show_bar, dynamic_ncols=True)

    chunk = cfg.batch_size // cfg.sources_per_step
    global_batch = cfg.batch_size * d.world_size
    t_start = time.perf_counter()
    trained_s = lambda: trained_before_s + time.perf_counter() - t_start  # noqa: E731  (earlier runs too)
    train_time, train_samples, window_t, window_n = 0.0, 0, time.perf_counter(), 0
    last_val, last_val_step, stop_reason, loss_ema = None, -1, "steps", None
    model.train()
    while step < cfg.steps:
        t0 = time.perf_counter()
        if step < cfg.warmup_steps:
            lr = cfg.lr * min(1.0, (step + 1) / max(cfg.warmup_steps, 1))
        elif cfg.schedule == "cosine":
            lr = cosine_lr(cfg, step, trained_s())
        else:
            lr = optimizer.param_groups[0]["lr"]
        optimizer.zero_grad(set_to_none=True)
        # One backward per chunk, so only one chunk's activations are held at a time; the
        # gradient is the same as one backward of the chunks' mean loss. DDP reduces once,
        # on the last chunk.
        losses = []
        for j in range(cfg.sources_per_step):
            batch = mixture.batch(chunk, gen, device)
            with autocast:
                pred = model(batch["keypoints"], batch["mask"], batch["adjacency"], batch["sides"], batch["fronts"])
            mirror_ok = (batch["sides"] == 0).all(dim=-1) if cfg.mirror_aware else None
            part = procrustes_loss(pred.float(), batch["target"].float(), batch["mask"], mirror_ok)
            if not torch.isfinite(part):
                raise FloatingPointError(f"non-finite training loss at step {step} (rig {batch.get('rig')})")
            last = j == cfg.sources_per_step - 1
            with model.no_sync() if d.world_size > 1 and not last else nullcontext():
                (part / cfg.sources_per_step).backward()
            losses.append(part.detach())
        loss = torch.stack(losses).mean()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        for g in optimizer.param_groups:
            g["lr"] = lr
        optimizer.step()
        step += 1
        loss_v = float(loss.detach())
        loss_ema = loss_v if loss_ema is None else 0.9 * loss_ema + 0.1 * loss_v
        if device.type == "cuda" and step % cfg.log_every == 0:
            torch.cuda.synchronize(device)
        dt = time.perf_counter() - t0
        train_time += dt
        train_samples += global_batch
        window_n += global_batch
        bar.update(1)
        bar.set_postfix(loss=f"{loss_ema:.4f}", lr=f"{lr:.1e}")

        stop = 0.0
        row = None
        if d.main and (step % cfg.log_every == 0 or step == cfg.steps):
            now = time.perf_counter()
            row = {"step": step, "loss": f"{loss_ema:.6f}", "lr": f"{lr:.3e}",
                   "samples_per_s": f"{window_n / max(now - window_t, 1e-9):.1f}",
                   "elapsed_s": f"{now - t_start:.1f}"}
            window_t, window_n = now, 0
        if d.main and (step % cfg.eval_every == 0 or step == cfg.steps):
            last_val, last_val_step = validate(raw, val, procrustes_loss), step
            metric = last_val["overall"]["mpjpe_pct"]
            row = row or {"step": step, "loss": f"{loss_ema:.6f}", "lr": f"{lr:.3e}",
                          "elapsed_s": f"{time.perf_counter() - t_start:.1f}"}
            row.update(val_loss=f"{last_val['overall']['loss']:.6f}", val_mpjpe_pct=f"{metric:.3f}",
                       val_pa_mpjpe_pct=f"{last_val['overall']['pa_mpjpe_pct']:.3f}")
            if step >= cfg.warmup_steps and cfg.schedule == "plateau":
                plateau.step(metric)
            if metric < best:
                best, bad_evals = metric, 0
                save(out / "best", raw, cfg, step, {"val": last_val})
            else:
                bad_evals += 1
                if cfg.early_stop_patience and bad_evals >= cfg.early_stop_patience:
                    stop, stop_reason = 1.0, "early_stop"
            window_t = time.perf_counter()  # validation time is not training throughput
        if row is not None:
            writer.writerow(row)
            log_fh.flush()
            if tb is not None:
                for k, v in row.items():
                    if k != "step" and v != "":
                        tb.add_scalar(k, float(v), step)
        if d.main and cfg.ckpt_every and step % cfg.ckpt_every == 0:
            save(out / "last", raw, cfg, step, {}, optimizer, plateau,
                 {"best": best, "bad_evals": bad_evals, "trained_s": trained_s()})
        if d.main and cfg.time_budget_min and time.perf_counter() - t_start > 60 * cfg.time_budget_min:
            stop, stop_reason = 1.0, "time_budget"
        stop, lr_now = _sync([stop, optimizer.param_groups[0]["lr"]], d, device)
        if step >= cfg.warmup_steps:
            for g in optimizer.param_groups:
                g["lr"] = lr_now
        if stop:
            break
    bar.close()

    summary = {}
    if d.main:
        if last_val_step != step:
            last_val = validate(raw, val, procrustes_loss)
            if last_val["overall"]["mpjpe_pct"] < best:
                best = last_val["overall"]["mpjpe_pct"]
                save(out / "best", raw, cfg, step, {"val": last_val})
        trained_all = trained_s()
        save(out / "last", raw, cfg, step, {"val": last_val}, optimizer, plateau,
             {"best": best, "bad_evals": bad_evals, "trained_s": trained_all})
        summary = {"steps": step, "stop_reason": stop_reason, "world_size": d.world_size,
                   "device": str(device), "global_batch": global_batch,
                   "train_seconds": train_time, "wall_seconds": time.perf_counter() - t_start,
                   "trained_seconds_all_runs": trained_all,
                   "train_samples_per_s": train_samples / max(train_time, 1e-9),
                   "best_val_mpjpe_pct": best, "final_val": last_val,
                   "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None}
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        log_fh.close()
        if tb is not None:
            tb.close()
        print(f"done: {step} steps ({stop_reason}), {summary['train_samples_per_s']:.0f} samples/s "
              f"on {summary['gpu'] or device}, val MPJPE {last_val['overall']['mpjpe_pct']:.2f}% "
              f"(best {best:.2f}%), PA-MPJPE {last_val['overall']['pa_mpjpe_pct']:.2f}% -> {out}", flush=True)
    if d.world_size > 1:
        dist.barrier()
        dist.destroy_process_group()
    return summary


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # tensorboard is optional
        return None
    return SummaryWriter(str(out / "tb"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(parser)
    parser.add_argument("--resume", nargs="?", const="auto", default=None,
                        help="resume from a checkpoint stem (default with no value: <out_dir>/last)")
    args = parser.parse_args(argv)
    train(config_from_namespace(args), resume=args.resume)


if __name__ == "__main__":
    main()
