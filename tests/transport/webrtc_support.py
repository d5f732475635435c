"""An aiortc caller and an in-process agent server (fake stages) for the WebRTC tests."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
import numpy as np
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame as AvAudioFrame

from tests.fakes.stages import EchoDialogue, EnergyVad, ListRecorder, ScriptedAsr, ToneTts
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts, CallTransport
from voice_agent.agent.session import CallSession
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.audio.resample import resample
from voice_agent.server import GATEWAY, build_web_app
from voice_agent.settings import Settings, WebRtcSettings
from voice_agent.transport.webrtc import WebRtcGateway

FRAME_S = 0.02


LINE_RATE = 48_000


class SpeechTrack(MediaStreamTrack):
    """A caller's microphone: silence, then each queued utterance, paced at 20 ms.

    It sends 48 kHz, as a browser does: aiortc's encoder resamples anything else with a
    frame-sized buffer that would add ~20 ms to every packet."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pending = np.zeros(0, dtype=np.int16)
        self._start: float | None = None
        self._sent = 0
        self.stalled = asyncio.Event()
        """Set: the microphone stops delivering (a frozen tab, a dropped network)."""
        self.sent: list[tuple[float, np.ndarray[Any, np.dtype[np.int16]]]] = []
        """(monotonic time handed to aiortc, the frame's samples)."""

    def say(self, audio: AudioFrame) -> None:
        self._pending = np.concatenate([self._pending, resample(audio, LINE_RATE).samples])

    @property
    def speaking(self) -> bool:
        return len(self._pending) > 0

    async def recv(self) -> AvAudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.stalled.is_set():
            await asyncio.Future()  # never delivers again
        samples = round(LINE_RATE * FRAME_S)
        if self._start is None:
            self._start = time.monotonic()
        else:
            await asyncio.sleep(max(0.0, self._start + self._sent * FRAME_S - time.monotonic()))
        chunk = np.zeros(samples, dtype=np.int16)
        take = min(samples, len(self._pending))
        chunk[:take] = self._pending[:take]
        self._pending = self._pending[take:]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = LINE_RATE
        frame.pts = self._sent * samples
        frame.time_base = fractions.Fraction(1, LINE_RATE)
        self.sent.append((time.monotonic(), chunk))
        self._sent += 1
        return frame


@dataclass
class HeardAudio:
    """The agent's audio as the caller received it (mono, 48 kHz), with arrival times."""

    chunks: list[np.ndarray[Any, np.dtype[np.int16]]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)

    def samples(self) -> np.ndarray[Any, np.dtype[np.int16]]:
        if not self.chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self.chunks)


class AiortcCaller:
    """A browser stand-in: microphone track, data channel for events, the agent's audio."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.mic = SpeechTrack()
        self.events: list[dict[str, Any]] = []
        self.heard = HeardAudio()
        self.event_arrived = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("message", self._on_message)
        self.pc.addTransceiver(self.mic, direction="sendrecv")
        self.pc.on("track", self._on_track)
        self.call_id = ""

    def _on_message(self, message: object) -> None:
        if isinstance(message, str):
            self.events.append(json.loads(message))
            self.event_arrived.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.create_task(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AvAudioFrame)
                stereo = frame.to_ndarray().reshape(-1, len(frame.layout.channels))
                self.heard.chunks.append(stereo[:, 0].astype(np.int16))
                self.heard.arrived.append(time.monotonic())

    async def offer(self) -> dict[str, str]:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return {"type": "offer", "sdp": self.pc.localDescription.sdp}

    async def call(self, base_url: str) -> None:
        async with aiohttp.ClientSession() as http:
            response = await http.post(f"{base_url}/webrtc/offer", json=await self.offer())
            body = await response.json()
            if response.status != 200:
                raise RuntimeError(f"offer refused ({response.status}): {body}")
        self.call_id = body["call_id"]
        await self.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))

    async def wait_for(self, kind: str, count: int = 1, limit_s: float = 20.0) -> dict[str, Any]:
        """The `count`-th event of this type (waiting for it to arrive)."""
        async with asyncio.timeout(limit_s):
            while True:
                matching = [event for event in self.events if event["type"] == kind]
                if len(matching) >= count:
                    return matching[count - 1]
                self.event_arrived.clear()
                await self.event_arrived.wait()

    def texts(self, kind: str) -> list[str]:
        return [str(event["text"]) for event in self.events if event["type"] == kind]

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        for reader in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await reader


@dataclass
class FakeAgent:
    """The fake stages of one call (kept for assertions)."""

    asr: ScriptedAsr
    tts: ToneTts = field(default_factory=ToneTts)
    recorder: ListRecorder = field(default_factory=ListRecorder)
    transports: list[CallTransport] = field(default_factory=list)

    async def run_call(self, transport: CallTransport, playout: Playout, caller_id: str) -> None:
        self.transports.append(transport)
        parts = CallParts(
            transport, playout, EnergyVad(), self.asr, self.tts, EchoDialogue(), self.recorder
        )
        await CallSession(Settings().session, parts, playout.clock).run()


def loopback_settings(**webrtc: Any) -> Settings:
    return Settings(webrtc=WebRtcSettings(loopback_only=True, **webrtc))


@contextlib.asynccontextmanager
async def agent_server(
    agent: FakeAgent, settings: Settings | None = None
) -> AsyncIterator[tuple[str, WebRtcGateway]]:
    """The real web app on 127.0.0.1 (a free port), its calls run on fake stages."""
    app = App(settings or loopback_settings())
    web_app = build_web_app(app, run_call=agent.run_call)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", web_app[GATEWAY]
    finally:
        await runner.cleanup()
