"""The calibration agent over real WebRTC: a `KnownDelayResponder` behind aiortc, on loopback.

It answers both signaling dialects the benchmark caller speaks (`POST /webrtc/offer`, as our
agent does, and `POST /api/offer`, as Pipecat's SmallWebRTC does). Each call gets its own
responder, which hears the caller's audio decoded as each packet arrives and is asked for each
outgoing 20 ms frame at the moment that frame is handed to aiortc (which encodes and sends it
at once). What the benchmark caller measures against it, minus the responder's delay, is what
the line and the instrument add.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.stream import AudioStream

from voice_agent.bench.responder import KnownDelayResponder
from voice_agent.bench.timeline import FRAME_S, HeardPacket
from voice_agent.bench.webrtc_caller import opus_encoder, tap_on_arrival
from voice_agent.jsontext import JsonTextError, parse_json_text
from voice_agent.transport.webrtc import OPUS_RATE, use_loopback_only

ResponderFactory = Callable[[], KnownDelayResponder]


class ResponderTrack(MediaStreamTrack):
    """The fake agent's voice: 20 ms frames paced in real time (start + n x 20 ms), each filled
    by the responder for the moment it is handed to aiortc."""

    kind = "audio"

    def __init__(self, responder: KnownDelayResponder) -> None:
        super().__init__()
        self._responder = responder
        self._frame = round(responder.rate * FRAME_S)
        self._started: float | None = None
        self._sent = 0
        self._encoder = opus_encoder(responder.rate)

    async def recv(self) -> av.Packet[AudioStream]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._started is None:
            self._started = time.monotonic()
        else:
            due = self._started + self._sent * FRAME_S
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        samples = self._responder.next_samples(time.monotonic(), self._frame)
        self._sent += 1
        return self._encoder.encode(samples, self._sent - 1)


@dataclass
class FakeWebRtcAgent:
    """The running fake: its base URL, and each call's responder (in call order)."""

    url: str
    responders: list[KnownDelayResponder] = field(default_factory=list)
    connections: set[RTCPeerConnection] = field(default_factory=set, repr=False)
    """The calls in progress (closed when the server stops)."""

    @property
    def generic_url(self) -> str:
        """The offer endpoint in the generic dialect (as Pipecat's SmallWebRTC serves it)."""
        return f"{self.url}/api/offer"


@contextlib.asynccontextmanager
async def fake_webrtc_agent(responder_factory: ResponderFactory) -> AsyncIterator[FakeWebRtcAgent]:
    """Serve the calibration agent on 127.0.0.1 (a free port) until the block ends."""
    use_loopback_only()
    agent = FakeWebRtcAgent("")
    web_app = web.Application()

    async def answer(request: web.Request) -> web.Response:
        return await _answer(request, agent, responder_factory)

    web_app.router.add_post("/webrtc/offer", answer)
    web_app.router.add_post("/api/offer", answer)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    agent.url = f"http://{host}:{port}"
    try:
        yield agent
    finally:
        for pc in list(agent.connections):
            await pc.close()
        await runner.cleanup()


async def _answer(
    request: web.Request, agent: FakeWebRtcAgent, responder_factory: ResponderFactory
) -> web.Response:
    try:
        offer = parse_json_text(await request.text())
    except JsonTextError as error:
        return web.json_response({"error": f"not JSON: {error}"}, status=400)
    if not isinstance(offer, dict) or offer.get("type") != "offer" or "sdp" not in offer:
        return web.json_response({"error": 'expected {"type": "offer", "sdp": ...}'}, status=400)
    responder = responder_factory()
    if responder.rate != OPUS_RATE:
        # the line runs at Opus's rate both ways: no resampler delay in the calibration
        raise ValueError(f"the responder must run at {OPUS_RATE} Hz, not {responder.rate}")
    agent.responders.append(responder)
    pc = await _connect(agent, responder, RTCSessionDescription(str(offer["sdp"]), "offer"))
    call_id = secrets.token_hex(8)
    body: dict[str, Any] = {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}
    body["call_id" if request.path == "/webrtc/offer" else "pc_id"] = call_id
    return web.json_response(body)


async def _connect(
    agent: FakeWebRtcAgent, responder: KnownDelayResponder, offer: RTCSessionDescription
) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    agent.connections.add(pc)

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            agent.connections.discard(pc)
            await pc.close()

    def heard(packet: HeardPacket) -> None:
        responder.heard(packet.at, packet.samples)

    # the transceiver exists before the offer is applied, so the offer's audio binds to it
    transceiver = pc.addTransceiver(ResponderTrack(responder), "sendrecv")
    tap_on_arrival(transceiver, heard)
    await pc.setRemoteDescription(offer)
    await pc.setLocalDescription(await pc.createAnswer())
    return pc
