"""A LiveKit `AgentSession` made of our parts: our VAD, STT, TTS and dialogue engine.

`build_session` wires one session: every adapter shares the session's `CallContext`, turns
are detected by our VAD (LiveKit's cloud turn detector and adaptive interruption model are
not used), a turn ends `[session.turn] hold_complete_s` after the VAD's end of speech, and
replies are never generated preemptively (the dialogue commits each reply it gives).
`ShopAgent` greets when it starts and ends the session once a reply that closes the call was
spoken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent, AgentSession
from livekit.agents.voice.events import SpeechCreatedEvent
from livekit.agents.voice.speech_handle import SpeechHandle

from voice_agent.integrations.livekit.llm import DialogueLLM
from voice_agent.integrations.livekit.stt import VoiceAgentSTT
from voice_agent.integrations.livekit.tts import VoiceAgentTTS
from voice_agent.integrations.livekit.turns import DialogueTurns
from voice_agent.integrations.livekit.vad import VadFactory, VoiceAgentVAD
from voice_agent.stages.asr import Asr, StreamingAsr
from voice_agent.stages.tts import Tts

logger = logging.getLogger(__name__)

INSTRUCTIONS = "Replies come from the voice_agent dialogue engine, not from a language model."


@dataclass(frozen=True, slots=True)
class Stages:
    """The shared stages a session's adapters wrap (App builds them once per process)."""

    asr: Asr
    tts: Tts
    new_vad: VadFactory
    streaming: StreamingAsr | None = None
    vad_engine: str = "webrtc"
    asr_model: str = "whisper"
    end_of_turn_s: float = 0.25
    """Quiet after the VAD's end of speech before the turn ends ([session.turn]
    hold_complete_s)."""


def build_session(stages: Stages | None, turns: DialogueTurns) -> AgentSession[Any]:
    """A session answering from `turns`; ``stages`` None: text only (no audio adapters)."""
    llm = DialogueLLM(turns)
    options: dict[str, Any] = {
        "turn_handling": {
            "turn_detection": "vad" if stages is not None else "manual",
            "interruption": {"mode": "vad"},
            "preemptive_generation": {"enabled": False},
            "endpointing": {
                "min_delay": stages.end_of_turn_s if stages is not None else 0.0,
            },
        },
        "user_away_timeout": None,
    }
    if stages is None:
        return AgentSession(llm=llm, vad=None, **options)
    context = turns.context
    return AgentSession(
        llm=llm,
        vad=VoiceAgentVAD(stages.new_vad, stages.vad_engine),
        stt=VoiceAgentSTT(stages.asr, stages.new_vad, stages.streaming, context, stages.asr_model),
        tts=VoiceAgentTTS(stages.tts, context),
        **options,
    )


class ShopAgent(Agent):
    def __init__(self, turns: DialogueTurns, greet: bool = True) -> None:
        super().__init__(instructions=INSTRUCTIONS)
        self._turns = turns
        self._greet = greet

    async def on_enter(self) -> None:
        self.session.on("speech_created", self._watch_speech)
        if self._greet:
            self.session.generate_reply()

    def _watch_speech(self, event: SpeechCreatedEvent) -> None:
        event.speech_handle.add_done_callback(self._after_speech)

    def _after_speech(self, handle: SpeechHandle) -> None:
        # the goodbye was spoken (or cut off by the caller, whose words the ended dialogue
        # would not answer): the session ends
        if self._turns.context.end_call:
            logger.info("the dialogue ended the call")
            self.session.shutdown(drain=True)
