"""Word timings as the streaming path takes them: echo dropped, on the caller's clock."""

from __future__ import annotations

import numpy as np
import pytest

from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import Word
from voice_agent.stages.asr.word_times import on_clock, unechoed, word_of


def _words(text: str) -> list[Word]:
    return [Word(piece, i * 0.3, (i + 1) * 0.3, 0.9) for i, piece in enumerate(text.split())]


def test_a_phrase_echoed_at_the_end_is_dropped_with_its_times() -> None:
    words = _words("within five working days Within five working day's")
    assert [word.text for word in unechoed(words)] == ["within", "five", "working", "days"]


def test_a_repeated_number_is_kept() -> None:
    words = _words("4 5 0 6 4 5 0 6")
    assert unechoed(words) == words


def test_a_number_said_again_in_words_is_kept_in_its_language() -> None:
    words = _words("Meine Nummer ist vier fünf sechs vier fünf sechs")
    assert unechoed(words, "de") == words
    echoed = _words("El paquete llega en cinco días hábiles en cinco días hábiles")
    assert [word.text for word in unechoed(echoed, "es")][-3:] == ["cinco", "días", "hábiles"]
    assert len(unechoed(echoed, "es")) == 7


def test_a_word_is_moved_onto_the_callers_clock_within_its_audio() -> None:
    audio = AudioFrame(np.zeros(16000, dtype=np.int16), 16000, timestamp=10.0)
    moved = on_clock(Word("hello", 0.1, 0.6, 0.8), 9.7, audio)  # a lead-in of 0.3 s
    # Not before the audio starts, nor (below) after it ends.
    assert moved.start_s == 10.0
    assert moved.end_s == pytest.approx(10.3)
    late = on_clock(Word("bye", 1.2, 1.6, 0.8), 9.7, audio)
    assert late.start_s == pytest.approx(10.9)
    assert late.end_s == 11.0


def test_faster_whispers_timings_become_words() -> None:
    timing = {"word": " parcel?", "start": 1.0, "end": 1.4, "probability": 0.7}
    assert word_of(timing) == Word("parcel?", 1.0, 1.4, 0.7)
