"""Streaming FIR filters in numpy (state kept between frames, so blocks join without clicks)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voice_agent.audio.frame import AudioFrame


def band_pass_taps(
    low_hz: float, high_hz: float, rate: int, taps: int = 129
) -> npt.NDArray[np.float64]:
    """A windowed-sinc band-pass (Hamming), unity gain in the pass band."""
    if not 0 < low_hz < high_hz < rate / 2:
        raise ValueError(f"band {low_hz}-{high_hz} Hz does not fit {rate} Hz sampling")
    n = np.arange(taps) - (taps - 1) / 2

    def low_pass(cutoff: float) -> npt.NDArray[np.float64]:
        return np.asarray(2 * cutoff / rate * np.sinc(2 * cutoff / rate * n), dtype=np.float64)

    kernel = (low_pass(high_hz) - low_pass(low_hz)) * np.hamming(taps)
    return np.asarray(kernel, dtype=np.float64)


class StreamingFir:
    def __init__(self, taps: npt.NDArray[np.float64]) -> None:
        self._taps = taps
        self._tail = np.zeros(len(taps) - 1, dtype=np.float64)

    def process(self, frame: AudioFrame) -> AudioFrame:
        block = np.concatenate([self._tail, frame.samples.astype(np.float64)])
        filtered = np.convolve(block, self._taps, mode="valid")
        self._tail = block[len(block) - len(self._tail) :] if len(self._tail) else self._tail
        clipped = np.clip(np.round(filtered), -32768, 32767).astype(np.int16)
        return AudioFrame(clipped, frame.rate, frame.timestamp)
