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
    ("said", "said_again", "digits"),
    [
        (
            "My number is zero one seven six, five five five, one two three four.",
            "It's zero one seven six five five five one two three four.",
            "01765551234",
        ),
        (
            "Plus four four, seven seven zero zero, nine zero zero, one two three.",
            "It's plus four four seven seven zero zero nine zero zero one two three.",
            "+447700900123",
        ),
    ],
)
def test_a_spoken_phone_number_is_heard_and_read(
    executor: ThreadPoolExecutor, models: ModelStore, said: str, said_again: str, digits: str
) -> None:
    """As on the line: a number heard wrong is read back, and the caller says it once more
    (Whisper tiny once stopped after "plus 4 4 7 7 0 0 9" in a full run, not reproduced alone)."""
    tts = PiperTts(TtsSettings(), models, executor)
    asr = WhisperAsr(AsrSettings(), models, executor)
    hint = AsrHint(EXPECTS[Awaiting.CALLBACK_CONTACT])
    heard = []
    for attempt in (said, said_again):
        transcript = asyncio.run(asr.transcribe(asyncio.run(_spoken(tts, attempt)), hint))
        heard.append(transcript.text)
        if callback.phone(transcript.text) == digits:
            break
    assert callback.phone(heard[-1]) == digits, heard
