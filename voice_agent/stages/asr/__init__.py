"""Speech recognition: a whole utterance in, a transcript out; or a stream of one growing.

`Asr` transcribes a whole utterance. `StreamingAsr` opens an `AsrStream` per utterance: the
caller's audio goes in as it arrives, partial passes run while it grows (`partial`), and at a
pause `transcript` gives the text of everything so far, soon after the caller stopped
(streaming.py is the policy, live.py runs it on Whisper). `WholeUtterance` is the stream of
any `Asr` that cannot stream: it transcribes everything at the pause.
"""

from __future__ import annotations

from collections.abc import Awaitable
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
    """The language to decode in; None: identify it (multilingual models only)."""
    follow: bool = False
    """With ``language`` fixed, identify the language anyway (a multilingual model: one
    decoder step on the encoding it has) and decode in another one heard surely: a caller
    who switched language is not transcribed into the old one."""


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
    language_probability: float | None = None
    """How sure the recognizer was of ``language`` when it identified it; None when the
    language was fixed by the hint or the model is English-only."""
    digits_rewritten: bool = False
    """Digits in ``text`` were inferred rather than heard as digits: a word that only sounds
    like one ("to", "for", "oh"), "double seven", or a tens word split up ("forty two" -> 4 2)
    (``digits.rewrite_digits``). The dialogue reads such digits back before they count."""


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The language an utterance is most likely in, among the candidates asked about."""

    language: str
    """A two-letter code, one of the candidates."""
    probability: float
    """Its share of the candidates' probability (0..1; the candidates' shares add up to 1)."""
    ms: float
    """What the detection cost: resampling, features, encoding and ranking."""


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


@dataclass(frozen=True, slots=True)
class Interim:
    """What a growing utterance holds so far: words confirmed, and words not yet agreed on."""

    confirmed: str
    pending: str


class AsrStream(Protocol):
    def append(self, frame: AudioFrame) -> None:
        """The next frame of the caller's audio."""

    def partial(self) -> Awaitable[Interim] | None:
        """A partial pass over the audio so far, if one is due and there is room to run it."""

    async def transcript(self) -> Transcript:
        """The transcript of everything appended so far; the stream stays open for more."""


class StreamingAsr(Protocol):
    def stream(self, hint: AsrHint) -> AsrStream: ...


class WholeUtterance:
    """The stream of an `Asr` that only takes whole utterances: no partial passes; the whole
    audio is transcribed when the transcript is asked for."""

    def __init__(self, asr: Asr, hint: AsrHint) -> None:
        self._asr = asr
        self._hint = hint
        self._frames: list[AudioFrame] = []

    def append(self, frame: AudioFrame) -> None:
        self._frames.append(frame)

    def partial(self) -> Awaitable[Interim] | None:
        return None

    async def transcript(self) -> Transcript:
        return await self._asr.transcribe(AudioFrame.concat(list(self._frames)), self._hint)
