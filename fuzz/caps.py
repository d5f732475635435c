"""Per-input caps: CPU time and address space, so a slow or greedy input is a failure.

Time is this process's CPU time (``ITIMER_PROF``), not wall time: on a loaded machine a
fast input may wait for a core, but it does not burn more CPU.  The timer interrupts pure
Python code; C code that does not return to the interpreter (a regex, ``int()`` of a
huge string) is caught afterwards by measuring the CPU time the input used.

Memory is an address-space limit (``RLIMIT_AS``) set to the process's size when the
guard starts plus the cap, so an input that tries to allocate more gets ``MemoryError``.
Only the soft limit is lowered, and both the limit and the timer are restored on exit.
"""

from __future__ import annotations

import resource
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Self

DEFAULT_TIME_CAP_S = 0.1
DEFAULT_MEMORY_CAP_BYTES = 512 * 1024 * 1024


class InputTimeLimit(BaseException):
    """An input used more CPU time than its cap.

    A BaseException, like KeyboardInterrupt, so that code under test that catches
    ``Exception`` (as a server loop does) cannot swallow it and keep running.
    """


@dataclass(frozen=True)
class Caps:
    time_s: float = DEFAULT_TIME_CAP_S
    memory_bytes: int = DEFAULT_MEMORY_CAP_BYTES


@dataclass(frozen=True)
class Outcome:
    """What went wrong with one input: kind is 'exception', 'timeout' or 'memory'."""

    kind: str
    error: str  # one line: the exception type and message
    details: str  # the traceback, for the report
    cpu_s: float


def address_space_bytes() -> int:
    """The process's current virtual size (what RLIMIT_AS counts)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()


def _on_timer(signum: int, frame: FrameType | None) -> None:
    raise InputTimeLimit("input ran past its CPU-time cap")


class Guard:
    """Runs inputs under the caps.  Use as a context manager around a batch of inputs."""

    def __init__(self, caps: Caps | None = None) -> None:
        self.caps = caps or Caps()
        self._saved_limit: tuple[int, int] | None = None
        self._saved_handler: signal._HANDLER = None

    def __enter__(self) -> Self:
        self._saved_handler = signal.signal(signal.SIGPROF, _on_timer)
        self._saved_limit = resource.getrlimit(resource.RLIMIT_AS)
        soft, hard = self._saved_limit
        wanted = address_space_bytes() + self.caps.memory_bytes
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft == resource.RLIM_INFINITY or wanted < soft:
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        if self._saved_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._saved_limit)
        signal.signal(signal.SIGPROF, self._saved_handler)

    def run(self, one_input: Callable[[bytes], None], data: bytes) -> Outcome | None:
        """Feed ``data`` to ``one_input``; None if it returned within the caps."""
        start = time.process_time()
        try:
            try:
                signal.setitimer(signal.ITIMER_PROF, self.caps.time_s)
                one_input(data)
            finally:
                # the timer may fire here too, still inside the outer try
                signal.setitimer(signal.ITIMER_PROF, 0)
        except InputTimeLimit:
            return self._timeout(start, traceback.format_exc())
        except MemoryError as error:
            return self._failure("memory", error, start, f"over {self.caps.memory_bytes} bytes")
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as error:  # SystemExit from code under test is a bug too
            return self._failure("exception", error, start)
        used = time.process_time() - start
        if used > self.caps.time_s:
            # C code the signal could not interrupt: the input still took too long
            return self._timeout(start, "(no Python frame was running when the cap passed)")
        return None

    def _timeout(self, start: float, details: str) -> Outcome:
        used = time.process_time() - start
        error = f"InputTimeLimit: {used * 1000:.0f} ms of CPU, cap {self.caps.time_s * 1000:.0f} ms"
        return Outcome("timeout", error, details, used)

    def _failure(self, kind: str, error: BaseException, start: float, note: str = "") -> Outcome:
        used = time.process_time() - start
        message = f"{type(error).__name__}: {error}"[:500]
        if note:
            message = f"{message} ({note})"
        details = "".join(traceback.format_exception(error))
        return Outcome(kind, message, details, used)
