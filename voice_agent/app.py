"""Composition root: the only place that picks implementations from settings."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING

from voice_agent.agent.latency import LatencyMetrics
from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallTransport
from voice_agent.clock import Clock, RealClock
from voice_agent.models import ModelStore
from voice_agent.settings import Settings
from voice_agent.stages.asr import Asr
from voice_agent.stages.tts import Tts
from voice_agent.stages.vad import Vad

if TYPE_CHECKING:
    from voice_agent.agent.session import CallParts

logger = logging.getLogger(__name__)


class App:
    """Builds each component once, on first use; models are shared by every call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def models(self) -> ModelStore:
        return ModelStore(self.settings.models, self.settings.paths)

    @cached_property
    def inference_executor(self) -> ThreadPoolExecutor:
        # Blocking inference never runs on the event loop; one pool serves every stage.
        return ThreadPoolExecutor(max_workers=4, thread_name_prefix="inference")

    @cached_property
    def asr(self) -> Asr:
        from voice_agent.stages.asr.whisper import WhisperAsr

        return WhisperAsr(self.settings.asr, self.models, self.inference_executor)

    @cached_property
    def tts(self) -> Tts:
        from voice_agent.stages.tts.piper import PiperTts

        return PiperTts(self.settings.tts, self.models, self.inference_executor)

    def new_vad(self, rate: int) -> Vad:
        """A fresh VAD per call (it is stateful); the Silero model itself is shared."""
        from voice_agent.stages.vad.factory import create_vad

        return create_vad(self.settings.vad, self.models, rate)

    @cached_property
    def calls(self) -> CallLimiter:
        return CallLimiter(self.settings.session.max_concurrent_calls)

    @cached_property
    def latency_metrics(self) -> LatencyMetrics:
        return LatencyMetrics()

    @cached_property
    def clock(self) -> Clock:
        return RealClock()

    async def run_call(
        self, transport: CallTransport, playout: Playout, channel: str, caller_id: str
    ) -> None:
        """Run one call to its end on this transport (the caller holds a CallSlot)."""
        from voice_agent.agent.session import CallSession

        parts = self.call_parts(transport, playout, channel, caller_id)
        session = CallSession(self.settings.session, parts, playout.clock)
        await session.run()

    def call_parts(
        self, transport: CallTransport, playout: Playout, channel: str, caller_id: str
    ) -> CallParts:
        from voice_agent.agent.session import CallParts

        dialogue, recorder = self.conversation(channel, caller_id)
        return CallParts(
            transport=transport,
            playout=playout,
            vad=self.new_vad(playout.rate),
            asr=self.asr,
            tts=self.tts,
            dialogue=dialogue,
            recorder=recorder,
            metrics=self.latency_metrics,
        )

    def close(self) -> None:
        if "inference_executor" in self.__dict__:
            self.inference_executor.shutdown(wait=False, cancel_futures=True)
