"""Streaming recognition on Whisper, live: the passes of streaming.py run on the scheduler.

Partial passes go to the scheduler's PARTIAL lane, which refuses them when it is behind (the
utterance then asks again on its next frame); the final pass goes to the FINAL lane through
the whole-utterance stage's executor. Each pass is one blocking decode off the event loop;
the loop only appends frames and hands words to the sans-I/O `StreamingUtterance`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass

from voice_agent.audio import AudioFrame
from voice_agent.settings import AsrSettings
from voice_agent.stages.asr import AsrHint, Interim, Transcript
from voice_agent.stages.asr.streaming import StreamingUtterance, words_text
from voice_agent.stages.asr.whisper import HeardWords, WhisperAsr

logger = logging.getLogger(__name__)

PartialRunner = Callable[[Callable[[], HeardWords]], "Future[HeardWords] | None"]
"""Runs a partial pass off the loop, or refuses it (None) when there is no room."""


class StreamingWhisper:
    """The StreamingAsr of a WhisperAsr: one `WhisperStream` per utterance."""

    def __init__(self, asr: WhisperAsr, settings: AsrSettings, partials: PartialRunner) -> None:
        self._asr = asr
        self._settings = settings
        self._partials = partials

    def stream(self, hint: AsrHint) -> WhisperStream:
        return WhisperStream(self._asr, self._settings, self._partials, hint)


class WhisperStream:
    def __init__(
        self, asr: WhisperAsr, settings: AsrSettings, partials: PartialRunner, hint: AsrHint
    ) -> None:
        self._asr = asr
        self._every_s = settings.stream_every_s
        self._partials = partials
        self._hint = hint
        self._utterance = StreamingUtterance(settings.stream_context_s)
        self._confidence = _WordConfidence()
        """Of the confirmed words, each as sure as the pass that confirmed it."""

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
        confirmed = self._confidence  # as of the final input: later partials do not count
        heard = await self._asr.transcribe_words(final.audio, self._hint, final.prompt)
        if _stopped_short(heard, final.audio):
            # Rare, but it loses the caller's last words: the whole utterance, once more.
            logger.info("the final pass stopped short of its audio; decoding the whole utterance")
            return await self._asr.transcribe(self._utterance.audio(), self._hint)
        heard.timings["final_audio_ms"] = final.audio.duration * 1000
        text = self._utterance.final_text(final, heard.words)
        new_words = len(text.split()) - len(final.confirmed)
        confidence = confirmed.with_words(new_words, heard.confidence).value
        return self._asr.streamed_transcript(text, heard, self._hint, confidence)

    async def _partial_heard(self, heard: Awaitable[HeardWords]) -> Interim:
        try:
            passed = await heard
        except asyncio.CancelledError:
            self._utterance.pass_refused()
            raise
        except Exception:
            logger.exception("a partial recognition pass failed; the next one hears its audio")
            passed = HeardWords((), "", {})
        newly = self._utterance.on_pass(passed.words)
        self._confidence = self._confidence.with_words(len(newly), passed.confidence)
        return Interim(self._utterance.confirmed_text, words_text(self._utterance.pending))


def _stopped_short(heard: HeardWords, audio: AudioFrame) -> bool:
    """Whether the decoder ended its text long before its audio's speech did (it sometimes
    does after a prompt, on audio that starts mid-sentence). The final pass's audio ends a
    moment after the speech, at the pause."""
    last_word_end = heard.words[-1].end_s if heard.words else audio.timestamp
    return audio.end - last_word_end > _UNHEARD_TAIL_S


_UNHEARD_TAIL_S = 0.6
"""More audio than this after the last word heard: words were left out."""


@dataclass(frozen=True, slots=True)
class _WordConfidence:
    """A geometric mean over words of the confidence (exp of the mean token log-probability)
    of the pass each word came from: on the scale of a whole-utterance pass's confidence. The
    final pass alone is less sure than that: it starts mid-sentence, after a prompt."""

    log_sum: float = 0.0
    words: int = 0

    def with_words(self, count: int, confidence: float) -> _WordConfidence:
        if count <= 0:
            return self
        log_sum = self.log_sum + count * math.log(max(confidence, _LEAST_CONFIDENCE))
        return _WordConfidence(log_sum, self.words + count)

    @property
    def value(self) -> float:
        return math.exp(self.log_sum / self.words) if self.words else 0.0


_LEAST_CONFIDENCE = 1e-6
