"""One recognizer per call, two models behind it: a turn expected in English is decoded by the
English-only model (faster at equal accuracy: benchmarks/results/asr-languages.md), every other
turn by the multilingual one, which also identifies the language when the hint leaves it open.

An English-only model cannot say that a caller stopped speaking English: it writes what it
hears as English words, with low confidence. Such a turn (below ``DOUBTFUL``) is decoded again
by the multilingual model with the language open; if that one hears another language surely
(``SURE``), its transcript stands, and the dialogue follows the caller into that language.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace

from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import (
    Asr,
    AsrHint,
    AsrStream,
    Interim,
    StreamingAsr,
    Transcript,
)

DOUBTFUL = 0.55
"""An English-only transcript less confident than this is checked for another language.
Measured (tiny.en, espeak-ng callers, one sentence each): German, Spanish, French and Brazilian
Portuguese read as English at 0.16-0.46, English itself at 0.68-0.89."""
SURE = 0.8
"""The multilingual model's language identification that overrules English."""


class LanguageRoutedAsr:
    def __init__(self, english: Asr | None, multilingual: Asr) -> None:
        self._english = english
        self._multilingual = multilingual

    def uses_english_model(self, hint: AsrHint | None) -> bool:
        return self._english is not None and hint is not None and hint.language == "en"

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
        if self._english is None or not self.uses_english_model(hint):
            return await self._multilingual.transcribe(audio, hint)
        heard = await self._english.transcribe(audio, hint)
        return await self.checked(heard, audio, hint)

    async def checked(
        self, heard: Transcript, audio: AudioFrame, hint: AsrHint | None
    ) -> Transcript:
        """The English-only model's transcript, or the multilingual model's where the caller
        was surely speaking another language."""
        if heard.confidence >= DOUBTFUL or not heard.text:
            return heard
        open_hint = replace(hint or AsrHint(), language=None)
        other = await self._multilingual.transcribe(audio, open_hint)
        surely = (other.language_probability or 0.0) >= SURE
        return other if other.language != "en" and surely else heard


class LanguageRoutedStreaming:
    """The streaming side of `LanguageRoutedAsr`: each utterance streams on the model its
    hint picks; an English stream's doubtful transcript is checked as whole turns are."""

    def __init__(
        self, routed: LanguageRoutedAsr, english: StreamingAsr | None, multilingual: StreamingAsr
    ) -> None:
        self._routed = routed
        self._english = english
        self._multilingual = multilingual

    def stream(self, hint: AsrHint) -> AsrStream:
        if self._english is None or not self._routed.uses_english_model(hint):
            return self._multilingual.stream(hint)
        return _CheckedStream(self._english.stream(hint), self._routed, hint)


class _CheckedStream:
    def __init__(self, inner: AsrStream, routed: LanguageRoutedAsr, hint: AsrHint) -> None:
        self._inner = inner
        self._routed = routed
        self._hint = hint
        self._frames: list[AudioFrame] = []
        """The utterance's audio, for a second reading by the multilingual model."""

    def append(self, frame: AudioFrame) -> None:
        self._frames.append(frame)
        self._inner.append(frame)

    def partial(self) -> Awaitable[Interim] | None:
        return self._inner.partial()

    async def transcript(self) -> Transcript:
        heard = await self._inner.transcript()
        audio = AudioFrame.concat(list(self._frames)) if self._frames else None
        if audio is None:
            return heard
        return await self._routed.checked(heard, audio, self._hint)
