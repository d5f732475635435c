"""Piper TTS: clause-by-clause synthesis off the event loop, streamed as 16 kHz frames.

Piper renders whole sentences only, so a reply is cut into short clauses (clauses.py) and each
is synthesized in the inference executor (the scheduler's SPEECH lane), the next one while the
current one plays. Frames are ``settings.frame_ms`` long (20 ms by default, the transports'
packet size; only the last of a reply is padded with silence); timestamps are offsets in
seconds from the start of the reply.

Cancel by closing the generator (``aclose()``) or cancelling the task that iterates it: the
clause being synthesized is aborted inside onnxruntime (``RunOptions.terminate``) and no
further clause starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator
from concurrent.futures import Executor
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Float32Array, Int16Array
from voice_agent.audio.resample import resample
from voice_agent.models import ModelStore
from voice_agent.settings import TtsSettings
from voice_agent.stages.tts.clauses import Clause, Pause, speakable, split_clauses

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
_PRIMING_TEXT = "Hello."
_NOISE_SEED = 20_251_125
"""Piper's voice draws random noise for each sentence: a fixed seed makes a process speak the
same replies the same way every run (reproducible tests, benchmarks and bug reports)."""


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


class PiperModel:
    """A Piper voice on an onnxruntime session built with our thread settings."""

    def __init__(self, voice: PiperVoice) -> None:
        self._voice = voice
        self._config: PiperConfig = voice.config
        self.sample_rate: int = self._config.sample_rate

    def render(
        self, text: str, length_scale: float, run_options: onnxruntime.RunOptions
    ) -> Float32Array:
        """Float audio of `text` (every sentence espeak finds in it, joined)."""
        parts: list[Float32Array] = []
        for phonemes in self._voice.phonemize(text):
            if not phonemes:
                continue
            ids = self._voice.phonemes_to_ids(phonemes)
            parts.append(self._run(ids, length_scale, run_options))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _run(
        self, ids: list[int], length_scale: float, run_options: onnxruntime.RunOptions
    ) -> Float32Array:
        config = self._config
        inputs = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(
                [config.noise_scale, config.length_scale * length_scale, config.noise_w_scale],
                dtype=np.float32,
            ),
        }
        if config.num_speakers > 1:
            inputs["sid"] = np.array([config.default_speaker_id], dtype=np.int64)
        outputs = self._voice.session.run(None, inputs, run_options)
        return np.asarray(outputs[0], dtype=np.float32).reshape(-1)


_MODELS: dict[tuple[Path, int], PiperModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(model_path: Path, config_path: Path, threads: int) -> PiperModel:
    """The process-wide model for this file and thread count (loaded once, ~0.5 s)."""
    key = (model_path, threads)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            onnxruntime.set_seed(_NOISE_SEED)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            model = PiperModel(PiperVoice(session=session, config=config))
            _MODELS[key] = model
            logger.info("loaded Piper voice %s (%d threads)", model_path.name, threads)
        return model


class _AbandonedError(Exception):
    """A clause's synthesis was stopped because its reply was closed (nobody awaits it)."""


class _Job:
    """One clause's synthesis in flight (or already at hand from the cache)."""

    def __init__(
        self, future: asyncio.Future[AudioFrame], run_options: onnxruntime.RunOptions | None
    ) -> None:
        self.future = future
        self._run_options = run_options

    def abandon(self) -> None:
        # cancel() stops a job still queued; terminate aborts one running inside onnxruntime.
        if self._run_options is not None:
            self._run_options.terminate = True
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
    """The Tts stage on a Piper voice; one instance serves every call."""

    def __init__(self, settings: TtsSettings, models: ModelStore, executor: Executor) -> None:
        self._settings = settings
        self._models = models
        self._executor = executor
        self._frame_size = PIPELINE_RATE * settings.frame_ms // 1000
        self._gain = float(10 ** (settings.gain_db / 20))
        self._clause_cache: OrderedDict[str, AudioFrame] = OrderedDict()
        self._prompts: dict[str, AudioFrame] = {}
        self._warned_languages: set[str] = set()
        self._loaded: PiperModel | None = None
        self.stats = SynthesisStats()

    async def warm_up(self) -> None:
        """Load the voice and pre-synthesize `cached_prompts` (call once before serving)."""
        for prompt in self._settings.cached_prompts or (_PRIMING_TEXT,):
            # A prompt is never in a hurry: no shortened first clause, so its prosody is whole.
            clauses = split_clauses(prompt, self._settings.max_clause_words)
            async with aclosing(self._render(clauses)) as frames:
                audio = AudioFrame.concat([frame async for frame in frames])
            if prompt in self._settings.cached_prompts:
                self._prompts[_prompt_key(prompt)] = audio
        logger.info("TTS warmed up: %d cached prompt(s)", len(self._prompts))

    async def synthesize(self, text: str, language: str = "en") -> AsyncGenerator[AudioFrame, None]:
        self._check_language(language)
        prompt = self._prompts.get(_prompt_key(text))
        if prompt is not None:
            self.stats.count("cache_hits")
            for frame in prompt.chunks(self._frame_size / PIPELINE_RATE):
                yield frame
            return
        settings = self._settings
        clauses = split_clauses(text, settings.max_clause_words, settings.first_clause_words)
        async with aclosing(self._render(clauses)) as frames:
            async for frame in frames:
                yield frame

    async def _render(self, clauses: list[Clause]) -> AsyncGenerator[AudioFrame, None]:
        framer = _Framer(self._frame_size, PIPELINE_RATE)
        jobs: deque[_Job] = deque()
        try:
            for index, clause in enumerate(clauses):
                if not jobs:
                    jobs.append(self._start(clause))
                audio = await jobs[0].future
                jobs.popleft()
                following = clauses[index + 1] if index + 1 < len(clauses) else None
                if following is not None and self._settings.prefetch:
                    jobs.append(self._start(following))
                self._remember(clause, audio)
                shaped = _shape(audio.samples, clause.pause, last=following is None)
                for frame in framer.push(shaped):
                    yield frame
            for frame in framer.flush():
                yield frame
        finally:
            for job in jobs:
                job.abandon()

    def _start(self, clause: Clause) -> _Job:
        loop = asyncio.get_running_loop()
        cached = self._clause_cache.get(_spoken(clause))
        if cached is not None:
            self._clause_cache.move_to_end(_spoken(clause))
            self.stats.count("cache_hits")
            done: asyncio.Future[AudioFrame] = loop.create_future()
            done.set_result(cached)
            return _Job(done, None)
        run_options = onnxruntime.RunOptions()
        future = loop.run_in_executor(
            self._executor, self._synthesize_clause, _spoken(clause), run_options
        )
        return _Job(future, run_options)

    def _synthesize_clause(self, text: str, run_options: onnxruntime.RunOptions) -> AudioFrame:
        """Runs in the executor: 16 kHz audio of one clause."""
        if run_options.terminate:
            raise _AbandonedError(text)
        self.stats.count("started")
        model = self._model()
        try:
            audio = model.render(text, self._settings.length_scale, run_options)
        except Exception:
            if not run_options.terminate:
                raise
            self.stats.count("abandoned")
            logger.debug("abandoned synthesis of %r", text)
            raise _AbandonedError(text) from None
        self.stats.count("completed")
        voiced = AudioFrame.from_float(audio * self._gain, model.sample_rate)
        return resample(voiced, PIPELINE_RATE)

    def _model(self) -> PiperModel:
        if self._loaded is None:
            voice = self._settings.voice
            self._loaded = load_model(
                self._models.file(voice, MODEL_FILE),
                self._models.file(voice, MODEL_FILE + ".json"),
                self._settings.onnx_threads,
            )
        return self._loaded

    def _remember(self, clause: Clause, audio: AudioFrame) -> None:
        if self._settings.cache_size == 0:
            return
        self._clause_cache[_spoken(clause)] = audio
        self._clause_cache.move_to_end(_spoken(clause))
        while len(self._clause_cache) > self._settings.cache_size:
            self._clause_cache.popitem(last=False)

    def _check_language(self, language: str) -> None:
        base = language.split("-")[0].lower()
        if base != "en" and base not in self._warned_languages:
            self._warned_languages.add(base)
            logger.warning(
                "voice %s speaks English only; asked for %r", self._settings.voice, language
            )


def _spoken(clause: Clause) -> str:
    """What Piper is given: a clause cut between words gets a comma for a continuing tone."""
    text = speakable(clause.text)
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
