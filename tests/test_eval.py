"""Evaluation: metric definitions on closed-form cases, baselines, and the eval report."""
import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from training.baselines import BaselineConfig, SimpleBaseline, flat_lift
from training.eval import lift_metrics


def random_rotations(b, rng):
    q, _ = np.linalg.qr(rng.normal(size=(b, 3, 3)))
    return q * np.sign(np.linalg.det(q))[:, None, None]


def test_exact_rotated_and_scaled_shape_scores_zero_after_camera_alignment():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(8, 17, 3))
    target -= target.mean(1, keepdims=True)
    kp = target[..., :2] * 40 + 300  # exact orthographic view in pixel-like units
    canon = 0.3 * np.einsum("bij,bnj->bni", random_rotations(8, rng), target)  # unknown rotation/scale
    m = lift_metrics(canon, kp, np.ones((8, 17), bool), target)
    # float64 closed form: alignment recovers the rotation exactly, scale from RMS radius.
    assert np.all(m["mpjpe_pct"] < 1e-6) and np.all(m["pa_mpjpe_pct"] < 1e-6)


def test_flat_floor_is_exact_for_a_planar_object_facing_the_camera_and_not_otherwise():
    rng = np.random.default_rng(1)
    target = np.concatenate([rng.normal(size=(4, 10, 2)), np.zeros((4, 10, 1))], -1)
    mask = np.ones((4, 10), bool)
    mask[0, :3] = False  # masked points must not matter
    kp = target[..., :2] * 7 - 50
    m = lift_metrics(flat_lift(kp, mask), kp, mask, target)
    assert np.all(m["mpjpe_pct"] < 1e-4)  # float32 flat_lift: ~1e-6 relative
    deep = target + np.concatenate([np.zeros((4, 10, 2)), rng.normal(size=(4, 10, 1))], -1)
    m2 = lift_metrics(flat_lift(kp, mask), kp, mask, deep)
    assert np.all(np.isfinite(m2["mpjpe_pct"])) and np.all(m2["mpjpe_pct"] > 5)


def test_simple_baseline_rejects_other_rigs_and_outputs_masked_3d():
    model = SimpleBaseline(5, BaselineConfig(hidden=16)).eval()
    kp, mask = torch.randn(3, 5, 2), torch.ones(3, 5, dtype=torch.bool)
    mask[0, 4] = False
    out = model(kp, mask)
    assert out.shape == (3, 5, 3) and torch.all(out[0, 4] == 0)
    with pytest.raises(ValueError, match="5 joints"):
        model(torch.randn(3, 6, 2), torch.ones(3, 6, dtype=torch.bool))


def _registry():
    registry = pytest.importorskip("training.data.registry", reason="training.data.registry not landed yet")
    pytest.importorskip("training.data.mixture", reason="training.data.mixture not landed yet")
    return registry


def test_simple_baseline_trains_and_gives_finite_metrics():
    _registry()
    from test_train import synthetic_source
    from training.baselines import predict_simple_baseline, train_simple_baseline
    from training.config import TrainConfig, build_mixture, make_source
    from lfm3d_net.rigs import get_rig
    name, cfg = synthetic_source(), TrainConfig()
    mix = build_mixture([name], {}, "train", cfg)
    n = get_rig(make_source(name, cfg).rig).n
    model = train_simple_baseline(mix, n, BaselineConfig(hidden=64, steps=5, batch_size=16))
    b = mix.batch(16, torch.Generator().manual_seed(3), "cpu")
    kp, mask = b["keypoints"].numpy(), b["mask"].numpy()
    for pred in (predict_simple_baseline(model, kp, mask), flat_lift(kp, mask)):
        m = lift_metrics(pred, kp, mask, b["target"].numpy())
        assert all(np.all(np.isfinite(v)) for v in m.values())


def test_eval_on_a_tiny_checkpoint_writes_tables_with_finite_numbers(tmp_path):
    registry = _registry()
    from test_train import tiny_cfg, synthetic_source
    from training.config import TrainConfig, make_source
    from training.eval import evaluate
    from training.train import train
    train(tiny_cfg(tmp_path, steps=3, eval_every=3))
    src = synthetic_source()
    train_cat = make_source(src, TrainConfig()).category
    import inspect
    file_free = [n for n in registry.SOURCES  # sources that need no data file (clean clones)
                 if "data_dir" not in inspect.signature(registry.SOURCES[n]).parameters]
    other = [n for n in file_free if make_source(n, TrainConfig()).category != train_cat][:1]
    args = SimpleNamespace(checkpoint=str(tmp_path / "run" / "best"), out=str(tmp_path / "eval"), samples=8,
                           device="cpu", seed=0, sources=[src, *other], data_dir="", baselines="",
                           baseline_steps=2, perspective_field="p_perspective", transfer_a=src,
                           transfer_b=other[0] if other else src, transfer_steps=2, transfer_preset="tiny",
                           transfer_batch_size=8, transfer_minutes=0.0, figures=True,
                           clean=False, view=[], flip_average=False)
    text = evaluate(args)
    md = (tmp_path / "eval" / "eval.md").read_text()
    assert md == text
    for header in ("## Per source (category, rig)", "| source | category | rig | status | 3D-LFM MPJPE |",
                   "flat MPJPE", "SimpleBaseline MPJPE", "## Orthographic vs perspective input",
                   "## Permutation check", "## Rig transfer"):
        assert header in md
    assert "nan" not in md.lower() and "inf" not in md.lower().replace("info", "")
    assert len(re.findall(r"\d+\.\d%", md)) >= 8
    res = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert res["sources"][src]["status"] == "train"
    if other:
        assert res["sources"][other[0]]["status"] == "OOD category"
    for v in res["sources"].values():
        assert all(math.isfinite(x) for x in v["3D-LFM"].values())
    # float32 forward: a permutation changes the summation order only (~1e-6).
    assert max(res["permutation"].values()) < 1e-4
    assert (tmp_path / "eval" / f"fig_{train_cat}.png").exists()
    # the baselines it trained are saved, and another table can reuse them unchanged
    saved = tmp_path / "eval" / "baselines"
    assert sorted(p.stem for p in saved.glob("*.safetensors")) == [res["sources"][src]["rig"]]
    again = SimpleNamespace(**{**vars(args), "out": str(tmp_path / "eval2"), "baselines": str(saved),
                               "baseline_steps": 0, "transfer_steps": 0, "figures": False})
    evaluate(again)
    res2 = json.loads((tmp_path / "eval2" / "eval.json").read_text())
    assert res2["sources"][src]["SimpleBaseline"] == res["sources"][src]["SimpleBaseline"]
    assert "†" not in (tmp_path / "eval2" / "eval.md").read_text()
    if other:   # a baseline trained on the held-out category itself is shown, marked as an oracle
        from training.baselines import save_baselines, train_per_rig
        save_baselines(saved, train_per_rig(other, BaselineConfig(steps=2, batch_size=8)))
        evaluate(SimpleNamespace(**{**vars(again), "out": str(tmp_path / "eval3")}))
        md3 = (tmp_path / "eval3" / "eval.md").read_text()
        row = next(line for line in md3.splitlines() if line.startswith(f"| {other[0]} |"))
        assert "OOD category" in row and row.rstrip(" |").endswith("†"), row
        assert "† a SimpleBaseline trained on that held-out rig's own data" in md3


def test_clean_views_and_view_overrides_reach_the_view_config():
    from training.eval import CLEAN_VIEWS, view_overrides
    assert view_overrides(SimpleNamespace(clean=False, view=[])) == {}
    v = view_overrides(SimpleNamespace(clean=True, view=["noise_std=0.02", "elevation_deg=[0, 10]"]))
    assert v["p_missing"] == 0.0 and v["p_sides_dropout"] == 0.0 and v["p_edge_dropout"] == 0.0
    assert v["noise_std"] == 0.02 and v["elevation_deg"] == [0, 10], "--view must win over --clean"
    assert set(CLEAN_VIEWS) <= set(v)
    with pytest.raises(ValueError, match="KEY=VALUE"):
        view_overrides(SimpleNamespace(clean=False, view=["noise_std"]))


def test_rig_transfer_starts_from_scratch_when_the_checkpoint_continued_another_run(tmp_path):
    """A stage-2 checkpoint's training config carries init_from; the rig-transfer runs (a
    different model size) must not inherit it (it crashed with a state-dict size mismatch)."""
    _registry()
    from test_train import tiny_cfg, synthetic_source
    from training.eval import evaluate
    from training.train import train
    train(tiny_cfg(tmp_path, steps=2, eval_every=2))
    train(tiny_cfg(tmp_path, steps=2, eval_every=2, out_dir=str(tmp_path / "stage2"),
                   init_from=str(tmp_path / "run" / "best.safetensors")))
    src = synthetic_source()
    args = SimpleNamespace(checkpoint=str(tmp_path / "stage2" / "best"), out=str(tmp_path / "eval"), samples=4,
                           device="cpu", seed=0, sources=[src], data_dir="", baselines="", baseline_steps=0,
                           perspective_field="p_perspective", transfer_a=src, transfer_b=src, transfer_steps=1,
                           transfer_preset="small", transfer_batch_size=4, transfer_minutes=0.0, figures=False,
                           clean=False, view=[], flip_average=False)
    assert "## Rig transfer" in evaluate(args)


def test_clean_eval_trains_baselines_on_the_training_views_not_the_clean_ones(tmp_path, monkeypatch):
    """"Trained on the same data as the peer": --clean changes the test views only."""
    _registry()
    import training.baselines
    from test_train import tiny_cfg, synthetic_source
    from training.eval import evaluate
    from training.train import train
    train(tiny_cfg(tmp_path, steps=2, eval_every=2, views={"noise_std": 0.03}))
    seen = {}

    def fake_train_per_rig(names, cfg, views=None, data_dir="", device="cpu", log_every=0):
        seen["views"] = dict(views or {})
        return {}
    monkeypatch.setattr(training.baselines, "train_per_rig", fake_train_per_rig)
    args = SimpleNamespace(checkpoint=str(tmp_path / "run" / "best"), out=str(tmp_path / "eval"), samples=4,
                           device="cpu", seed=0, sources=[synthetic_source()], data_dir="", baselines="",
                           baseline_steps=3, perspective_field="p_perspective", transfer_a="", transfer_b="",
                           transfer_steps=0, transfer_preset="tiny", transfer_batch_size=4, transfer_minutes=0.0,
                           figures=False, clean=True, view=[], flip_average=False)
    md = evaluate(args)
    assert seen["views"].get("noise_std") == 0.03, f"baselines trained on {seen['views']}, not the training views"
    assert '"noise_std": 0.0' in md.split("SimpleBaselines")[0], "the 3D-LFM test views must still be clean"


def test_flip_averaged_eval_lift_is_mirror_equivariant_like_the_lifter(tmp_path):
    """The eval's flip average is the Lifter's: lifting the mirrored batch gives the mirrored
    result (up to the depth mirror)."""
    import torch
    from test_train import tiny_cfg, synthetic_source
    from lfm3d_net.geometry import mirror_x
    from training.checkpoint import load_model
    from training.eval import draw, run_lfm_flip_average
    from training.train import train
    cfg = tiny_cfg(tmp_path, steps=2, eval_every=2)
    train(cfg)
    model = load_model(tmp_path / "run" / "best", torch.device("cpu"))
    b = draw(synthetic_source(), 8, cfg, seed=0, device=torch.device("cpu"))[0]
    mirrored = {**b, "keypoints": b["keypoints"] * torch.tensor([-1.0, 1.0]), "sides": -b["sides"]}
    a, m = run_lfm_flip_average(model, b), run_lfm_flip_average(model, mirrored)
    assert a.shape == b["target"].shape and np.isfinite(a).all()
    tol = 1e-4 * np.abs(a).max()
    gap = np.minimum(np.abs(mirror_x(m) - a).max((1, 2)), np.abs(mirror_x(m) * [1, 1, -1] - a).max((1, 2)))
    assert gap.max() < tol, f"not mirror-consistent up to the depth mirror: {gap.max():.3g}"
