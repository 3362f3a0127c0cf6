"""Checkpoints: weights as safetensors (never pickle) + a JSON of config and metadata.

    stem.safetensors   model state dict (incl. the fixed RFF buffers); its header metadata
                       also carries the config JSON, so the file loads on its own
    stem.json          {"format", "lfm3d_version", "config": ModelConfig, "extra": {...}}
                       (extra: rigs, training data, metrics, ... anything JSON-able)
    stem.optim.pt      optional optimizer/scheduler state for resuming (tensors and plain
                       containers only, loaded with torch.load(weights_only=True))
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from training.model import LFM3D, ModelConfig

FORMAT = "lfm3d-checkpoint-1"


def package_version() -> str:
    """Version of the lfm3d code that wrote a file (lfm3d_net.__version__ when it exists)."""
    try:
        from lfm3d_net import __version__
    except ImportError:
        return "0.0.0+unknown"
    return str(__version__)


def stem_of(path: str | Path) -> Path:
    """`run/best`, `run/best.safetensors`, `run/best.json` and `run/best.optim.pt` -> `run/best`."""
    p = Path(path)
    for suffix in (".safetensors", ".json", ".optim.pt"):
        if p.name.endswith(suffix):
            return p.with_name(p.name[: -len(suffix)])
    return p


def save_checkpoint(stem: str | Path, model: LFM3D, extra: dict | None = None) -> tuple[Path, Path]:
    """Write `stem.safetensors` and `stem.json`; returns their paths. `extra` must be JSON-able."""
    stem = stem_of(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    config_json = json.dumps(model.config.to_dict(), sort_keys=True)
    meta = {"format": FORMAT, "lfm3d_version": package_version(), "config": model.config.to_dict(), "extra": extra or {}}
    try:
        meta_text = json.dumps(meta, indent=2, sort_keys=True)
    except TypeError as e:
        raise ValueError(f"save_checkpoint: `extra` must be JSON-serialisable: {e}") from e
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    weights, meta_path = stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")
    save_file(state, str(weights), metadata={"format": FORMAT, "lfm3d_config": config_json})
    meta_path.write_text(meta_text + "\n")
    return weights, meta_path


def load_metadata(path: str | Path) -> dict:
    """The JSON written beside the weights (or, without one, the config in the safetensors header)."""
    stem = stem_of(path)
    meta_path = stem.with_name(stem.name + ".json")
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if "config" not in meta:
            raise ValueError(f"load_metadata: {meta_path} has no 'config' entry")
        return meta
    weights = stem.with_name(stem.name + ".safetensors")
    if not weights.exists():
        raise FileNotFoundError(f"load_metadata: neither {meta_path} nor {weights} exists")
    with safe_open(str(weights), framework="pt") as f:
        header = f.metadata() or {}
    if "lfm3d_config" not in header:
        raise ValueError(f"load_metadata: {weights} has no lfm3d_config in its header and no {meta_path.name} beside it")
    return {"format": header.get("format"), "config": json.loads(header["lfm3d_config"]), "extra": {}}


def load_model(path: str | Path, device: str | torch.device = "cpu") -> LFM3D:
    """Rebuild an LFM3D from its checkpoint (stem or any of its files), in eval mode."""
    stem = stem_of(path)
    cfg = ModelConfig.from_dict(load_metadata(stem)["config"])
    model = LFM3D(cfg)
    state = load_file(str(stem.with_name(stem.name + ".safetensors")), device="cpu")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"load_model: {stem}.safetensors does not fit {cfg}: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval()


def init_weights(model: LFM3D, path: str | Path) -> None:
    """Load `path` (.safetensors) into `model` to start a training run from it (`init_from`).

    A checkpoint trained without fronts may start a model with `use_fronts`: the encoder's
    extra input column (the last one, see model.TokenEncoder) starts at zero, so the new
    model computes exactly what the old one did until training moves that column.
    """
    state = load_file(str(path), device="cpu")
    key = "encoder.proj.weight"
    want = model.state_dict()[key].shape
    if key in state and state[key].shape[1] + 1 == want[1] and model.config.use_fronts:
        state[key] = torch.cat([state[key], state[key].new_zeros(want[0], 1)], dim=1)
    model.load_state_dict(state)


def save_optimizer(stem: str | Path, state: dict) -> Path:
    """Write resume state (e.g. {"optimizer": opt.state_dict(), "step": 1000}) to `stem.optim.pt`."""
    stem = stem_of(stem)
    path = stem.with_name(stem.name + ".optim.pt")
    torch.save(state, path)
    return path


def load_optimizer(stem: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read `stem.optim.pt` with weights_only=True (no arbitrary unpickling)."""
    stem = stem_of(stem)
    return torch.load(stem.with_name(stem.name + ".optim.pt"), map_location=map_location, weights_only=True)
