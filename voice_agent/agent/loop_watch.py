"""A watchdog for the event loop: how late a short sleep wakes is how long the loop was busy.

Every call shares one event loop; a callback that blocks it (a model run, a database write,
a file read not moved to a thread) delays every call's audio at once. The watchdog sleeps
`every_s` over and over and measures how much later than asked it wakes. A stall over the
threshold (`server.loop_stall_ms`) is logged as a WARNING that says how long, and counted in
the metrics (`voice_agent_loop_stalls`, `voice_agent_loop_lag_max_seconds`).

The log line names the calls under way: what the loop was doing when it stalled is one of
them (or the server between calls).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from voice_agent.agent.metrics import AgentMetrics
from voice_agent.clock import Clock

logger = logging.getLogger(__name__)

WATCH_EVERY_S = 0.05
"""How often the watchdog looks: short, so a stall is measured close to its real length."""


@dataclass(slots=True)
class LoopLag:
    """What the watchdog saw so far."""

    stalls: int = 0
    max_lag_ms: float = 0.0


class LoopWatch:
    """Sleeps on the loop and reports each late wake-up over `stall_ms` (sans-I/O: the clock
    and what to report to are given)."""

    def __init__(
        self,
        clock: Clock,
        stall_ms: float,
        metrics: AgentMetrics | None = None,
        busy: Callable[[], str] = lambda: "",
        every_s: float = WATCH_EVERY_S,
    ) -> None:
        if stall_ms <= 0:
            raise ValueError(f"the stall threshold must be above 0 ms, not {stall_ms}")
        self._clock = clock
        self._stall_ms = stall_ms
        self._metrics = metrics
        self._busy = busy
        self._every_s = every_s
        self.lag = LoopLag()

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            asked_at = self._clock.now()
            await self._clock.sleep(self._every_s)
            self.woke(asked_at, self._clock.now())

    def woke(self, asked_at: float, woke_at: float) -> None:
        """One wake-up: the sleep was asked at `asked_at` and ended at `woke_at`."""
        late_ms = max(0.0, (woke_at - asked_at - self._every_s) * 1000)
        if late_ms > self.lag.max_lag_ms:
            self.lag.max_lag_ms = late_ms
            if self._metrics is not None:
                self._metrics.loop_lag_max.set(late_ms / 1000)
        if late_ms <= self._stall_ms:
            return
        self.lag.stalls += 1
        if self._metrics is not None:
            self._metrics.loop_stalls.inc()
        busy = self._busy()
        logger.warning(
            "event loop stalled %.0f ms (over %.0f ms; %s)",
            late_ms,
            self._stall_ms,
            busy or "no call under way",
        )
