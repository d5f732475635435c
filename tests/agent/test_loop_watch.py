"""The event-loop watchdog: a callback that blocks the loop is logged and counted."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client import CollectorRegistry

from voice_agent.agent.loop_watch import LoopWatch
from voice_agent.agent.metrics import AgentMetrics
from voice_agent.clock import FakeClock, RealClock


def test_a_late_wake_up_over_the_threshold_is_a_stall(caplog: pytest.LogCaptureFixture) -> None:
    metrics = AgentMetrics(CollectorRegistry())
    watch = LoopWatch(
        FakeClock(), 100, metrics, busy=lambda: "calls under way: sip 7", every_s=0.05
    )
    with caplog.at_level(logging.WARNING, logger="voice_agent.agent.loop_watch"):
        watch.woke(10.0, 10.05 + 0.03)  # 30 ms late: no stall
        watch.woke(20.0, 20.05 + 0.25)  # 250 ms late
    assert watch.lag.stalls == 1
    assert watch.lag.max_lag_ms == pytest.approx(250)
    assert metrics.registry.get_sample_value("voice_agent_loop_stalls_total") == 1
    assert metrics.registry.get_sample_value("voice_agent_loop_lag_max_seconds") == pytest.approx(
        0.25
    )
    [record] = caplog.records
    assert record.getMessage().startswith("event loop stalled 250 ms")
    assert "sip 7" in record.getMessage()


def test_a_blocking_callback_is_caught_on_a_real_loop(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> LoopWatch:
        watch = LoopWatch(RealClock(), 100, every_s=0.01)
        task = asyncio.create_task(watch.run())
        await asyncio.sleep(0.05)  # the watchdog sleeps
        asyncio.get_running_loop().call_soon(time.sleep, 0.3)  # blocks the loop
        await asyncio.sleep(0.1)
        task.cancel()
        return watch

    with caplog.at_level(logging.WARNING, logger="voice_agent.agent.loop_watch"):
        watch = asyncio.run(scenario())
    assert watch.lag.stalls == 1
    assert watch.lag.max_lag_ms >= 200
    assert "event loop stalled" in caplog.text


def test_a_threshold_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="above 0 ms"):
        LoopWatch(FakeClock(), 0)
