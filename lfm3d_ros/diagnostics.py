"""Running statistics of the lifter node and their /diagnostics form.

`LiftStats` is plain Python (unit-tested without ROS): the node calls `on_message`,
`on_lift`, `on_rejected`, `on_error`; once a second, in every lifecycle state, `to_status`
turns a snapshot into a `diagnostic_msgs/DiagnosticStatus`. Keys are stable (dashboards and
tests read them): lifecycle state, backend, model, input rate (Hz), lift latency p50/p99
(ms), messages received, lifted, dropped (publisher sequence gaps: depth-1 queues drop old
input on purpose) and how that is tracked, lift errors, the two windowed rates, the
cumulative `dropped <reason>` per bad-input reason, the camera_info status and the messages
published in pixel units despite camera_info (`not metric: <reason>`).

The level follows the last `BAD_WINDOW_S` seconds, not the whole run: WARN while that window
holds a lift error or a dropped instance, OK again once it holds none; the counts since
start stay in the values.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from lfm3d_ros.conversions import REASONS

LATENCY_WINDOW = 300   # lift latencies kept for percentiles (10 s at 30 Hz)
RATE_WINDOW_S = 5.0    # input rate averaged over this many seconds
BAD_WINDOW_S = 10.0    # dropped instances and lift errors: rates and level over this window
OK, WARN, ERROR = 0, 1, 2
KEY_DROPPED_RATE = f"dropped instances (1/s, last {BAD_WINDOW_S:g} s)"
KEY_ERROR_RATE = f"lift errors (1/s, last {BAD_WINDOW_S:g} s)"
# Why a message with camera_info at hand was still published in pixel units.
NOT_METRIC = ("stale camera_info", "camera_info frame mismatch")


def _trim(times: deque, now_s: float, window_s: float) -> None:
    """Drop the entries older than `window_s` from a deque of times (oldest first)."""
    while times and now_s - times[0] > window_s:
        times.popleft()


class LiftStats:
    """Counters and windows behind the node's /diagnostics."""

    def __init__(self, backend: str = "", model: str = ""):
        self.backend, self.model = backend, model
        self.received = 0
        self.lifted_messages = 0
        self.lift_errors = 0
        self.dropped_messages = 0
        self.drop_tracking = "no input yet"
        self.rejected: Counter[str] = Counter({reason: 0 for reason in REASONS})
        self._arrivals: deque[float] = deque()
        self._bad_instances: deque[float] = deque()   # times of dropped instances
        self._errors: deque[float] = deque()          # times of lift errors
        self._latency_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._last_seq: dict[bytes, int] = {}
        self.camera_info = "none received"                 # camera_info status (metric placement)
        self.not_metric: Counter[str] = Counter({reason: 0 for reason in NOT_METRIC})

    def on_message(self, now_s: float, publisher: bytes = b"", sequence: int = 0,
                   publishers: int = 1) -> None:
        """An input message arrived at `now_s` (seconds, monotonic).

        `sequence` is the publisher's sequence number (0 = unknown) and `publisher` its id
        (b"" = unknown: rclpy 7's MessageInfo has none). A jump > 1 from the same publisher
        means messages were dropped before reaching the callback. Numbers of different
        publishers cannot be told apart without an id, so with `publishers` != 1 matched
        and no id the count pauses (and says so) rather than compare them.
        """
        self.received += 1
        self._arrivals.append(now_s)
        _trim(self._arrivals, now_s, RATE_WINDOW_S)
        if sequence <= 0:
            self.drop_tracking = "off: the middleware gives no sequence numbers"
            return
        if not publisher and publishers != 1:
            self._last_seq.clear()
            self.drop_tracking = (f"paused: {publishers} publishers and no publisher id "
                                  "to tell their sequence numbers apart")
            return
        self.drop_tracking = "on"
        last = self._last_seq.get(publisher)
        if last is not None and sequence > last + 1:
            self.dropped_messages += sequence - last - 1
        self._last_seq[publisher] = sequence

    def on_camera(self, status: str, not_metric: str | None = None) -> None:
        """camera_info `status` for this message; `not_metric`: a NOT_METRIC reason it was
        published in pixel units although camera_info had arrived."""
        self.camera_info = status
        if not_metric is not None:
            self.not_metric[not_metric] += 1

    def on_lift(self, latency_s: float) -> None:
        """A message was lifted and published; latency = callback start to publish."""
        self.lifted_messages += 1
        self._latency_ms.append(1e3 * latency_s)

    def on_rejected(self, reason: str, now_s: float = 0.0) -> None:
        """One instance was dropped for `reason` (a key of conversions.REASONS) at `now_s`."""
        self.rejected[reason] += 1
        self._bad_instances.append(now_s)

    def on_error(self, now_s: float = 0.0) -> None:
        """The Lifter raised for a whole message at `now_s`."""
        self.lift_errors += 1
        self._errors.append(now_s)

    def bad_rates(self, now_s: float) -> tuple[float, float]:
        """(dropped instances, lift errors) per second over the last BAD_WINDOW_S seconds."""
        _trim(self._bad_instances, now_s, BAD_WINDOW_S)
        _trim(self._errors, now_s, BAD_WINDOW_S)
        return len(self._bad_instances) / BAD_WINDOW_S, len(self._errors) / BAD_WINDOW_S

    def input_rate(self, now_s: float) -> float:
        """Messages per second over the last RATE_WINDOW_S seconds."""
        recent = [t for t in self._arrivals if now_s - t <= RATE_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        span = max(recent[-1] - recent[0], 1e-9)
        return (len(recent) - 1) / span

    def latency_percentiles(self) -> tuple[float, float]:
        """(p50, p99) lift latency in ms over the window; NaN before the first lift."""
        if not self._latency_ms:
            return float("nan"), float("nan")
        p50, p99 = np.percentile(np.fromiter(self._latency_ms, float), [50, 99])
        return float(p50), float(p99)

    def summary(self, now_s: float) -> dict[str, str]:
        """Key -> value strings, in display order."""
        p50, p99 = self.latency_percentiles()
        dropped_rate, error_rate = self.bad_rates(now_s)
        values = {
            "backend": self.backend,
            "model": self.model,
            "input rate (Hz)": f"{self.input_rate(now_s):.1f}",
            "lift latency p50 (ms)": f"{p50:.2f}",
            "lift latency p99 (ms)": f"{p99:.2f}",
            "messages received": str(self.received),
            "messages lifted": str(self.lifted_messages),
            "messages dropped": str(self.dropped_messages),
            "messages dropped tracking": self.drop_tracking,
            "lift errors": str(self.lift_errors),
            KEY_DROPPED_RATE: f"{dropped_rate:.1f}",
            KEY_ERROR_RATE: f"{error_rate:.1f}",
        }
        for reason in sorted(self.rejected):
            values[f"dropped {reason}"] = str(self.rejected[reason])
        values["camera_info"] = self.camera_info
        for reason in NOT_METRIC:
            values[f"not metric: {reason}"] = str(self.not_metric[reason])
        return values

    def level_and_message(self, now_s: float) -> tuple[int, str]:
        """(OK | WARN, text): WARN while the last BAD_WINDOW_S seconds hold a lift error or a
        dropped instance."""
        dropped_rate, error_rate = self.bad_rates(now_s)
        window = f"in the last {BAD_WINDOW_S:g} s"
        if error_rate:
            return WARN, f"{round(error_rate * BAD_WINDOW_S)} lift errors {window}"
        if dropped_rate:
            return WARN, f"{round(dropped_rate * BAD_WINDOW_S)} instances dropped for bad input {window}"
        return OK, "lifting" if self.lifted_messages else "waiting for input"

    def to_status(self, name: str, hardware_id: str, now_s: float, state: str = "active",
                  state_error: str = ""):
        """A diagnostic_msgs/DiagnosticStatus snapshot for lifecycle `state` (a label).

        active: the level and message of `level_and_message`; inactive: OK, not lifting;
        unconfigured: WARN, or ERROR with `state_error` when configure failed; other
        states (finalized, transitions): WARN.
        """
        from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

        if state == "active":
            level, message = self.level_and_message(now_s)
        elif state == "inactive":
            level, message = OK, "inactive: not lifting"
        elif state == "unconfigured" and state_error:
            level, message = ERROR, f"unconfigured: {state_error}"
        else:
            level, message = WARN, f"{state}: not lifting"
        values = {"lifecycle state": state, **self.summary(now_s)}
        return DiagnosticStatus(level=bytes([level]), name=name, message=message, hardware_id=hardware_id,
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])
