"""Synthetic caller voices for tests and benchmarks: espeak-ng variants and Piper.

Real speech from several voices stands in for callers; never silence or tones.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.resample import resample

if TYPE_CHECKING:
    from voice_agent.models import ModelStore

PiperSpeaker = Callable[[str, float], AudioFrame]

ESPEAK_VOICES: tuple[str, ...] = ("en-us", "en-gb+f3", "en-us+m7", "en-gb-scotland+f2")
"""English caller voices: two accents, female and male variants."""

LANGUAGE_VOICES: dict[str, tuple[str, ...]] = {
    "en": ESPEAK_VOICES,
    "de": ("de", "de+m3", "de+f2"),
    "es": ("es", "es-419+f3", "es+m3"),
    "fr": ("fr", "fr+m4", "fr-be+f2"),
    "pt": ("pt-br", "pt-br+f2", "pt-br+m3"),
}
"""The espeak-ng caller voices of a scenario in that language (``language = "de"``): male and
female variants, and a second accent where espeak-ng has one (Latin American Spanish, Belgian
French). Portuguese is Brazil's, as the agent's is. English scenarios with a language take the
English espeak-ng voices only, so that every language is heard from the same synthesizer."""


class VoiceError(RuntimeError):
    """The synthesizer is missing or failed."""


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    name: str
    words_per_minute: int = 165

    def speak(self, text: str, rate: int = PIPELINE_RATE) -> AudioFrame:
        return resample(espeak(text, self.name, self.words_per_minute), rate)


def espeak(text: str, voice: str = "en-us", words_per_minute: int = 165) -> AudioFrame:
    """Speech from espeak-ng at its native 22050 Hz, leading and trailing silence trimmed."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise VoiceError("espeak-ng is not installed (make setup installs it as root)")
    try:
        result = subprocess.run(
            [binary, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except subprocess.CalledProcessError as error:
        raise VoiceError(f"espeak-ng failed for voice {voice}: {error.stderr.decode()}") from None
    with wave.open(io.BytesIO(result.stdout), "rb") as handle:
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
        rate = handle.getframerate()
    return trim_silence(AudioFrame(samples.astype(np.int16), rate))


def trim_silence(frame: AudioFrame, threshold: int = 64) -> AudioFrame:
    """Cut leading and trailing samples below `threshold` (so speech bounds are known)."""
    loud = np.nonzero(np.abs(frame.samples.astype(np.int32)) > threshold)[0]
    if len(loud) == 0:
        return AudioFrame(frame.samples[:0], frame.rate, frame.timestamp)
    return AudioFrame(frame.samples[loud[0] : loud[-1] + 1], frame.rate, frame.timestamp)


def piper_speaker(models: ModelStore, voice: str = "piper-joe-medium") -> PiperSpeaker:
    """The bundled Piper voice as a caller: (text, length scale) -> speech."""
    from voice_agent.stages.tts.piper import MODEL_FILE, load_model

    model = load_model(
        models.file(voice, MODEL_FILE), models.file(voice, MODEL_FILE + ".json"), threads=1
    )

    def speak(text: str, length_scale: float) -> AudioFrame:
        import onnxruntime

        audio = model.render(text, length_scale, onnxruntime.RunOptions())
        return AudioFrame.from_float(audio, model.sample_rate)

    return speak
