"""The whole voice loop inside LiveKit's AgentSession, without a room: a caller's real speech
(the Piper voice) goes in through an audio input at a room's pace, our VAD, STT, dialogue and
TTS run under LiveKit's pipeline, and the agent's audio comes out of an audio output."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import llm as lk_llm
from livekit.agents.voice import io
from livekit.agents.voice.events import ConversationItemAddedEvent

from tests.dialogue.conftest import ANCHOR
from tests.integrations.livekit.speech import padded, room_frames
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.bench.voices import piper_speaker
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.integrations.livekit.agent import ShopAgent, build_session
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.integrations.livekit.turns import DialogueTurns
from voice_agent.integrations.livekit.worker import stages_of
from voice_agent.store.repository import Repository

pytestmark = pytest.mark.slow

QUIET = room_frames(AudioFrame.silence(0.01))[0]


class _Caller(io.AudioInput):
    """The caller's line: quiet until told to speak, then the speech, then quiet again."""

    def __init__(self) -> None:
        super().__init__(label="test caller")
        self.queued: list[rtc.AudioFrame] = []

    async def __anext__(self) -> rtc.AudioFrame:
        await asyncio.sleep(0.01)  # a room's pace
        return self.queued.pop(0) if self.queued else QUIET


class _Speaker(io.AudioOutput):
    """Plays the agent's audio at once, keeping it."""

    def __init__(self) -> None:
        super().__init__(label="test speaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self.frames: list[rtc.AudioFrame] = []
        self._segment_s = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        self.frames.append(frame)
        self._segment_s += frame.duration

    def flush(self) -> None:
        super().flush()
        played, self._segment_s = self._segment_s, 0.0
        self.on_playback_finished(playback_position=played, interrupted=False)

    def clear_buffer(self) -> None:
        self._segment_s = 0.0


def _said(history: lk_llm.ChatContext, role: str) -> list[str]:
    return [
        item.text_content or ""
        for item in history.items
        if isinstance(item, lk_llm.ChatMessage) and item.role == role
    ]


def test_spoken_question_is_heard_answered_from_the_shop_and_spoken(
    app: App, demo_engine: DialogueEngine, demo_repository: Repository
) -> None:
    question = piper_speaker(app.models)("Where is my order?", 1.0)
    conversation = demo_repository.start_conversation("livekit", None, ANCHOR)
    turns = DialogueTurns(
        CallDialogue(demo_engine, conversation),
        StoreRecorder(demo_repository, conversation),
        CallContext(),
        lambda: ANCHOR,
    )

    async def call() -> tuple[list[str], list[str], float, float]:
        caller, speaker = _Caller(), _Speaker()
        session: Any = build_session(stages_of(app), turns)
        session.input.audio, session.output.audio = caller, speaker
        replies: asyncio.Queue[str] = asyncio.Queue()

        def added(event: ConversationItemAddedEvent) -> None:
            if isinstance(event.item, lk_llm.ChatMessage) and event.item.role == "assistant":
                replies.put_nowait(event.item.text_content or "")

        session.on("conversation_item_added", added)
        async with session:
            await session.start(ShopAgent(turns))
            async with asyncio.timeout(60):
                await replies.get()  # the greeting
                greeting_s = sum(frame.duration for frame in speaker.frames)
                await asyncio.sleep(1.0)
                caller.queued = room_frames(padded(question, 0.0, 0.3))
                await replies.get()  # the answer
                await asyncio.sleep(0.5)  # its audio
            total_s = sum(frame.duration for frame in speaker.frames)
            return (
                _said(session.history, "user"),
                _said(session.history, "assistant"),
                greeting_s,
                total_s,
            )

    heard, said, greeting_s, total_s = asyncio.run(call())
    assert len(heard) == 1 and "order" in heard[0].lower(), heard
    assert "order number" in said[1].lower(), said
    assert greeting_s > 1.0  # the greeting was spoken
    assert total_s - greeting_s > 1.0  # and so was the answer
    stored = demo_repository.turns(conversation)
    assert [turn.speaker for turn in stored] == ["agent", "caller", "agent"]
