"""Two models behind one recognizer: English turns on the English-only one, the others (and
doubtful English) on the multilingual one (fakes; the real models are tested in
test_whisper.py and the language benchmark)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import AsrHint, Transcript, WholeUtterance
from voice_agent.stages.asr.routing import LanguageRoutedAsr, LanguageRoutedStreaming

AUDIO = AudioFrame(np.zeros(16_000, dtype=np.int16), 16_000)


@dataclass
class _Model:
    said: Transcript
    hints: list[AsrHint | None] = field(default_factory=list)

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
        self.hints.append(hint)
        return self.said

    def stream(self, hint: AsrHint) -> WholeUtterance:
        return WholeUtterance(self, hint)


def _english(confidence: float) -> _Model:
    return _Model(Transcript("where is my order", "en", confidence))


def _spanish(probability: float) -> _Model:
    return _Model(Transcript("dónde está mi pedido", "es", 0.8, language_probability=probability))


def test_an_english_turn_is_decoded_by_the_english_model_only() -> None:
    english, multilingual = _english(0.9), _spanish(0.97)
    routed = LanguageRoutedAsr(english, multilingual)
    heard = asyncio.run(routed.transcribe(AUDIO, AsrHint(language="en")))
    assert heard.text == "where is my order" and not multilingual.hints


def test_a_turn_of_an_unknown_or_other_language_goes_to_the_multilingual_model() -> None:
    english, multilingual = _english(0.9), _spanish(0.97)
    routed = LanguageRoutedAsr(english, multilingual)
    assert asyncio.run(routed.transcribe(AUDIO, AsrHint())).language == "es"
    assert asyncio.run(routed.transcribe(AUDIO, AsrHint(language="es"))).language == "es"
    assert not english.hints


def test_doubtful_english_is_read_again_and_another_language_heard_surely_wins() -> None:
    routed = LanguageRoutedAsr(_english(0.2), _spanish(0.95))
    heard = asyncio.run(routed.transcribe(AUDIO, AsrHint(language="en")))
    assert (heard.language, heard.text) == ("es", "dónde está mi pedido")


def test_doubtful_english_stays_english_when_the_other_model_is_not_sure() -> None:
    multilingual = _spanish(0.55)
    routed = LanguageRoutedAsr(_english(0.2), multilingual)
    heard = asyncio.run(routed.transcribe(AUDIO, AsrHint(language="en")))
    assert heard.language == "en"
    assert multilingual.hints == [AsrHint(language=None)]  # the language left open


def test_a_streamed_english_utterance_is_checked_with_its_whole_audio() -> None:
    english, multilingual = _english(0.2), _spanish(0.95)
    routed = LanguageRoutedAsr(english, multilingual)
    streaming = LanguageRoutedStreaming(routed, english, multilingual)
    stream = streaming.stream(AsrHint(language="en"))
    stream.append(AUDIO)
    assert asyncio.run(stream.transcript()).language == "es"
