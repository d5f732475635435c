"""AudioFrame: int16 mono samples, their rate and the time of their first sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PIPELINE_RATE = 16_000
"""The one internal rate; transports convert to and from it."""

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AudioFrame:
    samples: Int16Array
    rate: int
    timestamp: float = 0.0
    """Clock time (seconds) of the first sample."""

    def __post_init__(self) -> None:
        if self.samples.dtype != np.int16 or self.samples.ndim != 1:
            raise ValueError(
                f"AudioFrame needs 1-D int16 samples, got {self.samples.dtype} {self.samples.shape}"
            )
        if self.rate <= 0:
            raise ValueError(f"AudioFrame rate must be positive, got {self.rate}")

    @classmethod
    def from_float(
        cls, samples: npt.NDArray[np.floating], rate: int, timestamp: float = 0.0
    ) -> AudioFrame:
        clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
        return cls((clipped * 32767.0).astype(np.int16), rate, timestamp)

    @classmethod
    def silence(
        cls, duration: float, rate: int = PIPELINE_RATE, timestamp: float = 0.0
    ) -> AudioFrame:
        return cls(np.zeros(round(duration * rate), dtype=np.int16), rate, timestamp)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    @property
    def end(self) -> float:
        return self.timestamp + self.duration

    def to_float(self) -> Float32Array:
        return self.samples.astype(np.float32) / 32768.0

    def slice(self, start: float, stop: float | None = None) -> AudioFrame:
        """A sub-frame by offsets in seconds from this frame's start."""
        first = max(0, round(start * self.rate))
        last = (
            len(self.samples) if stop is None else min(len(self.samples), round(stop * self.rate))
        )
        return AudioFrame(self.samples[first:last], self.rate, self.timestamp + first / self.rate)

    def chunks(self, duration: float) -> list[AudioFrame]:
        """Consecutive frames of `duration` seconds; the last may be shorter."""
        size = max(1, round(duration * self.rate))
        return [
            AudioFrame(self.samples[i : i + size], self.rate, self.timestamp + i / self.rate)
            for i in range(0, len(self.samples), size)
        ]

    @staticmethod
    def concat(frames: list[AudioFrame]) -> AudioFrame:
        if not frames:
            raise ValueError("cannot concatenate no frames")
        rates = {frame.rate for frame in frames}
        if len(rates) != 1:
            raise ValueError(f"cannot concatenate frames of different rates: {sorted(rates)}")
        samples = np.concatenate([frame.samples for frame in frames])
        return AudioFrame(samples, frames[0].rate, frames[0].timestamp)
