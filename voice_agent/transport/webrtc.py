"""Web calls over WebRTC: HTTP signaling, Opus in and out, call events over a data channel.

The only module that imports aiortc. One browser call is one `WebRtcCall` (a CallTransport).

Latency, both ways, is kept to the codec and the network:
- in: aiortc's audio receiver holds 4 packets (80 ms) in its jitter buffer before decoding,
  plus one more until the next packet proves a frame complete, then hands frames to a
  decoder thread. Here the receiver's jitter buffer is replaced by `_OpusTap`, which decodes
  each packet as it arrives (late packets are dropped, lost ones become silence: the caller's
  audio feeds speech recognition, not a loudspeaker, so there is nothing to smooth).
  48 -> 16 kHz goes through libswresample (1 ms of delay, steady 320 samples per packet),
  not soxr's stream (which releases its output in 10-20 ms bursts).
- out: `_LineTrack` reads 20 ms from the session's Playout when the packet is due and
  encodes it with Opus at 16 kHz on the spot (no resampling, no queue, no executor hop);
  aiortc's sender puts it on the wire at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aioice.ice
import av
import numpy as np
from aiohttp import web
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from aiortc.sdp import MediaDescription, SessionDescription
from av.audio.stream import AudioStream

from voice_agent.agent.events import CallEvent, TurnState
from voice_agent.agent.limits import CallLimiter, CallSlot
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallTransport, DtmfInput
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.clock import Clock
from voice_agent.jsontext import JsonTextError, parse_json_text
from voice_agent.languages import language_of_tag
from voice_agent.protocol.ids import random_hex_id
from voice_agent.settings import WebRtcSettings

logger = logging.getLogger(__name__)

FRAME_S = 0.02
FRAME_SAMPLES = round(PIPELINE_RATE * FRAME_S)
OPUS_RATE = 48_000
_MAX_FILLED_GAP_PACKETS = 5
"""Lost packets up to this many become silence; a longer gap re-anchors the timeline."""
_TIMELINE_SLACK_S = 0.1
_LATE_RESET_S = 0.1
"""The sender fell this far behind its schedule (a stalled loop): start a new schedule."""
_WATCH_EVERY_S = 0.25
_INPUT_QUEUE_FRAMES = 500
_FINISHED_KEPT = 20

CallRunner = Callable[[CallTransport, Playout, str], Awaitable[None]]
"""Runs one call's session on a transport until it ends: (transport, playout, caller id)."""


class SignalingError(Exception):
    """An offer refused: the HTTP status and a message for whoever sent it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- signaling -----------------------------------------------------------------------------


def validate_offer(body: bytes, max_sdp_bytes: int) -> RTCSessionDescription:
    """The offer in a signaling request, or a SignalingError saying what is wrong with it."""
    try:
        document = parse_json_text(body.decode("utf-8"))
    except (UnicodeDecodeError, JsonTextError) as error:
        raise SignalingError(400, f"the request body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise SignalingError(400, 'expected a JSON object: {"type": "offer", "sdp": "..."}')
    if document.get("type") != "offer":
        raise SignalingError(400, f'"type" must be "offer", got {document.get("type")!r}')
    sdp = document.get("sdp")
    if not isinstance(sdp, str) or not sdp.strip():
        raise SignalingError(400, '"sdp" must be a non-empty string')
    size = len(sdp.encode("utf-8"))
    if size > max_sdp_bytes:
        raise SignalingError(413, f"the SDP is {size} bytes; at most {max_sdp_bytes} are accepted")
    if not sdp.lstrip().startswith("v=0"):
        raise SignalingError(400, "the offer is not SDP (it must begin with v=0)")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as error:  # aiortc's parser asserts and raises what it meets
        raise SignalingError(400, f"malformed SDP: {type(error).__name__} {error}") from None
    _check_media(parsed)
    return RTCSessionDescription(sdp=sdp, type="offer")


def page_command(message: object) -> str | None:
    """The command in a data-channel message from the page ("hangup"), or None for anything
    else (binary, not JSON, not a command we know): the page's messages are never trusted."""
    if not isinstance(message, str):
        return None
    try:
        command = parse_json_text(message)
    except JsonTextError:
        logger.debug("ignoring a non-JSON message from the page")
        return None
    if isinstance(command, dict) and command.get("type") == "hangup":
        return "hangup"
    return None


def _check_media(parsed: SessionDescription) -> None:
    kinds = [media.kind for media in parsed.media]
    unsupported = sorted({kind for kind in kinds if kind not in ("audio", "application")})
    if unsupported:
        raise SignalingError(
            400, f"only audio and a data channel are accepted; the offer has {unsupported}"
        )
    audio = [media for media in parsed.media if media.kind == "audio"]
    if not audio:
        raise SignalingError(400, "the offer has no audio m-line: add the microphone track")
    if len(audio) > 1:
        raise SignalingError(400, f"the offer has {len(audio)} audio m-lines; one is accepted")
    media = audio[0]
    names = [codec.mimeType.split("/")[-1] for codec in media.rtp.codecs]
    opus = [codec for codec in media.rtp.codecs if codec.mimeType.lower() == "audio/opus"]
    if not opus:
        offered = ", ".join(names) or "none"
        raise SignalingError(415, f"the offer's audio has no Opus codec (offered: {offered})")
    if not any(codec.clockRate == OPUS_RATE and codec.channels == 2 for codec in opus):
        raise SignalingError(415, "the offer's Opus is not opus/48000/2 (a=rtpmap)")
    if media.direction is None:
        raise SignalingError(400, "the offer's audio has no direction (a=sendrecv)")
    if media.direction in ("recvonly", "inactive"):
        raise SignalingError(
            400, f"the offer's audio is {media.direction}: the microphone must send audio"
        )
    if not media.rtcp_mux:
        raise SignalingError(400, "the offer's audio does not multiplex RTCP (a=rtcp-mux)")
    for each in parsed.media:
        _check_transport(each)
    mids = {each.rtp.muxId for each in parsed.media}
    for group in parsed.group:
        unknown = [str(mid) for mid in group.items if str(mid) not in mids]
        if unknown:
            raise SignalingError(
                400, f"the offer's a=group:{group.semantic} names no m-line's a=mid: {unknown}"
            )


def _check_transport(media: MediaDescription) -> None:
    """What every m-line needs for aiortc to answer it (else it fails with its internals:
    "'NoneType' object has no attribute 'role'" tells a browser's developer nothing)."""
    where = f"the offer's {media.kind} m-line"
    if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
        raise SignalingError(400, f"{where} has no ICE credentials (a=ice-ufrag, a=ice-pwd)")
    if media.dtls is None:
        raise SignalingError(400, f"{where} has no DTLS role (a=setup:actpass)")
    if not media.dtls.fingerprints:
        raise SignalingError(400, f"{where} has no DTLS fingerprint (a=fingerprint)")
    if not media.rtp.muxId:
        raise SignalingError(400, f"{where} has no media id (a=mid)")
    if media.msid is not None and " " in media.msid and len(media.msid.split()) != 2:
        raise SignalingError(400, f"{where}'s a=msid is not a stream id and a track id")


def use_loopback_only() -> None:
    """Make aioice offer 127.0.0.1 (which it skips by default) and nothing else.

    Process-wide: call it before any peer connection is made, and only where loopback-only is
    configured (tests, a browser on this machine)."""

    def loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []

    aioice.ice.get_host_addresses = loopback_addresses


def ice_configuration(settings: WebRtcSettings) -> RTCConfiguration:
    """The agent's ICE servers: exactly those configured. An empty list stays empty (host
    candidates only): aiortc would take None as "ask Google's public STUN server", a network
    contact nobody configured, and a stall of seconds per offer where DNS does not answer."""
    servers = [
        RTCIceServer(urls=list(server.urls), username=server.username, credential=server.credential)
        for server in settings.ice_servers
    ]
    return RTCConfiguration(iceServers=servers)


def browser_ice_servers(settings: WebRtcSettings) -> list[dict[str, Any]]:
    """The same servers in the browser's RTCIceServer shape (for the page)."""
    servers: list[dict[str, Any]] = []
    for server in settings.ice_servers:
        entry: dict[str, Any] = {"urls": list(server.urls)}
        if server.username is not None:
            entry["username"] = server.username
        if server.credential is not None:
            entry["credential"] = server.credential
        servers.append(entry)
    return servers


# --- audio in ------------------------------------------------------------------------------


class _InputTimeline:
    """Cuts the caller's decoded audio into 20 ms frames stamped with session Clock times.

    Frames follow each other without gaps or overlaps, anchored so that audio ends when it
    arrived; the anchor moves when arrivals drift from it (a stall, a sender's clock)."""

    def __init__(self, clock: Clock, deliver: Callable[[AudioFrame], None]) -> None:
        self._clock = clock
        self._deliver = deliver
        self._pending = np.zeros(0, dtype=np.int16)
        self._next_at: float | None = None

    def add(self, samples: Int16Array) -> None:
        arrival = self._clock.now()
        if self._next_at is None and len(samples) % FRAME_SAMPLES:
            # The resampler holds back ~1 ms at first; padding the start keeps frame edges on
            # packet edges, or each frame would wait ~19 ms for the next packet's first samples.
            pad = FRAME_SAMPLES - len(samples) % FRAME_SAMPLES
            samples = np.concatenate([np.zeros(pad, dtype=np.int16), samples])
        self._pending = np.concatenate([self._pending, samples])
        # the pending audio ends when it arrived: that puts its start here
        starts_at = arrival - len(self._pending) / PIPELINE_RATE
        if self._next_at is None or abs(self._next_at - starts_at) > _TIMELINE_SLACK_S:
            self._next_at = starts_at
        while len(self._pending) >= FRAME_SAMPLES:
            chunk, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
            self._deliver(AudioFrame(chunk.copy(), PIPELINE_RATE, self._next_at))
            self._next_at += FRAME_S


class _OpusTap(JitterBuffer):
    """Stands in for aiortc's audio jitter buffer: decodes each Opus packet as it arrives.

    aiortc calls `add()` with every depayloaded packet; returning no frame keeps aiortc's
    own (buffered) decoder idle."""

    def __init__(self, on_audio: Callable[[Int16Array], None], clock: Clock) -> None:
        super().__init__(capacity=16)
        self._clock = clock
        self.decode_s = 0.0
        self._on_audio = on_audio
        decoder = av.CodecContext.create("libopus", "r")
        decoder.sample_rate = OPUS_RATE
        decoder.layout = "mono"
        decoder.format = "s16"
        self._decoder = decoder
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=PIPELINE_RATE)
        self._last_sequence: int | None = None
        self.packets = 0
        self.lost = 0
        self.late = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if self._last_sequence is not None:
            step = (packet.sequence_number - self._last_sequence) % 65536
            if step == 0 or step >= 32768:
                self.late += 1
                return False, None  # a duplicate or a packet whose moment has passed
            if 1 < step <= _MAX_FILLED_GAP_PACKETS + 1:
                self.lost += step - 1
                self._on_audio(np.zeros((step - 1) * FRAME_SAMPLES, dtype=np.int16))
        self._last_sequence = packet.sequence_number
        self.packets += 1
        started = self._clock.now()
        samples = self._decode(packet.payload)
        self.decode_s += self._clock.now() - started
        if samples is not None and len(samples):
            self._on_audio(samples)
        return False, None

    def _decode(self, payload: bytes) -> Int16Array | None:
        if not payload:
            return None
        try:
            decoded = self._decoder.decode(av.Packet(payload))
            parts = [
                out.to_ndarray().reshape(-1)
                for frame in decoded
                for out in self._resampler.resample(frame)
            ]
        except av.FFmpegError as error:
            logger.debug("undecodable Opus packet: %s", error)
            return None
        if not parts:
            return None
        return np.concatenate(parts).astype(np.int16)


def _tap_receiver(receiver: RTCRtpReceiver, tap: JitterBuffer) -> None:
    """Put `tap` where aiortc keeps the receiver's jitter buffer (any decode-on-arrival tap:
    this one, or the benchmark caller's)."""
    attribute = "_RTCRtpReceiver__jitter_buffer"
    if not isinstance(getattr(receiver, attribute, None), JitterBuffer):
        raise RuntimeError("aiortc's receiver changed: this module is written for aiortc 1.16")
    setattr(receiver, attribute, tap)


def check_aiortc_internals() -> None:
    """Fail at start-up, not in a call, if aiortc no longer has what `_OpusTap` replaces."""
    probe = RTCRtpReceiver.__init__
    if "_RTCRtpReceiver__jitter_buffer" not in probe.__code__.co_names:
        raise RuntimeError("aiortc's receiver changed: this module is written for aiortc 1.16")


# --- audio out -----------------------------------------------------------------------------


class _LineTrack(MediaStreamTrack):
    """The agent's voice: 20 ms read from the Playout when each packet is due, Opus-encoded."""

    kind = "audio"

    def __init__(self, playout: Playout, clock: Clock, bitrate: int) -> None:
        super().__init__()
        if playout.rate != PIPELINE_RATE:
            raise ValueError(f"the line expects a {PIPELINE_RATE} Hz playout")
        self._playout = playout
        self._clock = clock
        self._encoder = OpusPacketEncoder(PIPELINE_RATE, bitrate, "voip")
        self._start: float | None = None
        self.sent = 0
        self.encode_s = 0.0
        """Time spent encoding, summed (for the latency report)."""
        self.late_ms: list[float] = []
        """Per packet: how late its 20 ms were read against the schedule (a busy loop)."""

    async def recv(self) -> av.Packet[AudioStream]:
        if self.readyState != "live":
            raise MediaStreamError
        await self._wait_until_due()
        frame = self._playout.read(FRAME_SAMPLES)
        started = self._clock.now()
        packet = self._encode(frame.samples)
        self.encode_s += self._clock.now() - started
        return packet

    async def _wait_until_due(self) -> None:
        now = self._clock.now()
        if self._start is None:
            self._start = now
            return
        due = self._start + self.sent * FRAME_S
        if due > now:
            await self._clock.sleep(due - now)
        elif now - due > _LATE_RESET_S:
            self._start = now - self.sent * FRAME_S
        self.late_ms.append(max(0.0, (self._clock.now() - due) * 1000))

    def _encode(self, samples: Int16Array) -> av.Packet[AudioStream]:
        packet = self._encoder.encode(samples, self.sent)
        self.sent += 1
        return packet


class OpusPacketEncoder:
    """20 ms of mono audio -> one Opus packet that aiortc sends as it is (no second encoder).

    `application`: "voip" for speech quality (the agent), "lowdelay" for the least algorithmic
    delay (2.5 ms; the benchmark caller, so the instrument adds as little as it can)."""

    def __init__(self, rate: int, bitrate: int, application: str) -> None:
        encoder = av.CodecContext.create("libopus", "w")
        encoder.sample_rate = rate
        encoder.layout = "mono"
        encoder.format = "s16"
        encoder.bit_rate = bitrate
        encoder.time_base = fractions.Fraction(1, rate)
        encoder.options = {"application": application}
        self._encoder = encoder
        self._rate = rate

    def encode(self, samples: Int16Array, index: int) -> av.Packet[AudioStream]:
        """The packet of the `index`-th 20 ms frame."""
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._rate
        frame.pts = index * len(samples)
        frame.time_base = fractions.Fraction(1, self._rate)
        packets = self._encoder.encode(frame)
        # libopus returns one packet per 20 ms frame; its pts carries the encoder's delay, so
        # the RTP timestamp is set from our own count (aiortc converts it to 48 kHz units).
        if len(packets) != 1:
            raise RuntimeError(f"Opus gave {len(packets)} packets for one 20 ms frame")
        packet = packets[0]
        packet.pts = index * len(samples)
        packet.time_base = fractions.Fraction(1, self._rate)
        return packet


# --- one call ------------------------------------------------------------------------------


def event_message(event: CallEvent, started: float) -> dict[str, Any]:
    """A call event as the page reads it: {"type": ..., "at": seconds into the call, ...}."""
    body: dict[str, Any] = {}
    for key, value in asdict(event).items():
        if isinstance(value, TurnState):
            value = value.value
        elif key in ("at", "onset"):
            value = round(value - started, 3)
        body[key] = value
    return {"type": _EVENT_TYPES[type(event).__name__], **body}


_EVENT_TYPES = {
    "StateChanged": "state",
    "CallerHeard": "caller_heard",
    "CallerSaid": "caller_said",
    "AgentSaid": "agent_said",
    "BargeIn": "barge_in",
    "BargeInResolved": "barge_in_resolved",
    "AgentStopped": "agent_stopped",
    "TurnLatency": "latency",
    "CallEnded": "ended",
}


@dataclass(slots=True)
class CallStats:
    """What the transport saw of one call (logged at its end, read by benchmarks)."""

    packets_in: int = 0
    lost_in: int = 0
    late_in: int = 0
    frames_out: int = 0
    decode_ms_mean: float = 0.0
    encode_ms_mean: float = 0.0
    end_reason: str = ""
    handoff_ms: list[float] = field(default_factory=list)
    """Per input frame: from its last packet's arrival to the session taking it."""
    send_late_ms: list[float] = field(default_factory=list)
    """Per output packet: how late it was read against its 20 ms schedule."""


class WebRtcCall:
    """One browser call: the CallTransport the session runs on."""

    def __init__(
        self,
        call_id: str,
        pc: RTCPeerConnection,
        playout: Playout,
        clock: Clock,
        settings: WebRtcSettings,
    ) -> None:
        self.call_id = call_id
        self.pc = pc
        self.language_hint: str | None = None
        """The language the caller's page is in, if it said."""
        self.playout = playout
        self._clock = clock
        self._settings = settings
        self._frames: asyncio.Queue[tuple[AudioFrame, float] | None] = asyncio.Queue()
        self._timeline = _InputTimeline(clock, self._deliver)
        self.tap = _OpusTap(self._timeline.add, clock)
        self.line = _LineTrack(playout, clock, settings.opus_bitrate)
        self._channel: RTCDataChannel | None = None
        self._unsent: list[str] = []
        self._created = clock.now()
        self._media_since: float | None = None
        self._last_audio = self._created
        self.ended: str | None = None
        self.stats = CallStats()
        self.slot: CallSlot | None = None
        """The line this call holds: free again the moment the call ends, not once its
        session has stored its turns and wound down."""

    # --- CallTransport ---------------------------------------------------------------------

    async def inputs(self) -> AsyncIterator[AudioFrame | DtmfInput]:
        watchdog = asyncio.create_task(self._watch())
        try:
            while (item := await self._frames.get()) is not None:
                frame, arrived = item
                self.stats.handoff_ms.append((self._clock.now() - arrived) * 1000)
                yield frame
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    def clear(self) -> None:
        """Nothing is queued below the Playout: the line reads it 20 ms at a time when each
        packet is due, so clearing the Playout already silences the next packet."""

    async def hang_up(self) -> None:
        self.end("agent hung up")

    def publish(self, event: CallEvent) -> None:
        self._send(json.dumps(event_message(event, self._created)))

    # --- life cycle ------------------------------------------------------------------------

    def end(self, reason: str) -> None:
        """End the call (idempotent): the session sees its inputs end."""
        if self.ended is None:
            self.ended = reason
            self.stats.end_reason = reason
            logger.info("web call %s ends: %s", self.call_id, reason)
            self._frames.put_nowait(None)
            if self.slot is not None:
                self.slot.release()

    def attach_channel(self, channel: RTCDataChannel) -> None:
        self._channel = channel

        @channel.on("open")
        def flush() -> None:
            self._flush()

        @channel.on("message")
        def on_message(message: object) -> None:
            self._on_page_message(message)

        if channel.readyState == "open":
            self._flush()

    def on_connection_state(self, state: str) -> None:
        if state in ("failed", "closed"):
            self.end(f"connection {state}")

    def _deliver(self, frame: AudioFrame) -> None:
        now = self._clock.now()
        if self._media_since is None:
            self._media_since = now
        self._last_audio = now
        if self.ended is not None:
            return
        if self._frames.qsize() >= _INPUT_QUEUE_FRAMES:
            return  # the session is not reading: the call is ending anyway
        self._frames.put_nowait((frame, now))

    async def _watch(self) -> None:
        settings = self._settings
        while self.ended is None:
            await self._clock.sleep(_WATCH_EVERY_S)
            now = self._clock.now()
            if self._media_since is None:
                if now - self._created > settings.connect_timeout_s:
                    self.end("no audio from the browser: connection timed out")
            elif now - self._last_audio > settings.media_timeout_s:
                self.end("the browser stopped sending audio")
            elif now - self._media_since > settings.max_call_s:
                self.end("call time limit reached")

    def _on_page_message(self, message: object) -> None:
        if page_command(message) == "hangup":
            self.end("caller hung up")

    def _send(self, text: str) -> None:
        channel = self._channel
        if channel is None or channel.readyState != "open":
            self._unsent.append(text)
            return
        self._flush()
        channel.send(text)

    def _flush(self) -> None:
        channel = self._channel
        if channel is None or channel.readyState != "open":
            return
        unsent, self._unsent = self._unsent, []
        for text in unsent:
            channel.send(text)

    def finish_stats(self) -> CallStats:
        self.stats.packets_in = self.tap.packets
        self.stats.lost_in = self.tap.lost
        self.stats.late_in = self.tap.late
        self.stats.frames_out = self.line.sent
        self.stats.send_late_ms = self.line.late_ms
        if self.line.sent:
            self.stats.encode_ms_mean = self.line.encode_s / self.line.sent * 1000
        if self.tap.packets:
            self.stats.decode_ms_mean = self.tap.decode_s / self.tap.packets * 1000
        return self.stats


# --- the gateway: offers in, calls out -----------------------------------------------------


class WebRtcGateway:
    """Answers the browser's offers and runs each call to its end."""

    def __init__(
        self,
        settings: WebRtcSettings,
        limiter: CallLimiter,
        clock: Clock,
        run_call: CallRunner,
    ) -> None:
        check_aiortc_internals()
        if settings.loopback_only:
            use_loopback_only()
        self._settings = settings
        self._limiter = limiter
        self._clock = clock
        self._run_call = run_call
        self._calls: dict[str, tuple[WebRtcCall, asyncio.Task[None]]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.finished: deque[CallStats] = deque(maxlen=_FINISHED_KEPT)
        """The last calls' figures (for tests, benchmarks and the log): bounded, as a server runs
        for months and each call's figures hold a number per packet."""

    @property
    def active(self) -> list[WebRtcCall]:
        return [call for call, _ in self._calls.values()]

    @property
    def limiter(self) -> CallLimiter:
        """The call limit its offers ask for a line (shared with the phone line)."""
        return self._limiter

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_post("/webrtc/offer", self.handle_offer)
        web_app.router.add_route("OPTIONS", "/webrtc/offer", self.handle_preflight)
        web_app.router.add_get("/webrtc/config", self.handle_config)
        web_app.on_shutdown.append(self._on_shutdown)

    async def handle_config(self, request: web.Request) -> web.Response:
        response = web.json_response({"iceServers": browser_ice_servers(self._settings)})
        return self._with_cors(request, response)

    async def handle_preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        return self._with_cors(request, response)

    async def handle_offer(self, request: web.Request) -> web.Response:
        return self._with_cors(request, await self._answer(request))

    def _with_cors(self, request: web.Request, response: web.Response) -> web.Response:
        # The button runs on the shop's pages: another origin than this server's.
        allowed = self._settings.allowed_origins
        origin = request.headers.get("Origin")
        if "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin is not None and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    def _origin_allowed(self, request: web.Request) -> bool:
        allowed = self._settings.allowed_origins
        origin = request.headers.get("Origin")
        own = f"{request.scheme}://{request.host}"
        return "*" in allowed or origin is None or origin == own or origin in allowed

    async def _answer(self, request: web.Request) -> web.Response:
        if not self._origin_allowed(request):
            origin = request.headers.get("Origin")
            return _refusal(403, f"calls from {origin} are not allowed (webrtc.allowed_origins)")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refusal(413, "the request is too large for an offer")
        try:
            offer = validate_offer(body, self._settings.max_sdp_bytes)
        except SignalingError as error:
            logger.info("offer refused (%d): %s", error.status, error.message)
            return _refusal(error.status, error.message)
        slot = self._limiter.try_acquire("webrtc")
        if slot is None:
            retry = self._limiter.retry_after_s
            why = self._limiter.refusal_reason()
            return _refusal(503, f"{why}: please try again in {retry} seconds", retry=retry)
        try:
            call, answer = await self._open(offer)
        except Exception as error:
            slot.release()
            logger.info("offer refused while answering: %s", error)
            return _refusal(400, f"the offer could not be answered: {error}")
        caller_id = f"web:{request.remote or 'unknown'}"
        call.slot = slot
        # The page's language (the widget sends its data-lang or <html lang>): a hint only.
        call.language_hint = language_of_tag(request.query.get("lang"))
        task = asyncio.create_task(self._run(call, slot, caller_id))
        self._calls[call.call_id] = (call, task)
        self._idle.clear()
        return web.json_response({"type": answer.type, "sdp": answer.sdp, "call_id": call.call_id})

    async def _open(self, offer: RTCSessionDescription) -> tuple[WebRtcCall, RTCSessionDescription]:
        pc = RTCPeerConnection(ice_configuration(self._settings))
        call_id = random_hex_id(8)
        call = WebRtcCall(call_id, pc, Playout(self._clock), self._clock, self._settings)
        pc.on("datachannel", call.attach_channel)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            call.on_connection_state(pc.connectionState)

        try:
            # The transceiver exists before the offer is applied, so that the offer's audio
            # binds to it with Opus as the only codec and the tapped receiver.
            transceiver = pc.addTransceiver(call.line, direction="sendrecv")
            transceiver.setCodecPreferences(
                [
                    codec
                    for codec in RTCRtpSender.getCapabilities("audio").codecs
                    if codec.mimeType.lower() == "audio/opus"
                ]
            )
            _tap_receiver(transceiver.receiver, call.tap)
            await pc.setRemoteDescription(offer)
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except Exception:
            await pc.close()
            raise
        return call, pc.localDescription

    async def _run(self, call: WebRtcCall, slot: CallSlot, caller_id: str) -> None:
        with slot:
            try:
                await self._run_call(call, call.playout, caller_id)
            except Exception:
                logger.exception("web call %s failed", call.call_id)
            finally:
                call.end("session ended")
                # let the last events (the goodbye's captions, "ended") reach the page
                await self._clock.sleep(0.2)
                await call.pc.close()
                self.finished.append(call.finish_stats())
                self._calls.pop(call.call_id, None)
                if not self._calls:
                    self._idle.set()
                logger.info("web call %s stats: %s", call.call_id, _summary(call.stats))

    async def idle(self) -> None:
        """Wait until no call is in progress."""
        await self._idle.wait()

    async def aclose(self) -> None:
        """End every call and wait for them to wind down."""
        for call, _ in list(self._calls.values()):
            call.end("server shutting down")
        tasks = [task for _, task in list(self._calls.values())]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _on_shutdown(self, web_app: web.Application) -> None:
        await self.aclose()


def _refusal(status: int, message: str, retry: int | None = None) -> web.Response:
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return web.json_response({"error": message}, status=status, headers=headers)


def _summary(stats: CallStats) -> str:
    handoff = sorted(stats.handoff_ms) or [0.0]
    late = sorted(stats.send_late_ms) or [0.0]
    return (
        f"{stats.packets_in} packets in ({stats.lost_in} lost, {stats.late_in} late), "
        f"{stats.frames_out} out; decode {stats.decode_ms_mean:.2f} ms, hand-off "
        f"{handoff[len(handoff) // 2]:.2f} ms median, encode {stats.encode_ms_mean:.2f} ms; "
        f"sent late {late[len(late) // 2]:.1f} ms median, {late[int(len(late) * 0.99)]:.1f} p99, "
        f"{late[-1]:.1f} max; ended: {stats.end_reason}"
    )
