"""WhisperStream with the real model on speech: passes as a call runs them, refusals included."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from voice_agent.bench.voices import EspeakVoice
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings
from voice_agent.stages.asr import AsrHint, Expect, Interim, Transcript
from voice_agent.stages.asr.live import StreamingWhisper
from voice_agent.stages.asr.whisper import HeardWords, WhisperAsr

pytestmark = pytest.mark.slow

REQUEST = "I would like to return the shoes from my last order because they are too small."


class Partials:
    """Runs partial passes in a pool, refusing every `refuse_every`-th as a busy scheduler."""

    def __init__(self, pool: ThreadPoolExecutor, refuse_every: int = 0) -> None:
        self._pool = pool
        self._refuse_every = refuse_every
        self.offered = self.refused = 0

    def __call__(self, job: Callable[[], HeardWords]) -> Future[HeardWords] | None:
        self.offered += 1
        if self._refuse_every and self.offered % self._refuse_every == 0:
            self.refused += 1
            return None
        return self._pool.submit(job)


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


@pytest.fixture(scope="module")
def tiny(pool: ThreadPoolExecutor) -> WhisperAsr:
    asr = WhisperAsr(AsrSettings(), ModelStore(ModelsSettings(), PathsSettings()), pool)
    asr.load()
    return asr


@pytest.fixture(scope="module")
def base(pool: ThreadPoolExecutor) -> WhisperAsr:
    settings = AsrSettings(model="whisper-base")
    asr = WhisperAsr(settings, ModelStore(ModelsSettings(), PathsSettings()), pool)
    asr.load()
    return asr


def _stream(
    tiny: WhisperAsr, partials: Partials, text: str, hint: AsrHint, voice: str = "en-gb+f3"
) -> tuple[list[Interim], Transcript]:
    streaming = StreamingWhisper(tiny, AsrSettings(), partials)
    audio = EspeakVoice(voice).speak(text)

    async def run() -> tuple[list[Interim], Transcript]:
        stream = streaming.stream(hint)
        interims = []
        for frame in audio.chunks(0.02):
            stream.append(frame)
            if (partial := stream.partial()) is not None:
                interims.append(await partial)  # as if each pass took no time
        return interims, await stream.transcript()

    return asyncio.run(run())


def test_interim_words_grow_and_the_transcript_follows_them(
    tiny: WhisperAsr, pool: ThreadPoolExecutor
) -> None:
    interims, transcript = _stream(tiny, Partials(pool), REQUEST, AsrHint())
    confirmed = [interim.confirmed for interim in interims]
    assert confirmed[-1].lower().startswith("i would like to return")
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(confirmed))
    assert transcript.path == "streamed"
    assert transcript.text.startswith(confirmed[-1])
    assert "small" in transcript.text.lower()
    assert 0.3 < transcript.confidence <= 1.0
    # The final pass heard the tail, not the whole 4-5 s request.
    assert transcript.timings["final_audio_ms"] < 3000


def test_refused_partial_passes_are_taken_again_with_more_audio(
    tiny: WhisperAsr, pool: ThreadPoolExecutor
) -> None:
    partials = Partials(pool, refuse_every=2)
    interims, transcript = _stream(tiny, partials, REQUEST, AsrHint())
    assert partials.refused > 0
    # Each refusal is asked again on the next frame: the passes still run every 0.5 s or so.
    assert len(interims) >= 6
    assert "return" in transcript.text.lower() and "small" in transcript.text.lower()


def test_expected_digits_are_rewritten_in_the_streamed_transcript(
    tiny: WhisperAsr, pool: ThreadPoolExecutor
) -> None:
    _, transcript = _stream(
        tiny, Partials(pool), "My order number is four five zero six nine.", AsrHint(Expect.DIGITS)
    )
    assert "4 5 0 6 9" in transcript.text


@pytest.mark.parametrize(
    ("language", "voice", "request_", "stems"),
    [
        (
            "de",
            "de",
            "Guten Tag, ich möchte die Jacke aus meiner letzten Bestellung zurückschicken.",
            ("guten", "tag", "jacke", "letzten", "bestellung", "zurück"),
        ),
        (
            "es",
            "es",
            "Buenos días, quiero devolver la chaqueta de mi último pedido.",
            ("buenos", "días", "devolver", "chaqueta", "último", "pedido"),
        ),
    ],
)
def test_a_fixed_language_streams_as_english_does(
    base: WhisperAsr,
    pool: ThreadPoolExecutor,
    language: str,
    voice: str,
    request_: str,
    stems: tuple[str, ...],
) -> None:
    interims, transcript = _stream(
        base, Partials(pool), request_, AsrHint(language=language), voice
    )
    confirmed = [interim.confirmed for interim in interims]
    assert confirmed[-1], interims  # words were confirmed while the caller spoke
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(confirmed))
    assert transcript.path == "streamed"
    assert transcript.language == language
    assert transcript.text.startswith(confirmed[-1])
    words = transcript.text.lower().split()
    heard = [stem for stem in stems if any(word.startswith(stem) for word in words)]
    assert len(heard) >= len(stems) // 2, transcript.text
    # The final pass heard the tail, not the whole request.
    whole_ms = EspeakVoice(voice).speak(request_).duration * 1000
    assert transcript.timings["final_audio_ms"] < 0.8 * whole_ms
