"""Degenerate input (issue 27, item 5), without ROS: the Lifter refuses it with a ValueError
that names the instance, and the node's parser drops that one instance with a counted reason.

Degenerate = all-zero or identical valid points, coordinates like 1e30, or a spread so small
(subnormal) that any fitted scale is noise. Before, these came out as a zero skeleton, NaN
points with confidence 0.9, or metric depths of 0.01 m, negative, or 4e40 m.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from lfm3d_net import inputs
from lfm3d_ros import conversions as conv

RNG = np.random.default_rng(3)
GOOD = RNG.uniform(100, 400, (17, 2)).astype(np.float32)
DEGENERATE = {  # name -> (17, 2) keypoints, all valid, and the node's reason
    "all_zero": (np.zeros((17, 2), np.float32), "degenerate"),
    "identical": (np.full((17, 2), 321.5, np.float32), "degenerate"),
    "subnormal_spread": ((RNG.normal(size=(17, 2)) * 1e-40).astype(np.float32), "degenerate"),
    "tiny_spread_far_away": ((5e5 + RNG.normal(size=(17, 2)) * 1e-3).astype(np.float32), "degenerate"),
    "huge": ((RNG.normal(size=(17, 2)) * 1e30).astype(np.float32), "out_of_range"),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_validate_and_pad_refuses_degenerate_instances_naming_the_instance(name):
    kp = np.stack([GOOD, DEGENERATE[name][0]])                       # instance 1 is bad
    with pytest.raises(ValueError, match="instance 1"):
        inputs.validate_and_pad(kp)                                  # fast path (float32 array)
    with pytest.raises(ValueError, match="instance 1"):
        inputs.validate_and_pad([GOOD.astype(np.float64), kp[1]])    # general path (ragged list)


def test_spread_check_accepts_ordinary_and_small_but_real_shapes():
    kp = np.stack([GOOD, GOOD * 1e-3, GOOD - GOOD.mean(0)])          # pixels, mm-ish, centred
    too_large, collapsed = inputs.spread_check(kp, np.ones(kp.shape[:2], bool))
    assert not too_large.any() and not collapsed.any()


def test_spread_check_ignores_masked_points():
    kp = np.zeros((1, 5, 2))
    kp[0, :3] = [[0, 0], [10, 0], [0, 10]]
    kp[0, 3:] = 1e30                                                 # masked garbage
    mask = np.array([[True] * 3 + [False] * 2])
    too_large, collapsed = inputs.spread_check(kp, mask)
    assert not too_large[0] and not collapsed[0]


def _kp(xy, conf=0.9):
    return SimpleNamespace(instance_id=7, category="person", rig="", x=list(xy[:, 0]),
                           y=list(xy[:, 1]), confidence=[conf] * len(xy), edges=[])


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_node_parser_drops_a_degenerate_instance_with_its_reason(name):
    xy, reason = DEGENERATE[name]
    msg = SimpleNamespace(instances=[_kp(GOOD), _kp(xy), _kp(GOOD)])
    accepted, rejected = conv.parse_array(msg, conv.Limits(min_confidence=0.3))
    assert [a.index for a in accepted] == [0, 2]
    assert [(r.index, r.reason) for r in rejected] == [(1, reason)]
    assert reason in conv.REASONS
