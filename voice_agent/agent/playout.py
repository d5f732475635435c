"""The agent's outgoing audio: queued by the session, read by the transport at line pace.

The transport calls `read()` once per packet (20 ms); what it reads is what the caller hears,
so this is where "what was actually played" is known, where barge-in pauses within one frame,
and where the echo guard finds its reference.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.clock import Clock

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Segment:
    text: str
    queued: int = 0
    played: int = 0
    complete: bool = False


@dataclass(frozen=True, slots=True)
class ReferenceBlock:
    at: float
    """Clock time at which the block was handed to the line."""
    power: float
    """Mean square of the samples (int16 scale)."""


class Playout:
    def __init__(self, clock: Clock, rate: int = PIPELINE_RATE, history_s: float = 1.5) -> None:
        self.clock = clock
        self.rate = rate
        self._queue: deque[tuple[Int16Array, int]] = deque()
        self._segments: list[_Segment] = []
        self._paused = False
        self._held = False
        self._history: deque[ReferenceBlock] = deque()
        self._history_s = history_s
        self._drained = asyncio.Event()
        self._drained.set()
        self._finished_writing = True
        self.on_first_audio: Callable[[float], None] | None = None
        self.on_line_audio: Callable[[AudioFrame], None] | None = None
        """Handed every block the line reads (the call's recording)."""

    # --- the session's side -------------------------------------------------------------

    def begin_reply(self, chunks: Sequence[str]) -> None:
        """A new reply: its text chunks are the units of what was played."""
        self._queue.clear()
        self._segments = [_Segment(text) for text in chunks]
        self._paused = False
        self._finished_writing = False
        self._drained.clear()

    def write(self, frame: AudioFrame, segment: int) -> None:
        if frame.rate != self.rate:
            raise ValueError(f"playout runs at {self.rate} Hz, got {frame.rate} Hz")
        if not 0 <= segment < len(self._segments):
            raise ValueError(f"segment {segment} is not part of the current reply")
        self._queue.append((frame.samples, segment))
        self._segments[segment].queued += len(frame.samples)

    def segment_complete(self, segment: int) -> None:
        self._segments[segment].complete = True

    def finish_writing(self) -> None:
        """No more audio will come for this reply; drained fires once the queue is played."""
        self._finished_writing = True
        if not self._queue:
            self._drained.set()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def hold(self, held: bool) -> None:
        """The call is on hold (or off it): nothing is read out meanwhile, whichever reply is
        queued; unlike a barge-in pause it outlasts new replies and clears."""
        self._held = held

    def clear(self) -> str:
        """Drop everything not yet played; returns the text the caller heard."""
        self._queue.clear()
        self._paused = False
        self._finished_writing = True
        self._drained.set()
        return self.played_text()

    async def drained(self) -> None:
        await self._drained.wait()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def held(self) -> bool:
        return self._held

    @property
    def pending(self) -> bool:
        """Audio of the current reply is queued or still being written."""
        return bool(self._queue) or not self._finished_writing

    def played_text(self) -> str:
        """Whole chunks played, plus the share of words of a chunk cut short."""
        words: list[str] = []
        for segment in self._segments:
            if segment.played == 0:
                break
            chunk_words = segment.text.split()
            if segment.complete and segment.played >= segment.queued:
                words.extend(chunk_words)
                continue
            share = segment.played / max(segment.queued, 1)
            words.extend(chunk_words[: int(len(chunk_words) * share)])
            break
        return " ".join(words)

    # --- the transport's side ------------------------------------------------------------

    def read(self, samples: int) -> AudioFrame:
        """The next `samples` of line audio: reply audio, or silence when paused, held or idle."""
        now = self.clock.now()
        out = np.zeros(samples, dtype=np.int16)
        filled = 0
        if not self._paused and not self._held:
            filled = self._fill(out)
        if filled and self.on_first_audio is not None:
            self.on_first_audio(now)
            self.on_first_audio = None
        if not self._queue and self._finished_writing:
            self._drained.set()
        self._remember(now, out)
        frame = AudioFrame(out, self.rate, now)
        if self.on_line_audio is not None:
            self.on_line_audio(frame)
        return frame

    def reference(self, since: float) -> list[ReferenceBlock]:
        """Blocks handed to the line at or after `since` (for the echo guard)."""
        return [block for block in self._history if block.at >= since]

    def _fill(self, out: Int16Array) -> int:
        filled = 0
        while filled < len(out) and self._queue:
            samples, segment = self._queue[0]
            take = min(len(samples), len(out) - filled)
            out[filled : filled + take] = samples[:take]
            self._segments[segment].played += take
            filled += take
            if take == len(samples):
                self._queue.popleft()
            else:
                self._queue[0] = (samples[take:], segment)
        return filled

    def _remember(self, now: float, out: Int16Array) -> None:
        power = float(np.mean(np.square(out.astype(np.float64)))) if len(out) else 0.0
        self._history.append(ReferenceBlock(now, power))
        while self._history and self._history[0].at < now - self._history_s:
            self._history.popleft()
