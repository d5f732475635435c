"""The benchmark's WebRTC caller: an aiortc client that records what it sent and what it heard.

`webrtc_call(url)` places one call and yields a `WebRtcCall`: its `Microphone` paces the
caller's speech onto the line at 48 kHz (as a browser sends), and every packet of the agent's
audio is decoded the moment it arrives (`ArrivalTap`, standing in for aiortc's receive jitter
buffer, which would hold 80 ms) into a `HeardPacket` of the call's `CallRecording`. Both sides
are timed on `time.monotonic()`.

Two signaling dialects:
- `voice-agent`: POST `{url}/webrtc/offer` (url is the agent's base URL), with `?lang=de` when
  the call hints its language (as the web page does); the caller also opens the "events" data
  channel and keeps the agent's per-turn `latency` marks;
- `generic`: POST the offer to `url` exactly as given (e.g. Pipecat SmallWebRTC's
  `/api/offer`) and read `{"sdp", "type"}` from the answer; no data channel.

The caller offers 127.0.0.1 only (`use_loopback_only`, process-wide): the benchmark's targets
run on this machine, and the impairment relay (`relay_profile`) works on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import av
import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from av.audio.stream import AudioStream

from voice_agent.audio.frame import Int16Array
from voice_agent.bench.relay import (
    MediaRelay,
    Profile,
    loopback_host_candidate,
    rewrite_ice_candidates,
)
from voice_agent.bench.timeline import CallRecording, HeardPacket, Microphone, StageMarks
from voice_agent.jsontext import JsonTextError, parse_json_text
from voice_agent.transport.webrtc import (
    OPUS_RATE,
    OpusPacketEncoder,
    _tap_receiver,
    use_loopback_only,
)

SIGNALING = ("voice-agent", "generic")
"""The signaling dialects (see the module's docstring)."""
CONNECT_TIMEOUT_S = 15.0
"""Offer to media flowing (ICE and DTLS connected); longer means the target is not answering."""
_RTP_TIMESTAMP_SPAN = 1 << 32


class WebRtcCallError(RuntimeError):
    """The call could not be placed: the offer was refused, or media never flowed."""


# --- the line, both ways -------------------------------------------------------------------


class ArrivalTap(JitterBuffer):
    """Stands in for aiortc's audio jitter buffer: decodes each Opus packet as it arrives.

    Each packet becomes a `HeardPacket` stamped with its arrival time and its media time (the
    RTP timestamp, unwrapped, from the first packet). A lost packet leaves a gap in media time;
    a duplicate is dropped; a reordered one is kept (a playout buffer would still place it).
    Returning no frame keeps aiortc's own buffered decoder idle."""

    def __init__(
        self, on_packet: Callable[[HeardPacket], None], now: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(capacity=16)
        self._on_packet = on_packet
        self._now = now
        decoder = av.CodecContext.create("libopus", "r")
        decoder.sample_rate = OPUS_RATE
        decoder.layout = "mono"  # libopus downmixes a stereo sender
        decoder.format = "s16"
        self._decoder = decoder
        # a sender's RTP timestamps start anywhere: media time counts from the first packet
        self._last_timestamp: int | None = None
        self._unwrapped = 0  # the last timestamp's distance from the first, unwrapped
        self._seen: set[int] = set()

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        arrived = self._now()
        media = self._media_samples(packet.timestamp)
        if media in self._seen or not packet.payload:
            return False, None
        self._seen.add(media)
        samples = self._decode(packet.payload)
        if samples is not None:
            self._on_packet(HeardPacket(arrived, media / OPUS_RATE, samples, OPUS_RATE))
        return False, None

    def _media_samples(self, timestamp: int) -> int:
        """The packet's RTP timestamp as a distance from the first packet's, unwrapped."""
        if self._last_timestamp is None:
            self._last_timestamp = timestamp
            return 0
        step = (timestamp - self._last_timestamp) % _RTP_TIMESTAMP_SPAN
        if step >= _RTP_TIMESTAMP_SPAN // 2:
            return self._unwrapped + step - _RTP_TIMESTAMP_SPAN  # an older (reordered) packet
        self._last_timestamp = timestamp
        self._unwrapped += step
        return self._unwrapped

    def _decode(self, payload: bytes) -> Int16Array | None:
        try:
            frames = self._decoder.decode(av.Packet(payload))
        except av.FFmpegError:
            return None  # an undecodable packet is as good as lost
        parts = [frame.to_ndarray().reshape(-1) for frame in frames]
        return np.concatenate(parts).astype(np.int16) if parts else None


def tap_on_arrival(
    transceiver: RTCRtpTransceiver, on_packet: Callable[[HeardPacket], None]
) -> ArrivalTap:
    """Decode the transceiver's incoming audio on arrival, with Opus as its only codec."""
    transceiver.setCodecPreferences(
        [
            codec
            for codec in RTCRtpSender.getCapabilities("audio").codecs
            if codec.mimeType.lower() == "audio/opus"
        ]
    )
    tap = ArrivalTap(on_packet)
    _tap_receiver(transceiver.receiver, tap)
    return tap


CALLER_BITRATE = 32_000


def opus_encoder(rate: int = OPUS_RATE) -> OpusPacketEncoder:
    """The instrument's encoder: Opus "lowdelay" (2.5 ms algorithmic delay, where aiortc's own
    "voip" stereo encoder adds ~7 ms per direction), packets sent as they are."""
    return OpusPacketEncoder(rate, CALLER_BITRATE, "lowdelay")


class MicrophoneTrack(MediaStreamTrack):
    """The caller's voice: each 20 ms frame is the Microphone's when it is due.

    The Microphone records a frame as sent when it hands it over; it is encoded here and aiortc
    sends the packet at once. 48 kHz, as a browser sends."""

    kind = "audio"

    def __init__(self, microphone: Microphone) -> None:
        super().__init__()
        if microphone.rate != OPUS_RATE:
            raise ValueError(f"the microphone must run at {OPUS_RATE} Hz")
        self._microphone = microphone
        self._encoder = opus_encoder()
        self._frames = 0

    async def recv(self) -> av.Packet[AudioStream]:
        if self.readyState != "live":
            raise MediaStreamError
        samples = await self._microphone.next_frame()
        self._frames += 1
        return self._encoder.encode(samples, self._frames - 1)


# --- signaling -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    sdp: str
    call_id: str | None = None
    """The agent's id for the call (voice-agent dialect only)."""


def offer_endpoint(url: str, signaling: str, language: str | None = None) -> str:
    """Where the offer goes. Our dialect carries a language hint as the web page sends it
    (`?lang=de`); a generic agent takes no hint (`language` must then be None)."""
    if signaling != "voice-agent":
        if language is not None:
            raise ValueError(f"the {signaling} signaling carries no language hint")
        return url
    endpoint = f"{url.rstrip('/')}/webrtc/offer"
    return f"{endpoint}?{urlencode({'lang': language})}" if language else endpoint


async def offer_answer(
    url: str, offer_sdp: str, signaling: str, language: str | None = None
) -> Answer:
    """POST the offer in the dialect's shape (with the language hint, if any); the SDP answer,
    or a WebRtcCallError saying why there is none."""
    endpoint = offer_endpoint(url, signaling, language)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(endpoint, json={"type": "offer", "sdp": offer_sdp}) as response,
        ):
            status, text = response.status, await response.text()
    except aiohttp.ClientError as error:
        raise WebRtcCallError(f"could not send the offer to {endpoint}: {error}") from None
    if status != 200:
        raise WebRtcCallError(f"{endpoint} refused the offer: HTTP {status}: {text[:300]}")
    try:
        document = parse_json_text(text)
    except JsonTextError:
        document = None
    if (
        not isinstance(document, dict)
        or document.get("type") != "answer"
        or not isinstance(document.get("sdp"), str)
    ):
        raise WebRtcCallError(
            f'{endpoint} answered HTTP {status} without a JSON {{"type": "answer", "sdp": ...}}: '
            f"{text[:300]}"
        )
    call_id = document.get("call_id")
    return Answer(document["sdp"], str(call_id) if call_id is not None else None)


# --- one call ------------------------------------------------------------------------------


class WebRtcCall:
    """One call in progress: what it sent and heard so far, and its microphone."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self.pc = pc
        self.recording = CallRecording()
        self.microphone = Microphone.real_time(OPUS_RATE, self.recording)
        self.ended = asyncio.Event()
        """Set when the connection failed or closed (the far end hung up, or we did)."""
        self.events: list[dict[str, Any]] = []
        """The agent's call events, as they arrived on the data channel (voice-agent)."""
        self.call_id: str | None = None
        self.relay: MediaRelay | None = None
        self.channel: RTCDataChannel | None = None
        self.connected = asyncio.Event()
        pc.on("connectionstatechange", self._on_connection_state)

    def relay_stats(self) -> dict[str, float] | None:
        """What the impairment relay did to the media, each way (None without one)."""
        return self.relay.stats().as_dict() if self.relay is not None else None

    def vanish(self) -> None:
        """Gone without a word, as a browser tab whose network dropped: the media path (the
        impairment relay) is cut and no goodbye goes on the data channel, so the agent finds
        out from its media timeout. Without a relay the connection's close still reaches it."""
        if self.relay is not None:
            self.relay.close()
        self.channel = None
        if self.recording.ended_at is None:
            self.recording.ended_at = time.monotonic()

    def open_events_channel(self) -> None:
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("message", self._on_message)

    def _on_message(self, message: object) -> None:
        if not isinstance(message, str):
            return
        with contextlib.suppress(JsonTextError):
            event = parse_json_text(message)
            if isinstance(event, dict):
                self.events.append(event)
                if event.get("type") == "latency" and isinstance(event.get("marks_ms"), dict):
                    marks = StageMarks(time.monotonic(), dict(event["marks_ms"]))
                    self.recording.stage_marks.append(marks)

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected.set()
        elif state in ("failed", "closed"):
            self.ended.set()

    async def hang_up(self) -> None:
        """Say goodbye on the data channel (where there is one) and close the connection.

        The call ends once the connection is closed: the microphone may hand aiortc a last
        frame while it closes."""
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps({"type": "hangup"}))
        await self.pc.close()
        if self.recording.ended_at is None:
            self.recording.ended_at = time.monotonic()
        if self.relay is not None:
            self.relay.close()


@contextlib.asynccontextmanager
async def webrtc_call(
    url: str,
    signaling: str = "voice-agent",
    relay_profile: Profile | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    language: str | None = None,
) -> AsyncIterator[WebRtcCall]:
    """Call the agent at `url` and yield the call once media flows; hang up on exit.

    With an impaired `relay_profile`, the media goes through a `MediaRelay` on loopback that
    loses and delays packets as the profile says. `language` is the hint the offer carries
    (ours only: the web page's language, e.g. "de"); None leaves the agent to identify it."""
    if signaling not in SIGNALING:
        raise ValueError(f"signaling must be one of {', '.join(SIGNALING)}, not {signaling!r}")
    endpoint = offer_endpoint(url, signaling, language)  # a hint it cannot carry fails here
    use_loopback_only()
    # no STUN server: the caller offers its loopback address only
    call = WebRtcCall(RTCPeerConnection(RTCConfiguration(iceServers=[])))
    try:
        transceiver = call.pc.addTransceiver(MicrophoneTrack(call.microphone), "sendrecv")
        tap_on_arrival(transceiver, call.recording.heard.append)
        if signaling == "voice-agent":
            call.open_events_channel()
        await _negotiate(call, url, signaling, relay_profile, language)
        await _until_connected(call, endpoint, connect_timeout_s)
        yield call
    finally:
        await call.hang_up()


async def _negotiate(
    call: WebRtcCall,
    url: str,
    signaling: str,
    relay_profile: Profile | None,
    language: str | None = None,
) -> None:
    await call.pc.setLocalDescription(await call.pc.createOffer())
    offer_sdp = call.pc.localDescription.sdp
    if relay_profile is not None and not _is_clean(relay_profile):
        # the relay sends the agent's media to the caller's own candidate, and the agent is
        # told the caller is at the relay
        caller = loopback_host_candidate(offer_sdp)
        call.relay = await MediaRelay.open(relay_profile, caller=caller, seed=0)
        offer_sdp, _ = rewrite_ice_candidates(offer_sdp, call.relay.agent_side)
    answer = await offer_answer(url, offer_sdp, signaling, language)
    call.call_id = answer.call_id
    answer_sdp = answer.sdp
    if call.relay is not None:
        answer_sdp, agent_address = rewrite_ice_candidates(answer_sdp, call.relay.caller_side)
        call.relay.set_agent(agent_address)
    await call.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))


def _is_clean(profile: Profile) -> bool:
    return profile.loss == 0 and profile.delay_ms == 0 and profile.jitter_ms == 0


async def _until_connected(call: WebRtcCall, endpoint: str, timeout_s: float) -> None:
    """Wait until ICE and DTLS are connected: the first packets can flow."""
    waiting = [asyncio.ensure_future(event.wait()) for event in (call.connected, call.ended)]
    try:
        await asyncio.wait(waiting, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()
    if not call.connected.is_set():
        raise WebRtcCallError(
            f"the call to {endpoint} was answered but media never flowed within {timeout_s:g} s "
            f"(connection {call.pc.connectionState}, ICE {call.pc.iceConnectionState})"
        )
