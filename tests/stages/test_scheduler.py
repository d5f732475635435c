"""The inference scheduler: the core's decisions stepped by hand, then the threaded shell."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from voice_agent.stages.scheduler import InferenceScheduler, Lane, Offer, SchedulerCore, Skipped

START, QUEUED, REFUSED = Offer.START, Offer.QUEUED, Offer.REFUSED
WAIT_S = 10.0
"""Only ever a bound on a wait that should end at once: a broken scheduler fails, not hangs."""

# --- the core, stepped: no threads, no clock ---


def test_a_queued_final_starts_before_speech_queued_earlier() -> None:
    core = SchedulerCore[str](threads=1, asr_workers=2)
    assert core.offer("clause 1", Lane.SPEECH) is START
    assert core.offer("clause 2", Lane.SPEECH) is QUEUED
    assert core.offer("final", Lane.FINAL) is QUEUED
    assert core.finished("clause 1") == ["final"]
    assert core.finished("final") == ["clause 2"]
    assert core.finished("clause 2") == []


def test_each_lane_is_first_come_first_served() -> None:
    core = SchedulerCore[str](threads=1, asr_workers=2)
    core.offer("running", Lane.SPEECH)
    for job in ("clause a", "final a", "clause b", "final b"):
        assert core.offer(job, Lane.SPEECH if job.startswith("clause") else Lane.FINAL) is QUEUED
    started = core.finished("running")
    for job in ("final a", "final b", "clause a", "clause b"):
        assert started == [job]
        started = core.finished(job)
    assert started == []


def test_every_thread_freed_starts_one_queued_job() -> None:
    core = SchedulerCore[str](threads=2, asr_workers=2)
    assert [core.offer(job, Lane.SPEECH) for job in "abcd"] == [START, START, QUEUED, QUEUED]
    assert core.finished("a") == ["c"]
    assert core.finished("b") == ["d"]


def test_a_partial_is_refused_when_no_thread_is_free_and_work_is_queued() -> None:
    core = SchedulerCore[str](threads=2, asr_workers=4)
    core.offer("clause 1", Lane.SPEECH)
    core.offer("clause 2", Lane.SPEECH)
    assert core.offer("partial", Lane.PARTIAL) is REFUSED  # no thread free
    core.offer("final", Lane.FINAL)
    assert core.queued == 1
    assert core.offer("partial", Lane.PARTIAL) is REFUSED  # and a final waiting: never before it
    core.finished("clause 1")  # the final starts on the thread freed
    assert core.offer("partial", Lane.PARTIAL) is REFUSED
    core.finished("clause 2")
    assert core.offer("partial", Lane.PARTIAL) is START


@pytest.mark.parametrize(("asr_workers", "partials_at_once"), [(1, 1), (2, 1), (3, 2), (4, 3)])
def test_partials_leave_one_asr_worker_for_a_final(asr_workers: int, partials_at_once: int) -> None:
    core = SchedulerCore[str](threads=8, asr_workers=asr_workers)
    offers = [core.offer(f"partial {n}", Lane.PARTIAL) for n in range(5)]
    assert offers == [START] * partials_at_once + [REFUSED] * (5 - partials_at_once)


def test_a_running_final_counts_against_partials_and_speech_does_not() -> None:
    core = SchedulerCore[str](threads=8, asr_workers=2)
    core.offer("clause", Lane.SPEECH)
    core.offer("final", Lane.FINAL)
    assert core.offer("partial", Lane.PARTIAL) is REFUSED
    core.finished("final")
    assert core.offer("partial", Lane.PARTIAL) is START


def test_refusals_are_counted_per_lane() -> None:
    core = SchedulerCore[str](threads=1, asr_workers=2)
    assert core.refused == {}
    core.offer("final", Lane.FINAL)
    core.offer("clause", Lane.SPEECH)
    for n in range(3):
        core.offer(f"partial {n}", Lane.PARTIAL)
    assert core.refused == {Lane.PARTIAL: 3}


def test_a_withdrawn_job_never_starts() -> None:
    core = SchedulerCore[str](threads=1, asr_workers=2)
    core.offer("running", Lane.SPEECH)
    core.offer("given up", Lane.FINAL)
    core.offer("clause", Lane.SPEECH)
    assert core.withdraw("given up")
    assert not core.withdraw("given up")
    assert core.finished("running") == ["clause"]


def test_drain_drops_the_queue_in_starting_order() -> None:
    core = SchedulerCore[str](threads=1, asr_workers=2)
    core.offer("running", Lane.SPEECH)
    core.offer("clause", Lane.SPEECH)
    core.offer("final", Lane.FINAL)
    assert core.drain() == ["final", "clause"]
    assert core.queued == 0
    assert core.finished("running") == []


class TwoCalls:
    """Call A speaks on and on: a partial offered every step, each running `partial_steps`
    steps. Call B's final arrives at step `final_at` and runs `final_steps` steps."""

    def __init__(self, core: SchedulerCore[str], partial_steps: int = 2) -> None:
        self.core = core
        self.partial_steps = partial_steps
        self.ends: dict[str, int] = {}
        """Running job -> the step it ends at."""
        self.partials_started_during_final = 0

    def run(self, final_at: int, final_steps: int = 3, steps: int = 12) -> list[str]:
        """The jobs running when B's final was offered (B's final excluded)."""
        running_at_final: list[str] = []
        for step in range(steps):
            for job in [job for job, end in self.ends.items() if end == step]:
                del self.ends[job]
                assert self.core.finished(job) == []  # nothing ever queues here
            if step == final_at:
                running_at_final = list(self.ends)
                assert self.core.offer("B final", Lane.FINAL) is START
                self.ends["B final"] = step + final_steps
            if self.core.offer(f"A partial {step}", Lane.PARTIAL) is START:
                self.ends[f"A partial {step}"] = step + self.partial_steps
                if "B final" in self.ends:
                    self.partials_started_during_final += 1
        return running_at_final


@pytest.mark.parametrize("final_at", range(6))
@pytest.mark.parametrize("partial_steps", [1, 2, 3])
def test_with_two_asr_workers_a_final_always_finds_one_free(
    final_at: int, partial_steps: int
) -> None:
    calls = TwoCalls(SchedulerCore(threads=4, asr_workers=2), partial_steps)
    running = calls.run(final_at)
    assert len(running) <= 1  # a partial holds at most one decoder: the other is the final's
    assert calls.partials_started_during_final == 0
    assert calls.core.refused[Lane.PARTIAL] > 0


@pytest.mark.parametrize("final_at", range(6))
@pytest.mark.parametrize("partial_steps", [1, 2, 3])
def test_with_one_asr_worker_a_final_waits_for_the_running_partial_only(
    final_at: int, partial_steps: int
) -> None:
    # The final's thread starts at once; the one decoder takes it as soon as the partial
    # running (if any) ends, because no other partial starts in between.
    calls = TwoCalls(SchedulerCore(threads=4, asr_workers=1), partial_steps)
    running = calls.run(final_at)
    assert len(running) <= 1
    assert calls.partials_started_during_final == 0


def test_with_one_asr_worker_and_no_thread_free_a_final_is_next() -> None:
    core = SchedulerCore[str](threads=2, asr_workers=1)
    core.offer("B clause", Lane.SPEECH)
    assert core.offer("A partial 1", Lane.PARTIAL) is START
    assert core.offer("B final", Lane.FINAL) is QUEUED
    assert core.offer("A partial 2", Lane.PARTIAL) is REFUSED
    assert core.finished("A partial 1") == ["B final"]
    assert core.offer("A partial 3", Lane.PARTIAL) is REFUSED  # the final holds the decoder
    core.finished("B final")
    assert core.offer("A partial 4", Lane.PARTIAL) is START


# --- the threaded shell: jobs held by events, never timed ---


class Hold:
    """A job that runs until released, and says when it has started."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.released = threading.Event()

    def __call__(self) -> str:
        self.started.set()
        self.released.wait(WAIT_S)
        return "held"


@pytest.fixture
def one_thread() -> Iterator[InferenceScheduler]:
    scheduler = InferenceScheduler(threads=1, asr_workers=2)
    yield scheduler
    scheduler.shutdown(wait=True)


def test_a_final_runs_before_speech_queued_earlier(one_thread: InferenceScheduler) -> None:
    hold, ran = Hold(), list[str]()
    held = one_thread.lane(Lane.SPEECH).submit(hold)
    speech = one_thread.lane(Lane.SPEECH).submit(ran.append, "speech")
    final = one_thread.lane(Lane.FINAL).submit(ran.append, "final")
    hold.released.set()
    assert held.result(WAIT_S) == "held"
    speech.result(WAIT_S)
    final.result(WAIT_S)
    assert ran == ["final", "speech"]


def test_a_partial_is_refused_while_the_scheduler_is_behind(
    one_thread: InferenceScheduler,
) -> None:
    hold = Hold()
    held = one_thread.try_submit(Lane.FINAL, hold)
    assert one_thread.try_submit(Lane.PARTIAL, str.upper, "partial") is None
    with pytest.raises(Skipped):
        one_thread.lane(Lane.PARTIAL).submit(str.upper, "partial")
    assert one_thread.refused == {Lane.PARTIAL: 2}
    hold.released.set()
    assert held is not None
    held.result(WAIT_S)
    # A settled future has freed its thread: the next partial finds room at once.
    partial = one_thread.try_submit(Lane.PARTIAL, str.upper, "partial")
    assert partial is not None
    assert partial.result(WAIT_S) == "PARTIAL"


def test_a_job_that_raises_hands_its_exception_over_and_frees_its_thread(
    one_thread: InferenceScheduler,
) -> None:
    def fail() -> None:
        raise ValueError("no model")

    failed = one_thread.lane(Lane.FINAL).submit(fail)
    with pytest.raises(ValueError, match="no model"):
        failed.result(WAIT_S)
    assert one_thread.lane(Lane.FINAL).submit(str.upper, "next").result(WAIT_S) == "NEXT"


def test_a_queued_job_cancelled_never_runs(one_thread: InferenceScheduler) -> None:
    hold, ran = Hold(), list[str]()
    one_thread.lane(Lane.SPEECH).submit(hold)
    cancelled = one_thread.lane(Lane.SPEECH).submit(ran.append, "cancelled")
    after = one_thread.lane(Lane.SPEECH).submit(ran.append, "after")
    assert cancelled.cancel()
    hold.released.set()
    after.result(WAIT_S)
    assert ran == ["after"]


def test_shutdown_cancels_the_queue_and_lets_running_jobs_end() -> None:
    scheduler = InferenceScheduler(threads=1, asr_workers=2)
    hold = Hold()
    held = scheduler.lane(Lane.SPEECH).submit(hold)
    queued = scheduler.lane(Lane.FINAL).submit(str.upper, "queued")
    assert hold.started.wait(WAIT_S)
    scheduler.shutdown(wait=False, cancel_futures=True)
    assert queued.cancelled()
    with pytest.raises(RuntimeError, match="after shutdown"):
        scheduler.lane(Lane.FINAL).submit(str.upper, "late")
    hold.released.set()
    scheduler.shutdown(wait=True)
    assert held.result(0) == "held"


def test_a_lane_serves_run_in_executor() -> None:
    scheduler = InferenceScheduler(threads=1, asr_workers=2)

    async def transcribe() -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(scheduler.lane(Lane.FINAL), str.upper, "hello")

    async def partial_while_behind(hold: Hold) -> None:
        loop = asyncio.get_running_loop()
        held = loop.run_in_executor(scheduler.lane(Lane.FINAL), hold)
        try:
            with pytest.raises(Skipped):
                await loop.run_in_executor(scheduler.lane(Lane.PARTIAL), str.upper, "partial")
        finally:
            hold.released.set()
            await held

    try:
        assert asyncio.run(transcribe()) == "HELLO"
        asyncio.run(partial_while_behind(Hold()))
    finally:
        scheduler.shutdown(wait=True)
