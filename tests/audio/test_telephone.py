"""The telephone line simulation: 8 kHz, 300-3400 Hz, G.711, no added delay."""

import numpy as np
import pytest

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.telephone import (
    TELEPHONE_RATE,
    Law,
    telephone_line,
    through_telephone,
)
from voice_agent.bench.voices import EspeakVoice


def _tone(hz: float, seconds: float = 0.5, rate: int = PIPELINE_RATE) -> AudioFrame:
    t = np.arange(round(seconds * rate)) / rate
    return AudioFrame.from_float(0.5 * np.sin(2 * np.pi * hz * t), rate)


def _rms(frame: AudioFrame) -> float:
    middle = frame.samples[len(frame.samples) // 4 : -len(frame.samples) // 4]
    return float(np.sqrt(np.mean(middle.astype(np.float64) ** 2)))


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_the_voice_band_passes_and_the_rest_is_cut(law: Law) -> None:
    passed = _rms(through_telephone(_tone(1000.0), law=law)) / _rms(_tone(1000.0))
    assert 0.9 < passed < 1.1
    for outside in (100.0, 6000.0):
        assert _rms(through_telephone(_tone(outside), law=law)) < 0.1 * _rms(_tone(outside))


def test_speech_keeps_its_length_time_and_place() -> None:
    speech = EspeakVoice("en-us").speak("Where is my parcel?")
    speech = AudioFrame(speech.samples, speech.rate, timestamp=2.5)
    line = telephone_line(speech)
    assert line.rate == TELEPHONE_RATE
    back = through_telephone(speech)
    assert back.rate == PIPELINE_RATE
    assert back.timestamp == 2.5
    assert abs(back.duration - speech.duration) < 0.002
    # No delay: the envelope lines up with the original (best lag within a millisecond).
    original = np.abs(speech.samples.astype(np.float64))
    received = np.abs(back.samples[: len(original)].astype(np.float64))
    lags = range(-32, 33)
    scores = [float(np.dot(np.roll(received, lag), original)) for lag in lags]
    assert abs(lags[int(np.argmax(scores))]) <= 16


def test_empty_audio_stays_empty() -> None:
    assert len(through_telephone(AudioFrame.silence(0.0)).samples) == 0
