"""A call between an aiortc caller and the agent's WebRTC transport over 127.0.0.1 (fake stages)."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from typing import Any

import numpy as np

from tests.fakes.stages import EchoDialogue, EnergyVad, ScriptedAsr
from tests.transport.webrtc_support import (
    AiortcCaller,
    FakeAgent,
    agent_server,
    loopback_settings,
)
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts, CallTransport
from voice_agent.agent.session import CallSession
from voice_agent.audio.levels import rms_dbfs
from voice_agent.bench.voices import EspeakVoice
from voice_agent.settings import SessionSettings, Settings
from voice_agent.transport.webrtc import WebRtcCall, WebRtcGateway


def _tone_share(samples: np.ndarray, rate: int = 48_000, tone_hz: float = 300.0) -> float:
    """How much of the audio's energy sits at the fake TTS's tone."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = (freqs > tone_hz - 20) & (freqs < tone_hz + 20)
    return float(spectrum[band].sum() / max(spectrum.sum(), 1e-9))


def test_a_call_over_webrtc_carries_audio_both_ways_and_events_to_the_page() -> None:
    question = EspeakVoice("en-gb+f3").speak("Where is my order")
    agent = FakeAgent(ScriptedAsr({0.0: "bye", 1.0: "where is my order"}))

    async def scenario() -> None:
        async with agent_server(agent) as (base_url, gateway):
            caller = AiortcCaller()
            try:
                await caller.call(base_url)
                greeting = await caller.wait_for("agent_said")
                await caller.wait_for("agent_stopped")
                caller.mic.say(question)
                said = await caller.wait_for("caller_said")
                reply = await caller.wait_for("agent_said", count=2)
                latency = await caller.wait_for("latency")
                await caller.wait_for("agent_stopped", count=2)
                caller.channel.send(json.dumps({"type": "hangup"}))
                ended = await caller.wait_for("ended")
            finally:
                await caller.close()
            await _until_finished(gateway)
        assert greeting["text"] == "Hello. How can I help you today?"
        assert said["text"] == "where is my order"
        assert "where is my order" in reply["text"]
        assert "first_audio_sent" in latency["marks_ms"]
        assert ended["type"] == "ended"
        heard = caller.heard.samples()
        loud = heard[np.abs(heard) > 1000]
        assert len(loud) > 48_000 // 2, "the caller heard less than half a second of the agent"
        assert _tone_share(heard) > 0.5, "what the caller heard is not the agent's voice"
        assert rms_dbfs(heard) > -40
        stats = gateway.finished[0]
        assert stats.end_reason == "caller hung up"
        assert stats.packets_in > 50 and stats.frames_out > 50
        # the caller's words reached the session as audio long enough to be the question
        assert agent.asr.calls and max(d for d, _ in agent.asr.calls) >= 0.9 * question.duration

    asyncio.run(scenario())


async def _until_finished(gateway: WebRtcGateway) -> None:
    async with asyncio.timeout(20):
        await gateway.idle()


def test_a_caller_who_closes_the_connection_ends_the_call_and_frees_its_line() -> None:
    agent = FakeAgent(ScriptedAsr({0.0: "hello"}))
    settings = loopback_settings().model_copy(
        update={"session": SessionSettings(max_concurrent_calls=1)}
    )

    async def scenario() -> None:
        async with agent_server(agent, settings) as (base_url, gateway):
            first = AiortcCaller()
            await first.call(base_url)
            await first.wait_for("agent_said")
            await first.close()  # the tab is closed: DTLS says goodbye, nothing else
            await _until_finished(gateway)
            assert gateway.finished[0].end_reason == "connection closed"
            second = AiortcCaller()  # the line is free again
            try:
                await second.call(base_url)
                await second.wait_for("agent_said")
            finally:
                await second.close()

    asyncio.run(scenario())


def test_a_browser_that_goes_silent_without_a_word_is_hung_up_on() -> None:
    agent = FakeAgent(ScriptedAsr({0.0: "hello"}))
    settings = loopback_settings(media_timeout_s=1.0)

    async def scenario() -> None:
        async with agent_server(agent, settings) as (base_url, gateway):
            caller = AiortcCaller()
            try:
                await caller.call(base_url)
                await caller.wait_for("agent_said")
                caller.mic.stalled.set()
                await _until_finished(gateway)
            finally:
                await caller.close()
            assert gateway.finished[0].end_reason == "the browser stopped sending audio"
            assert not gateway.active

    asyncio.run(scenario())


def test_a_finished_call_releases_its_peer_connection_and_session() -> None:
    """A server runs for months: once a call has ended and the gateway is idle, the call's
    transport, its RTCPeerConnection and its session are garbage (only figures are kept)."""
    kept: list[weakref.ref[Any]] = []

    class Tracked(FakeAgent):
        async def run_call(
            self, transport: CallTransport, playout: Playout, caller_id: str
        ) -> None:
            assert isinstance(transport, WebRtcCall)
            parts = CallParts(
                transport, playout, EnergyVad(), self.asr, self.tts, EchoDialogue(), self.recorder
            )
            session = CallSession(Settings().session, parts, playout.clock)
            kept.extend(weakref.ref(o) for o in (transport, transport.pc, playout, session))
            await session.run()

    agent = Tracked(ScriptedAsr({0.0: "bye"}))

    async def scenario() -> None:
        async with agent_server(agent) as (base_url, gateway):
            caller = AiortcCaller()
            try:
                await caller.call(base_url)
                await caller.wait_for("agent_said")
                caller.channel.send(json.dumps({"type": "hangup"}))
                await caller.wait_for("ended")
            finally:
                await caller.close()
            await _until_finished(gateway)
            gc.collect()
            alive = [type(ref()).__name__ for ref in kept if ref() is not None]
            assert len(kept) == 4 and alive == [], f"kept after the call: {alive}"
            assert gateway.finished[0].end_reason == "caller hung up"

    asyncio.run(scenario())
