"""Grow a trained 3D-LFM into a wider and deeper one that computes the same function
(Net2Net: Chen, Goodfellow, Shlens, ICLR 2016), so a larger model starts where the shipped
one is instead of from scratch.

Width: every unit of the residual stream, of each MLP's hidden layer and of the decoder is
copied k = D_big / D_small times, and every weight reading copies is divided by k, so each
copy carries the old value. LayerNorm sees each value k times: the same mean and variance,
the same output. Heads are copied the same way (H_big = k H_small, the head width Dh kept),
so attention scores, softmax and the per-head outputs are the old ones.
Depth: the extra layers go on top with their residual branches' output projections at zero,
so they pass the stream through unchanged until training moves them.
Exact copies would get equal gradients and stay copies; `GROW_NOISE` breaks that tie.

    grown = grow(small_state, small_cfg, big_cfg)     # state dicts, model.ModelConfig
    python -m training.grow --config training/configs/large_realworld.yaml --out runs/grown/start
        # the config's grow_from grown to its model, saved as a checkpoint (to export and judge)
"""
from __future__ import annotations

import argparse

import torch

from training.model import LFM3D, ModelConfig

#: Std of the noise added to each grown weight matrix, relative to that matrix's std: breaks
#: the symmetry between copies; small enough to leave the function (nearly) unchanged.
GROW_NOISE = 1e-2


def check_growable(small: ModelConfig, big: ModelConfig) -> int:
    """The width factor k; ValueError unless `big` can be grown from `small`."""
    k = big.dim // small.dim
    same = ("rff_dim", "rff_sigma", "rff_seed", "mlp_ratio", "use_sides", "use_fronts")
    problems = [f"{f} {getattr(small, f)} != {getattr(big, f)}" for f in same
                if getattr(small, f) != getattr(big, f)]
    if k < 1 or big.dim != k * small.dim:
        problems.append(f"dim {big.dim} is not a whole multiple of {small.dim}")
    elif big.heads != k * small.heads:
        problems.append(f"heads {big.heads} != {k} x {small.heads} (the head width must stay)")
    if big.layers < small.layers:
        problems.append(f"layers {big.layers} < {small.layers}")
    if problems:
        raise ValueError("grow: cannot grow " + str(small) + " into " + str(big) + ": " + "; ".join(problems))
    return k


def _rows(w: torch.Tensor, k: int) -> torch.Tensor:
    """Output units copied k times: (out, ...) -> (k out, ...)."""
    return torch.cat([w] * k, dim=0)


def _cols(w: torch.Tensor, k: int) -> torch.Tensor:
    """Input read from k copies: (out, in) -> (out, k in), each copy weighted 1/k."""
    return torch.cat([w / k] * k, dim=1)


def _heads(w: torch.Tensor, k: int, heads: int, head_dim: int, axis: int) -> torch.Tensor:
    """Copy the heads along `axis` (of size 2 * 3 * H * Dh or 2 * H * Dh, branch-major) k times."""
    shape = list(w.shape)
    branches = shape[axis] // (heads * head_dim)
    split = shape[:axis] + [branches, heads, head_dim] + shape[axis + 1:]
    w = w.reshape(split)
    w = torch.cat([w] * k, dim=axis + 1)
    return w.reshape(shape[:axis] + [k * shape[axis]] + shape[axis + 1:])


def _grow_layer(s: dict, p: str, k: int, cfg: ModelConfig) -> dict:
    """One HybridAttentionLayer's tensors (prefix p) grown by k."""
    h, dh = cfg.heads, cfg.dim // cfg.heads
    # qkv rows are (branch, q/k/v, head, Dh): copy heads, then read the stream's copies
    qkv_w = _cols(_heads(s[p + "qkv.weight"], k, h, dh, 0), k)
    proj_w = _rows(_heads(s[p + "proj.weight"], k, h, dh, 1) / k, k)
    return {
        p + "norm_attn.weight": _rows(s[p + "norm_attn.weight"], k),
        p + "norm_attn.bias": _rows(s[p + "norm_attn.bias"], k),
        p + "qkv.weight": qkv_w,
        p + "qkv.bias": _heads(s[p + "qkv.bias"], k, h, dh, 0),
        p + "proj.weight": proj_w,
        p + "proj.bias": _rows(s[p + "proj.bias"], k),
        p + "norm_mlp.weight": _rows(s[p + "norm_mlp.weight"], k),
        p + "norm_mlp.bias": _rows(s[p + "norm_mlp.bias"], k),
        p + "mlp.0.weight": _rows(_cols(s[p + "mlp.0.weight"], k), k),
        p + "mlp.0.bias": _rows(s[p + "mlp.0.bias"], k),
        p + "mlp.2.weight": _rows(_cols(s[p + "mlp.2.weight"], k), k),
        p + "mlp.2.bias": _rows(s[p + "mlp.2.bias"], k),
    }


def grow(small_state: dict, small: ModelConfig, big: ModelConfig, noise: float = GROW_NOISE,
         seed: int = 0) -> dict:
    """A state dict of LFM3D(big) computing what LFM3D(small) with `small_state` computes
    (exactly with noise=0; `noise` x each grown matrix's std of Gaussian noise otherwise)."""
    k = check_growable(small, big)
    s = {name: t.detach().to(torch.float64) for name, t in small_state.items()}
    out = {
        "encoder.rff.omega": s["encoder.rff.omega"], "encoder.rff.bias": s["encoder.rff.bias"],
        "encoder.proj.weight": _rows(s["encoder.proj.weight"], k),
        "encoder.proj.bias": _rows(s["encoder.proj.bias"], k),
        "norm_out.weight": _rows(s["norm_out.weight"], k), "norm_out.bias": _rows(s["norm_out.bias"], k),
        "decoder.0.weight": _rows(_cols(s["decoder.0.weight"], k), k),
        "decoder.0.bias": _rows(s["decoder.0.bias"], k),
        "decoder.2.weight": _cols(s["decoder.2.weight"], k), "decoder.2.bias": s["decoder.2.bias"],
    }
    for i in range(small.layers):
        out.update(_grow_layer(s, f"layers.{i}.", k, small))
    gen = torch.Generator().manual_seed(seed)
    fresh = LFM3D(big).state_dict()  # the extra layers: their own init, residual outputs at zero
    for i in range(small.layers, big.layers):
        p = f"layers.{i}."
        for name, t in fresh.items():
            if name.startswith(p):
                zero = name.startswith((p + "proj.", p + "mlp.2."))
                out[name] = torch.zeros_like(t, dtype=torch.float64) if zero else t.to(torch.float64)
    if noise > 0:
        for name, t in out.items():
            if t.ndim == 2 and not name.startswith("encoder.rff") and t.std() > 0:
                out[name] = t + noise * t.std() * torch.randn(t.shape, generator=gen, dtype=t.dtype)
    dtype = next(iter(small_state.values())).dtype
    return {name: t.to(dtype).contiguous() for name, t in out.items()}


def grow_into(model: LFM3D, path: str, noise: float = GROW_NOISE, seed: int = 0) -> None:
    """Load the checkpoint at `path` (a stem or .safetensors with its .json) grown into `model`."""
    from training.checkpoint import load_model
    small = load_model(path)
    model.load_state_dict(grow(small.state_dict(), small.config, model.config, noise, seed))


def main(argv: list[str] | None = None) -> None:
    from training.checkpoint import save_checkpoint
    from training.config import build_model, load_config
    p = argparse.ArgumentParser(description="Grow a config's grow_from checkpoint into its model.")
    p.add_argument("--config", required=True, help="training config with grow_from and the big model")
    p.add_argument("--out", required=True, help="checkpoint stem to write")
    p.add_argument("--noise", type=float, default=GROW_NOISE, help="relative symmetry-breaking noise")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    cfg = load_config(args.config)
    if not cfg.grow_from:
        p.error(f"{args.config} has no grow_from")
    model = build_model(cfg)
    grow_into(model, cfg.grow_from, args.noise, args.seed)
    save_checkpoint(args.out, model, {"grown_from": cfg.grow_from, "noise": args.noise, "seed": args.seed})
    print(f"{cfg.grow_from} -> {args.out} ({model.num_parameters():,} parameters)")


if __name__ == "__main__":
    main()
