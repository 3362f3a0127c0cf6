"""Start-up validation (issue 27, item 9): one behaviour for every kind of bad value.

A params file with a wrong type, an out-of-range number, an unknown choice and an unknown
default_rig used to either leave the node unconfigured or kill it with a traceback, by kind.
Now each refused value is logged by name, the default stands in, the node stays alive and
unconfigured (diagnostics ERROR), and setting the parameters right lets it configure.
"""

import pytest

from ros_helpers import lifter_node, make_array, make_instance, require_node

require_node()

from lifecycle_msgs.msg import Transition  # noqa: E402

# choice, range, type (a new size prior: rcl keeps lift.yaml's type when a later file changes it)
BAD = {"backend": "cuda", "marker_lifetime": 100.0, "size_prior.dog": "big"}


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    with lifter_node(tmp_path_factory.mktemp("startup"), "lfm3d_startup_probe", wait=False,
                     default_rig="no_such_rig", size_prior_default=2, **BAD) as running:
        yield running


def test_bad_start_up_values_leave_the_node_alive_unconfigured_and_say_which(lifter):
    probe, proc, log = lifter
    assert probe.spin_until(lambda: probe.diagnostic_status() is not None, 60), log.read_text()
    assert proc.poll() is None, log.read_text()
    assert probe.get_state() == "unconfigured"
    text = log.read_text()
    for name in BAD:
        assert f"parameter refused at start-up: {name}=" in text, text
    assert "Traceback" not in text
    assert "size_prior_default" not in text.split("configure failed")[0]   # an int for a float is fine
    status = probe.fresh_diagnostics()
    assert status.level == b"\x02" and "backend" in status.message


def test_configure_fails_until_the_values_are_set_right_then_the_node_lifts(lifter):
    probe, proc, log = lifter
    assert probe.change_state(Transition.TRANSITION_CONFIGURE) is False
    fix = {"backend": "onnxruntime", "marker_lifetime": 0.5, "size_prior.dog": 0.8}
    assert probe.set_parameters(**fix) == [(True, "")] * 3
    assert probe.change_state(Transition.TRANSITION_CONFIGURE) is False       # default_rig still unknown
    assert "no_such_rig" in log.read_text()
    assert probe.set_parameters(default_rig="coco17") == [(True, "")]
    assert probe.change_state(Transition.TRANSITION_CONFIGURE) is True
    assert probe.change_state(Transition.TRANSITION_ACTIVATE) is True
    assert probe.wait_for_lifter(30)
    out = probe.send(make_array([make_instance(17, 1)], sec=7000))
    assert out is not None and out.skeletons[0].rig == "coco17"
