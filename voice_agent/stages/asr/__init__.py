"""Speech recognition: a whole utterance in, a transcript out (streaming.py grows one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from voice_agent.audio import AudioFrame


class Expect(Enum):
    """What the dialogue expects next; ASR and endpointing adapt to it."""

    FREE = "free"
    DIGITS = "digits"
    EMAIL = "email"
    YES_NO = "yes_no"


@dataclass(frozen=True, slots=True)
class AsrHint:
    expect: Expect = Expect.FREE
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str
    confidence: float
    """exp(mean token log-probability), 0..1."""
    timings: dict[str, float] = field(default_factory=dict)
    """Milliseconds per step, e.g. features_ms, encode_ms, decode_ms, total_ms."""
    path: str = "fast"
    """Which decoding path produced the text: "fast" or "stock"."""
    digits_rewritten: bool = False
    """Digits in ``text`` were inferred rather than heard as digits: a word that only sounds
    like one ("to", "for", "oh"), "double seven", or a tens word split up ("forty two" -> 4 2)
    (``digits.rewrite_digits``). The dialogue reads such digits back before they count."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognized word and when it was heard, in seconds on its audio's clock."""

    text: str
    """As written by the recognizer, punctuation attached ("parcel?"), no surrounding spaces."""
    start_s: float
    end_s: float
    probability: float
    """Mean probability of the word's tokens, 0..1."""

    def shifted(self, seconds: float) -> Word:
        """The same word on a clock `seconds` later."""
        return Word(self.text, self.start_s + seconds, self.end_s + seconds, self.probability)


class Asr(Protocol):
    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript: ...
