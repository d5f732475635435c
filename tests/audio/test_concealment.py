"""Concealment of lost packets: real speech cut into 20 ms frames, some of them lost."""

from __future__ import annotations

import numpy as np
import pytest

from voice_agent.audio.concealment import Concealer
from voice_agent.audio.levels import rms_dbfs
from voice_agent.bench.voices import EspeakVoice

RATE = 8000
FRAME = 160


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return EspeakVoice("en-us").speak("Where is my order? It was due last Tuesday.", RATE).samples


def _voiced_frame_index(speech: np.ndarray) -> int:
    """A frame in the loudest part of the utterance (a vowel)."""
    levels = [rms_dbfs(speech[i : i + FRAME]) for i in range(0, len(speech) - FRAME, FRAME)]
    return int(np.argmax(levels))


def test_a_lost_frame_in_a_vowel_continues_the_waveform_instead_of_a_hole(
    speech: np.ndarray,
) -> None:
    levels = [rms_dbfs(speech[i : i + FRAME]) for i in range(0, len(speech) - FRAME, FRAME)]
    correlations = []
    for index in np.argsort(levels)[::-1][:8]:  # the loudest frames: vowels
        concealer = Concealer(RATE, fade_s=0.06)
        for i in range(index):
            concealer.frame(speech[i * FRAME : (i + 1) * FRAME])
        filled = concealer.conceal(FRAME)
        actual = speech[index * FRAME : (index + 1) * FRAME]
        assert rms_dbfs(filled) > rms_dbfs(actual) - 12, "concealment is near silence"
        # the repeated pitch period carries on the vowel in phase: its first 10 ms look like
        # what was lost (silence or a frame repeated out of phase would not)
        correlations.append(np.corrcoef(filled[:80], actual[:80])[0, 1])
    assert np.median(correlations) > 0.5, correlations


def test_a_long_loss_fades_out_to_silence_and_then_stays_silent(speech: np.ndarray) -> None:
    index = _voiced_frame_index(speech)
    concealer = Concealer(RATE, fade_s=0.06)
    for i in range(index):
        concealer.frame(speech[i * FRAME : (i + 1) * FRAME])
    gaps = [concealer.conceal(FRAME) for _ in range(6)]
    levels = [rms_dbfs(gap) for gap in gaps]
    assert levels[0] > levels[1] > levels[2], f"no fade: {levels}"
    assert all(not np.any(gap) for gap in gaps[3:]), "still sounding after the fade time"
    assert concealer.concealed_samples == round(0.06 * RATE)
    assert concealer.silent_samples == 6 * FRAME - round(0.06 * RATE)


def test_the_frame_after_a_loss_joins_the_concealment_without_a_jump(speech: np.ndarray) -> None:
    index = _voiced_frame_index(speech)
    concealer = Concealer(RATE)
    for i in range(index):
        concealer.frame(speech[i * FRAME : (i + 1) * FRAME])
    filled = concealer.conceal(FRAME)
    following = speech[(index + 1) * FRAME : (index + 2) * FRAME]
    played = concealer.frame(following)
    # the first sample continues from the concealment; later samples are the real frame
    assert abs(int(played[0]) - int(filled[-1])) < abs(int(following[0]) - int(filled[-1])) + 1
    np.testing.assert_array_equal(played[32:], following[32:])


def test_silence_from_the_sender_is_not_concealed(speech: np.ndarray) -> None:
    concealer = Concealer(RATE)
    concealer.frame(speech[1600:1760])
    assert not np.any(concealer.silence(FRAME))
    # nothing is left to repeat after a deliberate silence
    assert not np.any(concealer.conceal(FRAME))


def test_nothing_heard_yet_conceals_as_silence() -> None:
    concealer = Concealer(RATE)
    assert not np.any(concealer.conceal(FRAME))
    assert concealer.silent_samples == FRAME
