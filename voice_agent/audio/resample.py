"""Sample-rate conversion with soxr (one-shot and streaming)."""

from __future__ import annotations

import numpy as np
import soxr

from voice_agent.audio.frame import AudioFrame


def resample(frame: AudioFrame, rate: int) -> AudioFrame:
    """The whole frame at another rate (same timestamp)."""
    if frame.rate == rate:
        return frame
    if len(frame.samples) == 0:
        return AudioFrame(frame.samples, rate, frame.timestamp)
    converted = soxr.resample(frame.samples, frame.rate, rate, quality="HQ")
    return AudioFrame(np.asarray(converted, dtype=np.int16), rate, frame.timestamp)


class StreamResampler:
    """Resamples a stream of frames keeping filter state between them (no clicks at edges)."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16")
        )

    def process(self, frame: AudioFrame, last: bool = False) -> AudioFrame:
        if frame.rate != self.in_rate:
            raise ValueError(f"resampler expects {self.in_rate} Hz, got {frame.rate} Hz")
        if self._stream is None:
            return frame
        out = self._stream.resample_chunk(frame.samples, last=last)
        return AudioFrame(
            np.asarray(out, dtype=np.int16).reshape(-1), self.out_rate, frame.timestamp
        )
