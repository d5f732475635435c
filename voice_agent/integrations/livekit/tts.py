"""Our speech synthesis (stages/tts: Piper, espeak-ng where no Piper voice is packaged) as a
LiveKit TTS.

LiveKit's pipeline cuts the reply into sentences for a TTS that does not stream its input
(`TTSCapabilities.streaming=False`); each sentence is synthesized here clause by clause
(stages/tts/clauses.py) and its 16 kHz frames are handed on as each clause is ready, the next
clause synthesized while the current one plays. The voice is that of the language the dialogue
answered in (`CallContext.speaking`). Synthesis runs in the inference scheduler's SPEECH lane;
closing the LiveKit stream (an interruption) aborts the clause under way.
"""

from __future__ import annotations

import contextlib
from typing import Never

from livekit.agents import tts as lk_tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from livekit.agents.utils import shortuuid

from voice_agent.audio import PIPELINE_RATE
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.stages.tts import Tts


class VoiceAgentTTS(lk_tts.TTS[Never]):  # no events of its own
    def __init__(self, tts: Tts, context: CallContext | None = None, model: str = "piper") -> None:
        super().__init__(
            capabilities=lk_tts.TTSCapabilities(streaming=False),
            sample_rate=PIPELINE_RATE,
            num_channels=1,
        )
        self._stage = tts
        self._context = context if context is not None else CallContext()
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "voice_agent"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> VoiceAgentChunkedStream:
        return VoiceAgentChunkedStream(self, text, self._context.speaking, conn_options)


class VoiceAgentChunkedStream(lk_tts.ChunkedStream):
    def __init__(
        self, owner: VoiceAgentTTS, text: str, language: str, conn_options: APIConnectOptions
    ) -> None:
        self._stage = owner._stage
        self._language = language
        super().__init__(tts=owner, input_text=text, conn_options=conn_options)  # starts _run

    async def _run(self, output_emitter: lk_tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=shortuuid(),
            sample_rate=PIPELINE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        stream = self._stage.synthesize(self.input_text, self._language)
        async with contextlib.aclosing(stream) as frames:  # type: ignore[type-var]
            async for frame in frames:
                output_emitter.push(frame.samples.tobytes())
        output_emitter.flush()
