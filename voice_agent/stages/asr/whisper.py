"""Whisper ASR on faster-whisper (CTranslate2), with a guarded short-window fast path.

Stock ``WhisperModel.transcribe()`` pads every utterance to a 30 s window, so the encoder
alone costs ~350 ms on this CPU however short the utterance. The fast path (recipe A in
docs/asr-short-window.md) encodes only the utterance plus padding, at least
``min_window_s``, and decodes without timestamps under a repetition penalty, a no-repeat
n-gram rule and a token budget. Its output falls back to the stock path when it is empty,
hits the budget or repeats itself, or when the stock path hears more digits of a long number
it read (guards.py; ``number_checked`` does the same for a streamed utterance);
``Transcript.path`` says which path answered.

Languages: the language is fixed by the hint (or the settings) or detected on the fast path's
encoder output, where a doubtful guess gets a second look (the runners-up decoded too and
the readings weighed, second_look.py; ``AsrSettings.lid_recheck``); the digits and e-mail
prompts are the language's own (settings), and English number words are rewritten only in
English (digits.py). ``detect_language`` ranks a caller's
first words among candidate languages, for a call whose language is not known yet.

``transcribe_words_blocking`` is the same decoding with word times, for streaming recognition
(streaming.py): the fast path's tokens are aligned to the audio by cross-attention, as
faster-whisper's ``word_timestamps=True`` does, and the text said before (the confirmed words)
is given to the decoder as its previous-text prompt.

Timings (ms): ``resample_ms``, ``features_ms``, ``encode_ms``, ``language_ms`` (detection on
a multilingual model), ``decode_ms`` (the fast path's decoding), ``second_look_ms`` (the
runners-up's decodes on a doubtful guess), ``stock_ms`` (the whole
stock path, when it ran) and ``total_ms``; the word path adds ``align_ms`` and logs them
(debug).

One model per process: every WhisperAsr with the same model directory and thread settings
shares one loaded model (CTranslate2 runs ``num_workers`` decodes at once on it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import merge_punctuations

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Float32Array
from voice_agent.audio.resample import resample
from voice_agent.lexicon import text_language
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings
from voice_agent.stages.asr import AsrHint, Expect, LanguageGuess, Transcript, Word
from voice_agent.stages.asr.digits import rewrite_digits
from voice_agent.stages.asr.guards import (
    FallbackReason,
    fallback_reason,
    is_loop,
    number_to_confirm,
    stopped_short,
    without_echoed_tail,
    words_of,
)
from voice_agent.stages.asr.second_look import Reading, chosen, doubtful, shares
from voice_agent.stages.asr.word_times import on_clock, unechoed, word_of

logger = logging.getLogger(__name__)

FRAMES_PER_SECOND = 100
"""Mel frames per second of audio (hop of 160 samples at 16 kHz)."""
MAX_WINDOW_S = 30.0
"""Whisper's encoder takes at most 30 s; longer audio goes to the stock path."""
MAX_DECODE_LENGTH = 448
"""Whisper's text context: prompt and generated tokens together."""
BUDGET_BASE_TOKENS = 10
MAX_CONTEXT_TOKENS = MAX_DECODE_LENGTH // 2 - 1
"""Previous-text prompt kept, counted from its end (Whisper's own limit, as faster-whisper)."""
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
"""Punctuation joined to the word after / before it (faster-whisper's defaults)."""


@dataclass(frozen=True, slots=True)
class ModelKey:
    directory: Path
    compute_type: str
    cpu_threads: int
    num_workers: int


_shared_models: dict[ModelKey, WhisperModel] = {}
_shared_models_lock = threading.Lock()


def shared_model(key: ModelKey) -> WhisperModel:
    """The process-wide model for `key`, loaded on first use (blocking: call off the loop)."""
    with _shared_models_lock:
        model = _shared_models.get(key)
        if model is None:
            started = time.perf_counter()
            # A directory path never reaches the model hub; local_files_only makes sure.
            model = WhisperModel(
                str(key.directory),
                device="cpu",
                compute_type=key.compute_type,
                cpu_threads=key.cpu_threads,
                num_workers=key.num_workers,
                local_files_only=True,
            )
            _shared_models[key] = model
            logger.info(
                "loaded whisper model %s (%s, %d threads, %d workers) in %.0f ms",
                key.directory,
                key.compute_type,
                key.cpu_threads,
                key.num_workers,
                (time.perf_counter() - started) * 1000,
            )
        return model


@dataclass(frozen=True, slots=True)
class _Decoded:
    text: str
    language: str
    avg_logprob: float
    tokens: tuple[int, ...] = ()
    """The fast path's text tokens (word alignment needs them)."""
    words: tuple[Word, ...] = ()
    """The stock path's words when they were asked for, timed from the samples' start."""
    language_probability: float | None = None
    """How sure the model was of ``language`` when it identified it (None: it was fixed)."""


@dataclass(frozen=True, slots=True)
class HeardWords:
    """One pass with word times: its words, their language, and what the steps cost (ms)."""

    words: tuple[Word, ...]
    language: str
    timings: dict[str, float]
    confidence: float = 0.0
    """exp(mean token log-probability) of the pass, as `Transcript.confidence`."""
    language_probability: float | None = None
    """As `Transcript.language_probability`."""


@dataclass(frozen=True, slots=True)
class _FastDecode:
    decoded: _Decoded
    rejected: FallbackReason | None
    """Why the guards reject the output (guards.py), or None when it stands."""
    encoded: Any
    """The encoder's output for the window (a ctranslate2.StorageView), for word alignment."""


class _Timings:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.values[name] = (time.perf_counter() - started) * 1000


class WhisperAsr:
    """The Asr stage on a faster-whisper model; inference runs in the given executor."""

    def __init__(
        self,
        settings: AsrSettings,
        models: ModelStore,
        executor: Executor,
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        """`on_fallback` hears each time the guards send a pass to the stock path, with the
        reason ("fast_empty", "fast_budget", "fast_loop", "fast_short"; for the metrics)."""
        self._settings = settings
        self._models = models
        self._executor = executor
        self._on_fallback = on_fallback
        self._model: WhisperModel | None = None
        self._tokenizers: dict[str, Tokenizer] = {}
        self._lock = threading.Lock()

    async def transcribe(self, audio: AudioFrame, hint: AsrHint | None = None) -> Transcript:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self.transcribe_blocking, audio, hint or AsrHint()
        )

    async def transcribe_words(
        self, audio: AudioFrame, hint: AsrHint, context: str = ""
    ) -> HeardWords:
        """`transcribe_words_blocking`, with its fallback, in this stage's executor."""
        loop = asyncio.get_running_loop()
        blocking = functools.partial(self.transcribe_words_blocking, audio, hint, context)
        return await loop.run_in_executor(self._executor, blocking)

    def load(self) -> None:
        """Load the model now (blocking) instead of on the first utterance."""
        self._loaded_model()

    def warm_up_stock_path(self, audio: AudioFrame) -> None:
        """Run the stock path on `audio` once without and once with word times (blocking).

        Its first passes allocate the 30 s encoder's buffers (35-80 MB each here, ~170 MB for
        the English and the multilingual model together), which would otherwise happen in
        some call's first fallback: the process's memory would grow after it looked steady."""
        model = self._loaded_model()
        samples = resample(audio, PIPELINE_RATE).to_float()
        for word_timestamps in (False, True):
            self._stock(model, samples, "en", None, word_timestamps)

    @property
    def model(self) -> WhisperModel:
        """The process-wide model this stage decodes with (loaded on first use: blocking)."""
        return self._loaded_model()

    def transcribe_blocking(self, audio: AudioFrame, hint: AsrHint) -> Transcript:
        """The whole transcription, on the calling thread (the executor's)."""
        model = self._loaded_model()  # loading once is not part of any utterance's timings
        timings = _Timings()
        with timings.measure("total_ms"):
            with timings.measure("resample_ms"):
                samples = resample(audio, PIPELINE_RATE).to_float()
            language = self._fixed_language(model, hint)
            decoded, path = self._decode(
                model, samples, language, hint.expect, timings, follow=hint.follow
            )
        return _transcript(decoded, path, hint, timings.values)

    async def number_checked(
        self, streamed: Transcript, audio: AudioFrame, hint: AsrHint
    ) -> Transcript | None:
        """The stock path's transcript of a streamed utterance's whole `audio` when `streamed`
        holds a long number and the stock path heard more digits of it (the check whole passes
        get, guards.py); None when there is nothing to check or the stock path confirms it."""
        min_digits = self._settings.confirm_number_digits
        if not number_to_confirm(streamed.text, hint.expect, min_digits, streamed.language):
            return None  # decided here: most streamed utterances need no trip to the executor
        loop = asyncio.get_running_loop()
        blocking = functools.partial(self._streamed_number_checked, streamed, audio, hint)
        return await loop.run_in_executor(self._executor, blocking)

    def _streamed_number_checked(
        self, streamed: Transcript, audio: AudioFrame, hint: AsrHint
    ) -> Transcript | None:
        model = self._loaded_model()
        timings = _Timings()
        samples = self._with_lead_in(resample(audio, PIPELINE_RATE).to_float())
        stock = self._more_digits_heard(model, samples, hint.expect, streamed, timings)
        if stock is None:
            return None
        return _transcript(stock, "stock", hint, {**streamed.timings, **timings.values})

    def transcribe_words_blocking(
        self, audio: AudioFrame, hint: AsrHint, context: str = "", *, fallback: bool = True
    ) -> HeardWords:
        """The words of `audio`, timed on its clock, decoded after `context` (what was said
        before it: previous-text conditioning, not a forced prefix), on the calling thread.

        The guarded short window decodes and its tokens are aligned to the audio. When the
        guards reject that output the stock path transcribes with word times instead; without
        `fallback` there are no words then (a partial pass should not pay for the stock path:
        a later pass hears the same audio again). Digits are left as heard (no rewrite).
        """
        model = self._loaded_model()
        timings = _Timings()
        with timings.measure("total_ms"):
            speech = resample(audio, PIPELINE_RATE).to_float()
            language = self._fixed_language(model, hint)
            found = self._timed_words(model, speech, language, hint, context, fallback, timings)
        if found is None:
            found = _Decoded("", language or self._default_language(model), 0.0)
        words = list(found.words)
        logger.debug("%d words in %.2f s of audio: %s", len(words), audio.duration, timings.values)
        # Times so far count from the lead-in's start; the caller's clock starts after it.
        lead_in_s = self._settings.lead_in_s
        offset_s = audio.timestamp - lead_in_s
        kept = unechoed(words, found.language)
        timed = [on_clock(word, offset_s, audio) for word in kept]
        confidence = math.exp(found.avg_logprob) if timed else 0.0
        return HeardWords(
            tuple(timed), found.language, timings.values, confidence, found.language_probability
        )

    def _timed_words(
        self,
        model: WhisperModel,
        speech: Float32Array,
        language: str | None,
        hint: AsrHint,
        context: str,
        fallback: bool,
        timings: _Timings,
    ) -> _Decoded | None:
        """The decoding with its words, timed from the lead-in's start; None for no audio."""
        if len(speech) == 0:
            return None
        samples = self._with_lead_in(speech)
        window = self._window_s(samples)
        identified: float | None = None
        if self._settings.fast_path and window <= MAX_WINDOW_S:
            attempt = self._fast(
                model, samples, window, language, hint.expect, timings, context, hint.follow
            )
            language = attempt.decoded.language
            if attempt.rejected is None:
                with timings.measure("align_ms"):
                    words = self._aligned_words(model, attempt, len(samples))
                return dataclasses.replace(attempt.decoded, words=tuple(words))
            if not fallback:
                return dataclasses.replace(attempt.decoded, words=())
            self._rejected(attempt.decoded.text, attempt.rejected, samples)
            identified = attempt.decoded.language_probability
        with timings.measure("stock_ms"):
            prompt = _joined(self._prompt_for(hint.expect, language), context)
            stock = self._stock(model, samples, language, prompt, True)
        if identified is not None:  # as _decode: the identification survives a fallback
            stock = dataclasses.replace(stock, language_probability=identified)
        return stock

    def streamed_transcript(
        self, text: str, heard: HeardWords, hint: AsrHint, confidence: float
    ) -> Transcript:
        """The Transcript of a streamed utterance: `text` joins its confirmed words and the
        final pass's (`heard`), rewritten as a whole-utterance pass is."""
        rewritten = False
        if hint.expect is Expect.DIGITS:
            text, rewritten = rewrite_digits(text, heard.language)
        return Transcript(
            text=text,
            language=heard.language,
            confidence=confidence if text else 0.0,
            timings=heard.timings,
            path="streamed",
            digits_rewritten=rewritten,
            language_probability=heard.language_probability,
        )

    def _aligned_words(self, model: WhisperModel, fast: _FastDecode, samples: int) -> list[Word]:
        """The fast path's tokens aligned to its window (cross-attention and DTW, the way
        faster-whisper times words), punctuation joined to its word."""
        tokenizer = self._tokenizer(model, fast.decoded.language)
        text_tokens = [token for token in fast.decoded.tokens if token < tokenizer.eot]
        if not text_tokens:
            return []
        # Only frames that hold samples: the padding after them has no words to align.
        content_frames = math.ceil(samples * FRAMES_PER_SECOND / PIPELINE_RATE)
        alignment = model.find_alignment(tokenizer, [text_tokens], fast.encoded, content_frames)[0]
        merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
        return [word for word in map(word_of, alignment) if word.text]

    def _decode(
        self,
        model: WhisperModel,
        samples: Float32Array,
        language: str | None,
        expect: Expect,
        timings: _Timings,
        follow: bool = False,
    ) -> tuple[_Decoded, str]:
        if len(samples) == 0:
            return _Decoded("", language or self._default_language(model), 0.0), "fast"
        samples = self._with_lead_in(samples)
        window = self._window_s(samples)
        fast: _Decoded | None = None
        identified: float | None = None
        if self._settings.fast_path and window <= MAX_WINDOW_S:
            attempt = self._fast(model, samples, window, language, expect, timings, follow=follow)
            fast = attempt.decoded
            if attempt.rejected is None:
                return self._number_checked(model, samples, expect, fast, timings)
            self._rejected(fast.text, attempt.rejected, samples)
            language, identified = fast.language, fast.language_probability
            if attempt.rejected is not FallbackReason.LOOP:
                fast = None
        with timings.measure("stock_ms"):
            prompt = self._prompt_for(expect, language)
            stock = self._stock(model, samples, language, prompt)
        if identified is not None:
            # The stock path decoded in the language the fast path identified: how sure that
            # was is still the turn's (a first utterance must not lose it to a fallback).
            stock = dataclasses.replace(stock, language_probability=identified)
        looped = is_loop(stock.text, stock.language)
        if fast is not None and looped and _shorter(fast.text, stock.text):
            # A caller who says "no, no, no" repeats themselves: when the stock path loops
            # too, and longer, the short window's reading was the truer one.
            return fast, "fast"
        return stock, "stock"

    def _number_checked(
        self,
        model: WhisperModel,
        samples: Float32Array,
        expect: Expect,
        fast: _Decoded,
        timings: _Timings,
    ) -> tuple[_Decoded, str]:
        """`fast`, unless it holds a long number the stock path heard more digits of."""
        stock = self._more_digits_heard(model, samples, expect, fast, timings)
        if stock is None:
            return fast, "fast"
        self._rejected(fast.text, FallbackReason.SHORT, samples)
        return stock, "stock"

    def _more_digits_heard(
        self,
        model: WhisperModel,
        samples: Float32Array,
        expect: Expect,
        heard: _Decoded | Transcript,
        timings: _Timings,
    ) -> _Decoded | None:
        """The stock path's reading of `samples` (lead-in included) when `heard` holds a long
        number to check and the stock path heard more digits of it; else None. Both the whole
        pass and the streamed utterance are checked here."""
        language, min_digits = heard.language, self._settings.confirm_number_digits
        if not number_to_confirm(heard.text, expect, min_digits, language):
            return None
        with timings.measure("stock_ms"):
            prompt = self._prompt_for(expect, language)
            stock = self._stock(model, samples, language, prompt)
        return stock if stopped_short(heard.text, stock.text, language) else None

    def _fast(
        self,
        model: WhisperModel,
        samples: Float32Array,
        window: float,
        language: str | None,
        expect: Expect,
        timings: _Timings,
        context: str = "",
        follow: bool = False,
    ) -> _FastDecode:
        encoded = self._encoded(model, samples, window, timings)
        identified: float | None = None
        if language is None and self._settings.lid_recheck:
            decoded, rejected = self._identified(
                model, encoded, len(samples), expect, timings, context
            )
            return _FastDecode(decoded, rejected, encoded)
        if language is None:
            with timings.measure("language_ms"):
                language, identified = self._detected_language(model, encoded)
        elif follow and model.model.is_multilingual:
            with timings.measure("language_ms"):
                heard, probability = self._detected_language(model, encoded)
            if heard != language and probability >= FOLLOW_SURE:
                language, identified = heard, probability
        decoded, rejected = self._decoded_in(
            model, encoded, len(samples), language, expect, timings, context, identified
        )
        return _FastDecode(decoded, rejected, encoded)

    def _identified(
        self,
        model: WhisperModel,
        encoded: Any,
        sample_count: int,
        expect: Expect,
        timings: _Timings,
        context: str,
    ) -> tuple[_Decoded, FallbackReason | None]:
        """The open-language decoding: in the language token's guess, or, when that is
        doubtful, in whichever of the leading candidates the readings favour (second_look.py).
        Its language_probability is on the language token's scale (among all languages, as
        without the second look): its share after combining times the candidates' mass."""
        with timings.measure("language_ms"):
            candidates = self._candidate_languages(model, encoded)
        mass = sum(probability for _, probability in candidates)
        ranked = shares(candidates)
        language, share = ranked[0]
        first = self._decoded_in(
            model, encoded, sample_count, language, expect, timings, context, candidates[0][1]
        )
        below = self._settings.lid_recheck_below
        if len(ranked) < 2 or not doubtful(share, below):
            return first
        with timings.measure("second_look_ms"):
            # Own timings: decode_ms stays the first decode's, as on a sure guess.
            others = [
                self._decoded_in(model, encoded, sample_count, other, expect, _Timings(), context)
                for other, _ in ranked[1 : self._settings.lid_candidates]
            ]
        attempts = {decoded.language: (decoded, why) for decoded, why in (first, *others)}
        offered = tuple(code for code, _ in ranked)
        share_of = dict(ranked)
        readings = [
            Reading(
                code, share_of[code], decoded.avg_logprob, reads_as(decoded.text, offered, code)
            )
            for code, (decoded, _) in attempts.items()
        ]
        pick, combined_share = chosen(readings)
        decoded, rejected = attempts[pick.language]
        probability = combined_share * mass
        logger.debug(
            "second look: %s (p=%.2f) over %s",
            pick.language,
            probability,
            ", ".join(f"{r.language} {r.share:.2f}/{r.avg_logprob:.2f}" for r in readings),
        )
        return dataclasses.replace(decoded, language_probability=probability), rejected

    def _candidate_languages(self, model: WhisperModel, encoded: Any) -> list[tuple[str, float]]:
        """The languages detection may pick (``detect_languages``; any when empty), most
        likely first, each with the language token's probability among all languages."""
        ranked = [
            (token[2:-2], float(probability))
            for token, probability in model.model.detect_language(encoded)[0]
        ]
        allowed = self._settings.detect_languages
        return [entry for entry in ranked if not allowed or entry[0] in allowed] or ranked

    def _decoded_in(
        self,
        model: WhisperModel,
        encoded: Any,
        sample_count: int,
        language: str,
        expect: Expect,
        timings: _Timings,
        context: str = "",
        identified: float | None = None,
    ) -> tuple[_Decoded, FallbackReason | None]:
        """The short window's decoding of `encoded` in `language`, and why the guards reject
        it (None when it stands)."""
        tokenizer = self._tokenizer(model, language)
        prompt_text = _joined(self._prompt_for(expect, language), context)
        prompt = self._prompt_tokens(tokenizer, prompt_text)
        duration = sample_count / PIPELINE_RATE
        budget = math.ceil(self._settings.tokens_per_second * duration + BUDGET_BASE_TOKENS)
        # CTranslate2 generates at most min(max_length // 2, max_length - len(prompt)) tokens
        # for Whisper, so max_length must be twice the budget or the prompt plus the budget.
        max_length = min(max(2 * budget, len(prompt) + budget), MAX_DECODE_LENGTH)
        budget = min(budget, max_length // 2, max_length - len(prompt))
        with timings.measure("decode_ms"):
            result = model.model.generate(
                encoded,
                [prompt],
                beam_size=self._settings.beam_size,
                repetition_penalty=self._settings.repetition_penalty,
                no_repeat_ngram_size=self._settings.no_repeat_ngram_size,
                suppress_blank=True,
                max_length=max_length,
                return_scores=True,
            )[0]
        tokens: list[int] = list(result.sequences_ids[0])
        text = str(tokenizer.decode(tokens)).strip()
        logprob = _average_logprob(float(result.scores[0]), len(tokens))
        decoded = _Decoded(text, language, logprob, tuple(tokens), language_probability=identified)
        return decoded, fallback_reason(text, len(tokens), budget, language)

    def _encoded(
        self, model: WhisperModel, samples: Float32Array, window: float, timings: _Timings
    ) -> Any:
        """The encoder's output for a short window of `window` seconds holding `samples`."""
        with timings.measure("features_ms"):
            padded = np.zeros(round(window * PIPELINE_RATE), dtype=np.float32)
            padded[: len(samples)] = samples
            # No 30 s padding from the extractor: the window is all the encoder sees.
            features = model.feature_extractor(padded, padding=0)
            features = features[:, : round(window * FRAMES_PER_SECOND)]
        with timings.measure("encode_ms"):
            return model.encode(features)

    def _stock(
        self,
        model: WhisperModel,
        samples: Float32Array,
        language: str | None,
        prompt_text: str | None,
        word_timestamps: bool = False,
    ) -> _Decoded:
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=self._settings.stock_beam_size,
            initial_prompt=prompt_text,
            condition_on_previous_text=False,
            without_timestamps=True,
            word_timestamps=word_timestamps,
            vad_filter=False,
        )
        texts: list[str] = []
        words: list[Word] = []
        weighted_logprob = 0.0
        weights = 0
        for segment in segments:
            texts.append(str(segment.text).strip())
            words.extend(word_of(timing) for timing in segment.words or ())
            weight = len(segment.tokens) + 1  # the end-of-text token counts in avg_logprob
            weighted_logprob += float(segment.avg_logprob) * weight
            weights += weight
        text = " ".join(part for part in texts if part)
        logprob = weighted_logprob / weights if weights else 0.0
        heard = tuple(w for w in words if w.text)
        identified = None if language else float(info.language_probability)
        return _Decoded(text, str(info.language), logprob, (), heard, identified)

    async def detect_language(
        self, audio: AudioFrame, candidates: tuple[str, ...]
    ) -> LanguageGuess:
        """`detect_language_blocking` in this stage's executor (as transcription runs)."""
        loop = asyncio.get_running_loop()
        blocking = functools.partial(self.detect_language_blocking, audio, candidates)
        return await loop.run_in_executor(self._executor, blocking)

    def detect_language_blocking(
        self, audio: AudioFrame, candidates: tuple[str, ...]
    ) -> LanguageGuess:
        """The language among `candidates` that `audio` (its first 30 s) is most likely in.

        The audio is encoded as the fast path encodes it (a short window, at least
        ``min_window_s``) and Whisper's language token probabilities are ranked among the
        candidates only. Raises ValueError for no candidates, a candidate the model does not
        know, no audio, or an English-only model.
        """
        if not candidates:
            raise ValueError("language detection needs at least one candidate language")
        model = self._loaded_model()
        if not model.model.is_multilingual:
            raise ValueError(
                f"{self._settings.model} is English-only: language detection needs a "
                "multilingual model (whisper-base)"
            )
        unknown = sorted(set(candidates) - set(model.supported_languages))
        if unknown:
            raise ValueError(f"languages unknown to {self._settings.model}: {', '.join(unknown)}")
        if audio.duration <= 0:
            raise ValueError("no audio to detect a language in")
        started = time.perf_counter()
        timings = _Timings()
        speech = resample(audio, PIPELINE_RATE).to_float()
        samples = self._with_lead_in(speech)[: round(MAX_WINDOW_S * PIPELINE_RATE)]
        encoded = self._encoded(model, samples, min(self._window_s(samples), MAX_WINDOW_S), timings)
        language, probability = _ranked_candidates(model, encoded, candidates)[0]
        ms = (time.perf_counter() - started) * 1000
        logger.debug("detected language %s (p=%.2f) in %.0f ms", language, probability, ms)
        return LanguageGuess(language, probability, ms)

    def _detected_language(self, model: WhisperModel, encoded: Any) -> tuple[str, float]:
        """The fast path's language, among ``detect_languages`` (any when empty), and its
        probability among all languages (as Transcript.language_probability reports it)."""
        language, probability = self._candidate_languages(model, encoded)[0]
        logger.debug("detected language %s (p=%.2f)", language, probability)
        return language, probability

    def _fixed_language(self, model: WhisperModel, hint: AsrHint) -> str | None:
        """The language to transcribe in, or None to detect it (multilingual models only)."""
        if not model.model.is_multilingual:
            return "en"
        for wanted in (hint.language, self._settings.language):
            if wanted is None:
                continue
            code = wanted.split("-")[0].split("_")[0].lower()
            if code in model.supported_languages:
                return code
            logger.warning("language %r is not known to the model; detecting it", wanted)
        return None

    def _default_language(self, model: WhisperModel) -> str:
        return "en" if not model.model.is_multilingual else (self._settings.language or "en")

    def _prompt_for(self, expect: Expect, language: str | None) -> str | None:
        """The decoder's context for what the dialogue expects, in `language` (none while the
        language is not known: a prompt in the wrong language steers the detection)."""
        if language is None:
            return None
        prompts = {
            Expect.DIGITS: self._settings.digits_prompts,
            Expect.EMAIL: self._settings.email_prompts,
        }.get(expect, {})
        return prompts.get(language) or None

    @staticmethod
    def _prompt_tokens(tokenizer: Tokenizer, prompt_text: str | None) -> list[int]:
        # Previous-text context goes before the start of transcript, as Whisper was trained;
        # unlike a forced prefix it is not echoed back (and measured no slower to decode).
        # Its end is what conditions the next words: a long context keeps only its end.
        context: list[int] = []
        if prompt_text:
            text_tokens = tokenizer.encode(" " + prompt_text.strip())[-MAX_CONTEXT_TOKENS:]
            context = [tokenizer.sot_prev, *text_tokens]
        return [*context, *tokenizer.sot_sequence, tokenizer.no_timestamps]

    def _with_lead_in(self, samples: Float32Array) -> Float32Array:
        lead_in = np.zeros(round(self._settings.lead_in_s * PIPELINE_RATE), dtype=np.float32)
        return np.concatenate([lead_in, samples])

    def _window_s(self, samples: Float32Array) -> float:
        """The short window's length for these samples (lead-in included)."""
        duration = len(samples) / PIPELINE_RATE
        return max(duration + self._settings.window_padding_s, self._settings.min_window_s)

    def _tokenizer(self, model: WhisperModel, language: str) -> Tokenizer:
        with self._lock:
            tokenizer = self._tokenizers.get(language)
            if tokenizer is None:
                multilingual = bool(model.model.is_multilingual)
                tokenizer = Tokenizer(
                    model.hf_tokenizer,
                    multilingual,
                    task="transcribe",
                    language=language if multilingual else None,
                )
                self._tokenizers[language] = tokenizer
            return tokenizer

    def _rejected(self, text: str, reason: FallbackReason, samples: Float32Array) -> None:
        """The fast path's output was rejected: the stock path decodes instead."""
        _log_rejected(text, reason, samples)
        if self._on_fallback is not None:
            self._on_fallback(f"fast_{reason.value}")

    def _loaded_model(self) -> WhisperModel:
        if self._model is None:
            settings = self._settings
            key = ModelKey(
                self._models.directory(settings.model),
                settings.compute_type,
                settings.cpu_threads,
                settings.num_workers,
            )
            self._model = shared_model(key)
        return self._model


FOLLOW_SURE = 0.8
"""How sure identification must be to decode a turn in another language than the call's."""


def _transcript(
    decoded: _Decoded, path: str, hint: AsrHint, timings: dict[str, float]
) -> Transcript:
    """A whole-utterance decoding as the stage's Transcript (echo dropped, digits rewritten)."""
    text = without_echoed_tail(decoded.text, decoded.language)
    rewritten = False
    if hint.expect is Expect.DIGITS:
        text, rewritten = rewrite_digits(text, decoded.language)
    return Transcript(
        text=text,
        language=decoded.language,
        confidence=math.exp(decoded.avg_logprob) if text else 0.0,
        timings=timings,
        path=path,
        digits_rewritten=rewritten,
        language_probability=decoded.language_probability,
    )


def _ranked_candidates(
    model: WhisperModel, encoded: Any, candidates: tuple[str, ...]
) -> list[tuple[str, float]]:
    """`candidates` (all known to the model) by Whisper's probability on `encoded`, most
    likely first, each probability as a share of the candidates' together."""
    ranked = [
        (token[2:-2], float(probability))
        for token, probability in model.model.detect_language(encoded)[0]
    ]
    kept = [entry for entry in ranked if entry[0] in candidates]
    total = sum(probability for _, probability in kept) or 1.0  # never 0 from a softmax
    return [(language, probability / total) for language, probability in kept]


def _log_rejected(text: str, reason: FallbackReason, samples: Float32Array) -> None:
    logger.info(
        "fast path output %r rejected (%s) for %.2f s of audio; using the stock path",
        text,
        reason.value,
        len(samples) / PIPELINE_RATE,
    )


def reads_as(text: str, offered: tuple[str, ...], language: str) -> bool:
    """Whether the words of `text` read as `language` (the lexicon's guess among `offered`)."""
    return text_language(text, offered) == language


def _joined(*prompts: str | None) -> str | None:
    """Prompts in order, as one text (None when all are empty)."""
    return " ".join(prompt.strip() for prompt in prompts if prompt and prompt.strip()) or None


def _shorter(text: str, than: str) -> bool:
    return len(words_of(text)) < len(words_of(than))


def _average_logprob(score: float, token_count: int) -> float:
    """Mean log-probability per token (the end of text included), as faster-whisper reports.

    CTranslate2's score is the summed log-probability divided by the length (penalty 1).
    """
    return score * token_count / (token_count + 1)
