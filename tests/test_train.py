"""Training loop: a tiny CPU run learns and checkpoints; resume; time budget; config loading."""
import csv
import json
import math
from pathlib import Path

import pytest
import torch

from training.config import config_from_args, load_config

CONFIG = "training/configs/tiny_cpu.yaml"


def synthetic_source() -> str:
    """A synthetic training source that needs no data file (so the test runs in a clean clone)."""
    import inspect
    registry = pytest.importorskip("training.data.registry", reason="training.data.registry not landed yet")
    pytest.importorskip("training.data.mixture", reason="training.data.mixture not landed yet")
    for name in registry.TRAIN_SOURCES:
        factory = registry.SOURCES[name]
        if "data_dir" not in inspect.signature(factory).parameters and name.endswith("_synthetic"):
            return name
    pytest.skip("no file-free synthetic training source in the registry")


def tiny_cfg(tmp_path, **kw):
    return load_config(CONFIG, {"sources": [synthetic_source()], "out_dir": str(tmp_path / "run"), **kw})


def test_config_yaml_cli_and_set_overrides_compose(tmp_path):
    cfg = config_from_args(["--config", CONFIG, "--steps", "7", "--no-bf16", "--set", "model.dim=48",
                            "--set", "views.foo=0.5", "--sources", "a", "b"])
    assert cfg.steps == 7 and cfg.bf16 is False and cfg.sources == ["a", "b"]
    assert cfg.model["dim"] == 48 and cfg.views == {"foo": 0.5}
    assert cfg.model_preset == "tiny" and cfg.lr == 1e-3  # YAML value and dataclass default kept


def test_source_weight_exact_name_beats_pattern_beats_default():
    from training.config import source_weight
    w = {"procedural_*": 0.1, "procedural_object_03": 2.0, "hand*": 0.5, "h*": 9.0}
    assert source_weight("procedural_object_03", w) == 2.0
    assert source_weight("procedural_creature_17", w) == 0.1
    assert source_weight("hand21_synthetic", w) == 0.5  # first matching pattern, not the last
    assert source_weight("deepmimic", w) == 1.0


def test_unknown_config_field_raises_naming_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stepz: 3\n")
    with pytest.raises(ValueError, match="stepz"):
        load_config(bad)


def test_tiny_cpu_run_lowers_val_loss_and_writes_loadable_checkpoint(tmp_path):
    from training.checkpoint import load_model
    from training.config import build_model
    from training.loss import procrustes_loss
    from training.train import make_val_set, train, validate
    cfg = tiny_cfg(tmp_path, steps=60, eval_every=30, ckpt_every=30, batch_size=32, val_batch_size=64)
    torch.manual_seed(cfg.seed)  # the same initial weights train() starts from
    val = make_val_set(cfg, torch.device("cpu"))
    before = validate(build_model(cfg), val, procrustes_loss)["overall"]
    summary = train(cfg)
    assert summary["steps"] == 60 and summary["train_samples_per_s"] > 0
    model = load_model(tmp_path / "run" / "last")
    after = validate(model, val, procrustes_loss)["overall"]
    # 60 steps of a 2-layer model on one source must cut the held-out loss clearly (>10 %);
    # measured ~30-50 %, so 10 % leaves room for seed/platform noise.
    assert after["loss"] < 0.9 * before["loss"], (before, after)
    assert math.isfinite(after["mpjpe_pct"]) and math.isfinite(after["pa_mpjpe_pct"])
    assert (tmp_path / "run" / "best.safetensors").exists()
    rows = list(csv.DictReader(open(tmp_path / "run" / "train_log.csv")))
    assert [int(r["step"]) for r in rows if r["val_loss"]] == [30, 60]


def test_resume_continues_the_step_count_and_log(tmp_path):
    from training.train import train
    train(tiny_cfg(tmp_path, steps=6, log_every=3, eval_every=6, ckpt_every=6))
    summary = train(tiny_cfg(tmp_path, steps=10, log_every=3, eval_every=6, ckpt_every=6), resume="auto")
    assert summary["steps"] == 10
    meta = json.loads((tmp_path / "run" / "last.json").read_text())
    assert meta["extra"]["step"] == 10
    steps = [int(r["step"]) for r in csv.DictReader(open(tmp_path / "run" / "train_log.csv"))]
    assert steps == sorted(steps) and steps[0] == 3 and steps[-1] == 10  # one header, appended rows


def test_time_budget_stops_cleanly_and_saves(tmp_path):
    from training.train import train
    summary = train(tiny_cfg(tmp_path, steps=10_000, time_budget_min=1e-4))
    assert summary["stop_reason"] == "time_budget" and summary["steps"] < 10_000
    assert (tmp_path / "run" / "last.safetensors").exists() and (tmp_path / "run" / "best.safetensors").exists()


def test_cosine_schedule_decays_from_peak_to_min_over_steps_or_time_budget():
    from training.config import TrainConfig
    from training.train import cosine_lr
    cfg = TrainConfig(lr=1e-3, min_lr=1e-5, warmup_steps=10, steps=110)
    assert cosine_lr(cfg, 10, 0.0) == pytest.approx(1e-3)
    assert cosine_lr(cfg, 60, 0.0) == pytest.approx(0.5 * (1e-3 + 1e-5))
    assert cosine_lr(cfg, 110, 0.0) == pytest.approx(1e-5)
    # A time budget that ends first drives the decay: half the minutes = half way.
    cfg.time_budget_min = 2.0
    assert cosine_lr(cfg, 11, 60.0) == pytest.approx(0.5 * (1e-3 + 1e-5))
    # A run spread over several calls: the horizon is schedule_min, not this call's budget.
    cfg.schedule_min = 8.0
    assert cosine_lr(cfg, 11, 60.0) > 0.9e-3
    assert cosine_lr(cfg, 11, 240.0) == pytest.approx(0.5 * (1e-3 + 1e-5))


def test_resumed_run_goes_on_down_the_cosine_from_the_time_already_trained(tmp_path, monkeypatch):
    import training.train as tt
    seen = []
    real = tt.cosine_lr
    monkeypatch.setattr(tt, "cosine_lr", lambda cfg, step, elapsed: seen.append(elapsed) or real(cfg, step, elapsed))
    kw = dict(schedule="cosine", warmup_steps=0, schedule_min=60.0, log_every=3, eval_every=6, ckpt_every=6)
    first = tt.train(tiny_cfg(tmp_path, steps=6, **kw))
    seen.clear()
    second = tt.train(tiny_cfg(tmp_path, steps=10, **kw), resume="auto")
    assert first["trained_seconds_all_runs"] > 0
    assert min(seen) >= first["trained_seconds_all_runs"], \
        f"the resumed run restarted the schedule: elapsed {min(seen):.3f} s < {first['trained_seconds_all_runs']:.3f} s"
    assert second["trained_seconds_all_runs"] > first["trained_seconds_all_runs"]


def test_resume_without_the_best_file_saves_a_new_best(tmp_path):
    # A long run goes between device calls as last.* only (the size limit): the resumed run
    # must still leave a best to export, even if it never beats the old best's score.
    from training.train import train
    kw = dict(log_every=3, eval_every=3, ckpt_every=3)
    train(tiny_cfg(tmp_path, steps=6, **kw))
    for f in (tmp_path / "run").glob("best.*"):
        f.unlink()
    train(tiny_cfg(tmp_path, steps=7, lr=0.0, min_lr=0.0, **kw), resume="auto")
    assert (tmp_path / "run" / "best.safetensors").exists()


def test_init_from_starts_from_saved_weights(tmp_path):
    from safetensors.torch import load_file
    from training.train import train
    train(load_config(CONFIG, {"sources": [synthetic_source()], "out_dir": str(tmp_path / "a"), "steps": 2}))
    train(load_config(CONFIG, {"sources": [synthetic_source()], "out_dir": str(tmp_path / "b"), "steps": 1,
                               "lr": 0.0, "min_lr": 0.0, "warmup_steps": 0, "weight_decay": 0.0,
                               "init_from": str(tmp_path / "a" / "last.safetensors")}))
    a, b = load_file(str(tmp_path / "a" / "last.safetensors")), load_file(str(tmp_path / "b" / "last.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a), "with lr=0 the weights must stay those we started from"


@pytest.mark.parametrize("path", sorted(Path("training/configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_config_loads_with_known_sources_and_weight_patterns(path):
    import fnmatch
    from training.config import build_model, load_config, resolve_sources, training_sources
    cfg = load_config(path)
    names = training_sources(cfg)
    for pattern in cfg.weights:
        assert any(fnmatch.fnmatch(n, pattern) for n in names), f"{path}: weight {pattern!r} matches no source"
    everything = resolve_sources(cfg.sources, cfg.procedural_rigs, cfg.source_set)
    for pattern in cfg.exclude:
        assert any(fnmatch.fnmatch(n, pattern) for n in everything), f"{path}: exclude {pattern!r} matches no source"
    assert sum(p.numel() for p in build_model(cfg).parameters()) > 0


def test_exclude_takes_sources_out_of_training_and_validation(tmp_path):
    from training.config import TrainConfig, training_sources
    from training.train import make_val_set
    cfg = TrainConfig(sources=["hand21_synthetic", "fish14_synthetic", "sofa12_synthetic"],
                      exclude=["fish*"], val_batches=1, val_batch_size=4)
    assert training_sources(cfg) == ["hand21_synthetic", "sofa12_synthetic"]
    assert set(make_val_set(cfg, torch.device("cpu"))) == {"hand21_synthetic", "sofa12_synthetic"}
    with pytest.raises(ValueError, match="removes every training source"):
        training_sources(TrainConfig(sources=["hand21_synthetic"], exclude=["*"]))


def test_include_adds_held_out_sources_to_training_and_validation():
    from training.config import TrainConfig, training_sources
    from training.data import registry
    from training.train import make_val_set
    held_out = "bird15_synthetic"
    assert held_out not in registry.train_sources(0), "the test needs a source the default set holds out"
    cfg = TrainConfig(sources=["hand21_synthetic"], include=[held_out, "hand21_synthetic"],
                      val_batches=1, val_batch_size=4)
    assert training_sources(cfg) == ["hand21_synthetic", held_out], "include appends, once per name"
    assert set(make_val_set(cfg, torch.device("cpu"))) == {"hand21_synthetic", held_out}
    assert held_out in training_sources(TrainConfig(procedural_rigs=0, include=[held_out]))
    with pytest.raises(ValueError, match="unknown data source"):
        training_sources(TrainConfig(sources=["hand21_synthetic"], include=["no_such_source"]))


def test_sources_per_step_splits_each_step_into_chunks_of_independently_drawn_sources(tmp_path, monkeypatch):
    from training.data.mixture import PoseMixture
    from training.train import train
    drawn = []
    real_batch = PoseMixture.batch

    def spy(self, batch_size, generator, device="cpu"):
        out = real_batch(self, batch_size, generator, device)
        if self.split == "train":  # not the validation set's batches
            drawn.append((batch_size, out["source"]))
        return out
    monkeypatch.setattr(PoseMixture, "batch", spy)
    sources = ["hand21_synthetic", "chair10_synthetic", "car12_synthetic", "bottle8_synthetic"]  # no data files
    cfg = load_config(CONFIG, {"sources": sources, "out_dir": str(tmp_path / "run"), "steps": 6,
                               "batch_size": 32, "sources_per_step": 4, "eval_every": 6, "ckpt_every": 0})
    summary = train(cfg)
    assert summary["steps"] == 6 and summary["global_batch"] == 32
    assert len(drawn) == 6 * 4 and {b for b, _ in drawn} == {8}, drawn
    per_step = [{s for _, s in drawn[i:i + 4]} for i in range(0, 24, 4)]
    assert max(len(s) for s in per_step) > 1, f"every step drew a single source: {per_step}"


def test_sources_per_step_must_divide_the_batch(tmp_path):
    from training.train import train
    with pytest.raises(ValueError, match="sources_per_step=3"):
        train(tiny_cfg(tmp_path, batch_size=16, sources_per_step=3))


def test_train_does_not_import_eval():
    """training.train validates with training.metrics; eval imports train (rig transfer), so
    train importing eval back would be a circle."""
    import subprocess
    import sys
    code = "import sys, training.train; assert 'training.eval' not in sys.modules, 'train imports eval'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mirror_aware_training_runs_with_a_finite_validation_score(tmp_path):
    from training.train import train
    summary = train(tiny_cfg(tmp_path, steps=4, mirror_aware=True, eval_every=4, ckpt_every=4))
    assert summary["steps"] == 4 and math.isfinite(summary["best_val_mpjpe_pct"])
