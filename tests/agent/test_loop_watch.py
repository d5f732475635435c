"""The event-loop watchdog: a callback that blocks the loop is logged and counted."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time

import pytest
from prometheus_client import CollectorRegistry

from voice_agent.agent.gc_watch import GcWatch
from voice_agent.agent.loop_watch import LoopWatch, StackSampler, cpu_clocks
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


def hold_the_loop() -> None:
    """A callback that blocks the event loop (its name is looked for in the stack)."""
    time.sleep(0.3)


def test_a_stall_is_logged_with_where_the_loop_was(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        clock = RealClock()
        sampler = StackSampler(clock.now, 100, every_s=0.01)
        watch = LoopWatch(clock, 100, every_s=0.01, sampler=sampler)
        task = asyncio.create_task(watch.run())
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().call_soon(hold_the_loop)
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.INFO, logger="voice_agent.agent.loop_watch"):
        asyncio.run(scenario())
    [stall] = [r.getMessage() for r in caplog.records if "event loop stalled" in r.getMessage()]
    assert "the loop was at:" in stall
    assert "in hold_the_loop" in stall
    assert "time.sleep(0.3)" in stall
    assert "event loop watch: 1 stall(s) over 100 ms" in caplog.text  # the summary at the end


class StuckLoop:
    """A thread standing in for the event loop: it beats once, then waits until released (in
    `stuck_in_the_loop`, the frame the sampler must find)."""

    def __init__(self, sampler: StackSampler, at: float) -> None:
        self._sampler, self._at = sampler, at
        self._beaten = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self.stuck_in_the_loop, daemon=True)

    def stuck_in_the_loop(self) -> None:
        self._sampler.beat(self._at)
        self._beaten.set()
        self._release.wait(10)

    def __enter__(self) -> StuckLoop:
        self._thread.start()
        self._beaten.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._thread.join(10)


def test_the_sampler_catches_the_loops_stack_once_per_heartbeat() -> None:
    clock = FakeClock()
    sampler = StackSampler(clock.now, 100, every_s=0.05)
    with StuckLoop(sampler, 0.0):
        clock.advance(0.05 + 0.04)
        sampler.look()
        assert sampler.snapshot_after(0.0) is None  # 40 ms overdue: under half the threshold
        clock.advance(0.02)
        sampler.look()
        caught = sampler.snapshot_after(0.0)
        clock.advance(0.2)
        sampler.look()
        assert sampler.snapshot_after(0.0) is caught  # one snapshot per stall
    assert caught is not None
    assert "stuck_in_the_loop" in [frame.name for frame in caught.stack]
    assert caught.describe().startswith(f"loop thread {caught.loop_state}; ")


def test_a_snapshot_says_which_other_threads_were_running() -> None:
    spinning = threading.Event()
    done = [False]
    block = bytes(32 * 2**20)

    def spin_outside_the_gil() -> None:
        spinning.set()
        while not done[0]:
            hashlib.sha256(block)  # releases the GIL: busy on a CPU, as inference is

    spinner = threading.Thread(target=spin_outside_the_gil, name="spinner", daemon=True)
    clock = FakeClock()
    sampler = StackSampler(clock.now, 100, every_s=0.05)
    with StuckLoop(sampler, 0.0):
        spinner.start()
        try:
            spinning.wait(5)
            clock.advance(1.0)
            sampler.look()
        finally:
            done[0] = True
            spinner.join(5)
    caught = sampler.snapshot_after(0.0)
    assert caught is not None
    if caught.loop_state == "(its state unknown)":
        pytest.skip("no /proc to read the threads' states from")
    assert "spinner in test_loop_watch.py:" in " ".join(caught.running)
    assert "spin_outside_the_gil" in " ".join(caught.running)


def test_a_loop_that_does_not_wake_is_logged_from_the_samplers_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    sampler = StackSampler(clock.now, 100, every_s=0.05, hung_s=5.0)
    with (
        StuckLoop(sampler, 0.0),
        caplog.at_level(logging.WARNING, logger="voice_agent.agent.loop_watch"),
    ):
        clock.advance(6.0)
        sampler.look()
        clock.advance(6.0)
        sampler.look()
    [record] = caplog.records
    assert record.getMessage().startswith("event loop blocked for 6.0 s so far; loop thread ")
    assert "; the loop was at:" in record.getMessage()
    assert "in stuck_in_the_loop" in record.getMessage()


def test_a_stall_names_the_garbage_collections_during_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gc_watch = GcWatch(FakeClock().now)
    gc_watch.collected(0, 9.0, 9.001)  # before the stall
    gc_watch.collected(2, 10.1, 10.3)
    watch = LoopWatch(FakeClock(), 100, every_s=0.05, gc_watch=gc_watch)
    with caplog.at_level(logging.INFO, logger="voice_agent.agent.loop_watch"):
        watch.woke(10.0, 10.05 + 0.3)
    [longest, stall] = [record.getMessage() for record in caplog.records]
    assert longest.startswith("garbage collection paused every thread 200 ms (generation 2)")
    assert "calls under way" not in stall
    assert stall.startswith(
        "event loop stalled 300 ms (over 100 ms; no call under way; "
        "garbage collection gen 2 for 200 ms)"
    )
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="voice_agent.agent.loop_watch"):
        watch.woke(20.0, 20.05)
    assert not caplog.records  # that collection is told once


def test_a_stall_says_how_much_cpu_the_loop_and_the_process_used(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = LoopWatch(FakeClock(), 100, every_s=0.05)
    with caplog.at_level(logging.WARNING, logger="voice_agent.agent.loop_watch"):
        watch.woke(10.0, 10.05 + 0.3, cpu_used=(0.012, 0.640))
    [record] = caplog.records
    assert record.getMessage().startswith(
        "event loop stalled 300 ms (over 100 ms; no call under way; CPU time in these 350 ms: "
        "the loop's thread 12 ms, the process 640 ms)"
    )


def test_the_cpu_clocks_are_read_on_a_real_loop(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        watch = LoopWatch(RealClock(), 100, every_s=0.01, cpu=cpu_clocks)
        task = asyncio.create_task(watch.run())
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().call_soon(hold_the_loop)
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="voice_agent.agent.loop_watch"):
        asyncio.run(scenario())
    assert "CPU time in these" in caplog.text
