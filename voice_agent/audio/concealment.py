"""Packet loss concealment for a decoded voice stream: repeat the last pitch period, fading out.

A phone line loses packets, or they come too late to play. The jitter buffer says which slot
is missing and why (``voice_agent.protocol.jitter``); this fills it. A short loss is bridged by
repeating the last pitch period of the audio heard before it (a steady vowel goes on rather
than clicking to silence), with a gain falling linearly to zero over ``fade_s``; a longer loss
becomes silence. The first frame after a concealed stretch fades in from the concealment, so
the joins do not click. Silence the sender chose (between talkspurts) is silence, not concealed.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from voice_agent.audio.frame import Int16Array

logger = logging.getLogger(__name__)

_MIN_PITCH_HZ = 70.0
_MAX_PITCH_HZ = 400.0
_VOICED_CORRELATION = 0.3
"""Below this the history is not periodic: repeat its last 10 ms as it is."""
_JOIN_S = 0.002
"""Cross-fade between concealment and the next real frame."""


class Concealer:
    """Fills gaps in one decoded stream at one sample rate (per call, stateful)."""

    def __init__(self, rate: int, fade_s: float = 0.06, history_s: float = 0.04) -> None:
        if fade_s < 0 or history_s <= 0:
            raise ValueError("fade and history must be positive")
        self.rate = rate
        self._fade = max(1, round(fade_s * rate))
        self._history_size = max(round(history_s * rate), round(2 * rate / _MIN_PITCH_HZ))
        self._history = np.zeros(0, dtype=np.float64)
        self._cycle: npt.NDArray[np.float64] | None = None
        self._phase = 0
        self._concealed = 0  # samples concealed since the last real frame
        self._tail = np.zeros(0, dtype=np.float64)  # what concealment would have played next
        self.concealed_samples = 0
        self.silent_samples = 0

    def frame(self, samples: Int16Array) -> Int16Array:
        """A real frame: played as it is (faded in after a concealed stretch) and remembered."""
        out = samples.astype(np.float64)
        if self._concealed and len(self._tail):
            join = min(len(out), len(self._tail), max(1, round(_JOIN_S * self.rate)))
            ramp = np.linspace(0.0, 1.0, join, endpoint=False)
            out[:join] = ramp * out[:join] + (1 - ramp) * self._tail[:join]
        self._remember(samples.astype(np.float64))
        self._concealed = 0
        self._cycle = None
        self._tail = np.zeros(0, dtype=np.float64)
        return _to_int16(out)

    def conceal(self, length: int) -> Int16Array:
        """A lost or late slot of ``length`` samples."""
        if self._cycle is None and self._concealed == 0:
            self._cycle = self._last_cycle()
            self._phase = 0
        if self._cycle is None:
            self.silent_samples += length
            return np.zeros(length, dtype=np.int16)
        join = max(1, round(_JOIN_S * self.rate))
        indices = (self._phase + np.arange(length + join)) % len(self._cycle)
        self._phase = (self._phase + length) % len(self._cycle)
        repeated = self._cycle[indices]
        gains = 1.0 - (self._concealed + np.arange(len(repeated))) / self._fade
        shaped = repeated * np.clip(gains, 0.0, 1.0)
        out, self._tail = shaped[:length], shaped[length:]
        audible = int(np.clip(self._fade - self._concealed, 0, length))
        self.concealed_samples += audible
        self.silent_samples += length - audible
        self._concealed += length
        return _to_int16(out)

    def silence(self, length: int) -> Int16Array:
        """A slot the sender left empty on purpose: silence, and nothing left to repeat."""
        self._history = np.zeros(0, dtype=np.float64)
        self._cycle = None
        self._concealed = 0
        self._tail = np.zeros(0, dtype=np.float64)
        self.silent_samples += length
        return np.zeros(length, dtype=np.int16)

    def _remember(self, samples: npt.NDArray[np.float64]) -> None:
        self._history = np.concatenate([self._history, samples])[-self._history_size :]

    def _last_cycle(self) -> npt.NDArray[np.float64] | None:
        """The last pitch period of the history (or its last 10 ms if it is not voiced)."""
        history = self._history
        if not len(history) or not np.any(history):
            return None
        shortest = max(1, round(self.rate / _MAX_PITCH_HZ))
        longest = min(round(self.rate / _MIN_PITCH_HZ), len(history) // 2)
        if longest <= shortest:
            return history[-max(1, round(0.01 * self.rate)) :].copy()
        recent = history[-longest:]
        best_lag, best_score = 0, _VOICED_CORRELATION
        for lag in range(shortest, longest + 1):
            earlier = history[-longest - lag : len(history) - lag]
            energy = float(np.sqrt(np.dot(recent, recent) * np.dot(earlier, earlier)))
            score = float(np.dot(recent, earlier)) / energy if energy > 0 else 0.0
            if score > best_score:
                best_lag, best_score = lag, score
        if best_lag == 0:
            return history[-max(1, round(0.01 * self.rate)) :].copy()
        return history[-best_lag:].copy()


def _to_int16(samples: npt.NDArray[np.float64]) -> Int16Array:
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)
