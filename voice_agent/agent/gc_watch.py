"""The garbage collector's pauses, timed (`gc.callbacks`), for the event-loop watchdog.

A collection holds the GIL from its start to its end, whichever thread triggered it: while it
runs no thread moves, the event loop included. A full (generation 2) collection walks every
container object the process holds, the models' and classifiers' vocabularies included, so
its pause grows with the heap. The watchdog asks which pauses overlapped a stall, so that a
stall the collector caused says so (the loop's stack alone cannot: it is captured only once
the collector lets go of the GIL).

The callback only notes times (no logging, no locks): it runs inside the collection, on
whichever thread allocated last.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEEP_PAUSES = 256
"""The latest pauses kept: several seconds of collections, more than a stall spans."""


@dataclass(frozen=True, slots=True)
class GcPause:
    generation: int
    started: float
    """On the watch's clock (monotonic seconds)."""
    ms: float

    @property
    def ended(self) -> float:
        return self.started + self.ms / 1000


class GcWatch:
    """Times every collection while installed; remembers the latest and the longest."""

    def __init__(self, now: Callable[[], float] = time.monotonic, keep: int = KEEP_PAUSES) -> None:
        self._now = now
        self._started: float | None = None
        self._pauses: deque[GcPause] = deque(maxlen=keep)
        self.longest_ms = [0.0, 0.0, 0.0]
        """Per generation, the longest pause seen."""
        self.collections = [0, 0, 0]
        """Per generation, the collections seen."""

    def install(self) -> None:
        if self._on_gc not in gc.callbacks:
            gc.callbacks.append(self._on_gc)

    def remove(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self._now()
        elif self._started is not None:
            self.collected(info["generation"], self._started, self._now())
            self._started = None

    def collected(self, generation: int, started: float, ended: float) -> None:
        """One collection of `generation` from `started` to `ended`."""
        pause = GcPause(generation, started, (ended - started) * 1000)
        self._pauses.append(pause)
        self.collections[generation] += 1
        self.longest_ms[generation] = max(self.longest_ms[generation], pause.ms)

    def during(self, start: float, end: float, least_ms: float = 1.0) -> list[GcPause]:
        """The pauses of at least `least_ms` that overlapped `start`..`end`."""
        return [
            pause
            for pause in list(self._pauses)  # a copy: the callback may append meanwhile
            if pause.ms >= least_ms and pause.started < end and pause.ended > start
        ]

    def summary(self) -> str:
        """Collections and longest pause per generation, for a log line."""
        return ", ".join(
            f"gen {generation}: {count} (longest {longest:.0f} ms)"
            for generation, (count, longest) in enumerate(
                zip(self.collections, self.longest_ms, strict=True)
            )
        )


def freeze_start_up_heap() -> int:
    """Move every object alive now to the collector's permanent generation, after a collection
    of the start-up garbage; returns how many objects are frozen.

    Called once the models, vocabularies and catalogue are loaded: they live as long as the
    process, yet a full collection walked them all every time (~130k objects, ~85 ms holding
    the GIL on the reference machine, longer when the CPU is shared): every call's audio
    waited. Frozen, they are never walked again; a full collection walks what calls made."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
