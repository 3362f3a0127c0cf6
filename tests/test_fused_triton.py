"""The fused Triton kernel (training/fused_triton.py) computes LFM3D.forward.

Without a GPU the kernel runs in Triton's interpreter (TRITON_INTERPRET=1, numpy on the
CPU), so these cases stay small. Skipped when triton is not installed (it is not a
requirement of the project: `pip install triton` to run them).
"""
from __future__ import annotations

import os

import pytest
import torch

# The interpreter must be chosen before the kernel is decorated, i.e. before
# training.fused_triton (and triton) is first imported.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

pytest.importorskip("triton", reason="triton is not installed (pip install triton)")

from training.fused_triton import MAX_KEYPOINTS, FusedLFM3D  # noqa: E402
from training.model import LFM3D, preset  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def random_model(name: str, **overrides) -> LFM3D:
    """A preset model whose every parameter is perturbed (LayerNorm weights and all biases
    non-trivial, so a swapped or misplaced tensor shows)."""
    torch.manual_seed(0)
    model = LFM3D(preset(name, **overrides)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.to(DEVICE)


def random_inputs(b: int, n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    kp = torch.rand(b, n, 2, generator=gen) * 500
    mask = torch.rand(b, n, generator=gen) > 0.25
    mask[:, 0] = True
    kp[~mask] = float("nan")  # garbage at masked points must not leak
    adj = torch.rand(b, n, n, generator=gen) > 0.6
    sides = torch.randint(-1, 2, (b, n), generator=gen).float()
    return tuple(t.to(DEVICE) for t in (kp, mask, adj, sides))


@pytest.fixture(scope="module", params=["tiny", "small"])
def model_pair(request):
    model = random_model(request.param)
    return model, FusedLFM3D(model, torch.float32)


@pytest.mark.parametrize("b,n", [(1, 3), (3, 3), (1, 17), (3, 17), (1, 26), (3, 26)])
def test_fp32_matches_model(model_pair, b, n):
    model, fused = model_pair
    args = random_inputs(b, n, seed=10 * b + n)
    with torch.no_grad():
        ref = model(*args)
    out = fused(*args)
    assert out.shape == (b, n, 3) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert (out - ref).abs().max().item() < 1e-3
    assert (out[~args[1]] == 0).all()  # zeros at masked points


def test_fp32_matches_model_with_head_count_not_a_power_of_two():
    # 3 heads of 16, padded to 4 heads (a zero-weight head adds exactly 0)
    model = random_model("tiny", dim=48, heads=3, layers=2)
    args = random_inputs(2, 17, seed=3)
    with torch.no_grad():
        ref = model(*args)
    assert (FusedLFM3D(model, torch.float32)(*args) - ref).abs().max().item() < 1e-3


@pytest.mark.parametrize("tuning", [dict(mlp_chunk=32), dict(mlp_chunk=128),
                                    dict(loop_stages=3, mlp_unroll=2),
                                    dict(heads_per_step=1), dict(heads_per_step=2)])
def test_fp32_matches_model_with_other_chunks_and_loop_schedules(tuning):
    model = random_model("tiny", dim=64, heads=2)  # hidden 256: 8 or 2 chunks of MLP
    args = random_inputs(2, 17, seed=6)
    with torch.no_grad():
        ref = model(*args)
    assert (FusedLFM3D(model, torch.float32, **tuning)(*args) - ref).abs().max().item() < 1e-3


@pytest.mark.parametrize("heads_per_step", [None, 1])
def test_fp32_matches_model_when_weight_loads_skip_padding(heads_per_step):
    # small: D 96 of 128, head width 24 of 32, 48 of 64 RFF frequencies: every mask is partial
    model = random_model("small")
    args = random_inputs(2, 17, seed=8)
    fused = FusedLFM3D(model, torch.float32, skip_padding=True, heads_per_step=heads_per_step)
    with torch.no_grad():
        ref = model(*args)
    assert (fused(*args) - ref).abs().max().item() < 1e-3


def test_fp32_matches_model_with_fronts():
    model = random_model("tiny", use_fronts=True)
    args = random_inputs(2, 17, seed=4)
    fronts = torch.randint(-1, 2, (2, 17), generator=torch.Generator().manual_seed(5)).float().to(DEVICE)
    fused = FusedLFM3D(model, torch.float32)
    with torch.no_grad():
        ref, ref0 = model(*args, fronts), model(*args)
    assert (fused(*args, fronts) - ref).abs().max().item() < 1e-3
    assert (fused(*args) - ref0).abs().max().item() < 1e-3  # None = unknown (all 0)
    assert (ref - ref0).abs().max().item() > 1e-2  # the fronts matter in this model


@pytest.mark.parametrize("n", [17, 40])  # NP = 32, 64 (64-row tiles took a Triton workaround)
def test_fp16_close_to_model(n):
    model = random_model("tiny")
    args = random_inputs(2, n, seed=1)
    with torch.no_grad():
        ref = model(*args)
    out = FusedLFM3D(model, torch.float16)(*args)
    # fp16 dot inputs, fp32 accumulation: ~1e-3 relative error
    assert ((out - ref).norm() / ref.norm()).item() < 1e-2


def test_a_variant_too_big_for_shared_memory_falls_back_to_fewer_stages_then_heads(monkeypatch):
    import triton

    import training.fused_triton as ft

    launches = []
    kernel = ft._lfm3d_kernel

    class TooBig:  # stands in for the GPU's limit: only 1 stage with at most HP heads fits
        def __getitem__(self, grid):
            def launch(*args, **kw):
                launches.append((kw["num_stages"], kw["G"]))
                if kw["num_stages"] > 1 or kw["G"] > fused.HP:
                    raise triton.runtime.errors.OutOfResources(300_000, 232_448, "shared memory")
                return kernel[grid](*args, **kw)
            return launch

    model = random_model("tiny")
    fused = FusedLFM3D(model, torch.float32)  # batch 1, N 17: 3 stages, 2 HP heads per step
    monkeypatch.setattr(ft, "_lfm3d_kernel", TooBig())
    args = random_inputs(1, 17, seed=2)
    with torch.no_grad():
        ref = model(*args)
    out = fused(*args)
    assert launches == [(3, 2 * fused.HP), (1, 2 * fused.HP), (1, fused.HP)], launches
    assert (out - ref).abs().max().item() < 1e-3
    fused(*args)  # the variant that fits is remembered: one launch, no retries
    assert launches[3:] == [(1, fused.HP)], launches


def test_an_explicit_variant_too_big_for_shared_memory_raises(monkeypatch):
    import triton

    import training.fused_triton as ft

    launches = []

    class TooBig:  # only 1 stage fits; the caller asked for 3
        def __getitem__(self, grid):
            def launch(*args, **kw):
                launches.append((kw["num_stages"], kw["G"]))
                if kw["num_stages"] > 1:
                    raise triton.runtime.errors.OutOfResources(300_000, 232_448, "shared memory")
            return launch

    fused = FusedLFM3D(random_model("tiny"), torch.float32, num_stages=3)
    monkeypatch.setattr(ft, "_lfm3d_kernel", TooBig())
    with pytest.raises(triton.runtime.errors.OutOfResources):
        fused(*random_inputs(1, 17, seed=2))
    assert all(st == 3 for st, _ in launches), launches  # fewer heads tried, never fewer stages


def test_too_many_keypoints_raises():
    fused = FusedLFM3D(random_model("tiny"), torch.float32)
    n = MAX_KEYPOINTS + 1
    args = random_inputs(1, n, seed=0)
    with pytest.raises(ValueError, match=str(MAX_KEYPOINTS)):
        fused(*args)
