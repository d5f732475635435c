"""PiperTts on the real joe-medium voice: frames, cancellation, cache, and a `say` round trip."""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import WhisperModel
from jiwer import wer
from whisper_normalizer.english import EnglishTextNormalizer

from tests.conftest import run_cli
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.audio.wav import read_wav
from voice_agent.models import ModelStore
from voice_agent.settings import ModelsSettings, PathsSettings, TtsSettings
from voice_agent.stages.tts import Tts
from voice_agent.stages.tts.piper import PiperTts

FIVE_CLAUSES = (
    "Thanks for waiting. Your parcel left our warehouse on Monday. It is with the courier now. "
    "It should arrive by Friday. Is there anything else?"
)


@pytest.fixture(scope="module")
def models() -> ModelStore:
    return ModelStore(ModelsSettings(), PathsSettings())


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-tts")
    yield pool
    pool.shutdown(wait=True)


async def _collect(tts: Tts, text: str) -> list[AudioFrame]:
    return [frame async for frame in tts.synthesize(text, "en")]


def test_synthesize_streams_20ms_16khz_frames_of_plausible_length(
    models: ModelStore, executor: ThreadPoolExecutor
) -> None:
    text = "Your order has shipped, and it should arrive on Monday or Tuesday next week."
    tts = PiperTts(TtsSettings(), models, executor)
    frames = asyncio.run(_collect(tts, text))

    assert all(frame.rate == PIPELINE_RATE for frame in frames)
    assert all(frame.samples.dtype == np.int16 for frame in frames)
    assert {len(frame.samples) for frame in frames} == {PIPELINE_RATE * 20 // 1000}
    assert [frame.timestamp for frame in frames] == pytest.approx(
        [i * 0.02 for i in range(len(frames))]
    )
    audio = AudioFrame.concat(frames)
    words_per_second = len(text.split()) / audio.duration
    assert 1.5 < words_per_second < 5.0, audio.duration
    assert rms_dbfs(audio.samples) > -35.0
    assert tts.stats.started == tts.stats.completed > 1  # clause by clause, more than one


def test_aclose_during_the_first_clause_stops_synthesis(
    models: ModelStore, executor: ThreadPoolExecutor
) -> None:
    tts = PiperTts(TtsSettings(), models, executor)  # prefetch on: clause 2 starts early

    async def first_frame_then_close() -> tuple[AudioFrame, int, bool]:
        stream = tts.synthesize(FIVE_CLAUSES, "en")
        first = await anext(stream)
        await stream.aclose()
        started_by_close = tts.stats.started
        ended = await anext(stream, None) is None
        return first, started_by_close, ended

    first, started_by_close, ended = asyncio.run(first_frame_then_close())
    executor.shutdown(wait=True)  # let an abandoned clause finish unwinding, then count

    assert first.timestamp == 0.0
    assert ended
    assert tts.stats.started == started_by_close  # nothing started after aclose()
    assert tts.stats.started <= 2  # the first clause and at most the prefetched second
    assert tts.stats.completed == 1  # the prefetched clause was aborted, not finished
    assert tts.stats.abandoned == tts.stats.started - 1


def test_aclose_without_prefetch_synthesizes_only_the_first_clause(
    models: ModelStore, executor: ThreadPoolExecutor
) -> None:
    tts = PiperTts(TtsSettings(prefetch=False), models, executor)

    async def first_frame_then_close() -> None:
        stream = tts.synthesize(FIVE_CLAUSES, "en")
        await anext(stream)
        await stream.aclose()

    asyncio.run(first_frame_then_close())
    executor.shutdown(wait=True)
    assert (tts.stats.started, tts.stats.completed, tts.stats.abandoned) == (1, 1, 0)


def test_cancelling_the_consumer_aborts_the_clause_being_synthesized(
    models: ModelStore, executor: ThreadPoolExecutor
) -> None:
    # One long first clause, so its synthesis is surely still running when the task is cancelled.
    settings = TtsSettings(max_clause_words=30, first_clause_words=30)
    tts = PiperTts(settings, models, executor)
    text = (
        "Your replacement parcel left our warehouse in Rotterdam this morning and the courier "
        "expects to deliver it to your home address before noon on Friday. Thank you."
    )

    async def cancel_while_synthesizing() -> bool:
        consumer = asyncio.create_task(_collect(tts, text))
        # The counter moves in a worker thread: there is no event to wait on, so poll it.
        while tts.stats.started == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        consumer.cancel()
        try:
            await consumer
        except asyncio.CancelledError:
            return True
        return False

    assert asyncio.run(cancel_while_synthesizing())
    executor.shutdown(wait=True)
    assert (tts.stats.started, tts.stats.completed, tts.stats.abandoned) == (1, 0, 1)


def test_warmed_up_prompt_is_served_without_synthesis(
    models: ModelStore, executor: ThreadPoolExecutor
) -> None:
    tts = PiperTts(TtsSettings(cached_prompts={"en": ("One moment, please.",)}), models, executor)

    async def warm_then_speak() -> tuple[int, list[AudioFrame], list[AudioFrame]]:
        await tts.warm_up()
        started = tts.stats.started
        return (
            started,
            await _collect(tts, "One moment,  please."),
            await _collect(tts, "One moment, please."),
        )

    started_by_warm_up, first, second = asyncio.run(warm_then_speak())
    assert started_by_warm_up >= 1
    assert tts.stats.started == started_by_warm_up
    assert tts.stats.cache_hits == 2
    # Piper's output is random (noise scales): equal samples can only come from the cache.
    assert np.array_equal(AudioFrame.concat(first).samples, AudioFrame.concat(second).samples)
    assert AudioFrame.concat(first).duration > 0.5


def test_clause_cache_is_least_recently_used(
    models: ModelStore, executor: ThreadPoolExecutor
) -> None:
    tts = PiperTts(TtsSettings(cache_size=1, cached_prompts={}), models, executor)

    async def speak(*texts: str) -> list[AudioFrame]:
        return [AudioFrame.concat(await _collect(tts, text)) for text in texts]

    first, again = asyncio.run(speak("Thank you.", "Thank you."))
    assert (tts.stats.started, tts.stats.cache_hits) == (1, 1)
    assert np.array_equal(first.samples, again.samples)

    asyncio.run(speak("Goodbye.", "Thank you."))  # "Goodbye." pushes "Thank you." out
    assert (tts.stats.started, tts.stats.cache_hits) == (3, 1)


def test_say_then_transcribe_gives_back_the_words(models: ModelStore, tmp_path: Path) -> None:
    text = (
        "Hello, Mr. Smith. Your parcel left our warehouse in Berlin on Monday "
        "and should arrive within five working days."
    )
    wav = tmp_path / "reply.wav"
    said = run_cli(["say", text, "-o", str(wav)])
    assert said.returncode == 0, said.stderr
    audio = read_wav(wav)
    assert audio.rate == PIPELINE_RATE

    whisper = WhisperModel(
        str(models.directory("whisper-tiny-en")), device="cpu", compute_type="int8", cpu_threads=2
    )
    segments, _ = whisper.transcribe(audio.to_float(), language="en", beam_size=5)
    heard = " ".join(segment.text for segment in segments)
    normalize = EnglishTextNormalizer()
    assert wer(normalize(text), normalize(heard)) <= 0.1, heard


def test_the_same_text_sounds_the_same_in_every_process(tmp_path: Path) -> None:
    # Piper draws noise per sentence: unseeded, each run spoke (and was transcribed) a little
    # differently, which made round-trip tests flaky.
    text = "Your parcel left our warehouse in Berlin on Monday."
    first, second = tmp_path / "first.wav", tmp_path / "second.wav"
    for wav in (first, second):
        assert run_cli(["say", text, "-o", str(wav)]).returncode == 0
    assert first.read_bytes() == second.read_bytes()
