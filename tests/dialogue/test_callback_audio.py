"""A call-back number through real audio: Piper says it as a caller would, the real Whisper
transcribes it as the agent does while asking for it (Expect.EMAIL), the dialogue reads it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from voice_agent.audio import AudioFrame
from voice_agent.dialogue import callback
from voice_agent.dialogue.state import EXPECTS, Awaiting
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings, TtsSettings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.asr.whisper import WhisperAsr
from voice_agent.stages.tts.piper import PiperTts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-callback")
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def models() -> ModelStore:
    return ModelStore(ModelsSettings(), PathsSettings())


async def _spoken(tts: PiperTts, text: str) -> AudioFrame:
    return AudioFrame.concat([frame async for frame in tts.synthesize(text, "en")])


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("My number is zero one seven six, five five five, one two three four.", "01765551234"),
        ("Plus four four, seven seven zero zero, nine zero zero, one two three.", "+447700900123"),
    ],
)
def test_a_spoken_phone_number_is_heard_and_read(
    executor: ThreadPoolExecutor, models: ModelStore, said: str, digits: str
) -> None:
    audio = asyncio.run(_spoken(PiperTts(TtsSettings(), models, executor), said))
    asr = WhisperAsr(AsrSettings(), models, executor)
    hint = AsrHint(EXPECTS[Awaiting.CALLBACK_CONTACT])
    transcript = asyncio.run(asr.transcribe(audio, hint))
    assert callback.phone(transcript.text) == digits, transcript.text
