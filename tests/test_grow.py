"""training.grow: a wider, deeper 3D-LFM that starts as the trained smaller one."""
import pytest
import torch

from training.grow import check_growable, grow
from training.model import LFM3D, ModelConfig

SMALL = ModelConfig(dim=32, heads=2, layers=2, rff_dim=16, use_fronts=True)
BIG = ModelConfig(dim=64, heads=4, layers=3, rff_dim=16, use_fronts=True)


def _inputs(b=3, n=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    kp = torch.rand(b, n, 2, generator=g, dtype=torch.float64) * 300
    mask = torch.ones(b, n, dtype=torch.bool)
    mask[1, -3:] = False                                   # padded tokens
    adj = torch.rand(b, n, n, generator=g) < 0.3
    adj = adj | adj.transpose(1, 2)
    sides = torch.randint(-1, 2, (b, n), generator=g).to(torch.float64)
    fronts = torch.randint(-1, 2, (b, n), generator=g).to(torch.float64)
    return kp, mask, adj, sides, fronts


def _trained_small():
    torch.manual_seed(0)
    small = LFM3D(SMALL).double().eval()
    with torch.no_grad():  # not a fresh init: LayerNorm gains and biases away from 1 and 0
        for t in small.parameters():
            t.add_(0.1 * torch.randn_like(t))
    return small


def test_grown_model_computes_exactly_what_the_small_one_did():
    small = _trained_small()
    big = LFM3D(BIG).double().eval()
    big.load_state_dict(grow(small.state_dict(), SMALL, BIG, noise=0.0))
    x = _inputs()
    with torch.no_grad():
        torch.testing.assert_close(big(*x), small(*x), atol=1e-10, rtol=1e-10)


def test_noise_breaks_the_copies_apart_and_keeps_the_function_close():
    small = _trained_small()
    big = LFM3D(BIG).double().eval()
    state = grow(small.state_dict(), SMALL, BIG, seed=1)
    big.load_state_dict(state)
    w = state["layers.0.mlp.0.weight"]
    half = w.shape[0] // 2
    assert not torch.allclose(w[:half], w[half:]), "copies left identical would train identically"
    x = _inputs()
    with torch.no_grad():
        a, b = big(*x), small(*x)
    assert (a - b).abs().max() < 0.1 * b.abs().max()


@pytest.mark.parametrize("big, what", [
    (ModelConfig(dim=48, heads=3, layers=2, rff_dim=16, use_fronts=True), "whole multiple"),
    (ModelConfig(dim=64, heads=2, layers=2, rff_dim=16, use_fronts=True), "head width"),
    (ModelConfig(dim=64, heads=4, layers=1, rff_dim=16, use_fronts=True), "layers"),
    (ModelConfig(dim=64, heads=4, layers=2, rff_dim=32, use_fronts=True), "rff_dim"),
])
def test_a_shape_that_cannot_start_from_the_small_model_is_refused_naming_why(big, what):
    with pytest.raises(ValueError, match=what):
        check_growable(SMALL, big)


def test_training_can_start_from_a_grown_checkpoint(tmp_path):
    from training.checkpoint import save_checkpoint
    from tests.test_train import tiny_cfg
    from training.train import train
    small = LFM3D(ModelConfig(dim=32, heads=2, layers=2, rff_dim=32))
    save_checkpoint(tmp_path / "small", small)
    cfg = tiny_cfg(tmp_path, steps=2, model={"dim": 64, "heads": 4, "layers": 3},
                   grow_from=str(tmp_path / "small"))
    assert train(cfg)["steps"] == 2
