"""Baselines 3D-LFM is measured against.

- Flat floor: the observed 2D lifted with depth 0. Any lifter worse than this has learnt
  nothing about depth; it is the honest floor for unseen rigs and categories.
- SimpleBaseline (Martinez et al., ICCV 2017): an MLP from the normalised 2D of ONE fixed
  rig to its 3D, Linear(1024) + 2 residual blocks of 2 x (Linear 1024 + BatchNorm + ReLU +
  Dropout) + Linear out. Trained per rig on the same sources and random views as 3D-LFM.
  It cannot take a rig it was not trained on (fixed input size and joint order): that is
  the gap 3D-LFM closes.

    python -m training.baselines --sources <names...> --steps 2000 --out runs/baselines
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn


# ----------------------------------------------------------------------------- flat floor
def flat_lift(keypoints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(B, N, 2) 2D + (B, N) mask -> (B, N, 3): normalised 2D with z = 0, zeros at masked points.

    Already in the camera's image axes (x right, y down), so camera alignment is identity.
    """
    from lfm3d_net.geometry import normalize_2d
    normed, _, _ = normalize_2d(np.asarray(keypoints, np.float32), np.asarray(mask, bool))
    out = np.zeros(normed.shape[:2] + (3,), np.float32)
    out[..., :2] = normed
    return out * np.asarray(mask, np.float32)[..., None]


# ----------------------------------------------------------------------------- SimpleBaseline
@dataclass
class BaselineConfig:
    hidden: int = 1024  # Martinez et al.: 1024 units
    blocks: int = 2  # residual blocks, each 2 x (Linear + BN + ReLU + Dropout)
    dropout: float = 0.25  # paper: 0.5; lower suits our short budgets
    steps: int = 2000  # optimiser steps per rig (set to 3D-LFM's budget for a fair comparison)
    batch_size: int = 256  # samples per step
    lr: float = 1e-3  # Adam learning rate (paper: 1e-3 with exponential decay)
    seed: int = 0  # data/initialisation seed


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        layers = []
        for _ in range(2):
            layers += [nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class SimpleBaseline(nn.Module):
    """Fixed-rig 2D -> 3D MLP. Input: normalised 2D (zeroed where masked) and the mask."""

    def __init__(self, num_joints: int, cfg: BaselineConfig | None = None):
        super().__init__()
        self.cfg = cfg or BaselineConfig()
        self.num_joints = num_joints
        h = self.cfg.hidden
        self.inp = nn.Sequential(nn.Linear(num_joints * 3, h), nn.BatchNorm1d(h), nn.ReLU(),
                                 nn.Dropout(self.cfg.dropout))
        self.blocks = nn.Sequential(*[_Block(h, self.cfg.dropout) for _ in range(self.cfg.blocks)])
        self.out = nn.Linear(h, num_joints * 3)

    def forward(self, keypoints: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, N, 2) raw 2D, (B, N) bool -> (B, N, 3) camera-frame 3D, unit RMS radius scale."""
        from training.model import normalize_2d
        B, N, _ = keypoints.shape
        if N != self.num_joints:
            raise ValueError(f"SimpleBaseline was trained for {self.num_joints} joints, got N={N}")
        normed, _, _ = normalize_2d(keypoints.float(), mask)
        m = mask.float()
        x = torch.cat([(normed * m[..., None]).reshape(B, N * 2), m], dim=1)  # (B, 3N)
        y = self.out(self.blocks(self.inp(x))).reshape(B, N, 3)
        return y * m[..., None]


def _unit_radius(target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Centre on the visible centroid and scale to unit RMS radius (scale is not observable)."""
    m = mask.float()[..., None]
    c = (target * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1)
    x = (target - c) * m
    r = ((x ** 2).sum((1, 2)) / m.sum((1, 2)).clamp(min=1)).sqrt().clamp(min=1e-8)
    return x / r[:, None, None]


def train_simple_baseline(mixture, num_joints: int, cfg: BaselineConfig, device: str | torch.device = "cpu",
                          log_every: int = 0) -> SimpleBaseline:
    """Train one SimpleBaseline on batches of ``mixture`` (all of the same rig, N = num_joints).

    Loss: masked MSE between the prediction and the camera-frame target, both centred, the
    target at unit RMS radius (Martinez et al. regress camera-frame 3D directly).
    """
    torch.manual_seed(cfg.seed)
    model = SimpleBaseline(num_joints, cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.steps, 1), eta_min=cfg.lr * 0.05)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 31)
    model.train()
    for step in range(cfg.steps):
        b = mixture.batch(cfg.batch_size, gen, device)
        target = _unit_radius(b["target"].float(), b["mask"])
        pred = model(b["keypoints"], b["mask"])
        m = b["mask"].float()[..., None]
        loss = (((pred - target) * m) ** 2).sum() / (3 * m.sum()).clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log_every and (step + 1) % log_every == 0:
            print(f"  baseline N={num_joints} step {step + 1}/{cfg.steps} loss {loss.item():.4f}", flush=True)
    return model.eval()


@torch.no_grad()
def predict_simple_baseline(model: SimpleBaseline, keypoints, mask) -> np.ndarray:
    """numpy/torch (B, N, 2), (B, N) -> (B, N, 3) numpy prediction (eval mode)."""
    p = next(model.parameters())
    kp = torch.as_tensor(np.asarray(keypoints), dtype=torch.float32, device=p.device)
    m = torch.as_tensor(np.asarray(mask), dtype=torch.bool, device=p.device)
    return model.eval()(kp, m).cpu().numpy()


def save_baseline(stem: str | Path, model: SimpleBaseline, extra: dict | None = None) -> None:
    """``stem.safetensors`` (weights) + ``stem.json`` (num_joints, BaselineConfig, extra)."""
    from safetensors.torch import save_file
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, f"{stem}.safetensors")
    Path(f"{stem}.json").write_text(json.dumps(
        {"num_joints": model.num_joints, "config": asdict(model.cfg), **(extra or {})}, indent=2))


def save_baselines(out_dir: str | Path, models: dict[str, SimpleBaseline]) -> None:
    """``out_dir/<rig>.safetensors`` + ``.json`` per rig of a ``train_per_rig`` result
    (what ``--baselines`` of ``training.eval`` loads)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for rig_name, model in models.items():
        save_baseline(out / rig_name, model, {"rig": rig_name})


def load_baseline(stem: str | Path, device: str | torch.device = "cpu") -> SimpleBaseline:
    from safetensors.torch import load_file
    stem = str(stem).removesuffix(".safetensors").removesuffix(".json")
    meta = json.loads(Path(f"{stem}.json").read_text())
    model = SimpleBaseline(meta["num_joints"], BaselineConfig(**meta["config"]))
    model.load_state_dict(load_file(f"{stem}.safetensors"))
    return model.to(device).eval()


def train_per_rig(source_names: list[str], cfg: BaselineConfig, views: dict | None = None,
                  data_dir: str = "", device: str = "cpu", log_every: int = 0) -> dict[str, SimpleBaseline]:
    """One SimpleBaseline per rig among ``source_names`` (train split), keyed by rig name."""
    from training.config import TrainConfig, build_mixture, sources_by_rig
    tcfg = TrainConfig(views=dict(views or {}), data_dir=data_dir)
    out = {}
    for rig_name, names in sources_by_rig(source_names, tcfg).items():
        from lfm3d_net.rigs import get_rig
        mix = build_mixture(names, {}, "train", tcfg)
        out[rig_name] = train_simple_baseline(mix, get_rig(rig_name).n, cfg, device, log_every)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sources", nargs="*", default=[], help="training source names (default: TRAIN_SOURCES)")
    p.add_argument("--steps", type=int, default=BaselineConfig.steps, help="optimiser steps per rig")
    p.add_argument("--batch-size", type=int, default=BaselineConfig.batch_size, help="samples per step")
    p.add_argument("--data-dir", default="", help="directory of the shared real-data npz files")
    p.add_argument("--seed", type=int, default=BaselineConfig.seed, help="initialisation and data seed")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--out", default="runs/baselines", help="output directory: <rig>.safetensors + .json")
    args = p.parse_args(argv)
    from training.config import resolve_sources
    cfg = BaselineConfig(steps=args.steps, batch_size=args.batch_size, seed=args.seed)
    models = train_per_rig(resolve_sources(args.sources), cfg, data_dir=args.data_dir,
                           device=args.device, log_every=max(args.steps // 5, 1))
    save_baselines(args.out, models)
    print(f"saved {', '.join(models)} to {args.out}/")


if __name__ == "__main__":
    main()
