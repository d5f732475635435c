"""The answering-machine detector on real speech (Piper, espeak-ng) at the phone's 8 kHz: a
short "Hello?" is a person, a long voicemail greeting a machine, whose message starts at the
beep (a synthetic tone: a beep is one) or after the greeting's end and a silence."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from voice_agent.agent.answering_machine import (
    Answered,
    AnsweringMachineDetector,
    MessageCue,
    Report,
    Verdict,
)
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.bench.voices import PiperSpeaker, espeak, piper_speaker, trim_silence
from voice_agent.models import ModelStore
from voice_agent.settings import AnsweringMachineSettings, ModelsSettings, PathsSettings

RATE = 8000
GREETING = (
    "Hi, you have reached Maria Lopez. I can't take your call right now. Please leave your "
    "name and number after the tone and I will call you back as soon as I can."
)


@pytest.fixture(scope="module")
def piper() -> PiperSpeaker:
    speak = piper_speaker(ModelStore(ModelsSettings(), PathsSettings()))
    return lambda text, scale: trim_silence(speak(text, scale))  # speech bounds known


def _silence(seconds: float) -> AudioFrame:
    return AudioFrame(np.zeros(int(seconds * RATE), np.int16), RATE)


def _tone(hz: float, seconds: float, level: float = 0.3) -> AudioFrame:
    t = np.arange(int(seconds * RATE)) / RATE
    return AudioFrame((level * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16), RATE)


def _line(*parts: AudioFrame) -> AudioFrame:
    """The parts one after another, at the phone's rate."""
    return AudioFrame(np.concatenate([resample(p, RATE).samples for p in parts]), RATE)


def _detect(audio: AudioFrame, settings: AnsweringMachineSettings | None = None) -> list[Report]:
    """The reports, fed 20 ms packets as the phone line brings them."""
    detector = AnsweringMachineDetector(settings or AnsweringMachineSettings())
    reports: list[Report] = []
    for start in range(0, len(audio.samples), 160):
        reports += detector.feed(AudioFrame(audio.samples[start : start + 160], RATE))
    return reports


def _seconds(frame: AudioFrame) -> float:
    return len(resample(frame, RATE).samples) / RATE


@pytest.mark.parametrize("said", ["Hello?", "Hello, who is this?"])
def test_a_short_hello_then_waiting_is_a_person(piper: PiperSpeaker, said: str) -> None:
    hello = piper(said, 1.0)
    reports = _detect(_line(_silence(0.4), hello, _silence(3.0)))
    assert len(reports) == 1
    verdict = reports[0]
    assert isinstance(verdict, Verdict) and verdict.answered is Answered.PERSON
    # told within the wait after the hello ended, not at the end of the audio
    assert verdict.at_s < 0.4 + _seconds(hello) + 1.5


def test_an_espeak_hello_is_a_person_too() -> None:
    reports = _detect(_line(_silence(0.3), espeak("Hello?", "en-gb+f3"), _silence(3.0)))
    assert [type(r) for r in reports] == [Verdict]
    assert isinstance(reports[0], Verdict) and reports[0].answered is Answered.PERSON


def test_a_long_greeting_is_a_machine_whose_message_starts_at_the_beep(
    piper: PiperSpeaker,
) -> None:
    greeting = piper(GREETING, 1.0)
    beep_at = 0.3 + _seconds(greeting) + 0.4
    reports = _detect(_line(_silence(0.3), greeting, _silence(0.4), _tone(1000, 0.5), _silence(3)))
    verdict, cue = reports
    assert isinstance(verdict, Verdict) and verdict.answered is Answered.MACHINE
    assert verdict.at_s < 0.3 + 4.0  # recognized early in the greeting, not at its end
    assert isinstance(cue, MessageCue) and cue.beep
    assert cue.beep_hz == pytest.approx(1000, abs=30)
    assert beep_at + 0.5 <= cue.at_s <= beep_at + 0.54  # when the beep has ended


def test_a_tone_that_does_not_stop_still_lets_the_message_start(piper: PiperSpeaker) -> None:
    greeting = piper(GREETING, 1.0)
    beep_at = 0.3 + _seconds(greeting) + 0.4
    *_, cue = _detect(_line(_silence(0.3), greeting, _silence(0.4), _tone(1400, 5.0)))
    assert isinstance(cue, MessageCue) and cue.beep
    assert beep_at + 2.0 <= cue.at_s <= beep_at + 2.04


def test_without_a_beep_the_message_starts_after_the_greeting_and_a_silence(
    piper: PiperSpeaker,
) -> None:
    greeting = piper(GREETING, 1.0)
    ended = 0.3 + _seconds(greeting)
    verdict, cue = _detect(_line(_silence(0.3), greeting, _silence(5.0)))
    assert isinstance(verdict, Verdict) and verdict.answered is Answered.MACHINE
    assert isinstance(cue, MessageCue) and not cue.beep
    # 2 s after the last loud window (a fading last syllable falls below the speech level)
    assert ended + 1.5 <= cue.at_s < ended + 2.5


@pytest.mark.parametrize("hz", [300.0, 3000.0])
def test_a_tone_outside_the_band_is_no_beep(piper: PiperSpeaker, hz: float) -> None:
    greeting = piper(GREETING, 1.0)
    *_, cue = _detect(_line(_silence(0.3), greeting, _silence(0.4), _tone(hz, 0.5), _silence(4)))
    assert isinstance(cue, MessageCue) and not cue.beep


def test_a_blip_shorter_than_a_beep_is_no_beep(piper: PiperSpeaker) -> None:
    greeting = piper(GREETING, 1.0)
    *_, cue = _detect(_line(_silence(0.3), greeting, _silence(0.4), _tone(800, 0.08), _silence(4)))
    assert isinstance(cue, MessageCue) and not cue.beep


def test_nobody_greeting_counts_as_a_person() -> None:
    (verdict,) = _detect(_line(_silence(6.0)))
    assert isinstance(verdict, Verdict) and verdict.answered is Answered.PERSON
    assert verdict.at_s == pytest.approx(5.0, abs=0.05)


def test_thresholds_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(ValidationError, match="beep_low_hz must be below beep_high_hz"):
        AnsweringMachineSettings(beep_low_hz=2000, beep_high_hz=1000)
    with pytest.raises(ValidationError, match="person_wait_s must be longer than max_gap_s"):
        AnsweringMachineSettings(max_gap_s=1.0, person_wait_s=0.8)


def test_a_change_of_rate_mid_call_is_refused() -> None:
    detector = AnsweringMachineDetector(AnsweringMachineSettings())
    detector.feed(_silence(0.1))
    with pytest.raises(ValueError, match="16000 Hz after 8000 Hz"):
        detector.feed(AudioFrame(np.zeros(320, np.int16), 16000))
