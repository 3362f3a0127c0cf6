"""The lifter node driven through its lifecycle and parameter services, as a lifecycle manager
or `ros2 lifecycle` / `ros2 param` would (issue 27, items 1, 2, 7, 8, 9, 11).

One node (stub ONNX model, autostart) serves the module and the tests run in file order,
walking it active -> inactive -> unconfigured -> (reconfigured) active -> finalized. Every
test also checks that the process is still alive: none of this may end it.
"""

import itertools

import pytest

from ros_helpers import lifter_node, make_array, make_instance, require_node

require_node()

from lifecycle_msgs.msg import Transition  # noqa: E402

_stamps = itertools.count(5000)
OK, WARN, ERROR = b"\x00", b"\x01", b"\x02"


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    """(probe, process, log path) of a running lifter node."""
    with lifter_node(tmp_path_factory.mktemp("lifecycle"), "lfm3d_lifecycle_probe") as running:
        yield running


def _alive(proc, log):
    assert proc.poll() is None, f"the node exited with {proc.returncode}; log:\n{log.read_text()}"


def _send(probe, instances):
    return probe.send(make_array(instances, sec=next(_stamps)))


def test_diagnostics_name_the_lifecycle_state_while_active(lifter):
    probe, proc, log = lifter
    status = probe.fresh_diagnostics()
    assert status is not None and status.level == OK
    assert probe.diagnostic_values()["lifecycle state"] == "active"


def test_read_on_configure_parameter_is_refused_while_active_with_the_reason(lifter):
    probe, proc, log = lifter
    [(ok, reason)] = probe.set_parameters(max_batch=2)
    assert not ok and "read on configure" in reason and "cleanup" in reason
    _alive(proc, log)


def test_unknown_default_rig_is_refused_at_run_time_and_a_known_one_taken(lifter):
    probe, proc, log = lifter
    [(ok, reason)] = probe.set_parameters(default_rig="no_such_rig")
    assert not ok and "no_such_rig" in reason
    assert probe.set_parameters(default_rig="coco17") == [(True, "")]
    out = _send(probe, [make_instance(17, 1)])           # no rig named: default_rig applies
    assert out.skeletons[0].rig == "coco17" and out.skeletons[0].category == "person"
    assert probe.set_parameters(default_rig="") == [(True, "")]


def test_out_of_range_value_is_refused_at_run_time(lifter):
    probe, proc, log = lifter
    [(ok, reason)] = probe.set_parameters(min_confidence=1.5)
    assert not ok and reason
    _alive(proc, log)


def test_diagnostics_warn_while_the_window_holds_a_bad_instance_then_recover(lifter):
    probe, proc, log = lifter
    _send(probe, [make_instance(17, 1), make_instance(17, 2, x=[float("inf")] * 17)])
    assert probe.spin_until(lambda: (probe.diagnostic_status() or probe).level == WARN, 5)
    assert "dropped for bad input in the last" in probe.diagnostic_status().message
    # one bad instance must not leave it WARN forever: OK once the 10 s window has passed
    assert probe.spin_until(lambda: probe.diagnostic_status().level == OK, 20), probe.diagnostic_values()
    values = probe.diagnostic_values()
    assert values["dropped non_finite"] == "1" and values["dropped instances (1/s, last 10 s)"] == "0.0"


def test_diagnostics_heartbeat_goes_on_while_inactive(lifter):
    probe, proc, log = lifter
    assert probe.change_state(Transition.TRANSITION_DEACTIVATE) is True
    status = probe.fresh_diagnostics()
    assert status is not None, "no /diagnostics while inactive"
    assert status.level == OK and status.message.startswith("inactive")
    assert probe.diagnostic_values()["lifecycle state"] == "inactive"


def test_invalid_transition_is_refused_and_the_node_lives_on(lifter):
    probe, proc, log = lifter
    assert probe.change_state(Transition.TRANSITION_CLEANUP) is True
    # ACTIVATE from unconfigured is not a transition: rclpy 7.1 raised RCLError out of spin
    assert probe.change_state(Transition.TRANSITION_ACTIVATE) is False
    assert probe.get_state() == "unconfigured"
    _alive(proc, log)
    status = probe.fresh_diagnostics()
    assert status.level == WARN and probe.diagnostic_values()["lifecycle state"] == "unconfigured"


def test_parameters_can_be_set_while_unconfigured(lifter):
    probe, proc, log = lifter
    assert probe.set_parameters(min_confidence=0.3) == [(True, "")]   # killed the process before
    [(ok, reason)] = probe.set_parameters(backend="cuda")
    assert not ok and "must be one of" in reason
    assert probe.set_parameters(max_batch=2, default_rig="no_such_user_rig") == [(True, ""), (True, "")]
    _alive(proc, log)


def test_configure_checks_default_rig_then_applies_read_on_configure_values(lifter):
    probe, proc, log = lifter
    assert probe.change_state(Transition.TRANSITION_CONFIGURE) is False   # unknown default_rig
    assert "no_such_user_rig" in log.read_text()
    assert probe.set_parameters(default_rig="") == [(True, "")]
    assert probe.change_state(Transition.TRANSITION_CONFIGURE) is True
    assert probe.change_state(Transition.TRANSITION_ACTIVATE) is True
    assert probe.wait_for_lifter(30)
    out = _send(probe, [make_instance(17, i) for i in range(4)])
    assert [s.instance_id for s in out.skeletons] == [0, 1]                # max_batch=2 applied
    assert probe.spin_until(lambda: probe.diagnostic_values().get("dropped over_max_batch") == "2", 5)


def test_parameters_can_be_set_while_finalized(lifter):
    probe, proc, log = lifter
    assert probe.change_state(Transition.TRANSITION_ACTIVE_SHUTDOWN) is True
    assert probe.get_state() == "finalized"
    assert probe.set_parameters(min_confidence=0.4) == [(True, "")]
    assert probe.change_state(Transition.TRANSITION_ACTIVATE) is False
    _alive(proc, log)
