"""Reply content: keyword matching and the reply's audio window."""

from __future__ import annotations

import numpy as np

from voice_agent.bench.content import holds_keywords, reply_audio, reply_window
from voice_agent.bench.measures import Sound
from voice_agent.bench.timeline import HeardPacket


def test_every_entry_must_match_and_alternatives_need_one() -> None:
    text = "Thanks. What's your order number? You can type it on your keypad."
    assert holds_keywords(text, ["order number"])
    assert holds_keywords(text, ["postcode|order number", "keypad"])
    assert not holds_keywords(text, ["order number", "postcode|e-mail"])
    assert holds_keywords("Please give me the e-mail address.", ["e mail|email"])
    assert not holds_keywords("A colleague will call.", ["all"])  # words, not fragments
    assert holds_keywords("anything", [])


def test_reply_window_runs_from_the_first_sound_to_the_next_line() -> None:
    heard = [Sound(1.0, 2.0), Sound(5.0, 6.0), Sound(6.5, 8.0), Sound(12.0, 13.0)]
    assert reply_window(heard, 4.0, 10.0) == (5.0, 8.1)
    assert reply_window(heard, 8.5, 10.0) is None


def test_reply_audio_is_put_back_in_the_senders_order() -> None:
    first = np.full(160, 1000, dtype=np.int16)
    second = np.full(160, 2000, dtype=np.int16)
    heard = [HeardPacket(1.00, 0.02, second, 8000), HeardPacket(1.001, 0.0, first, 8000)]
    audio = reply_audio(heard, 0.9, 2.0)
    assert audio.rate == 16000
    assert len(audio.samples) == 640
    assert abs(int(audio.samples[100]) - 1000) < 50
    assert abs(int(audio.samples[540]) - 2000) < 50
