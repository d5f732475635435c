"""Our streaming Whisper through LiveKit's STT interface, on real speech (the Piper voice)."""

from __future__ import annotations

import asyncio
import re

import pytest
from livekit import rtc
from livekit.agents import stt as lk_stt

from tests.integrations.livekit.speech import padded, room_frames
from voice_agent.app import App
from voice_agent.bench.voices import piper_speaker
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.stt import VoiceAgentSTT

pytestmark = pytest.mark.slow

SAID = "I would like to know where my order is."


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


async def _stream(stt: VoiceAgentSTT, frames: list[rtc.AudioFrame]) -> list[lk_stt.SpeechEvent]:
    """The frames pushed at the pace a room sends them, the events as they came."""
    stream = stt.stream()
    events: list[lk_stt.SpeechEvent] = []

    async def collect() -> None:
        events.extend([event async for event in stream])

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(collect())
        for frame in frames:
            stream.push_frame(frame)
            await asyncio.sleep(frame.duration)
        stream.end_input()
    await stream.aclose()
    return events


def test_a_streamed_utterance_gives_interims_then_its_final_transcript(app: App) -> None:
    speech = piper_speaker(app.models)(SAID, 1.0)
    context = CallContext()
    stt = VoiceAgentSTT(app.call_asr, app.new_vad, app.asr_streaming, context)
    events = asyncio.run(_stream(stt, room_frames(padded(speech, 0.5, 1.5))))

    kinds = [event.type for event in events]
    assert kinds[0] is lk_stt.SpeechEventType.START_OF_SPEECH
    assert kinds[-2:] == [
        lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
        lk_stt.SpeechEventType.END_OF_SPEECH,
    ]
    assert kinds.count(lk_stt.SpeechEventType.START_OF_SPEECH) == 1
    interims = [e for e in events if e.type is lk_stt.SpeechEventType.INTERIM_TRANSCRIPT]
    assert interims, "no partial pass reported while the caller spoke"
    final = events[-2].alternatives[0]
    assert {"where", "my", "order"} <= _words(final.text), final.text
    assert final.language == "en"
    assert 0.0 < final.confidence <= 1.0
    assert final.start_time < final.end_time
    assert context.last_heard is not None and context.last_heard.text == final.text
    assert len({e.request_id for e in events}) == 1  # one utterance


def test_two_utterances_are_two_transcripts(app: App) -> None:
    speak = piper_speaker(app.models)
    first, second = speak("Where is my order?", 1.0), speak("Can I speak to a person?", 1.0)
    frames = room_frames(padded(first, 0.4, 1.2)) + room_frames(padded(second, 0.0, 1.5))
    stt = VoiceAgentSTT(app.call_asr, app.new_vad, None)  # no streaming: whole utterances
    events = asyncio.run(_stream(stt, frames))

    finals = [e for e in events if e.type is lk_stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert [len(e.alternatives) for e in finals] == [1, 1]
    assert {"where", "order"} <= _words(finals[0].alternatives[0].text)
    assert {"speak", "person"} <= _words(finals[1].alternatives[0].text)
    assert not any(e.type is lk_stt.SpeechEventType.INTERIM_TRANSCRIPT for e in events)


def test_recognize_takes_a_whole_buffer(app: App) -> None:
    speech = piper_speaker(app.models)(SAID, 1.0)
    stt = VoiceAgentSTT(app.call_asr, app.new_vad)

    async def recognize() -> lk_stt.SpeechEvent:
        return await stt.recognize(room_frames(padded(speech, 0.3, 0.3)))

    event = asyncio.run(recognize())
    assert event.type is lk_stt.SpeechEventType.FINAL_TRANSCRIPT
    assert {"where", "my", "order"} <= _words(event.alternatives[0].text)
