"""The calibration agent's brain: answers after a known delay, or stops after a known delay.

Sans-I/O: the WebRTC and SIP fakes feed it the caller's audio as each packet arrives and ask
it for each outgoing frame at the moment the frame is sent. Its delays are measured from
the arrival of the caller's last loud sample (a reply) or first loud sample (a barge-in), to
the sample: the reply starts inside the frame that is due, at the exact offset, not at the
next frame edge. What the benchmark caller measures minus the configured delay is what the
line and the instrument add.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.resample import resample

LOUD_LEVEL = 300
"""A sample louder than this (about -40 dBFS) is the caller's speech."""
QUIET_TO_END_S = 0.15
"""The caller's speech has ended once nothing loud arrived for this long: short enough for a
250 ms reply, long enough to bridge the gaps between words (calibration lines have no commas)."""


def _loud_from_first_sample(voice: AudioFrame) -> AudioFrame:
    loud = np.nonzero(np.abs(voice.samples.astype(np.int32)) > LOUD_LEVEL)[0]
    if not len(loud):
        raise ValueError("the responder's voice has no loud sample")
    return AudioFrame(voice.samples[loud[0] :], voice.rate)


class Mode(Enum):
    REPLY = "reply"
    """Quiet until the caller stops; then the reply, `delay` after the last loud sample."""
    STOP = "stop"
    """Speaking all the time; stops `delay` after the caller's first loud sample, for good
    until the caller has finished, then speaks again."""


@dataclass(frozen=True, slots=True)
class Delays:
    base_s: float
    jitter_s: float = 0.0
    """Each turn's delay is uniform in base ± jitter."""
    seed: int = 0


class KnownDelayResponder:
    def __init__(self, mode: Mode, delays: Delays, voice: AudioFrame, rate: int) -> None:
        self.mode = mode
        self._delays = delays
        self._random = random.Random(delays.seed)
        # trimmed at the line rate: a soft onset that resampling thins (the 'th' of "thanks"
        # at 8 kHz) would start the reply later than the responder thinks it does
        self._voice = _loud_from_first_sample(resample(voice, rate)).samples
        self.rate = rate
        self._last_loud: float | None = None
        self._first_loud: float | None = None
        self._start_at: float | None = None  # the agent's audio starts here (REPLY)
        self._stop_at: float | None = None  # and stops here (STOP)
        self._speaking = mode is Mode.STOP
        self._position = 0
        self.applied_s: list[float] = []
        """The delay each turn was given (for the calibration's own check)."""

    def heard(self, arrived_at: float, samples: Int16Array) -> None:
        """Caller audio, decoded as it arrived: sample i is heard at arrived_at + i / rate."""
        loud = np.nonzero(np.abs(samples.astype(np.int32)) > LOUD_LEVEL)[0]
        if len(loud):
            first = arrived_at + int(loud[0]) / self.rate
            self._last_loud = arrived_at + (int(loud[-1]) + 1) / self.rate
            if self._first_loud is None:
                self._first_loud = first
                if self.mode is Mode.STOP and self._speaking:
                    self._stop_at = first + self._next_delay()
        elif self._last_loud is not None and arrived_at - self._last_loud >= QUIET_TO_END_S:
            self._caller_finished(self._last_loud)

    def _caller_finished(self, ended_at: float) -> None:
        self._last_loud = self._first_loud = None
        if self.mode is Mode.REPLY:
            self._start_at = ended_at + self._next_delay()
        else:
            self._start_at = ended_at + QUIET_TO_END_S  # speak again (not measured)

    def _next_delay(self) -> float:
        jitter = self._delays.jitter_s
        delay = self._delays.base_s + self._random.uniform(-jitter, jitter)
        self.applied_s.append(delay)
        return delay

    def next_samples(self, at: float, count: int) -> Int16Array:
        """The agent's audio for the frame whose first sample is sent at `at`."""
        out = np.zeros(count, dtype=np.int16)
        start = 0
        if not self._speaking and self._start_at is not None:
            offset = round((self._start_at - at) * self.rate)
            if offset >= count:
                return out
            start = max(0, offset)
            self._speaking, self._start_at, self._position = True, None, 0
        end = count
        if self._speaking and self._stop_at is not None:
            end = min(count, max(0, round((self._stop_at - at) * self.rate)))
        if self._speaking and end > start:
            out[start:end] = self._voice_samples(end - start)
        if self._speaking and self._stop_at is not None and end < count:
            self._speaking, self._stop_at = False, None
        elif self._speaking and self.mode is Mode.REPLY and self._position >= len(self._voice):
            self._speaking = False
        return out

    def _voice_samples(self, count: int) -> Int16Array:
        """The next `count` samples of the voice; a reply plays it once, STOP loops it."""
        if self.mode is Mode.STOP:
            indices = (self._position + np.arange(count)) % len(self._voice)
            self._position += count
            return self._voice[indices]
        chunk = self._voice[self._position : self._position + count]
        self._position += count
        padded = np.zeros(count, dtype=np.int16)
        padded[: len(chunk)] = chunk
        return padded
