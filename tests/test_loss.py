"""Procrustes alignment and the Procrustean loss (torch)."""

import numpy as np
import pytest
import torch

from training.loss import apply_similarity, procrustes_align, procrustes_loss, rms_radius

torch.set_num_threads(1)
F64 = torch.float64


def random_rotation(b, gen):
    q, r = torch.linalg.qr(torch.randn(b, 3, 3, generator=gen, dtype=F64))
    q = q * torch.sign(torch.diagonal(r, dim1=1, dim2=2)).unsqueeze(1)
    det = torch.linalg.det(q)
    q[:, :, 2] *= det.unsqueeze(-1)  # make it proper
    return q


def test_recovers_a_known_similarity_transform():
    gen = torch.Generator().manual_seed(0)
    src = torch.randn(5, 20, 3, generator=gen, dtype=F64)
    rot = random_rotation(5, gen)
    s = torch.rand(5, generator=gen, dtype=F64) * 3 + 0.2
    t = torch.randn(5, 3, generator=gen, dtype=F64) * 10
    dst = apply_similarity(src, rot, s, t)
    mask = torch.ones(5, 20, dtype=torch.bool)
    r_hat, s_hat, t_hat = procrustes_align(src, dst, mask)
    # exact data, float64: recovery limited by SVD rounding, 1e-9 is ample
    assert torch.allclose(r_hat, rot, atol=1e-9)
    assert torch.allclose(s_hat, s, atol=1e-9)
    assert torch.allclose(t_hat, t, atol=1e-8)


def test_never_returns_a_reflection_even_for_mirrored_targets():
    gen = torch.Generator().manual_seed(1)
    src = torch.randn(8, 15, 3, generator=gen, dtype=F64)
    dst = src * torch.tensor([1.0, 1.0, -1.0], dtype=F64)  # the best orthogonal map is a mirror
    rot, s, _ = procrustes_align(src, dst, torch.ones(8, 15, dtype=torch.bool))
    assert torch.allclose(torch.linalg.det(rot), torch.ones(8, dtype=F64), atol=1e-9)
    assert torch.allclose(rot @ rot.transpose(1, 2), torch.eye(3, dtype=F64).expand(8, 3, 3), atol=1e-9)


def test_masked_points_are_ignored():
    gen = torch.Generator().manual_seed(2)
    src = torch.randn(3, 12, 3, generator=gen, dtype=F64)
    rot = random_rotation(3, gen)
    dst = apply_similarity(src, rot, torch.full((3,), 2.0, dtype=F64), torch.zeros(3, 3, dtype=F64))
    mask = torch.ones(3, 12, dtype=torch.bool)
    mask[:, 8:] = False
    dst[:, 8:] = torch.randn(3, 4, 3, generator=gen, dtype=F64) * 100  # outliers, masked
    dst[0, 9] = float("nan")
    r_hat, s_hat, _ = procrustes_align(src, dst, mask)
    assert torch.allclose(r_hat, rot, atol=1e-9)
    assert torch.allclose(s_hat, torch.full((3,), 2.0, dtype=F64), atol=1e-9)
    assert procrustes_loss(src, dst, mask) < 1e-18  # float64: zero up to rounding


def test_loss_is_invariant_to_pred_similarity_and_target_scale():
    gen = torch.Generator().manual_seed(3)
    pred = torch.randn(4, 10, 3, generator=gen, dtype=F64)
    target = torch.randn(4, 10, 3, generator=gen, dtype=F64)
    mask = torch.ones(4, 10, dtype=torch.bool)
    base = procrustes_loss(pred, target, mask)
    moved = apply_similarity(pred, random_rotation(4, gen), torch.full((4,), 5.0, dtype=F64), torch.ones(4, 3, dtype=F64))
    assert torch.allclose(procrustes_loss(moved, target * 1000.0, mask), base, rtol=1e-9)
    assert 0 < base < 1.0  # never worse than collapsing pred to a point (loss 1 on unit-RMS targets)


def test_gradient_equals_gradient_through_the_svd():
    gen = torch.Generator().manual_seed(4)
    pred = torch.randn(3, 9, 3, generator=gen, dtype=F64, requires_grad=True)
    target = torch.randn(3, 9, 3, generator=gen, dtype=F64)
    mask = torch.ones(3, 9, dtype=torch.bool)
    mask[1, 7:] = False
    (g_loss,) = torch.autograd.grad(procrustes_loss(pred, target, mask), pred)
    # reference: the same loss differentiated through R, s, t (the envelope theorem says equal)
    centred = target - (target * mask[..., None]).sum(1, keepdim=True) / mask.sum(1)[:, None, None]
    tn = centred / rms_radius(target, mask)[:, None, None]
    r, s, t = procrustes_align(pred, tn, mask)
    sq = (((apply_similarity(pred, r, s, t) - tn) ** 2).sum(-1) * mask).sum(1) / mask.sum(1)
    (g_ref,) = torch.autograd.grad(sq.mean(), pred)
    assert torch.allclose(g_loss, g_ref, atol=1e-10)  # float64 rounding only


@pytest.mark.parametrize("kind", ["planar", "collinear", "coincident", "two_points", "no_points"])
def test_degenerate_predictions_give_finite_loss_and_gradient(kind):
    gen = torch.Generator().manual_seed(5)
    pred = torch.randn(2, 8, 3, generator=gen)
    mask = torch.ones(2, 8, dtype=torch.bool)
    if kind == "planar":
        pred[..., 2] = 0
    elif kind == "collinear":
        pred = pred[..., :1].expand(2, 8, 3).clone()
    elif kind == "coincident":
        pred = torch.ones(2, 8, 3)
    elif kind == "two_points":
        mask[:, 2:] = False
    elif kind == "no_points":
        mask[0] = False
    pred.requires_grad_(True)
    target = torch.randn(2, 8, 3, generator=gen)
    loss = procrustes_loss(pred, target, mask)
    (grad,) = torch.autograd.grad(loss, pred)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    r, _, _ = procrustes_align(pred.detach(), target, mask)
    assert torch.isfinite(r).all()
    assert torch.allclose(torch.linalg.det(r), torch.ones(2), atol=1e-5)  # float32 SVD


def test_svd_runs_in_float32_under_bfloat16_autocast():
    gen = torch.Generator().manual_seed(6)
    pred = torch.randn(2, 10, 3, generator=gen).bfloat16()
    target = torch.randn(2, 10, 3, generator=gen)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = procrustes_loss(pred, target, torch.ones(2, 10, dtype=torch.bool))
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def test_shape_errors_are_value_errors():
    with pytest.raises(ValueError, match="mask"):
        procrustes_align(torch.zeros(2, 4, 3), torch.zeros(2, 4, 3), torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        procrustes_loss(torch.zeros(2, 4, 2), torch.zeros(2, 4, 2), torch.ones(2, 4, dtype=torch.bool))


def test_torch_and_numpy_procrustes_agree():
    geometry = pytest.importorskip("lfm3d_net.geometry", reason="lfm3d_net.geometry not written yet")
    gen = torch.Generator().manual_seed(7)
    src = torch.randn(6, 14, 3, generator=gen, dtype=F64)
    dst = torch.randn(6, 14, 3, generator=gen, dtype=F64)
    dst[3] = src[3] * torch.tensor([-1.0, 1.0, 1.0], dtype=F64)  # reflection case
    mask = torch.rand(6, 14, generator=gen) > 0.2
    r, s, t = procrustes_align(src, dst, mask)
    r_np, s_np, t_np = geometry.similarity_procrustes(src.numpy(), dst.numpy(), mask.numpy())
    # same algorithm, both float64; SVD implementations differ only in rounding
    np.testing.assert_allclose(r.numpy(), r_np, atol=1e-8)
    np.testing.assert_allclose(s.numpy(), s_np, atol=1e-8)
    np.testing.assert_allclose(t.numpy(), t_np, atol=1e-8)


def test_mirror_ok_instances_score_their_depth_mirror_as_right_and_others_do_not():
    gen = torch.Generator().manual_seed(5)
    target = torch.randn(4, 11, 3, generator=gen, dtype=F64)
    mask = torch.ones(4, 11, dtype=torch.bool)
    mirror = target * torch.tensor([1.0, 1.0, -1.0], dtype=F64)  # same 2D, opposite depth
    pred = apply_similarity(mirror, random_rotation(4, gen), torch.full((4,), 3.0, dtype=F64), torch.zeros(4, 3, dtype=F64))
    ok = torch.tensor([True, True, False, False])
    assert procrustes_loss(pred, target, mask) > 0.05, "a reflection must cost without mirror_ok"
    assert procrustes_loss(pred[:2], target[:2], mask[:2], mirror_ok=ok[:2]) < 1e-18
    # per instance: the two mirror_ok ones cost nothing, the others what they always did
    assert torch.allclose(procrustes_loss(pred, target, mask, mirror_ok=ok),
                          procrustes_loss(pred[2:], target[2:], mask[2:]) / 2, rtol=1e-9)
    # the plain loss is unchanged when no instance may mirror
    assert torch.equal(procrustes_loss(pred, target, mask, mirror_ok=torch.zeros(4, dtype=torch.bool)),
                       procrustes_loss(pred, target, mask))
