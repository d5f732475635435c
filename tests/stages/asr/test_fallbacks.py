"""Recognition passes redone another way are reported, with their reason (for the metrics);
fake recognizers here, the real model's passes are in test_live and test_whisper."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from voice_agent.agent.metrics import ASR_FALLBACK_REASONS
from voice_agent.audio import AudioFrame
from voice_agent.settings import AsrSettings
from voice_agent.stages.asr import AsrHint, Expect, Transcript, Word
from voice_agent.stages.asr.guards import FallbackReason
from voice_agent.stages.asr.live import StreamingWhisper
from voice_agent.stages.asr.whisper import HeardWords, WhisperAsr, _Decoded, _FastDecode, _Timings


class _Recognizer:
    """Hears `words` in every pass (timed on the pass's clock from its start)."""

    def __init__(
        self, words: list[str], spacing_s: float = 0.3, stock_text: str | None = None
    ) -> None:
        """`stock_text`: what the long-number check's stock pass hears (None: it confirms)."""
        self._words = words
        self._spacing = spacing_s
        self._stock_text = stock_text
        self.whole: list[float] = []
        self.checked: list[tuple[str, float, Expect]] = []

    def transcribe_words_blocking(
        self, audio: AudioFrame, hint: AsrHint, context: str = "", *, fallback: bool = True
    ) -> HeardWords:
        raise RuntimeError("decoder crashed")

    async def transcribe_words(
        self, audio: AudioFrame, hint: AsrHint, context: str = ""
    ) -> HeardWords:
        start = audio.timestamp
        words = tuple(
            Word(text, start + i * self._spacing, start + (i + 1) * self._spacing, 0.9)
            for i, text in enumerate(self._words)
        )
        return HeardWords(words, "en", {}, 0.9)

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
        self.whole.append(audio.duration)
        return Transcript(text="the whole utterance", language="en", confidence=0.8)

    def streamed_transcript(
        self, text: str, heard: HeardWords, hint: AsrHint, confidence: float
    ) -> Transcript:
        return Transcript(text=text, language="en", confidence=confidence, path="streamed")

    async def number_checked(
        self, streamed: Transcript, audio: AudioFrame, hint: AsrHint
    ) -> Transcript | None:
        self.checked.append((streamed.text, audio.duration, hint.expect))
        if self._stock_text is None:
            return None
        return Transcript(text=self._stock_text, language="en", confidence=0.7, path="stock")


def _in_pool(job: Callable[[], HeardWords]) -> Future[HeardWords]:
    future: Future[HeardWords] = Future()
    try:
        future.set_result(job())
    except Exception as error:
        future.set_exception(error)
    return future


def _speech(seconds: float) -> AudioFrame:
    return AudioFrame(np.full(round(16000 * seconds), 1000, dtype=np.int16), 16000)


def _streamed(
    recognizer: _Recognizer, seconds: float, hint: AsrHint | None = None
) -> tuple[Transcript, list[str]]:
    reasons: list[str] = []
    streaming = StreamingWhisper(recognizer, AsrSettings(), _in_pool, reasons.append)

    async def run() -> Transcript:
        stream = streaming.stream(hint or AsrHint())
        for frame in _speech(seconds).chunks(0.02):
            stream.append(frame)
            if (partial := stream.partial()) is not None:
                await partial
        return await stream.transcript()

    return asyncio.run(run()), reasons


def test_a_final_pass_that_stops_short_falls_back_to_the_whole_utterance() -> None:
    recognizer = _Recognizer(["where", "is"])  # 0.6 s of words in 3 s of speech
    transcript, reasons = _streamed(recognizer, 3.0)
    assert transcript.text == "the whole utterance"
    assert recognizer.whole
    assert "stopped_short" in reasons


def test_a_failed_partial_pass_is_reported_and_the_utterance_goes_on() -> None:
    recognizer = _Recognizer(["one", "two", "three"], spacing_s=0.2)
    transcript, reasons = _streamed(recognizer, 0.7)
    assert transcript.path == "streamed"  # the final pass heard it all
    assert set(reasons) == {"partial_failed"}
    assert all(reason in ASR_FALLBACK_REASONS for reason in reasons)


@pytest.mark.parametrize("reason", list(FallbackReason))
def test_a_rejected_short_window_falls_back_to_the_stock_path(
    reason: FallbackReason, monkeypatch: pytest.MonkeyPatch
) -> None:
    reasons: list[str] = []
    nothing: Any = None  # neither models nor an executor: the passes are faked
    asr = WhisperAsr(AsrSettings(), nothing, nothing, on_fallback=reasons.append)

    def fast(*args: Any, **kwargs: Any) -> _FastDecode:
        return _FastDecode(_Decoded("", "en", -1.0), reason, None)

    def stock(*args: Any, **kwargs: Any) -> _Decoded:
        return _Decoded("where is my parcel", "en", -0.2)

    monkeypatch.setattr(asr, "_fast", fast)
    monkeypatch.setattr(asr, "_stock", stock)
    samples = np.zeros(16000, dtype=np.float32)
    decoded, path = asr._decode(nothing, samples, "en", Expect.FREE, _Timings())
    assert (decoded.text, path) == ("where is my parcel", "stock")
    assert reasons == [f"fast_{reason.value}"]
    assert reasons[0] in ASR_FALLBACK_REASONS


def _number_checked(
    fast_text: str, stock_text: str, expect: Expect, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, list[str], int]:
    """A fast reading the guards accept, checked against a faked stock reading: the text and
    path that answer, the reasons reported and how many stock passes ran."""
    reasons: list[str] = []
    stock_passes: list[str] = []
    nothing: Any = None  # neither models nor an executor: the passes are faked
    asr = WhisperAsr(AsrSettings(), nothing, nothing, on_fallback=reasons.append)

    def fast(*args: Any, **kwargs: Any) -> _FastDecode:
        return _FastDecode(_Decoded(fast_text, "en", -0.3), None, None)

    def stock(*args: Any, **kwargs: Any) -> _Decoded:
        stock_passes.append(stock_text)
        return _Decoded(stock_text, "en", -0.2)

    monkeypatch.setattr(asr, "_fast", fast)
    monkeypatch.setattr(asr, "_stock", stock)
    samples = np.zeros(16000 * 4, dtype=np.float32)
    timings = _Timings()
    decoded, path = asr._decode(nothing, samples, "en", expect, timings)
    if stock_passes:
        assert "stock_ms" in timings.values  # the check's cost is reported
    return decoded.text, path, reasons, len(stock_passes)


def test_a_long_number_cut_short_is_taken_from_the_stock_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, path, reasons, passes = _number_checked(
        "It's plus 4 4 7 7 0 0 9", "It's plus 4 4 7 7 0 0 9 0 0 1 2 3", Expect.EMAIL, monkeypatch
    )
    assert (text, path, passes) == ("It's plus 4 4 7 7 0 0 9 0 0 1 2 3", "stock", 1)
    assert reasons == ["fast_short"]
    assert reasons[0] in ASR_FALLBACK_REASONS


def test_a_long_number_the_stock_path_confirms_stays_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, path, reasons, passes = _number_checked(
        "It's 0 1 7 6 5 5 5 1 2 3 4", "It's 01765551234.", Expect.EMAIL, monkeypatch
    )
    assert (text, path, reasons, passes) == ("It's 0 1 7 6 5 5 5 1 2 3 4", "fast", [], 1)


@pytest.mark.parametrize(
    ("fast_text", "expect"),
    [
        ("My order number is 4 8 2 9 1 7 3", Expect.DIGITS),
        ("It's anna 7 2 at example dot com", Expect.EMAIL),
        ("Where is my parcel?", Expect.FREE),
    ],
)
def test_no_stock_pass_without_a_long_number_where_a_phone_number_may_be_said(
    fast_text: str, expect: Expect, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, path, reasons, passes = _number_checked(
        fast_text, "4 8 2 9 1 7 3 3 3 3", expect, monkeypatch
    )
    assert (text, path, reasons, passes) == (fast_text, "fast", [], 0)


PHONE_SAID = ["It's", "plus", "4", "4", "7", "7", "0", "0", "9"]


def test_a_streamed_number_cut_short_is_taken_from_the_whole_utterance() -> None:
    recognizer = _Recognizer(PHONE_SAID, spacing_s=0.25, stock_text="It's plus 4 4 7 7 0 0 9 1 2")
    transcript, reasons = _streamed(recognizer, 2.2, AsrHint(Expect.EMAIL))
    assert (transcript.text, transcript.path) == ("It's plus 4 4 7 7 0 0 9 1 2", "stock")
    # (This fake's partial passes fail: the final pass hears every word.)
    assert set(reasons) == {"partial_failed", "stream_short"}
    assert reasons.count("stream_short") == 1
    assert "stream_short" in ASR_FALLBACK_REASONS
    # The check heard the streamed text and the whole utterance, not the final pass's tail.
    [(text, seconds, expect)] = recognizer.checked
    assert (text, expect) == (" ".join(PHONE_SAID), Expect.EMAIL)
    assert seconds == pytest.approx(2.2)


def test_a_streamed_number_the_check_confirms_stays_streamed() -> None:
    recognizer = _Recognizer(PHONE_SAID, spacing_s=0.25)
    transcript, reasons = _streamed(recognizer, 2.2, AsrHint(Expect.EMAIL))
    assert (transcript.text, transcript.path) == (" ".join(PHONE_SAID), "streamed")
    assert "stream_short" not in reasons
    assert len(recognizer.checked) == 1


def _checked_streamed(
    streamed_text: str,
    stock_text: str,
    expect: Expect,
    monkeypatch: pytest.MonkeyPatch,
    language: str = "en",
) -> tuple[Transcript | None, list[str], list[float], list[str]]:
    """WhisperAsr's check of a streamed transcript against a faked stock reading: its answer,
    the reasons reported, the seconds of audio each stock pass decoded, and its prompts."""
    reasons: list[str] = []
    decoded_s: list[float] = []
    prompts: list[str] = []
    nothing: Any = None  # neither models nor an executor (the loop's default runs the pass)
    prompts_by_language = {"en": "It's plus 4 4 1 2 3.", "de": "Unter +49 1 2 3."}
    settings = AsrSettings(lead_in_s=0.0, email_prompts=prompts_by_language)
    asr = WhisperAsr(settings, nothing, nothing, on_fallback=reasons.append)

    def stock(model: Any, samples: Any, language: Any, prompt: str, *args: Any) -> _Decoded:
        decoded_s.append(len(samples) / 16000)
        prompts.append(prompt)
        return _Decoded(stock_text, language, -0.2)

    monkeypatch.setattr(asr, "_loaded_model", lambda: nothing)
    monkeypatch.setattr(asr, "_stock", stock)
    streamed = Transcript(streamed_text, language, 0.8, {"final_audio_ms": 900.0}, "streamed")
    hint = AsrHint(expect)
    checked = asyncio.run(asr.number_checked(streamed, _speech(3.0), hint))
    return checked, reasons, decoded_s, prompts


def test_the_recognizer_checks_a_streamed_number_on_the_whole_utterance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked, reasons, decoded_s, prompts = _checked_streamed(
        "It's plus 4 4 7 7 0 0 9", "It's plus 4 4 7 7 0 0 9 0 0 1 2 3.", Expect.EMAIL, monkeypatch
    )
    assert checked is not None
    assert (checked.text, checked.path) == ("It's plus 4 4 7 7 0 0 9 0 0 1 2 3.", "stock")
    assert checked.confidence == pytest.approx(math.exp(-0.2))
    # The streamed pass's timings stay, with what the check cost.
    assert {"final_audio_ms", "stock_ms"} <= set(checked.timings)
    assert decoded_s == [pytest.approx(3.0)]
    assert prompts == ["It's plus 4 4 1 2 3."]  # the hint's prompt, as in a whole pass
    assert reasons == []  # the stream reports stream_short, not the recognizer fast_short


def test_the_recognizer_keeps_a_streamed_number_the_stock_path_confirms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked, reasons, decoded_s, _ = _checked_streamed(
        "It's 0 1 7 6 5 5 5 1 2 3 4", "It's 01765551234.", Expect.EMAIL, monkeypatch
    )
    assert (checked, reasons, len(decoded_s)) == (None, [], 1)


def test_a_stock_pass_that_loops_does_not_replace_a_streamed_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked, _, decoded_s, _ = _checked_streamed(
        "It's 0 1 7 6 5 5 5", "It's 0 1 7 6 5 5 5 5 5 5 5 5", Expect.EMAIL, monkeypatch
    )
    assert (checked, len(decoded_s)) == (None, 1)


@pytest.mark.parametrize(
    ("streamed_text", "expect"),
    [
        ("My order number is 4 8 2 9 1 7 3", Expect.DIGITS),
        ("It's anna 7 2 at example dot com", Expect.EMAIL),
        ("Where is my parcel?", Expect.FREE),
    ],
)
def test_no_stock_pass_for_a_streamed_utterance_without_a_number_to_check(
    streamed_text: str, expect: Expect, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked, reasons, decoded_s, _ = _checked_streamed(
        streamed_text, "4 8 2 9 1 7 3 3 3 3", expect, monkeypatch
    )
    assert (checked, reasons, decoded_s) == (None, [], [])


def test_a_streamed_number_is_checked_in_the_callers_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    said = "Unter null eins sieben sechs fünf fünf"
    checked, _, decoded_s, prompts = _checked_streamed(
        said, said + " fünf eins zwei", Expect.EMAIL, monkeypatch, language="de"
    )
    assert checked is not None and checked.path == "stock"
    assert checked.text == said + " fünf eins zwei"  # German words stay words
    assert checked.language == "de"
    assert prompts == ["Unter +49 1 2 3."]  # the language's own prompt
    assert len(decoded_s) == 1
