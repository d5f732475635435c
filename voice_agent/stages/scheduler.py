"""One inference scheduler per process: finals before TTS first clauses before partials.

Every call's blocking inference (Whisper passes, Piper clauses) runs on one small set of
threads, and on a 2-core CPU those threads are the scarce thing. Not all of that work is
equally urgent. A *final* ASR pass is what a turn waits on (the caller has stopped talking);
a TTS clause is what the caller hears next; a *partial* pass, re-transcribing an utterance
still being spoken every half second or so, is only a preview that the next one supersedes.
So each job goes in a `Lane`, and:

- FINAL and SPEECH jobs are always taken: they start on a free thread, or wait for one,
  queued finals before queued speech, first come first served within a lane.
- PARTIAL jobs never wait. A partial that cannot start at once, onto spare capacity, is
  refused (`Skipped`); the caller simply tries again with more audio half a second later.

Spare capacity means more than a free thread. The Whisper model (CTranslate2) decodes at
most ``num_workers`` requests at once, and a generate() already running cannot be preempted:
a final arriving while partials hold every decoder waits for one of them to end, however
urgent it is. So partials may hold at most ``asr_workers - 1`` decoders, leaving one free
for a final; with a single decoder a partial may still run alone, so a final waits behind at
most that one partial, never behind a queue of them. Two concurrent calls then never wait on
each other's partials.

`SchedulerCore` makes these decisions and holds no threads and no clock (tests step it);
`InferenceScheduler` is the thin threaded shell around it that runs the jobs, and `lane`
gives each stage an ordinary `Executor` (for ``loop.run_in_executor``) on its lane.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter, deque
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Generic, ParamSpec, TypeVar

JobId = TypeVar("JobId", bound=Hashable)
P = ParamSpec("P")
T = TypeVar("T")


class Lane(IntEnum):
    """What a job is for; a lower value goes first."""

    FINAL = 0
    """ASR a turn waits on: final passes, judging a barge-in."""
    SPEECH = 1
    """TTS synthesis of a reply's clauses."""
    PARTIAL = 2
    """Streaming partial ASR passes: previews, skipped when the scheduler is behind."""


_ASR_LANES = frozenset({Lane.FINAL, Lane.PARTIAL})
_QUEUED_LANES = (Lane.FINAL, Lane.SPEECH)
"""The lanes that wait for a thread, in the order they get one."""


class Offer(Enum):
    """The core's answer to a job offered to it."""

    START = "start"
    """Run it now, on a free thread."""
    QUEUED = "queued"
    """It waits; `SchedulerCore.finished` hands it back when it may start."""
    REFUSED = "refused"
    """Not run at all (partials only: the scheduler is behind)."""


class SchedulerCore(Generic[JobId]):
    """Which job runs when, on `threads` threads (sans I/O: jobs are opaque ids).

    Told of every job offered (`offer`) and every job that ended (`finished`); answers which
    jobs start. `asr_workers` is the number of decodes the Whisper model runs at once."""

    def __init__(self, threads: int, asr_workers: int) -> None:
        if threads < 1 or asr_workers < 1:
            raise ValueError("a scheduler needs at least one thread and one ASR worker")
        self._threads = threads
        self._partial_asr_limit = max(1, asr_workers - 1)
        """A partial starts only while fewer ASR jobs run: one decoder stays for a final."""
        self._running: dict[JobId, Lane] = {}
        self._queues: dict[Lane, deque[JobId]] = {lane: deque() for lane in _QUEUED_LANES}
        self._refused: Counter[Lane] = Counter()

    def offer(self, job: JobId, lane: Lane) -> Offer:
        """Take `job` on `lane`: START (it is now running), QUEUED or REFUSED."""
        if lane is Lane.PARTIAL and not self._partial_fits():
            self._refused[lane] += 1
            return Offer.REFUSED
        if not self._thread_free():
            self._queues[lane].append(job)
            return Offer.QUEUED
        self._running[job] = lane
        return Offer.START

    def finished(self, job: JobId) -> list[JobId]:
        """`job` (one that started) ended and its thread is free: the queued jobs that start
        now, in order (they are running from here on)."""
        del self._running[job]
        started: list[JobId] = []
        while self._thread_free() and (next_up := self._next_queued()) is not None:
            next_job, lane = next_up
            self._running[next_job] = lane
            started.append(next_job)
        return started

    def withdraw(self, job: JobId) -> bool:
        """Drop a queued `job` (its caller gave up on it); False when it is not queued."""
        for queue in self._queues.values():
            if job in queue:
                queue.remove(job)
                return True
        return False

    def drain(self) -> list[JobId]:
        """Drop every queued job, in the order they would have started (shutting down)."""
        dropped = [job for lane in _QUEUED_LANES for job in self._queues[lane]]
        for queue in self._queues.values():
            queue.clear()
        return dropped

    @property
    def queued(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    @property
    def refused(self) -> Mapping[Lane, int]:
        """Jobs refused so far, per lane (only partials ever are)."""
        return dict(self._refused)

    def _thread_free(self) -> bool:
        return len(self._running) < self._threads

    def _partial_fits(self) -> bool:
        # Nothing queued: a partial never overtakes a final or a clause already waiting.
        asr_running = sum(lane in _ASR_LANES for lane in self._running.values())
        return self._thread_free() and not self.queued and asr_running < self._partial_asr_limit

    def _next_queued(self) -> tuple[JobId, Lane] | None:
        for lane in _QUEUED_LANES:
            if self._queues[lane]:
                return self._queues[lane].popleft(), lane
        return None


class Skipped(RuntimeError):  # noqa: N818 - not an error: a job dropped on purpose
    """A partial pass the scheduler refused because it is behind (`lane(Lane.PARTIAL)`'s
    `submit` raises it, so ``loop.run_in_executor`` does at once): nothing ran, and the next
    partial, with more audio, is as good."""


@dataclass(eq=False)
class _Job:
    """One submitted call and its future (compared by identity: the core's job id)."""

    call: Callable[[], Any]
    future: Future[Any]


class InferenceScheduler:
    """`threads` worker threads running what a `SchedulerCore` decides, in lanes.

    The threads are daemons: a process that never shuts the scheduler down still exits."""

    def __init__(self, threads: int, asr_workers: int) -> None:
        self._core = SchedulerCore[_Job](threads, asr_workers)
        self._changed = threading.Condition()
        """Guards the core and `_startable`; notified when either changes."""
        self._startable: deque[_Job] = deque()
        """Jobs the core started, waiting for a worker thread to pick them up."""
        self._closed = False
        self._workers = [
            threading.Thread(target=self._work, name=f"inference-{n}", daemon=True)
            for n in range(threads)
        ]
        for worker in self._workers:
            worker.start()

    def lane(self, lane: Lane) -> Executor:
        """An `Executor` whose jobs go in `lane` (its `submit` raises `Skipped` for a partial
        refused; its `shutdown` does nothing: the scheduler owns the threads)."""
        return _LaneExecutor(self, lane)

    def try_submit(
        self, lane: Lane, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T] | None:
        """Run `fn(*args, **kwargs)` in `lane`: its future, or None when refused."""
        future: Future[T] = Future()
        job = _Job(functools.partial(fn, *args, **kwargs), future)
        with self._changed:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            offer = self._core.offer(job, lane)
            if offer is Offer.START:
                self._startable.append(job)
                self._changed.notify()
        if offer is Offer.REFUSED:
            return None
        future.add_done_callback(functools.partial(self._withdraw_if_cancelled, job))
        return future

    def shutdown(self, wait: bool = False, cancel_futures: bool = True) -> None:
        """Take no more jobs; with `cancel_futures`, cancel the queued ones (else they still
        run); with `wait`, return once every job has ended."""
        with self._changed:
            self._closed = True
            dropped = self._core.drain() if cancel_futures else []
            self._changed.notify_all()
        for job in dropped:
            job.future.cancel()
        if wait:
            for worker in self._workers:
                worker.join()

    @property
    def refused(self) -> Mapping[Lane, int]:
        """Jobs refused so far, per lane (for logs and metrics)."""
        with self._changed:
            return self._core.refused

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            if not job.future.set_running_or_notify_cancel():
                self._finished(job)  # cancelled after the core started it: nothing to run
                continue
            try:
                result = job.call()
            except BaseException as error:  # as ThreadPoolExecutor: the future carries it all
                self._finished(job)
                job.future.set_exception(error)
            else:
                self._finished(job)
                job.future.set_result(result)

    def _finished(self, job: _Job) -> None:
        # Called before the job's future is settled: whoever waited on it may offer the next
        # job at once (a partial, say) and finds this thread free.
        with self._changed:
            self._startable.extend(self._core.finished(job))
            self._changed.notify_all()

    def _next_job(self) -> _Job | None:
        """The next job to run on this thread; None once shut down with nothing left."""
        with self._changed:
            self._changed.wait_for(self._job_or_done)
            return self._startable.popleft() if self._startable else None

    def _job_or_done(self) -> bool:
        return bool(self._startable) or (self._closed and not self._core.queued)

    def _withdraw_if_cancelled(self, job: _Job, future: Future[Any]) -> None:
        # A queued job whose future was cancelled leaves the queue, so it never takes a
        # thread and never holds a partial back; one the core already started is skipped by _work.
        if future.cancelled():
            with self._changed:
                if self._core.withdraw(job):
                    self._changed.notify_all()


class _LaneExecutor(Executor):
    def __init__(self, scheduler: InferenceScheduler, lane: Lane) -> None:
        self._scheduler = scheduler
        self._lane = lane

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future = self._scheduler.try_submit(self._lane, fn, *args, **kwargs)
        if future is None:
            raise Skipped(f"{self._lane.name.lower()} job skipped: the scheduler is behind")
        return future
