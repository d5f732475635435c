"""A watchdog for the event loop: how late a short sleep wakes is how long the loop was busy.

Every call shares one event loop; a callback that blocks it (a model run, a database write,
a file read not moved to a thread) delays every call's audio at once. The watchdog sleeps
`every_s` over and over and measures how much later than asked it wakes. A stall over the
threshold (`server.loop_stall_ms`) is logged as a WARNING that says how long, and counted in
the metrics (`voice_agent_loop_stalls`, `voice_agent_loop_lag_max_seconds`).

The warning says where the loop was and why, as far as can be seen from outside it:
- the calls under way (what the loop was doing is one of them, or the server between calls);
- the loop thread's stack, caught by a `StackSampler` thread while the loop was overdue;
- the garbage collections that overlapped the stall (`GcWatch`): a collection holds the GIL,
  so the loop waits for it whichever thread triggered it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voice_agent.agent.gc_watch import GcWatch
from voice_agent.agent.metrics import AgentMetrics
from voice_agent.clock import Clock

logger = logging.getLogger(__name__)

WATCH_EVERY_S = 0.05
"""How often the watchdog looks: short, so a stall is measured close to its real length."""
STACK_FRAMES = 16
"""The innermost frames logged: where the loop was, and what called that."""
HUNG_S = 5.0
"""A loop overdue this long is logged from the sampler's thread (it may never wake)."""

CpuClocks = Callable[[], tuple[float, float]]
"""The CPU seconds used so far by the calling (loop's) thread and by the whole process."""


def cpu_clocks() -> tuple[float, float]:
    return time.thread_time(), time.process_time()


@dataclass(slots=True)
class LoopLag:
    """What the watchdog saw so far."""

    stalls: int = 0
    max_lag_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class LoopSnapshot:
    """The loop thread caught overdue: its stack, what the kernel said it was doing, and the
    other threads on a CPU then (or waiting for one): work outside the GIL, mostly inference,
    that the loop competed with for the CPU. (A thread that held the GIL is waiting for it
    again while the sampler looks: the sampler holds it.)"""

    beat: float
    stack: traceback.StackSummary
    loop_state: str
    running: tuple[str, ...]

    def describe(self) -> str:
        """For the log: a line of states, then the loop thread's stack."""
        others = ", ".join(self.running) or "none"
        return (
            f"loop thread {self.loop_state}; other threads running: {others}; the loop was at:"
            f"\n{_stack_text(self.stack)}"
        )


def _snapshot(beat: float, loop_thread: int) -> LoopSnapshot | None:
    """The loop thread's stack and state now, or None if it has no frame (it ended)."""
    frames = sys._current_frames()
    del frames[threading.get_ident()]  # this very frame: it would hold itself in a cycle
    frame = frames.pop(loop_thread, None)
    if frame is None:
        return None
    stack = _in_the_loop(traceback.extract_stack(frame, limit=STACK_FRAMES))
    threads = {thread.ident: (thread.name, thread.native_id) for thread in threading.enumerate()}
    running = []
    for ident, other in frames.items():
        name, native = threads.get(ident, (str(ident), None))
        if _kernel_state(native).startswith("running"):
            code = other.f_code
            where = f"{Path(code.co_filename).name}:{other.f_lineno} {code.co_name}"
            running.append(f"{name} in {where}")
    loop_state = _kernel_state(threads.get(loop_thread, ("", None))[1])
    return LoopSnapshot(beat, stack, loop_state or "(its state unknown)", tuple(running))


def _in_the_loop(stack: traceback.StackSummary) -> traceback.StackSummary:
    """The frames from the event loop's `_run_once` in: the ones outside it say nothing."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].name == "_run_once":
            return traceback.StackSummary.from_list(stack[index:])
    return stack


def _kernel_state(native_id: int | None) -> str:
    """What Linux says a thread of this process is doing ("" where /proc cannot say)."""
    if native_id is None:
        return ""
    task = Path(f"/proc/self/task/{native_id}")
    try:
        state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        wchan = (task / "wchan").read_text().strip()
    except (OSError, IndexError):
        return ""
    if state == "R":
        return "running (or waiting for a CPU)"
    if "futex" in wchan:
        return f"waiting for a lock ({wchan}: the GIL, or a lock of its own)"
    if "poll" in wchan or "select" in wchan:
        return f"asleep in {wchan}"
    return f"state {state} ({wchan or 'no wait channel'})"


class StackSampler:
    """On a thread of its own, looks at the loop's last heartbeat every `stall_ms`/4; once
    the loop is overdue by half of `stall_ms`, it captures the loop thread's stack (once per
    heartbeat), for the watchdog to log if the stall goes past the threshold.

    Captured at half the threshold so that every stall over it has a stack, even though the
    sampler looks only every quarter of it. The sampler needs the GIL to look: a stall in which
    something else held the GIL throughout (a collection, a C extension) may have no stack."""

    def __init__(
        self,
        now: Callable[[], float],
        stall_ms: float,
        every_s: float = WATCH_EVERY_S,
        hung_s: float = HUNG_S,
    ) -> None:
        self._now = now
        self._stall_s = stall_ms / 1000
        self._every_s = every_s
        self._hung_s = hung_s
        self._loop_thread: int | None = None
        self._beat = now()
        self._caught: LoopSnapshot | None = None
        self._hung_for: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self, at: float) -> None:
        """The loop is alive at `at` (called on the loop's thread)."""
        if self._loop_thread is None:
            self._loop_thread = threading.get_ident()
        self._beat = at

    def look(self) -> None:
        """One look (the sampler's thread calls it over and over)."""
        beat, loop_thread = self._beat, self._loop_thread
        overdue_s = self._now() - beat - self._every_s
        if loop_thread is None or overdue_s <= self._stall_s / 2:
            return
        caught = self._caught
        if caught is None or caught.beat != beat:
            caught = _snapshot(beat, loop_thread)
            if caught is None:
                return
            self._caught = caught
        if overdue_s > self._hung_s and self._hung_for != beat:
            self._hung_for = beat
            logger.warning("event loop blocked for %.1f s so far; %s", overdue_s, caught.describe())

    def snapshot_after(self, beat: float) -> LoopSnapshot | None:
        """What was caught while the loop was overdue after the heartbeat at `beat`."""
        caught = self._caught
        return caught if caught is not None and caught.beat == beat else None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="loop-stack-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._stall_s / 4):
            try:
                self.look()
            except Exception:  # the sampler must never take the process down
                logger.exception("the event loop's stack sampler failed; it goes on")


class LoopWatch:
    """Sleeps on the loop and reports each late wake-up over `stall_ms` (sans-I/O: the clock,
    what to report to, and the sampler, collector watch and CPU clocks, if any, are given)."""

    def __init__(
        self,
        clock: Clock,
        stall_ms: float,
        metrics: AgentMetrics | None = None,
        busy: Callable[[], str] = lambda: "",
        every_s: float = WATCH_EVERY_S,
        sampler: StackSampler | None = None,
        gc_watch: GcWatch | None = None,
        cpu: CpuClocks | None = None,
    ) -> None:
        if stall_ms <= 0:
            raise ValueError(f"the stall threshold must be above 0 ms, not {stall_ms}")
        self._clock = clock
        self._stall_ms = stall_ms
        self._metrics = metrics
        self._busy = busy
        self._every_s = every_s
        self._sampler = sampler
        self._gc = gc_watch
        self._cpu = cpu
        self._gc_reported_ms = stall_ms / 4
        """Collections shorter than this are not worth a line of their own."""
        self.lag = LoopLag()

    async def run(self) -> None:
        """Until cancelled; the sampler's thread and the collector's callback live as long."""
        if self._sampler is not None:
            self._sampler.start()
        if self._gc is not None:
            self._gc.install()
        try:
            while True:
                asked_at = self._clock.now()
                cpu_at = self._cpu() if self._cpu is not None else None
                if self._sampler is not None:
                    self._sampler.beat(asked_at)
                await self._clock.sleep(self._every_s)
                woke_at = self._clock.now()
                used = None
                if self._cpu is not None and cpu_at is not None:
                    cpu_now = self._cpu()
                    used = (cpu_now[0] - cpu_at[0], cpu_now[1] - cpu_at[1])
                self.woke(asked_at, woke_at, used)
        finally:
            if self._sampler is not None:
                self._sampler.stop()
            if self._gc is not None:
                self._gc.remove()
            logger.info("event loop watch: %s", self.summary())

    def summary(self) -> str:
        text = f"{self.lag.stalls} stall(s) over {self._stall_ms:.0f} ms, longest lag "
        text += f"{self.lag.max_lag_ms:.0f} ms"
        if self._gc is not None:
            text += f"; garbage collections: {self._gc.summary()}"
        return text

    def woke(
        self, asked_at: float, woke_at: float, cpu_used: tuple[float, float] | None = None
    ) -> None:
        """One wake-up: the sleep was asked at `asked_at` and ended at `woke_at`; `cpu_used`
        is the CPU time the loop's thread and the whole process used meanwhile, in seconds."""
        self._report_long_collections()
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
        context = [self._busy() or "no call under way"]
        if cpu_used is not None:
            # the loop's own work filled the span: it blocked itself; far less: it was starved
            context.append(
                f"CPU time in these {(woke_at - asked_at) * 1000:.0f} ms: the loop's thread "
                f"{cpu_used[0] * 1000:.0f} ms, the process {cpu_used[1] * 1000:.0f} ms"
            )
        if self._gc is not None:
            context += [
                f"garbage collection gen {pause.generation} for {pause.ms:.0f} ms"
                for pause in self._gc.during(asked_at + self._every_s, woke_at)
            ]
        logger.warning(
            "event loop stalled %.0f ms (over %.0f ms; %s)%s",
            late_ms,
            self._stall_ms,
            "; ".join(context),
            self._where(asked_at),
        )

    def _where(self, asked_at: float) -> str:
        if self._sampler is None:
            return ""
        caught = self._sampler.snapshot_after(asked_at)
        if caught is None:
            # the sampler's thread did not get to run while the loop was overdue
            return "; the loop's stack was not caught (the GIL was held, or no CPU was free)"
        return "; " + caught.describe()

    def _report_long_collections(self) -> None:
        """A collection longer than any before (and worth a line) is logged once."""
        if self._gc is None:
            return
        longest = max(self._gc.longest_ms)
        if longest > self._gc_reported_ms:
            self._gc_reported_ms = longest
            generation = self._gc.longest_ms.index(longest)
            logger.info(
                "garbage collection paused every thread %.0f ms (generation %d), the longest "
                "yet; collections so far: %s",
                longest,
                generation,
                self._gc.summary(),
            )


def _stack_text(stack: traceback.StackSummary) -> str:
    return "".join(stack.format()).rstrip("\n")
