"""The TTS stage: clause-by-clause synthesis off the event loop, streamed as 16 kHz frames.

Each reply is spoken with its language's voice (voices.py: Piper, or espeak-ng where no natural
voice is packaged), loaded on first use. Piper renders whole sentences only, so a reply is cut
into short clauses (clauses.py, with the language's abbreviations and function words) and each
is synthesized in the inference executor (the scheduler's SPEECH lane), the next one while the
current one plays. The clause cache and the cached prompts are kept per voice. Frames are
``settings.frame_ms`` long (20 ms by default, the transports' packet size; only the last of a
reply is padded with silence); timestamps are offsets in seconds from the start of the reply.

Cancel by closing the generator (``aclose()``) or cancelling the task that iterates it: the
clause being synthesized is aborted (inside onnxruntime with ``RunOptions.terminate``, or by
killing espeak-ng) and no further clause starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Iterable
from concurrent.futures import Executor
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.resample import resample
from voice_agent.languages import language_of_tag
from voice_agent.models import ModelStore
from voice_agent.settings import TtsSettings
from voice_agent.stages.tts.clauses import Clause, Pause, speakable, split_clauses
from voice_agent.stages.tts.voices import (
    ESPEAK_SENTENCE_WORDS,
    Cancellation,
    PiperModel,
    SynthesisCancelledError,
    Voice,
    Voices,
    load_model,
)

logger = logging.getLogger(__name__)

MODEL_FILE = "en_US-joe-medium.onnx"
SILENCE_THRESHOLD = 160
"""int16 level (about -46 dBFS) below which a clause's edges count as silence."""
KEEP_LEAD_S = 0.01
"""Silence kept before a clause's first sound (Piper adds ~50 ms: first audio comes later)."""
KEEP_JOIN_S = 0.03
"""Silence kept after a clause cut between words, so the pieces join like one phrase."""
KEEP_END_S = 0.08
"""Silence kept after the last clause of a reply."""
_PRIMING_TEXT = {"en": "Hello.", "de": "Hallo.", "es": "Hola.", "fr": "Bonjour.", "pt": "Olá."}
"""Spoken once by warm_up when a language has no cached prompt (the first run is slow)."""

__all__ = ["MODEL_FILE", "PiperModel", "PiperTts", "SynthesisStats", "load_model"]


@dataclass
class SynthesisStats:
    """Counters of calls into the synthesizer (worker threads update them under a lock)."""

    started: int = 0
    completed: int = 0
    abandoned: int = 0
    cache_hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: Literal["started", "completed", "abandoned", "cache_hits"]) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class _AbandonedError(Exception):
    """A clause's synthesis was stopped because its reply was closed (nobody awaits it)."""


class _Job:
    """One clause's synthesis in flight (or already at hand from the cache)."""

    def __init__(
        self, future: asyncio.Future[AudioFrame], cancellation: Cancellation | None
    ) -> None:
        self.future = future
        self._cancellation = cancellation

    def abandon(self) -> None:
        # cancel() stops a job still queued; the cancellation aborts one already running.
        if self._cancellation is not None:
            self._cancellation.cancel()
        self.future.cancel()


class _Framer:
    """Cuts a stream of clause audio into equal frames timed from the start of the reply."""

    def __init__(self, size: int, rate: int) -> None:
        self._size = size
        self._rate = rate
        self._pending: Int16Array = np.zeros(0, dtype=np.int16)
        self._emitted = 0

    def push(self, samples: Int16Array) -> list[AudioFrame]:
        pending = np.concatenate([self._pending, samples])
        whole = len(pending) - len(pending) % self._size
        self._pending = pending[whole:]
        return [
            self._frame(pending[start : start + self._size])
            for start in range(0, whole, self._size)
        ]

    def flush(self) -> list[AudioFrame]:
        if len(self._pending) == 0:
            return []
        padded = np.zeros(self._size, dtype=np.int16)
        padded[: len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.int16)
        return [self._frame(padded)]

    def _frame(self, samples: Int16Array) -> AudioFrame:
        frame = AudioFrame(samples, self._rate, self._emitted / self._rate)
        self._emitted += len(samples)
        return frame


class PiperTts:
    """The Tts stage: each language's voice (Piper or espeak-ng); one instance serves every
    call."""

    def __init__(self, settings: TtsSettings, models: ModelStore, executor: Executor) -> None:
        self._settings = settings
        self._voices = Voices(settings, models)
        self._executor = executor
        self._frame_size = PIPELINE_RATE * settings.frame_ms // 1000
        self._gain = float(10 ** (settings.gain_db / 20))
        self._clause_cache: OrderedDict[tuple[str, str], AudioFrame] = OrderedDict()
        self._prompts: dict[tuple[str, str], AudioFrame] = {}
        self.stats = SynthesisStats()

    async def warm_up(self, languages: Iterable[str] | None = None) -> None:
        """Load the voices of `languages` (default: every language with a voice) and
        pre-synthesize their `cached_prompts` (call once before serving; pass
        ``settings.languages.offered``)."""
        settings = self._settings
        codes = list(languages) if languages is not None else [*settings.voices, *settings.custom]
        for language in dict.fromkeys(codes):
            voice_id = self._voices.voice_id(language)
            prompts = settings.cached_prompts.get(language, ())
            for prompt in prompts or (_PRIMING_TEXT.get(language, "Hello."),):
                # A prompt is never in a hurry: no shortened first clause, so its prosody is whole.
                words = ESPEAK_SENTENCE_WORDS if self._voices.is_fast(voice_id) else None
                clauses = split_clauses(
                    prompt, words or settings.max_clause_words, language=language
                )
                async with aclosing(self._render(clauses, language, voice_id)) as frames:
                    audio = AudioFrame.concat([frame async for frame in frames])
                if prompt in prompts:
                    self._prompts[voice_id, _prompt_key(prompt)] = audio
        logger.info("TTS warmed up: %d cached prompt(s)", len(self._prompts))

    async def synthesize(self, text: str, language: str = "en") -> AsyncGenerator[AudioFrame, None]:
        """`text` spoken by `language`'s voice; VoiceError if the language has none."""
        code = language_of_tag(language) or language
        voice_id = self._voices.voice_id(code)
        prompt = self._prompts.get((voice_id, _prompt_key(text)))
        if prompt is not None:
            self.stats.count("cache_hits")
            for frame in prompt.chunks(self._frame_size / PIPELINE_RATE):
                yield frame
            return
        clauses = self._clauses(text, code, voice_id)
        async with aclosing(self._render(clauses, code, voice_id)) as frames:
            async for frame in frames:
                yield frame

    def _clauses(self, text: str, language: str, voice_id: str) -> list[Clause]:
        settings = self._settings
        if self._voices.is_fast(voice_id):
            return split_clauses(text, ESPEAK_SENTENCE_WORDS, language=language)
        return split_clauses(
            text, settings.max_clause_words, settings.first_clause_words, language=language
        )

    async def _render(
        self, clauses: list[Clause], language: str, voice_id: str
    ) -> AsyncGenerator[AudioFrame, None]:
        framer = _Framer(self._frame_size, PIPELINE_RATE)
        jobs: deque[_Job] = deque()
        spoken = [(voice_id, _spoken(clause, language)) for clause in clauses]
        try:
            for index, clause in enumerate(clauses):
                if not jobs:
                    jobs.append(self._start(language, spoken[index]))
                audio = await jobs[0].future
                jobs.popleft()
                following = clauses[index + 1] if index + 1 < len(clauses) else None
                if following is not None and self._settings.prefetch:
                    jobs.append(self._start(language, spoken[index + 1]))
                self._remember(spoken[index], audio)
                shaped = _shape(audio.samples, clause.pause, last=following is None)
                for frame in framer.push(shaped):
                    yield frame
            for frame in framer.flush():
                yield frame
        finally:
            for job in jobs:
                job.abandon()

    def _start(self, language: str, key: tuple[str, str]) -> _Job:
        loop = asyncio.get_running_loop()
        cached = self._clause_cache.get(key)
        if cached is not None:
            self._clause_cache.move_to_end(key)
            self.stats.count("cache_hits")
            done: asyncio.Future[AudioFrame] = loop.create_future()
            done.set_result(cached)
            return _Job(done, None)
        cancellation = Cancellation()
        future = loop.run_in_executor(
            self._executor, self._synthesize_clause, language, key[1], cancellation
        )
        return _Job(future, cancellation)

    def _synthesize_clause(
        self, language: str, text: str, cancellation: Cancellation
    ) -> AudioFrame:
        """Runs in the executor: 16 kHz audio of one clause in `language`'s voice."""
        if cancellation.cancelled:
            raise _AbandonedError(text)
        self.stats.count("started")
        voice: Voice = self._voices.get(language)
        try:
            audio = voice.render(text, self._settings.length_scale, cancellation)
        except Exception as error:
            if not cancellation.cancelled and not isinstance(error, SynthesisCancelledError):
                raise
            self.stats.count("abandoned")
            logger.debug("abandoned synthesis of %r", text)
            raise _AbandonedError(text) from None
        self.stats.count("completed")
        voiced = AudioFrame.from_float(audio * self._gain, voice.sample_rate)
        return resample(voiced, PIPELINE_RATE)

    def _remember(self, key: tuple[str, str], audio: AudioFrame) -> None:
        if self._settings.cache_size == 0:
            return
        self._clause_cache[key] = audio
        self._clause_cache.move_to_end(key)
        while len(self._clause_cache) > self._settings.cache_size:
            self._clause_cache.popitem(last=False)


def _spoken(clause: Clause, language: str) -> str:
    """What the voice is given: a clause cut between words gets a comma for a continuing
    tone."""
    text = speakable(clause.text, language)
    return text + "," if clause.pause is Pause.NONE and text[-1:].isalnum() else text


def _prompt_key(text: str) -> str:
    return " ".join(text.split())


def _shape(samples: Int16Array, pause: Pause, last: bool) -> Int16Array:
    """Trims a clause's edge silence: short lead, tight joins, Piper's own pauses at punctuation."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if len(loud) == 0:
        return samples
    start = max(0, loud[0] - round(KEEP_LEAD_S * PIPELINE_RATE))
    if last:
        keep_trail: float | None = KEEP_END_S
    elif pause is Pause.NONE:
        keep_trail = KEEP_JOIN_S
    else:
        keep_trail = None
    stop = (
        len(samples)
        if keep_trail is None
        else min(len(samples), loud[-1] + 1 + round(keep_trail * PIPELINE_RATE))
    )
    return samples[start:stop]
