"""Who answered an outbound call, told by the shape of the greeting (sans-I/O).

A person says a short "Hello?" and waits for us; an answering machine speaks a long greeting
with only short gaps, then usually beeps. The detector reads the incoming audio in the order
it arrives (its own time is the audio's: samples counted, no clock) and reports once who
answered, and, for a machine, once when the message may start: when the beep ends (a steady
tone, found in the spectrum (FFT) within the usual beep band), or when no beep comes, after the
greeting's end and a silence.

Levels decide speech (the line's noise floor is far below speech at telephone levels); a tone
is energy concentrated at one frequency that stays put, which speech never does for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.settings import AnsweringMachineSettings

_WINDOW_S = 0.02
_MAIN_LOBE_HZ = 110.0
"""A Hann window's main lobe over 20 ms reaches two bins (100 Hz) either side of a tone."""
_FREQUENCY_DRIFT_HZ = 60.0
"""How far a beep's frequency may wander between windows and still be the same tone."""
_LONGEST_BEEP_S = 2.0
"""A tone still going after this long: the message starts over it rather than never."""


class Answered(Enum):
    PERSON = "person"
    MACHINE = "machine"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Who answered, and after how long (seconds of audio heard)."""

    answered: Answered
    at_s: float
    why: str


@dataclass(frozen=True, slots=True)
class MessageCue:
    """A machine is recording now: the message may start (``beep``: a tone was heard)."""

    at_s: float
    beep: bool
    beep_hz: float | None = None


Report = Verdict | MessageCue


class AnsweringMachineDetector:
    """Feed the callee's audio; ``feed`` returns the reports it led to, each once."""

    def __init__(self, settings: AnsweringMachineSettings) -> None:
        self.settings = settings
        self.verdict: Verdict | None = None
        self.cue: MessageCue | None = None
        self._heard_s = 0.0
        self._pending = np.zeros(0, dtype=np.int16)
        self._rate: int | None = None
        self._speech_start: float | None = None  # the current run of speech (short gaps bridged)
        self._speech_s = 0.0  # speech within the run
        self._last_speech: float | None = None
        self._tone_s = 0.0
        self._tone_hz: float | None = None

    def feed(self, frame: AudioFrame) -> list[Report]:
        if self._rate is None:
            self._rate = frame.rate
        elif frame.rate != self._rate:
            raise ValueError(f"audio at {frame.rate} Hz after {self._rate} Hz")
        window = max(1, int(self._rate * _WINDOW_S))
        samples = np.concatenate((self._pending, frame.samples))
        reports: list[Report] = []
        whole = len(samples) - len(samples) % window
        for start in range(0, whole, window):
            reports += self._window(samples[start : start + window])
        self._pending = samples[whole:]
        return reports

    @property
    def done(self) -> bool:
        """Nothing more to report: a person answered, or the machine's message may start."""
        answered = self.verdict is not None and self.verdict.answered is Answered.PERSON
        return answered or self.cue is not None

    def _window(self, samples: np.ndarray) -> list[Report]:
        assert self._rate is not None
        duration = len(samples) / self._rate
        now = self._heard_s = self._heard_s + duration
        if self.done:
            return []
        tone = _tone(samples, self._rate, self.settings)
        if self.verdict is not None and self._beep_over(tone, duration):
            return self._cue(now, beep=True)
        speaking = tone is None and rms_dbfs(samples) >= self.settings.speech_level_dbfs
        if speaking:
            self._speech(now, duration)
        return self._decide(now)

    def _speech(self, now: float, duration: float) -> None:
        gap = self.settings.max_gap_s
        if self._last_speech is None or now - duration - self._last_speech > gap:
            self._speech_start = now - duration  # a new run: the gap was a pause, not a breath
            self._speech_s = 0.0
        self._speech_s += duration
        self._last_speech = now

    def _decide(self, now: float) -> list[Report]:
        s = self.settings
        if self.verdict is None:
            if self._speech_start is not None and now - self._speech_start >= s.machine_greeting_s:
                return self._judge(Answered.MACHINE, now, "a long greeting without a pause")
            if self._last_speech is not None and now - self._last_speech >= s.person_wait_s:
                return self._judge(Answered.PERSON, now, "a short hello, then waiting")
            if self._last_speech is None and now >= s.silence_s:
                return self._judge(Answered.PERSON, now, "silence: nobody greeted")
            return []
        quiet = self._last_speech is None or now - self._last_speech >= s.after_greeting_s
        if (quiet and not self._tone_s) or now - self.verdict.at_s >= s.max_beep_wait_s:
            return self._cue(now, beep=False)
        return []

    def _judge(self, answered: Answered, now: float, why: str) -> list[Report]:
        self.verdict = Verdict(answered, now, why)
        return [self.verdict]

    def _beep_over(self, tone: float | None, duration: float) -> bool:
        """Whether a beep has just ended (the machine records from then on): a steady tone
        of at least beep_min_s that stopped, or one that goes on past _LONGEST_BEEP_S."""
        beeped = self._tone_s >= self.settings.beep_min_s
        if tone is None:
            if beeped:
                return True
            self._tone_s, self._tone_hz = 0.0, None
            return False
        if self._tone_hz is not None and abs(tone - self._tone_hz) > _FREQUENCY_DRIFT_HZ:
            if beeped:
                return True  # a second tone right after the beep: recording starts anyway
            self._tone_s = 0.0
        self._tone_s += duration
        self._tone_hz = tone if self._tone_hz is None or not beeped else self._tone_hz
        return self._tone_s >= _LONGEST_BEEP_S

    def _cue(self, now: float, beep: bool) -> list[Report]:
        self.cue = MessageCue(now, beep, self._tone_hz if beep else None)
        return [self.cue]


def _tone(samples: np.ndarray, rate: int, settings: AnsweringMachineSettings) -> float | None:
    """The frequency of the steady tone these samples are, or None: loud enough, its peak in
    the beep band, and most of the window's energy within the peak's main lobe (speech
    spreads over its harmonics and formants)."""
    if rms_dbfs(samples) < settings.speech_level_dbfs:
        return None
    size = 4 * len(samples)  # zero-padded: the peak's frequency to a quarter of a bin
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples)), size))
    power = spectrum**2
    total = float(power.sum())
    if total <= 0:
        return None
    peak = int(np.argmax(power))
    hz = peak * rate / size
    if not settings.beep_low_hz <= hz <= settings.beep_high_hz:
        return None
    lobe = int(np.ceil(_MAIN_LOBE_HZ * size / rate))
    near = float(power[max(0, peak - lobe) : peak + lobe + 1].sum())
    return hz if near / total >= settings.beep_purity else None
