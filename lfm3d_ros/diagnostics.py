"""Running statistics of the lifter node and their /diagnostics form.

`LiftStats` is plain Python (unit-tested without ROS): the node calls `on_message`,
`on_lift`, `on_rejected`, `on_error`; once a second `to_status` turns a snapshot into a
`diagnostic_msgs/DiagnosticStatus`. Keys are stable (dashboards and tests read them):
backend, model, input rate (Hz), lift latency p50/p99 (ms), messages received, lifted,
dropped (publisher sequence gaps under overload: depth-1 queues drop old input on
purpose), lift errors, and `dropped <reason>` per bad-input reason.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from lfm3d_ros.conversions import REASONS

LATENCY_WINDOW = 300   # lift latencies kept for percentiles (10 s at 30 Hz)
RATE_WINDOW_S = 5.0    # input rate averaged over this many seconds


class LiftStats:
    """Counters and windows behind the node's /diagnostics."""

    def __init__(self, backend: str = "", model: str = ""):
        self.backend, self.model = backend, model
        self.received = 0
        self.lifted_messages = 0
        self.lift_errors = 0
        self.dropped_messages = 0
        self.rejected: Counter[str] = Counter({reason: 0 for reason in REASONS})
        self._arrivals: deque[float] = deque()
        self._latency_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._last_seq: dict[bytes, int] = {}

    def on_message(self, now_s: float, publisher: bytes = b"", sequence: int = 0) -> None:
        """An input message arrived at `now_s` (seconds, monotonic).

        `sequence` is the publisher's sequence number (0 = unknown); a jump > 1 from the
        same `publisher` means messages were dropped before reaching the callback.
        """
        self.received += 1
        self._arrivals.append(now_s)
        while self._arrivals and now_s - self._arrivals[0] > RATE_WINDOW_S:
            self._arrivals.popleft()
        if sequence > 0:
            last = self._last_seq.get(publisher)
            if last is not None and sequence > last + 1:
                self.dropped_messages += sequence - last - 1
            self._last_seq[publisher] = sequence

    def on_lift(self, latency_s: float) -> None:
        """A message was lifted and published; latency = callback start to publish."""
        self.lifted_messages += 1
        self._latency_ms.append(1e3 * latency_s)

    def on_rejected(self, reason: str) -> None:
        """One instance was dropped for `reason` (a key of conversions.REASONS)."""
        self.rejected[reason] += 1

    def on_error(self) -> None:
        """The Lifter raised for a whole message."""
        self.lift_errors += 1

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
        values = {
            "backend": self.backend,
            "model": self.model,
            "input rate (Hz)": f"{self.input_rate(now_s):.1f}",
            "lift latency p50 (ms)": f"{p50:.2f}",
            "lift latency p99 (ms)": f"{p99:.2f}",
            "messages received": str(self.received),
            "messages lifted": str(self.lifted_messages),
            "messages dropped": str(self.dropped_messages),
            "lift errors": str(self.lift_errors),
        }
        for reason in sorted(self.rejected):
            values[f"dropped {reason}"] = str(self.rejected[reason])
        return values

    def level_and_message(self) -> tuple[int, str]:
        """(0 OK | 1 WARN, text): WARN once the Lifter has failed or instances were rejected."""
        if self.lift_errors:
            return 1, f"{self.lift_errors} lift errors"
        bad = sum(self.rejected.values())
        if bad:
            return 1, f"{bad} instances dropped for bad input"
        return 0, "lifting" if self.lifted_messages else "waiting for input"

    def to_status(self, name: str, hardware_id: str, now_s: float):
        """A diagnostic_msgs/DiagnosticStatus snapshot."""
        from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

        level, message = self.level_and_message()
        return DiagnosticStatus(level=bytes([level]), name=name, message=message,
                                hardware_id=hardware_id,
                                values=[KeyValue(key=k, value=v) for k, v in self.summary(now_s).items()])
