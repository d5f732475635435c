"""Streaming recognition on Whisper, live: the passes of streaming.py run on the scheduler.

Partial passes go to the scheduler's PARTIAL lane, which refuses them when it is behind (the
utterance then asks again on its next frame); the final pass goes to the FINAL lane through
the whole-utterance stage's executor. Each pass is one blocking decode off the event loop;
the loop only appends frames and hands words to the sans-I/O `StreamingUtterance`.

A streamed transcript holding a long number where a phone number may be said is checked as a
whole pass's is (`WhisperAsr.number_checked`): passes on the utterance's tail stop short of a
long number too, and the stock path's reading of the whole utterance answers when it heard
more digits (benchmarks/results/asr-long-numbers.md, "Streamed").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Protocol

from voice_agent.audio import AudioFrame
from voice_agent.settings import AsrSettings
from voice_agent.stages.asr import AsrHint, Interim, Transcript
from voice_agent.stages.asr.streaming import StreamingUtterance, words_text
from voice_agent.stages.asr.whisper import HeardWords

logger = logging.getLogger(__name__)

PartialRunner = Callable[[Callable[[], HeardWords]], "Future[HeardWords] | None"]
"""Runs a partial pass off the loop, or refuses it (None) when there is no room."""

FallbackListener = Callable[[str], None]
"""Hears each pass redone another way, with the reason: "stopped_short" (the final pass
ended before its audio did: the whole utterance is decoded again), "partial_failed" (a
partial pass raised: the next one hears its audio) or "stream_short" (the streamed
transcript held a long number the stock path, decoding the whole utterance, heard more digits
of: its transcript answers)."""


class WordRecognizer(Protocol):
    """What streaming needs of the recognizer (WhisperAsr)."""

    def transcribe_words_blocking(
        self, audio: AudioFrame, hint: AsrHint, context: str = "", *, fallback: bool = True
    ) -> HeardWords: ...

    async def transcribe_words(
        self, audio: AudioFrame, hint: AsrHint, context: str = ""
    ) -> HeardWords: ...

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript: ...

    def streamed_transcript(
        self, text: str, heard: HeardWords, hint: AsrHint, confidence: float
    ) -> Transcript: ...

    async def number_checked(
        self, streamed: Transcript, audio: AudioFrame, hint: AsrHint
    ) -> Transcript | None: ...


class StreamingWhisper:
    """The StreamingAsr of a WhisperAsr: one `WhisperStream` per utterance."""

    def __init__(
        self,
        asr: WordRecognizer,
        settings: AsrSettings,
        partials: PartialRunner,
        on_fallback: FallbackListener | None = None,
    ) -> None:
        self._asr = asr
        self._settings = settings
        self._partials = partials
        self._on_fallback = on_fallback

    def stream(self, hint: AsrHint) -> WhisperStream:
        return WhisperStream(self._asr, self._settings, self._partials, hint, self._on_fallback)


class WhisperStream:
    def __init__(
        self,
        asr: WordRecognizer,
        settings: AsrSettings,
        partials: PartialRunner,
        hint: AsrHint,
        on_fallback: FallbackListener | None = None,
    ) -> None:
        self._asr = asr
        self._on_fallback = on_fallback
        self._every_s = settings.stream_every_s
        self._partials = partials
        self._hint = hint
        self._utterance = StreamingUtterance(settings.stream_context_s)
        self._confirmed_logs: list[float] = []
        """Of each confirmed word, the log confidence of the pass that confirmed it."""

    def append(self, frame: AudioFrame) -> None:
        self._utterance.append(frame)

    def partial(self) -> Awaitable[Interim] | None:
        utterance = self._utterance
        if not utterance.due_for_pass(self._every_s):
            return None
        job = utterance.pass_input()
        future = self._partials(
            functools.partial(
                self._asr.transcribe_words_blocking,
                job.audio,
                self._hint,
                job.prompt,
                fallback=False,
            )
        )
        if future is None:
            utterance.pass_refused()
            return None
        return self._partial_heard(asyncio.wrap_future(future))

    async def transcript(self) -> Transcript:
        final = self._utterance.final_input()
        heard = await self._asr.transcribe_words(final.audio, self._hint, final.prompt)
        if _stopped_short(heard, final.audio):
            # Rare, but it loses the caller's last words: the whole utterance, once more.
            logger.info("the final pass stopped short of its audio; decoding the whole utterance")
            self._fell_back("stopped_short")
            return await self._asr.transcribe(self._utterance.audio(), self._hint)
        heard.timings["final_audio_ms"] = final.audio.duration * 1000
        text = self._utterance.final_text(final, heard.words)
        new_words = len(text.split()) - len(final.confirmed)
        confidence = _mean_confidence(
            [*self._confirmed_logs[: len(final.confirmed)], *[_log(heard.confidence)] * new_words]
        )
        streamed = self._asr.streamed_transcript(text, heard, self._hint, confidence)
        return await self._number_checked(streamed)

    async def _number_checked(self, streamed: Transcript) -> Transcript:
        """`streamed`, unless it holds a long number the whole utterance's stock pass heard
        more digits of: passes on a tail can stop short of a number as a short window does."""
        checked = await self._asr.number_checked(streamed, self._utterance.audio(), self._hint)
        if checked is None:
            return streamed
        # Not the text: it holds the caller's phone number.
        logger.info("a streamed transcript cut a long number short; the stock path answers")
        self._fell_back("stream_short")
        return checked

    async def _partial_heard(self, heard: Awaitable[HeardWords]) -> Interim:
        try:
            passed = await heard
        except asyncio.CancelledError:
            self._utterance.pass_refused()
            raise
        except Exception:
            logger.exception("a partial recognition pass failed; the next one hears its audio")
            self._fell_back("partial_failed")
            passed = HeardWords((), "", {})
        newly = self._utterance.on_pass(passed.words)
        self._confirmed_logs += [_log(passed.confidence)] * len(newly)
        return Interim(self._utterance.confirmed_text, words_text(self._utterance.pending))

    def _fell_back(self, reason: str) -> None:
        if self._on_fallback is not None:
            self._on_fallback(reason)


def _stopped_short(heard: HeardWords, audio: AudioFrame) -> bool:
    """Whether the decoder ended its text long before its audio's speech did (it sometimes
    does after a prompt, on audio that starts mid-sentence). The final pass's audio ends a
    moment after the speech, at the pause."""
    last_word_end = heard.words[-1].end_s if heard.words else audio.timestamp
    return audio.end - last_word_end > _UNHEARD_TAIL_S


_UNHEARD_TAIL_S = 0.6
"""More audio than this after the last word heard: words were left out."""


def _log(confidence: float) -> float:
    return math.log(max(confidence, _LEAST_CONFIDENCE))


def _mean_confidence(logs: list[float]) -> float:
    """A geometric mean over words of the confidence (exp of the mean token log-probability)
    of the pass each word came from: on the scale of a whole-utterance pass's confidence. The
    final pass alone is less sure than that: it starts mid-sentence, after a prompt."""
    return math.exp(sum(logs) / len(logs)) if logs else 0.0


_LEAST_CONFIDENCE = 1e-6
