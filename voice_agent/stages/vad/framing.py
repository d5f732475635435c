"""Frames of any size and rate in, fixed windows at an engine's rate out, each with its audio time.

A window's time is counted in samples from the stream's first frame, so resampler delay and odd
chunk sizes do not move it; a frame whose timestamp jumps (a gap in the input) moves the count's
origin with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.resample import StreamResampler

logger = logging.getLogger(__name__)

_RESYNC_S = 0.005
"""A frame timestamp this far from where the previous frame ended is a jump, not rounding."""


@dataclass(frozen=True, slots=True)
class Window:
    samples: Int16Array
    start: float
    end: float


class WindowFramer:
    """Buffers input and cuts it into windows of `size` samples at `rate` Hz."""

    def __init__(self, rate: int, size: int) -> None:
        if size <= 0:
            raise ValueError(f"window size must be positive, got {size}")
        self.rate = rate
        self.size = size
        self.reset()

    def reset(self) -> None:
        self._pending: Int16Array = np.zeros(0, dtype=np.int16)
        self._origin: float | None = None
        self._consumed = 0
        self._expected: float | None = None
        self._resampler: StreamResampler | None = None

    def push(self, frame: AudioFrame) -> list[Window]:
        if len(frame.samples) == 0:
            return []
        self._follow_timestamp(frame)
        self._pending = np.concatenate([self._pending, self._at_rate(frame)])
        windows = []
        while len(self._pending) >= self.size:
            start = self._time_of(self._consumed)
            windows.append(Window(self._pending[: self.size], start, start + self.size / self.rate))
            self._pending = self._pending[self.size :]
            self._consumed += self.size
        return windows

    def _follow_timestamp(self, frame: AudioFrame) -> None:
        if self._origin is None or self._expected is None:
            self._origin = frame.timestamp
        elif abs(frame.timestamp - self._expected) > _RESYNC_S:
            # Samples still buffered move with the jump: at most one window is off by it.
            logger.debug("input jumped by %.3f s", frame.timestamp - self._expected)
            self._origin += frame.timestamp - self._expected
        self._expected = frame.end

    def _at_rate(self, frame: AudioFrame) -> Int16Array:
        tail: Int16Array = np.zeros(0, dtype=np.int16)
        if self._resampler is not None and self._resampler.in_rate != frame.rate:
            tail = self._flushed_resampler()
        if frame.rate == self.rate:
            return np.concatenate([tail, frame.samples]) if len(tail) else frame.samples
        if self._resampler is None:
            self._resampler = StreamResampler(frame.rate, self.rate)
        return np.concatenate([tail, self._resampler.process(frame).samples])

    def _flushed_resampler(self) -> Int16Array:
        """The delayed tail of the previous input rate, so the sample count stays aligned."""
        assert self._resampler is not None
        empty = AudioFrame(np.zeros(0, dtype=np.int16), self._resampler.in_rate)
        tail = self._resampler.process(empty, last=True).samples
        self._resampler = None
        return tail

    def _time_of(self, sample: int) -> float:
        assert self._origin is not None
        return self._origin + sample / self.rate
