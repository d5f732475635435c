"""The recent audio's loudness against the noise, to put speech boundaries where the sound has them.

Both engines go on scoring speech for a while after the voice has stopped (webrtcvad by design,
its own hangover of 90-150 ms; Silero because its recurrent state fades over a few windows), and
for how long depends on the sound that ends the utterance; both may also let a run of noise lead
into speech. The trail keeps the loudness of the last second in ~10 ms slices and learns the
noise's level and spread from the slices the engine calls non-speech, so the segmenter can move
a boundary to where the sound stood out of the noise, within limits it sets.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice_agent.audio.frame import Int16Array
from voice_agent.stages.vad.framing import Window

SLICE_S = 0.01
"""Loudness resolution: a 32 ms Silero window is judged in four 8 ms slices, webrtcvad's in
10 ms ones."""
MIN_MARGIN_DB = 2.5
"""A slice this far above the noise's mean level holds sound about as loud as the noise or more."""
SPREAD_MARGIN = 4.0
"""A loud slice must also clear the noise's own swings by this many mean absolute deviations
(~3.2 standard deviations), so a slice of wandering pink noise seldom passes for sound."""
DIGITAL_SILENCE_DB = 6.0
"""Slices quieter than this (RMS under 2 of 32768) are digital silence, not the line's noise: a
muted or echo-gated stream says nothing about the noise the caller's speech must stand out of."""
_FLOOR_RATE = 0.05
"""Per slice: the noise level is followed over about 0.2 s."""
_OUTLIER_SPREADS = 3.0
"""Deviations count up to this many spreads, so speech the engine missed barely moves the floor."""
_INITIAL_SPREAD_DB = 1.0
_MIN_SPREAD_DB = 0.3
_MAX_SPREAD_DB = 3.0
"""The noise's swings are learnt up to this: beyond it they are speech the engine missed."""
_TIME_EPSILON_S = 1e-9

Float64Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Slice:
    start: float
    end: float
    level_db: float


class EnergyTrail:
    def __init__(self, keep_s: float = 1.0) -> None:
        self._keep_s = keep_s
        self.reset()

    @property
    def floor_db(self) -> float | None:
        return self._floor_db

    @property
    def _reference_db(self) -> float | None:
        """What sound must stand out of: the noise once learnt; before that, on a line that
        has only been digitally silent between words (a clean file, a gated stream), the
        silence itself, so a boundary still lands where the sound ends."""
        if self._floor_db is not None:
            return self._floor_db
        return DIGITAL_SILENCE_DB if self._heard_digital_silence else None

    def reset(self) -> None:
        self._slices: deque[Slice] = deque()
        self._floor_db: float | None = None
        """Mean level of the slices the engine calls non-speech (outliers clipped)."""
        self._spread_db = _INITIAL_SPREAD_DB
        """Their mean absolute deviation from it."""
        self._heard_digital_silence = False
        """Non-speech so far was digital silence: sound is then anything above it."""

    def observe(self, window: Window, speech: bool) -> None:
        levels = slice_levels_db(window.samples, round((window.end - window.start) / SLICE_S))
        step = (window.end - window.start) / len(levels)
        for index, level in enumerate(levels):
            start = window.start + index * step
            self._slices.append(Slice(start, start + step, level))
            if speech:
                continue
            if level > DIGITAL_SILENCE_DB:
                self._follow_floor(level)
            else:
                self._heard_digital_silence = True
        while self._slices and self._slices[0].end < window.end - self._keep_s:
            self._slices.popleft()

    def sound_start(self, earliest: float, latest: float) -> float | None:
        """Where sound began between `earliest` and `latest`: the start of the first loud slice
        from which on at least half the slices are loud (one swing of the noise does not start
        sound; speech keeps standing out); None if there is none; `earliest` while the noise is
        not known yet."""
        if self._reference_db is None:
            return earliest
        first = None
        loud = total = 0
        for piece in reversed(self._slices):
            if piece.start + _TIME_EPSILON_S < earliest:
                break
            if piece.end > latest + _TIME_EPSILON_S:
                continue
            total += 1
            if self._loud(piece):
                loud += 1
                if 2 * loud >= total:
                    first = piece.start
        return first

    def loud_since(self, time: float, earliest: float) -> float:
        """How far back from `time`, but not before `earliest`, the slices run loud unbroken."""
        if self._reference_db is None:
            return time
        start = time
        for piece in reversed(self._slices):
            if piece.start + _TIME_EPSILON_S >= time:
                continue
            if piece.start + _TIME_EPSILON_S < earliest or not self._loud(piece):
                break
            start = piece.start
        return start

    def sound_end(self, earliest: float, latest: float) -> float:
        """Where the sound ended between `earliest` and `latest`: the end of the last loud slice
        there; `earliest` if none is; `latest` while the noise is not known yet."""
        if self._reference_db is None:
            return latest
        for piece in reversed(self._slices):
            if piece.end <= earliest + _TIME_EPSILON_S:
                break
            if piece.end <= latest + _TIME_EPSILON_S and self._loud(piece):
                return piece.end
        return earliest

    def _loud(self, piece: Slice) -> bool:
        reference = self._reference_db
        assert reference is not None
        return piece.level_db >= reference + max(MIN_MARGIN_DB, SPREAD_MARGIN * self._spread_db)

    def _follow_floor(self, level: float) -> None:
        if self._floor_db is None:
            self._floor_db = level
            return
        limit = _OUTLIER_SPREADS * max(self._spread_db, _MIN_SPREAD_DB)
        deviation = min(max(level - self._floor_db, -limit), limit)
        self._floor_db += _FLOOR_RATE * deviation
        self._spread_db += _FLOOR_RATE * (abs(deviation) - self._spread_db)
        # Outliers widen the spread by a tenth each: uncapped, a second of speech the engine
        # calls non-speech (a phone line's consonants) made every sound too quiet to stand out.
        self._spread_db = min(self._spread_db, _MAX_SPREAD_DB)


def slice_levels_db(samples: Int16Array, wanted: int) -> list[float]:
    """Power in dB (int16 scale) of about `wanted` equal slices (as many as divide the samples
    evenly), each with its straight-line trend taken out: rumble below ~50 Hz, which makes pink
    or traffic noise wander by several dB from one slice to the next, then barely counts."""
    count = max(1, wanted)
    while len(samples) % count:
        count += 1
    width = len(samples) // count
    signal = samples.astype(np.float64)
    ramp, ramp_energy = _centred_ramp(width)
    levels = []
    for start in range(0, len(signal), width):
        part = signal[start : start + width]
        # Least squares: the energy a slice keeps once its mean and its slope are taken out
        # (scalar dot products: numpy's per-call cost dominates on 80-160 samples).
        total = float(part.sum())
        along_ramp = float(np.dot(part, ramp))
        residual = float(np.dot(part, part)) - total * total / width
        residual -= along_ramp * along_ramp / ramp_energy
        levels.append(10.0 * math.log10(max(residual, 0.0) / width + 1.0))
    return levels


@functools.lru_cache(maxsize=16)
def _centred_ramp(width: int) -> tuple[Float64Array, float]:
    ramp = np.arange(width, dtype=np.float64) - (width - 1) / 2
    return ramp, max(float(ramp @ ramp), 1.0)
