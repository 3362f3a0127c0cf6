"""Training configuration: one dataclass, defaults in one place, YAML + CLI overrides.

Load order (later wins): dataclass defaults -> ``--config file.yaml`` -> CLI flags
(``--steps 100``, ``--lr 3e-4``, ``--no-bf16``) -> ``--set key.sub=value`` for the
nested dicts (``--set model.dim=64 --set views.noise_std=0.0``).

    cfg = config_from_args(["--config", "training/configs/tiny_cpu.yaml", "--steps", "20"])
"""
from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


def _f(default: Any, help: str, **kw: Any) -> Any:
    """A dataclass field whose help text doubles as the argparse help."""
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda d=default: json.loads(json.dumps(d)),
                     metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class TrainConfig:
    # --- model -------------------------------------------------------------
    model_preset: str = _f("small", "ModelConfig preset name (tiny/small/base/large; see training.model)")
    model: dict = _f({}, "ModelConfig field overrides applied on top of the preset, e.g. {dim: 64}")
    # --- data --------------------------------------------------------------
    sources: list = _f([], "training source names from training.data.registry.SOURCES; empty = TRAIN_SOURCES")
    procedural_rigs: int = _f(48, "random procedural rigs per kind in the default sources (sources: []); the "
                              "registry lists 48 (rigs 0-47), more add rigs 48.. (each a fixed topology seeded by its number)")
    source_set: str = _f("", "with sources: [], the named sources of an earlier data generation (registry."
                         "SOURCE_SETS: v2, v4) instead of all of TRAIN_SOURCES, so an old config keeps its data")
    exclude: list = _f([], "source names or glob patterns taken out of the training sources (a held-out arm); "
                       "they are then unseen in evaluation too")
    include: list = _f([], "source names added to the training sources (a control arm: a held-out category "
                       "trained on after all); they are then in the validation set too")
    weights: dict = _f({}, "per-source sampling weight: name or glob pattern (procedural_*) -> weight; an exact "
                       "name wins over patterns, the first matching pattern over the default 1.0")
    val_sources: list = _f([], "validation source names; empty = the training sources that are in "
                           "training.data.registry.REPORT_SOURCES (not every procedural rig)")
    data_dir: str = _f("", "directory with the shared real-data npz files; empty = the data package default")
    views: dict = _f({}, "ViewConfig field overrides (camera, noise, occlusion, edge/sides dropout)")
    # --- optimisation ------------------------------------------------------
    batch_size: int = _f(256, "samples per step per rank (global batch = batch_size * world_size)")
    sources_per_step: int = _f(1, "draw each step's batch as this many equal chunks, each from its own "
                               "randomly chosen source (one rig, so one N, per chunk); 1 = one source per step")
    steps: int = _f(20000, "total optimiser steps")
    lr: float = _f(1e-3, "peak AdamW learning rate (paper: 1e-3)")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    beta1: float = _f(0.9, "AdamW beta1")
    beta2: float = _f(0.99, "AdamW beta2")
    warmup_steps: int = _f(500, "linear learning-rate warmup from lr/100 to lr, in steps")
    plateau_factor: float = _f(0.5, "ReduceLROnPlateau: lr multiplier when val MPJPE stops improving")
    schedule: str = _f("plateau", "lr schedule after warmup: plateau (paper: ReduceLROnPlateau on val MPJPE) | "
                       "cosine (to min_lr over steps, or over schedule_min / time_budget_min when that ends first)")
    init_from: str = _f("", "safetensors weights to start from (fine-tuning or continuing on a new budget); "
                        "the optimiser starts fresh; the model config must match")
    grow_from: str = _f("", "a smaller trained checkpoint (stem or .safetensors) the model starts as: widened and "
                        "deepened so it computes the same function (training/grow.py; dim a whole multiple, "
                        "the head width kept); the optimiser starts fresh")
    plateau_patience: int = _f(4, "ReduceLROnPlateau: evaluations without improvement before cutting lr")
    min_lr: float = _f(1e-5, "ReduceLROnPlateau: lower bound on the lr")
    early_stop_patience: int = _f(12, "stop after this many evaluations without val MPJPE improvement (0 = never)")
    mirror_aware: bool = _f(False, "instances without left/right sides may match the target or its depth mirror "
                            "(the same 2D), whichever is closer (training.loss.procrustes_loss mirror_ok): the "
                            "network commits to one answer instead of hedging towards flat; issue 28's stretch item")
    grad_clip: float = _f(1.0, "max global grad norm (0 = no clipping)")
    bf16: bool = _f(True, "bf16 autocast on CUDA (ignored on CPU)")
    compile: bool = _f(False, "wrap the model in torch.compile")
    # --- bookkeeping -------------------------------------------------------
    log_every: int = _f(50, "steps between CSV/TensorBoard training rows")
    eval_every: int = _f(500, "steps between validation passes")
    val_batches: int = _f(4, "fixed seeded validation batches per validation source")
    val_batch_size: int = _f(256, "samples per validation batch")
    ckpt_every: int = _f(2000, "steps between periodic checkpoints (best-by-val is saved on every improvement)")
    seed: int = _f(0, "global seed (rank r draws its data with seed + 1000 * r)")
    out_dir: str = _f("runs/small", "output directory: checkpoints, train_log.csv, config.json")
    time_budget_min: float = _f(0.0, "stop cleanly (validate + save) after this many minutes of training (0 = no limit)")
    schedule_min: float = _f(0.0, "cosine horizon in minutes of training summed over resumed runs (a run longer "
                             "than one device call: each call resumes with its own time_budget_min and the "
                             "learning rate goes on down the one curve); 0 = time_budget_min")
    device: str = _f("auto", "auto | cpu | cuda | cuda:N (under torchrun the local rank picks the GPU)")
    threads: int = _f(0, "torch CPU threads (0 = torch default)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def field_help() -> dict[str, str]:
    """Field name -> help text (for argparse and docs)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(TrainConfig)}


def _check_keys(d: dict, where: str) -> None:
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{where}: unknown TrainConfig field(s) {unknown}; known: {sorted(known)}")


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> TrainConfig:
    """Defaults <- YAML file <- overrides (flat dict; nested dicts are merged key by key)."""
    merged = TrainConfig().to_dict()
    layers = []
    if path:
        with open(path) as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of TrainConfig fields, got {type(data).__name__}")
        _check_keys(data, str(path))
        layers.append(data)
    if overrides:
        _check_keys(overrides, "overrides")
        layers.append(overrides)
    for layer in layers:
        for k, v in layer.items():
            if isinstance(merged[k], dict) and isinstance(v, dict):
                merged[k] = {**merged[k], **v}
            else:
                merged[k] = v
    return TrainConfig(**merged)


def _parse_set(items: list[str]) -> dict:
    """``["model.dim=64", "steps=10"]`` -> ``{"model": {"dim": 64}, "steps": 10}`` (YAML-typed values)."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects key=value or key.sub=value, got {item!r}")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw)
        parts = key.split(".")
        if len(parts) == 1:
            out[parts[0]] = value
        elif len(parts) == 2:
            out.setdefault(parts[0], {})[parts[1]] = value
        else:
            raise ValueError(f"--set key may have at most one dot, got {key!r}")
    return out


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--config``, ``--set`` and one flag per scalar TrainConfig field (default None = unset)."""
    parser.add_argument("--config", help="YAML file of TrainConfig fields (training/configs/*.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any field, nested with one dot: --set model.dim=64 (repeatable)")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if f.type in ("bool", bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        elif f.type in ("int", int, "float", float, "str", str):
            typ = {"int": int, "float": float, "str": str}.get(f.type, f.type)
            parser.add_argument(flag, dest=f.name, type=typ, default=None, help=help_text)
        elif f.type in ("list", list):
            parser.add_argument(flag, dest=f.name, nargs="+", default=None, help=help_text)


def config_from_namespace(ns: argparse.Namespace) -> TrainConfig:
    """Build the config from parsed args (see ``add_config_args``)."""
    overrides = {f.name: getattr(ns, f.name) for f in dataclasses.fields(TrainConfig)
                 if getattr(ns, f.name, None) is not None}
    for k, v in _parse_set(ns.set).items():
        if isinstance(v, dict) and isinstance(overrides.get(k), dict):
            overrides[k] = {**overrides[k], **v}
        else:
            overrides[k] = v
    return load_config(ns.config, overrides)


def config_from_args(argv: list[str]) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_config_args(parser)
    return config_from_namespace(parser.parse_args(argv))


# ----------------------------------------------------------------------------- builders
def build_model(cfg: TrainConfig):
    """The LFM3D network of ``cfg.model_preset`` with ``cfg.model`` overrides."""
    from training.model import LFM3D, preset
    return LFM3D(preset(cfg.model_preset, **cfg.model))


def resolve_sources(names: list | None, procedural_rigs: int | None = None, source_set: str = "") -> list[str]:
    """Source names, checked against the data registry; empty = ``TRAIN_SOURCES`` (or the
    named sources of ``source_set``) with ``procedural_rigs`` procedural rigs per kind
    (None = the registry's PROCEDURAL_RIGS)."""
    from training.data import registry
    names = list(names) if names else list(registry.train_sources(procedural_rigs, source_set))
    unknown = [n for n in names if not registry.is_source(n)]
    if unknown:
        raise ValueError(f"unknown data source(s) {unknown}; known: {sorted(registry.SOURCES)}")
    return names


def training_sources(cfg: TrainConfig) -> list[str]:
    """The training source names of ``cfg``: ``sources`` (or the default set: ``source_set``,
    ``procedural_rigs``) and ``include``, without those matching ``exclude``."""
    names = resolve_sources(cfg.sources, cfg.procedural_rigs, cfg.source_set)
    if cfg.include:  # not resolve_sources([]): empty there means the whole default set
        names += [n for n in resolve_sources(cfg.include) if n not in names]
    kept = [n for n in names if not any(fnmatch.fnmatchcase(n, pat) for pat in cfg.exclude)]
    if not kept:
        raise ValueError(f"exclude {cfg.exclude} removes every training source")
    return kept


def view_config(cfg: TrainConfig):
    """``training.data.views.ViewConfig`` with ``cfg.views`` overrides (unknown keys -> ValueError)."""
    from training.data.views import ViewConfig
    known = {f.name for f in dataclasses.fields(ViewConfig)}
    unknown = sorted(set(cfg.views) - known)
    if unknown:
        raise ValueError(f"views: unknown ViewConfig field(s) {unknown}; known: {sorted(known)}")
    # YAML gives lists where ViewConfig holds (lo, hi) tuples
    return ViewConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.views.items()})


_SOURCE_CACHE: dict = {}


def make_source(name: str, cfg: TrainConfig):
    """Instantiate (once per data dir) the registry source ``name``; ``cfg.data_dir`` is passed
    to factories that take a ``data_dir`` argument."""
    import inspect
    from training.data import registry
    resolve_sources([name])
    key = (name, cfg.data_dir)
    if key not in _SOURCE_CACHE:
        factory = registry.source_factory(name)
        try:
            takes_dir = "data_dir" in inspect.signature(factory).parameters
        except (TypeError, ValueError):
            takes_dir = False
        _SOURCE_CACHE[key] = factory(data_dir=cfg.data_dir) if (takes_dir and cfg.data_dir) else factory()
    return _SOURCE_CACHE[key]


def sources_by_rig(names: list[str], cfg: TrainConfig) -> dict[str, list[str]]:
    """Group source names by their rig: ``{rig: [names...]}`` in first-seen order."""
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(make_source(n, cfg).rig, []).append(n)
    return out


def source_weight(name: str, weights: dict) -> float:
    """Sampling weight of source ``name``: its exact entry, else the first glob pattern that
    matches (``procedural_*``: a family of many sources weighed together), else 1.0."""
    if name in weights:
        return float(weights[name])
    return next((float(w) for pat, w in weights.items() if fnmatch.fnmatchcase(name, pat)), 1.0)


def build_mixture(names: list[str], weights: dict, split: str, cfg: TrainConfig):
    """``PoseMixture`` over ``names`` (weights default 1.0) with ``cfg.views`` camera settings."""
    from training.data.mixture import PoseMixture
    sources = [make_source(n, cfg) for n in names]
    w = [source_weight(n, weights) for n in names]
    return PoseMixture(sources, w, split, view_config(cfg))
