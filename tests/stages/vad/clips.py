"""Real speech in noise with known boundaries, for the VAD tests.

Sentences from an espeak-ng voice, separated by gaps of known length, with noise (white or pink,
20 dB under the speech's RMS) over the whole clip, leading and trailing noise included. Each
sentence is trimmed where its 10 ms RMS falls below the noise's RMS: espeak's own trim keeps
tails 15-20 dB under that noise (down to -54 dBFS), which no detector can hear, so the speech
boundaries are those of the speech that stands at least as loud as the noise.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from voice_agent.audio import AudioFrame
from voice_agent.bench.voices import EspeakVoice
from voice_agent.stages.vad import Vad, VadEvent, VadEventKind

SENTENCES = (
    "Where is my order?",
    "Please send me a new one.",
    "I need to change my delivery address.",
)
GAPS_S = (0.7, 1.0)
LEAD_S = 0.8
TRAIL_S = 1.0
SNR_DB = 20.0
TOLERANCE_S = 0.06
_LONGEST_PAUSE_S = 0.15
"""A sentence must not pause inside for this long, or a VAD would rightly split it."""

Noise = Literal["white", "pink"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Clip:
    audio: AudioFrame
    speech: tuple[tuple[float, float], ...]
    """(start, end) of each sentence, in the audio's time."""

    def expected(self) -> list[VadEvent]:
        return [
            VadEvent(kind, time)
            for start, end in self.speech
            for kind, time in ((VadEventKind.SPEECH_START, start), (VadEventKind.SPEECH_END, end))
        ]


@dataclass(frozen=True, slots=True)
class Heard:
    event: VadEvent
    emitted_at: float
    """End of the frame whose processing returned the event."""


def noisy_clip(
    voice: str, rate: int, noise: Noise | None, seed: int = 0, timestamp: float = 0.0
) -> Clip:
    """The sentences in noise; with `noise` None, between stretches of digital silence (a clean
    file, a gated stream), trimmed the same way."""
    sentences = [_sentence(voice, text, rate) for text in SENTENCES]
    speech_rms = _rms(np.concatenate(sentences))
    noise_rms = speech_rms / 10 ** (SNR_DB / 20)
    parts: list[FloatArray] = [np.zeros(round(LEAD_S * rate))]
    bounds = []
    time = timestamp + LEAD_S
    for index, samples in enumerate(sentences):
        trimmed = trim_below(samples, noise_rms, rate)
        bounds.append((time, time + len(trimmed) / rate))
        gap = GAPS_S[index] if index < len(GAPS_S) else TRAIL_S
        parts += [trimmed, np.zeros(round(gap * rate))]
        time += (len(trimmed) + round(gap * rate)) / rate
    clean = np.concatenate(parts)
    mixed = clean if noise is None else clean + _noise(noise, len(clean), noise_rms, seed)
    samples16 = np.clip(np.round(mixed), -32768, 32767).astype(np.int16)
    return Clip(AudioFrame(samples16, rate, timestamp), tuple(bounds))


def with_digital_silence(clip: Clip, at: float, duration: float) -> Clip:
    """The clip with `duration` seconds of zeros put in at `at` (as an echo gate or a muted line
    gives), the speech after it moved on by as much."""
    audio = clip.audio
    cut = round((at - audio.timestamp) * audio.rate)
    zeros = np.zeros(round(duration * audio.rate), dtype=np.int16)
    samples = np.concatenate([audio.samples[:cut], zeros, audio.samples[cut:]])
    speech = tuple(
        (start + duration, end + duration) if start >= at else (start, end)
        for start, end in clip.speech
    )
    return Clip(AudioFrame(samples, audio.rate, audio.timestamp), speech)


def trim_below(samples: FloatArray, level_rms: float, rate: int) -> FloatArray:
    """The samples from the first to the last 10 ms frame whose RMS reaches `level_rms`."""
    width = rate // 100
    count = len(samples) // width
    frames = samples[: count * width].reshape(count, width)
    loud = np.nonzero(np.sqrt(np.mean(np.square(frames), axis=1)) >= level_rms)[0]
    quiet_runs = np.diff(loud) - 1
    longest_pause = (quiet_runs.max() if len(quiet_runs) else 0) * width / rate
    assert longest_pause < _LONGEST_PAUSE_S, f"test sentence pauses {longest_pause:.2f} s inside"
    trimmed: FloatArray = samples[loud[0] * width : (loud[-1] + 1) * width]
    return trimmed


def listen(vad: Vad, audio: AudioFrame, chunk_s: float = 0.02) -> list[Heard]:
    """Feed the audio in chunks as a transport would; every event with when it came out."""
    heard = []
    for frame in audio.chunks(chunk_s):
        event = vad.process(frame)
        if event is not None:
            heard.append(Heard(event, frame.end))
    return heard


def boundary_errors(clip: Clip, events: list[VadEvent]) -> list[str]:
    """What is wrong with the events against the clip's speech; empty if nothing is.

    Tentative pauses are checked for what they promise (each is resumed or ends the speech,
    at the boundary the end then carries); the boundaries are those of the starts and ends."""
    problems = pause_errors(events)
    events = [event for event in events if event.kind in _BOUNDARY_KINDS]
    expected = clip.expected()
    kinds = [event.kind for event in events]
    if kinds != [event.kind for event in expected]:
        got = [(event.kind.value, round(event.timestamp, 3)) for event in events]
        want = [(event.kind.value, round(event.timestamp, 3)) for event in expected]
        return [*problems, f"events {got}, expected {want}"]
    return problems + [
        f"{want.kind.value} at {got.timestamp:.3f} s, speech at {want.timestamp:.3f} s "
        f"({1000 * (got.timestamp - want.timestamp):+.0f} ms)"
        for got, want in zip(events, expected, strict=True)
        if abs(got.timestamp - want.timestamp) > TOLERANCE_S
    ]


def pause_errors(events: list[VadEvent]) -> list[str]:
    """Each PAUSE is followed by a RESUME or by the SPEECH_END at its boundary; a RESUME
    follows only a PAUSE."""
    problems = []
    for before, after in itertools.pairwise(events):
        if before.kind is VadEventKind.PAUSE:
            if after.kind is VadEventKind.SPEECH_END and after.timestamp != before.timestamp:
                problems.append(f"pause at {before.timestamp:.3f}, end at {after.timestamp:.3f}")
            elif after.kind not in (VadEventKind.RESUME, VadEventKind.SPEECH_END):
                problems.append(f"pause at {before.timestamp:.3f} followed by {after.kind.value}")
        elif after.kind is VadEventKind.RESUME:
            problems.append(f"resume at {after.timestamp:.3f} after {before.kind.value}")
    return problems


_BOUNDARY_KINDS = (VadEventKind.SPEECH_START, VadEventKind.SPEECH_END)


@functools.lru_cache(maxsize=64)
def _sentence_cached(voice: str, text: str, rate: int) -> bytes:
    return EspeakVoice(voice).speak(text, rate).samples.tobytes()


def _sentence(voice: str, text: str, rate: int) -> FloatArray:
    return np.frombuffer(_sentence_cached(voice, text, rate), dtype=np.int16).astype(np.float64)


def _rms(samples: FloatArray) -> float:
    return float(np.sqrt(np.mean(np.square(samples))))


def _noise(kind: Noise, length: int, rms: float, seed: int) -> FloatArray:
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(length)
    if kind == "white":
        shaped = white
    else:
        spectrum = np.fft.rfft(white)
        bins = np.arange(len(spectrum), dtype=np.float64)
        bins[0] = 1.0
        shaped = np.fft.irfft(spectrum / np.sqrt(bins), length)
    scaled: FloatArray = shaped * (rms / _rms(shaped))
    return scaled
