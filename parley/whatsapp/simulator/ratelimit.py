"""Per-number message throughput cap."""

from __future__ import annotations

import time
from collections import deque


class ThroughputLimiter:
    """At most `per_second` acceptances in any one-second span.

    A sliding window rather than a refilling token bucket: a bucket that starts full lets
    through up to twice its rate within one second (the burst plus the refill), and the
    simulator promises callers that the cap is never exceeded in any second.
    """

    __slots__ = ("_accepted", "per_second")

    def __init__(self, per_second: int) -> None:
        self.per_second = max(1, per_second)
        self._accepted: deque[float] = deque()

    def set_rate(self, per_second: int) -> None:
        self.per_second = max(1, per_second)

    def try_acquire(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        accepted = self._accepted
        horizon = now - 1.0
        while accepted and accepted[0] <= horizon:
            accepted.popleft()
        if len(accepted) >= self.per_second:
            return False
        accepted.append(now)
        return True
