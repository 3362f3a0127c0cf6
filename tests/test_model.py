"""The 3D-LFM network: equivariance, padding invariance, any N, normalisation, learning."""

import math

import numpy as np
import pytest
import torch

from training.checkpoint import load_metadata, load_model, load_optimizer, save_checkpoint, save_optimizer
from training.loss import procrustes_loss
from training.model import LFM3D, ModelConfig, normalize_2d, preset

torch.set_num_threads(1)


def tiny(**kw) -> LFM3D:
    torch.manual_seed(0)
    return LFM3D(preset("tiny", **kw)).eval()


def random_inputs(b, n, seed=0, dtype=torch.float64, p_masked=0.2):
    gen = torch.Generator().manual_seed(seed)
    kp = (torch.rand(b, n, 2, generator=gen) * 500).to(dtype)
    mask = torch.rand(b, n, generator=gen) > p_masked
    mask[:, 0] = True
    adj = torch.rand(b, n, n, generator=gen) > 0.6
    adj = adj | adj.transpose(1, 2) | torch.eye(n, dtype=torch.bool)
    sides = torch.randint(-1, 2, (b, n), generator=gen).to(dtype)
    return kp, mask, adj, sides


def test_permuting_keypoints_permutes_output():
    model = tiny().double()
    kp, mask, adj, sides = random_inputs(3, 12)
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(1))
    out = model(kp, mask, adj, sides)
    out_p = model(kp[:, perm], mask[:, perm], adj[:, perm][:, :, perm], sides[:, perm])
    # float64: only summation order changes, so 1e-5 relative is far above rounding
    rel = (out_p - out[:, perm]).abs().max() / out.abs().max()
    assert rel < 1e-5


def test_padding_with_garbage_changes_nothing_for_real_points():
    model = tiny().double()
    kp, mask, adj, sides = random_inputs(2, 9)
    out = model(kp, mask, adj, sides)
    extra = 5
    kp_pad = torch.cat([kp, torch.full((2, extra, 2), 1e6, dtype=kp.dtype)], dim=1)
    kp_pad[0, -1] = float("nan")  # garbage, including NaN/inf, must not leak
    kp_pad[1, -2] = float("inf")
    mask_pad = torch.cat([mask, torch.zeros(2, extra, dtype=torch.bool)], dim=1)
    adj_pad = torch.ones(2, 9 + extra, 9 + extra, dtype=torch.bool)  # even a fully connected pad
    adj_pad[:, :9, :9] = adj
    sides_pad = torch.cat([sides, torch.ones(2, extra, dtype=sides.dtype)], dim=1)
    out_pad = model(kp_pad, mask_pad, adj_pad, sides_pad)
    # float64 and masked scores underflow exp() to exactly 0: only rounding differences remain
    assert (out_pad[:, :9] - out).abs().max() < 1e-6
    assert torch.all(out_pad[:, 9:] == 0)
    assert torch.isfinite(out_pad).all()


def test_masked_points_are_zero_and_do_not_influence_visible_ones():
    model = tiny().double()
    kp, mask, adj, sides = random_inputs(1, 10, p_masked=0.0)
    mask[0, 3] = False
    out = model(kp, mask, adj, sides)
    kp2 = kp.clone()
    kp2[0, 3] = torch.tensor([-1e4, 3e3])
    out2 = model(kp2, mask, adj, sides)
    assert torch.all(out[0, 3] == 0)
    assert (out - out2).abs().max() < 1e-9  # masked coordinates are never read


@pytest.mark.parametrize("n", [3, 4, 17, 68, 133, 256])
def test_any_number_of_keypoints_from_3_to_256(n):
    model = tiny()
    kp, mask, adj, sides = random_inputs(2, n, dtype=torch.float32)
    out = model(kp, mask, adj, sides)
    assert out.shape == (2, n, 3)
    assert torch.isfinite(out).all()


def test_batch_mixing_different_n_equals_separate_runs():
    model = tiny().double()
    sizes = [3, 17, 26]
    singles = [random_inputs(1, n, seed=n) for n in sizes]
    n_max = max(sizes)
    kp = torch.zeros(3, n_max, 2, dtype=torch.float64)
    mask = torch.zeros(3, n_max, dtype=torch.bool)
    adj = torch.eye(n_max, dtype=torch.bool).repeat(3, 1, 1)
    sides = torch.zeros(3, n_max, dtype=torch.float64)
    for i, (k, m, a, s) in enumerate(singles):
        n = k.shape[1]
        kp[i, :n], mask[i, :n], adj[i, :n, :n], sides[i, :n] = k[0], m[0], a[0], s[0]
    out = model(kp, mask, adj, sides)
    for i, inputs in enumerate(singles):
        n = inputs[0].shape[1]
        assert (out[i, :n] - model(*inputs)[0]).abs().max() < 1e-9  # float64 rounding only


def test_in_graph_normalisation_fits_visible_points_in_unit_box():
    kp, mask, _, _ = random_inputs(4, 11, dtype=torch.float64)
    normed, center, scale = normalize_2d(kp, mask)
    m = mask.unsqueeze(-1)
    assert torch.allclose((normed * m).sum(1), torch.zeros(4, 2, dtype=torch.float64), atol=1e-12)
    assert torch.allclose((normed.abs() * m).amax(dim=(1, 2)), torch.ones(4, dtype=torch.float64))
    assert torch.all(normed[~mask] == 0)
    restored = normed * scale[:, None, None] + center[:, None]
    assert torch.allclose(restored[mask], kp[mask], atol=1e-9)


def test_in_graph_normalisation_equals_lfm3d_net_geometry():
    geometry = pytest.importorskip("lfm3d_net.geometry", reason="lfm3d_net.geometry not written yet")
    kp, mask, _, _ = random_inputs(4, 11, dtype=torch.float64)
    mask[2] = False  # an instance with no visible point: centre 0, scale floored
    normed, center, scale = normalize_2d(kp, mask)
    n_np, c_np, s_np = geometry.normalize_2d(kp.numpy(), mask.numpy())
    # both float64 implementations of the same formula: rounding only
    np.testing.assert_allclose(normed.numpy(), n_np, atol=1e-9)
    np.testing.assert_allclose(center.numpy(), c_np, atol=1e-9)
    np.testing.assert_allclose(scale.numpy(), s_np, rtol=1e-9)


def test_rff_buffers_are_fixed_by_seed_and_saved_with_weights():
    a, b = LFM3D(preset("tiny")), LFM3D(preset("tiny"))
    assert torch.equal(a.encoder.rff.omega, b.encoder.rff.omega)
    assert "encoder.rff.omega" in a.state_dict() and "encoder.rff.bias" in a.state_dict()
    assert not any("rff" in name for name, _ in a.named_parameters())  # never trained


def test_bad_inputs_raise_value_error_naming_the_problem():
    model = tiny()
    kp, mask, adj, sides = random_inputs(1, 5, dtype=torch.float32)
    with pytest.raises(ValueError, match="adjacency"):
        model(kp, mask, adj[:, :4, :4], sides)
    with pytest.raises(ValueError, match="keypoints"):
        model(kp[..., :1], mask, adj, sides)
    with pytest.raises(ValueError, match="max_keypoints"):
        LFM3D(preset("tiny", max_keypoints=4))(kp, mask, adj, sides)
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(dim=30, heads=4)


def synthetic_batch(b=16, n=12, seed=0):
    """Random 3D point clouds, randomly rotated and orthographically projected to pixels."""
    gen = torch.Generator().manual_seed(seed)
    shapes = torch.randn(b, n, 3, generator=gen) * torch.tensor([1.0, 0.6, 0.3])  # anisotropic
    q = torch.randn(b, 4, generator=gen)
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rot = torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(b, 3, 3)
    cam = shapes @ rot.transpose(1, 2)  # (B, N, 3) camera frame
    kp = cam[..., :2] * 100 + 320  # pixels
    mask = torch.ones(b, n, dtype=torch.bool)
    mask[:, -2:] = torch.rand(b, 2, generator=gen) > 0.3
    adj = torch.ones(b, n, n, dtype=torch.bool)
    return kp, mask, adj, torch.zeros(b, n), cam


def test_fronts_enter_only_models_trained_with_them():
    kp, mask, adj, sides = random_inputs(2, 10)
    fronts = torch.randint(-1, 2, (2, 10), generator=torch.Generator().manual_seed(3)).double()
    plain = tiny().double()
    # a model without use_fronts ignores them; one with it sees them (and None = all 0)
    assert torch.equal(plain(kp, mask, adj, sides, fronts), plain(kp, mask, adj, sides))
    model = tiny(use_fronts=True).double()
    assert model.encoder.proj.in_features == plain.encoder.proj.in_features + 1
    assert torch.equal(model(kp, mask, adj, sides), model(kp, mask, adj, sides, torch.zeros_like(sides)))
    assert (model(kp, mask, adj, sides, fronts) - model(kp, mask, adj, sides)).abs().max() > 1e-3
    # still permutation-equivariant with fronts
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(4))
    out = model(kp, mask, adj, sides, fronts)
    out_p = model(kp[:, perm], mask[:, perm], adj[:, perm][:, :, perm], sides[:, perm], fronts[:, perm])
    assert (out_p - out[:, perm]).abs().max() / out.abs().max() < 1e-5
    with pytest.raises(ValueError, match="fronts must be"):
        model(kp, mask, adj, sides, fronts[:, :5])


def test_init_from_a_model_without_fronts_starts_with_the_same_outputs(tmp_path):
    from training.checkpoint import init_weights
    old = tiny()
    save_checkpoint(tmp_path / "old", old)
    new = LFM3D(preset("tiny", use_fronts=True)).eval()
    init_weights(new, tmp_path / "old.safetensors")
    kp, mask, adj, sides = random_inputs(2, 8, dtype=torch.float32)
    fronts = torch.ones_like(sides)  # the new column starts at zero: fronts change nothing yet
    with torch.no_grad():
        assert torch.equal(new(kp, mask, adj, sides, fronts), old(kp, mask, adj, sides))
    assert torch.all(new.encoder.proj.weight[:, -1] == 0)


def test_tiny_training_run_lowers_the_loss():
    torch.manual_seed(0)
    model = LFM3D(preset("tiny")).train()
    kp, mask, adj, sides, target = synthetic_batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = procrustes_loss(model(kp, mask, adj, sides), target, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    # overfitting one fixed batch: a working model/loss pair at least halves the error
    assert min(losses[-5:]) < 0.5 * losses[0], losses[::10]


def test_checkpoint_round_trip_restores_identical_outputs(tmp_path):
    model = tiny(rff_seed=7)
    save_checkpoint(tmp_path / "ckpt", model, {"rigs": ["coco17"], "metrics": {"pa_mpjpe": 0.1}})
    loaded = load_model(tmp_path / "ckpt.safetensors")
    assert loaded.config == model.config
    inputs = random_inputs(2, 8, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(model(*inputs), loaded(*inputs))
    meta = load_metadata(tmp_path / "ckpt")
    assert meta["extra"]["rigs"] == ["coco17"] and meta["config"]["rff_seed"] == 7
    (tmp_path / "ckpt.json").unlink()  # the safetensors header alone still rebuilds the model
    assert load_model(tmp_path / "ckpt").config == model.config


def test_optimizer_state_round_trips_with_weights_only_load(tmp_path):
    model = tiny()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    procrustes_loss(model(*random_inputs(2, 5, dtype=torch.float32)[:4]), torch.randn(2, 5, 3),
                    torch.ones(2, 5, dtype=torch.bool)).backward()
    opt.step()
    save_optimizer(tmp_path / "ckpt", {"optimizer": opt.state_dict(), "step": 1})
    state = load_optimizer(tmp_path / "ckpt")
    assert state["step"] == 1
    opt2 = torch.optim.AdamW(model.parameters(), lr=1e-3)
    opt2.load_state_dict(state["optimizer"])
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
