"""render_views: closed-form orthographic projection, masks, centred targets, adjacency twin."""
import dataclasses

import numpy as np
import pytest
import torch

from lfm3d_net.rigs import get_rig
from training.data.mixture import PoseMixture, pad_collate
from training.data.synthetic_hand import hand_source
from training.data.synthetic_objects import object_source
from training.data.views import ViewConfig, knn_adjacency_torch, random_rotations, render_views

FIXED = ViewConfig(p_perspective=0.0, azimuth_deg=(0.0, 0.0), elevation_deg=(0.0, 0.0),
                   roll_deg=(0.0, 0.0), image_size=(100.0, 100.0), image_offset=0.0,
                   noise_std=0.0, p_missing=0.0, p_edge_dropout=0.0, p_sides_dropout=0.0)


def _poses(b=8, rig="chair10", seed=0):
    return torch.from_numpy(object_source(rig, count=b, seed=seed).poses("train"))


def test_orthographic_front_view_matches_closed_form():
    x = _poses()
    out = render_views(x, "chair10", FIXED, torch.Generator().manual_seed(0))
    c = (x - x.mean(1, keepdim=True)).numpy()
    expect = np.stack([c[..., 0], -c[..., 1]], -1)           # world y-up -> image y-down
    expect = expect * (100.0 / np.abs(expect).max(axis=(1, 2), keepdims=True))
    # float32 round-off on ~100-unit values: 1e-3.
    np.testing.assert_allclose(out["keypoints"].numpy(), expect, atol=1e-3)
    # Target: camera frame x right, y down, z forward; the chair's front (+z) faces the camera.
    t = out["target"].numpy()
    np.testing.assert_allclose(t[..., 0], c[..., 0], atol=1e-5)
    np.testing.assert_allclose(t[..., 2], -c[..., 2], atol=1e-5)


def test_azimuth_quarter_turn_shows_the_side():
    cfg = dataclasses.replace(FIXED, azimuth_deg=(90.0, 90.0))
    x = _poses()
    out = render_views(x, "chair10", cfg, torch.Generator().manual_seed(0))
    c = (x - x.mean(1, keepdim=True)).numpy()
    # A 90 deg turn about world up maps world z to camera x (tolerance: float32 cos(pi/2)).
    np.testing.assert_allclose(out["target"][..., 0].numpy(), c[..., 2], atol=1e-5)


def test_random_rotations_are_proper_and_point_everywhere():
    R = random_rotations(4000, torch.Generator().manual_seed(0)).double()
    eye = torch.eye(3, dtype=R.dtype).expand_as(R)
    assert torch.allclose(R @ R.transpose(1, 2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(R), torch.ones(4000, dtype=R.dtype), atol=1e-5)
    up = R[:, :, 1]                                   # where the subject's up ends
    assert abs(float((up[:, 1] < 0).double().mean()) - 0.5) < 0.05, "upside down half the time"
    assert abs(float(up[:, 1].mean())) < 0.05 and float(up[:, 1].var()) == pytest.approx(1 / 3, abs=0.03)


def test_any_orientation_turns_subjects_over_and_is_off_without_drawing():
    x = _poses(64)
    base = render_views(x, "chair10", FIXED, torch.Generator().manual_seed(0))
    off = render_views(x, "chair10", dataclasses.replace(FIXED, p_any_orientation=0.0),
                       torch.Generator().manual_seed(0))
    for k in base:      # p = 0 draws nothing: an older config's data is unchanged
        assert torch.equal(base[k], off[k]), k
    turned = render_views(x, "chair10", dataclasses.replace(FIXED, p_any_orientation=1.0),
                          torch.Generator().manual_seed(0))["target"]
    rig = get_rig("chair10")
    e = torch.as_tensor(rig.edge_array())
    bone = lambda t: (t[:, e[:, 0]] - t[:, e[:, 1]]).norm(dim=-1)  # noqa: E731
    assert torch.allclose(bone(turned), bone(base["target"]), atol=1e-4), "a rigid turn"
    # the chair's up axis (world y) seen in the camera: FIXED keeps it upright (image y down)
    below = lambda t: torch.sign(t[:, :4, 1].mean(1) - t[:, 4:8, 1].mean(1))  # noqa: E731  feet vs seat
    assert (below(base["target"]) > 0).all(), "upright: the feet lower in the image (y down)"
    assert (below(turned) < 0).any(), "some chairs turned upside down"


def test_masks_honoured_and_targets_centred_on_visible_points():
    cfg = dataclasses.replace(FIXED, p_missing=0.6, p_perspective=0.5, noise_std=0.02)
    x = torch.from_numpy(hand_source(count=64).poses("train"))
    out = render_views(x, "hand21", cfg, torch.Generator().manual_seed(1))
    m = out["mask"]
    assert (~m).any() and (m.sum(1) >= 3).all()
    assert (out["keypoints"][~m] == 0).all()
    centroid = (out["target"] * m[..., None]).sum(1) / m.sum(1, keepdim=True)
    assert centroid.abs().max() < 1e-6                      # float32 sums of ~0.1 m values
    adj = out["adjacency"]
    eye = torch.eye(21, dtype=torch.bool)
    assert (adj == adj.transpose(1, 2)).all() and adj[:, eye].all()
    masked_rows = adj & ~eye & ~m[:, :, None]
    assert not masked_rows.any()                            # masked points: self-loop only


def test_sides_follow_rig_or_are_dropped_whole():
    cfg = dataclasses.replace(FIXED, p_sides_dropout=0.5)
    out = render_views(_poses(64), "chair10", cfg, torch.Generator().manual_seed(2))
    rig_sides = torch.from_numpy(get_rig("chair10").side_array())
    kept = (out["sides"] == rig_sides).all(1)
    dropped = (out["sides"] == 0).all(1)
    assert (kept | dropped).all() and kept.any() and dropped.any()


def test_fronts_follow_rig_or_are_dropped_whole():
    cfg = dataclasses.replace(FIXED, p_fronts_dropout=0.5)
    out = render_views(_poses(64, "car12"), "car12", cfg, torch.Generator().manual_seed(5))
    rig_fronts = torch.from_numpy(get_rig("car12").front_array())
    assert (rig_fronts == 1).sum() == 6 and (rig_fronts == -1).sum() == 6
    kept = (out["fronts"] == rig_fronts).all(1)
    dropped = (out["fronts"] == 0).all(1)
    assert (kept | dropped).all() and kept.any() and dropped.any()


def test_perspective_stays_in_front_of_the_camera_and_is_finite():
    cfg = dataclasses.replace(ViewConfig(), p_perspective=1.0)
    out = render_views(_poses(64, "car12"), "car12", cfg, torch.Generator().manual_seed(3))
    assert torch.isfinite(out["keypoints"]).all() and torch.isfinite(out["target"]).all()


def test_wrong_pose_shape_raises():
    with pytest.raises(ValueError, match="chair10"):
        render_views(torch.zeros(2, 5, 3), "chair10", FIXED, torch.Generator())


def test_knn_adjacency_matches_numpy_graph_module():
    graph = pytest.importorskip("lfm3d_net.graph")
    g = torch.Generator().manual_seed(4)
    kp = torch.rand(6, 12, 2, generator=g) * 100           # continuous: no distance ties
    mask = torch.rand(6, 12, generator=g) > 0.3
    for k in (1, 3, graph.DEFAULT_KNN):
        ours = knn_adjacency_torch(kp, mask, k).numpy()
        ref = graph.knn_adjacency(kp.numpy(), mask.numpy(), k=k)
        np.testing.assert_array_equal(ours, ref)


def test_edge_adjacency_matches_numpy_graph_module():
    graph = pytest.importorskip("lfm3d_net.graph")
    cfg = dataclasses.replace(FIXED, p_missing=0.5)
    out = render_views(_poses(8), "chair10", cfg, torch.Generator().manual_seed(5))
    ref = graph.build_adjacency(out["keypoints"].numpy(), out["mask"].numpy(),
                                edges=get_rig("chair10").edge_array())
    np.testing.assert_array_equal(out["adjacency"].numpy(), ref)


def test_mixture_batches_one_rig_each_and_pad_collate_masks_padding():
    mix = PoseMixture([hand_source(count=50), object_source("mug8", count=50)], [1.0, 1.0])
    g = torch.Generator().manual_seed(0)
    batches = [mix.batch(4, g, "cpu") for _ in range(8)]
    assert {b["rig"] for b in batches} == {"hand21", "mug8"}
    for b in batches:
        assert b["keypoints"].shape == (4, get_rig(b["rig"]).n, 2)
    c = pad_collate(batches)
    mug = torch.tensor([r == "mug8" for r in c["rig"]])
    assert not c["mask"][mug, 8:].any()
    assert c["adjacency"][mug][:, 8:, :].sum() == c["adjacency"][mug][:, 8:, 8:].diagonal(dim1=1, dim2=2).sum()
