"""The shipped model through the runtime path (`Lifter.load()`: ONNX Runtime, rig registry,
camera alignment) lifts held-out people and a spread of categories far better than the
flat z = 0 floor. Guards the shipped files, the rig registry and the runtime together; the
full tables are in lfm3d_net/models/MODEL_CARD.md."""
import numpy as np
import pytest

from conftest import requires_shared_data
from lfm3d_net import Lifter
from lfm3d_net.geometry import rms_radius
from lfm3d_net.metrics import pa_mpjpe
from training.baselines import flat_lift
from training.config import TrainConfig
from training.eval import CLEAN_VIEWS, draw

SAMPLES = 256


@pytest.fixture(scope="module")
def lifter():
    return Lifter.load()          # the shipped default: lfm3d_net/models/lfm3d_small.onnx


def _pa_pct(points, target, mask):
    return float(np.mean(100 * np.asarray(pa_mpjpe(points, target, mask)) / rms_radius(target, mask)))


def _lift_clean(lifter, source):
    """Clean val views of `source` (eval's --clean), lifted with its rig named: (3D-LFM, flat)
    mean PA-MPJPE in % of the RMS radius, and the 3D-LFM PA-MPJPE in the data's units."""
    cfg = TrainConfig(data_dir="")
    b = draw(source, SAMPLES, cfg, seed=0, device="cpu", views=CLEAN_VIEWS, batch_size=SAMPLES)[0]
    kp, mask = b["keypoints"].numpy(), b["mask"].numpy().astype(bool)
    target = b["target"].double().numpy()
    res = lifter.lift(kp, mask=mask, rig=b["rig"])
    units = float(np.mean(np.asarray(pa_mpjpe(res.points.astype(np.float64), target, mask))))
    return _pa_pct(res.points.astype(np.float64), target, mask), _pa_pct(flat_lift(kp, mask), target, mask), units


@requires_shared_data
def test_shipped_model_lifts_the_held_out_cmu_subject_within_the_goal(lifter):
    lfm, flat, metres = _lift_clean(lifter, "cmu_mocap_coco17")
    assert metres < 0.035, f"COCO-17 PA-MPJPE {1000 * metres:.1f} mm on CMU subject 7 (goal <= 35 mm)"
    assert lfm < 0.4 * flat


@pytest.mark.parametrize("source", ["hand21_synthetic", "quadruped17_wild", "fish14_synthetic",
                                    "insect17_synthetic", "chair10_synthetic", "bicycle11_synthetic",
                                    "monitor8_synthetic", "box9_synthetic", "legged_robot17_urdf"])
def test_shipped_model_lifts_trained_categories_far_below_the_flat_floor(lifter, source):
    lfm, flat, _ = _lift_clean(lifter, source)
    assert lfm < 0.6 * flat, f"{source}: PA-MPJPE {lfm:.1f} % vs flat {flat:.1f} %"


@pytest.mark.parametrize("source", ["mug8_synthetic", "bird15_synthetic"])
def test_shipped_model_beats_the_flat_floor_on_held_out_categories(lifter, source):
    lfm, flat, _ = _lift_clean(lifter, source)
    assert lfm < 0.9 * flat, f"{source} (never trained): PA-MPJPE {lfm:.1f} % vs flat {flat:.1f} %"
