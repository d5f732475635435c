"""One call's media over UDP: symmetric RTP, G.711 both ways, RFC 4733 keypad digits.

The line has one clock: every 20 ms `RtpSession.run` does three things.
- Out: it reads 20 ms of the agent's voice from the call's Playout (16 kHz), converts it to
  8 kHz, encodes it (PCMU or PCMA) and sends one RTP packet. Nothing is queued below the
  Playout, so a barge-in that pauses or clears it silences the very next packet.
- In: it plays the caller's jitter buffer up to now. Frames are decoded, lost or late slots
  concealed (`voice_agent.audio.concealment`), the 8 kHz audio converted to 16 kHz and cut
  into 20 ms frames stamped with Clock times for the session. Before the caller's first packet
  the session gets silence, so its timers run (an outbound call greets at once).
- Liveness: no RTP from the caller for `rtp_timeout_s` means the caller has vanished; but a
  caller who holds the call may send nothing, so on hold only `max_hold_s` bounds the wait.

Rates are converted explicitly, never by accident: `PhoneBand` is a 2:1 windowed-sinc
resampler with 3 ms of delay. (soxr's streaming resampler, used elsewhere, releases its
output in ~100 ms bursts: a tenth of a second of latency each way on a phone line.)

Symmetric RTP (RFC 4961): the session sends to the address the caller's RTP comes from once
it has seen a packet (a caller behind NAT is reachable only there), to the SDP address before.
Packets from other addresses are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt

from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import DtmfInput
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.concealment import Concealer
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from voice_agent.clock import Clock
from voice_agent.protocol.dtmf import DtmfReceiver
from voice_agent.protocol.jitter import (
    Frame,
    Gap,
    GapReason,
    JitterBuffer,
    JitterConfig,
    PushResult,
)
from voice_agent.protocol.rtp import RtpPacket, RtpParseError, RtpSender, is_rtcp
from voice_agent.protocol.sdp import AudioParameters, Codec
from voice_agent.settings import SipSettings
from voice_agent.transport.srtp import SrtpContext, SrtpError

logger = logging.getLogger(__name__)

FRAME_S = 0.02
LINE_RATE = 8000
LINE_FRAME = round(LINE_RATE * FRAME_S)
PIPELINE_FRAME = round(PIPELINE_RATE * FRAME_S)
_LATE_RESET_S = 0.1
"""The loop fell this far behind its schedule (a stalled event loop): start a new schedule."""
_TIMELINE_SLACK_S = 0.1
_INPUT_QUEUE_FRAMES = 500
_LATE_STREAK_RESET = 25
"""This many packets in a row too late to play: the sender's timeline moved; start afresh."""
_COMFORT_NOISE = 13  # RFC 3389 payload type: the sender is silent

Address = tuple[str, int]


@dataclass(frozen=True)
class RtpOptions:
    """What one RTP session needs from the settings."""

    timeout_s: float = 20.0
    jitter: JitterConfig = field(default_factory=JitterConfig)
    conceal_s: float = 0.06
    max_hold_s: float = 600.0

    @classmethod
    def from_settings(cls, settings: SipSettings) -> RtpOptions:
        return cls(
            timeout_s=settings.rtp_timeout_s,
            jitter=JitterConfig(
                min_delay=settings.jitter_min_ms / 1000,
                max_delay=settings.jitter_max_ms / 1000,
                initial_delay=settings.jitter_initial_ms / 1000,
            ),
            conceal_s=settings.conceal_ms / 1000,
            max_hold_s=settings.max_hold_s,
        )


# --- audio conversion ------------------------------------------------------------------------


def _low_pass_taps(cutoff_hz: float, rate: int, taps: int) -> npt.NDArray[np.float64]:
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff_hz / rate * np.sinc(2 * cutoff_hz / rate * n) * np.blackman(taps)
    return np.asarray(kernel / kernel.sum(), dtype=np.float64)


class _Fir:
    def __init__(self, taps: npt.NDArray[np.float64]) -> None:
        self._taps = taps
        self._tail = np.zeros(len(taps) - 1, dtype=np.float64)

    def process(self, samples: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        block = np.concatenate([self._tail, samples])
        self._tail = block[len(block) - len(self._tail) :]
        return np.asarray(np.convolve(block, self._taps, mode="valid"), dtype=np.float64)


class PhoneBand:
    """2:1 conversion between the line (8 kHz) and the pipeline (16 kHz), streaming.

    Both ways filter at 16 kHz with one low-pass (cut at 3.8 kHz, 97 taps: 3 ms of delay):
    down = filter then keep every other sample; up = insert zeros then filter (gain 2).
    """

    _TAPS = 97
    _CUTOFF_HZ = 3800.0

    def __init__(self) -> None:
        taps = _low_pass_taps(self._CUTOFF_HZ, PIPELINE_RATE, self._TAPS)
        self._down = _Fir(taps)
        self._up = _Fir(2 * taps)
        self._down_phase = 0

    def down(self, samples: Int16Array) -> Int16Array:
        """16 kHz in, 8 kHz out (half as many samples, give or take one on odd blocks)."""
        filtered = self._down.process(samples.astype(np.float64))
        kept = filtered[self._down_phase :: 2]
        self._down_phase = (self._down_phase + len(filtered)) % 2
        return _to_int16(kept)

    def up(self, samples: Int16Array) -> Int16Array:
        """8 kHz in, 16 kHz out (twice as many samples)."""
        stuffed = np.zeros(2 * len(samples), dtype=np.float64)
        stuffed[::2] = samples
        return _to_int16(self._up.process(stuffed))


def _to_int16(samples: npt.NDArray[np.float64]) -> Int16Array:
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class G711:
    """Encode and decode for one negotiated G.711 codec."""

    name: str
    encode: Callable[[Int16Array], bytes]
    decode: Callable[[bytes], Int16Array]

    @classmethod
    def for_codec(cls, codec: Codec) -> G711:
        name = codec.name.upper()
        if codec.clock_rate != LINE_RATE or name not in ("PCMU", "PCMA"):
            raise ValueError(f"not a G.711 codec: {codec.rtpmap}")
        if name == "PCMU":
            return cls(name, ulaw_encode, ulaw_decode)
        return cls(name, alaw_encode, alaw_decode)


# --- the caller's audio, as frames for the session --------------------------------------------


class _InputTimeline:
    """Cuts 16 kHz audio into 20 ms frames stamped with Clock times.

    Frames follow each other without gaps or overlaps, anchored so that the audio ends when
    it was played out of the jitter buffer; the anchor moves only when that drifts."""

    def __init__(self, deliver: Callable[[AudioFrame], None]) -> None:
        self._deliver = deliver
        self._pending = np.zeros(0, dtype=np.int16)
        self._next_at: float | None = None

    def add(self, samples: Int16Array, now: float) -> None:
        self._pending = np.concatenate([self._pending, samples])
        starts_at = now - len(self._pending) / PIPELINE_RATE
        if self._next_at is None or abs(self._next_at - starts_at) > _TIMELINE_SLACK_S:
            self._next_at = starts_at
        while len(self._pending) >= PIPELINE_FRAME:
            chunk = self._pending[:PIPELINE_FRAME].copy()
            self._pending = self._pending[PIPELINE_FRAME:]
            self._deliver(AudioFrame(chunk, PIPELINE_RATE, self._next_at))
            self._next_at += FRAME_S


@dataclass
class RtpStats:
    packets_in: int = 0
    packets_out: int = 0
    dtmf_digits: int = 0
    ignored: int = 0
    """Packets dropped before the jitter buffer: malformed, foreign source, unknown type."""
    lost: int = 0
    late: int = 0
    concealed_ms: float = 0.0
    restarts: int = 0


class RtpSession(asyncio.DatagramProtocol):
    """The media of one call on one UDP port; `run()` is the line's clock.

    Create it, bind it (`open_rtp_session` or `connection_made` with any DatagramTransport),
    then run it; `inputs()` yields the caller's audio and digits until the session closes.
    """

    def __init__(
        self,
        params: AudioParameters,
        playout: Playout,
        clock: Clock,
        options: RtpOptions | None = None,
        name: str = "",
    ) -> None:
        if playout.rate != PIPELINE_RATE:
            raise ValueError(f"the line expects a {PIPELINE_RATE} Hz playout")
        self.name = name
        self._playout = playout
        self._clock = clock
        self._options = options or RtpOptions()
        self._transport: asyncio.DatagramTransport | None = None
        self._queue: asyncio.Queue[AudioFrame | DtmfInput | None] = asyncio.Queue()
        self._timeline = _InputTimeline(self._deliver)
        self._band = PhoneBand()
        self._dtmf = DtmfReceiver()
        self.stats = RtpStats()
        self.closed: str | None = None
        self.on_close: Callable[[str], None] | None = None
        self._params = params
        self._codec = G711.for_codec(params.codec)
        self._sender = RtpSender(params.codec.payload_type)
        self._srtp = SrtpContext(params.srtp) if params.srtp else None
        self._latched: Address | None = None
        self._new_stream()
        self._last_heard = clock.now()
        self._held_since = clock.now() if self.on_hold else None
        self._closing: asyncio.Future[None] | None = None

    # --- set-up ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (CPython's UDP transport does not subclass DatagramTransport, though it is one)
        self._transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close("RTP socket closed" if exc is None else f"RTP socket failed: {exc}")

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: the caller may come back; the timeout decides
        logger.debug("rtp %s: %s", self.name, exc)

    @property
    def local_port(self) -> int:
        if self._transport is None:
            raise RuntimeError("the RTP session is not bound")
        port: int = self._transport.get_extra_info("sockname")[1]
        return port

    @property
    def params(self) -> AudioParameters:
        return self._params

    def update(self, params: AudioParameters) -> None:
        """A re-INVITE changed the stream (hold, resume, a new address or codec)."""
        moved = (params.remote_address, params.remote_port) != (
            self._params.remote_address,
            self._params.remote_port,
        )
        if params.codec.payload_type != self._params.codec.payload_type or (
            params.codec.name.upper() != self._params.codec.name.upper()
        ):
            self._codec = G711.for_codec(params.codec)
            self._sender.payload_type = params.codec.payload_type
        if moved:
            self._latched = None
        if params.srtp != self._params.srtp:  # new SDES keys in a re-INVITE
            self._srtp = SrtpContext(params.srtp) if params.srtp else None
        if params.direction.receives and not self._params.direction.receives:
            self._last_heard = self._clock.now()  # resumed: the timeout counts from now
        self._params = params
        if not self.on_hold:
            self._held_since = None
        elif self._held_since is None:
            self._held_since = self._clock.now()
        logger.info(
            "rtp %s: %s to %s:%d, %s",
            self.name,
            params.codec.name,
            params.remote_address,
            params.remote_port,
            params.direction.value,
        )

    def _new_stream(self) -> None:
        self._jitter = JitterBuffer(LINE_RATE, self._options.jitter)
        self._concealer = Concealer(LINE_RATE, fade_s=self._options.conceal_s)
        self._ssrc: int | None = None
        self._late_streak = 0
        self._media_started = False

    # --- the caller's packets --------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.closed is not None:
            return
        if self._srtp is not None:  # before latching: a forged packet must not steer us
            try:
                data = self._srtp.unprotect(data)
            except SrtpError as error:
                self.stats.ignored += 1
                logger.debug("rtp %s: dropping an SRTP packet from %s: %s", self.name, addr, error)
                return
        if not self._from_caller(addr):
            self.stats.ignored += 1
            return
        self._last_heard = self._clock.now()
        if is_rtcp(data):
            return  # reports are not used; they prove the caller is there
        try:
            packet = RtpPacket.parse(data)
        except RtpParseError as error:
            self.stats.ignored += 1
            logger.debug("rtp %s: dropping a packet from %s: %s", self.name, addr, error)
            return
        self.stats.packets_in += 1
        events = self._params.telephone_event
        if events is not None and packet.payload_type == events.payload_type:
            self._on_event(packet)
        elif packet.payload_type == self._params.codec.payload_type:
            self._on_audio(packet)
        elif packet.payload_type != _COMFORT_NOISE:
            self.stats.ignored += 1

    def _from_caller(self, addr: Address) -> bool:
        if self._latched is not None:
            return (addr[0], addr[1]) == self._latched
        # Latch on the first packet from the negotiated host (or from anywhere when the SDP
        # gave no address: hold, or no offer yet): symmetric RTP through NAT.
        sdp_host = self._params.remote_address
        if addr[0] != sdp_host and not _is_unspecified(sdp_host):
            return False
        self._latched = (addr[0], addr[1])
        logger.debug("rtp %s: caller's media comes from %s:%d", self.name, *self._latched)
        return True

    def _on_audio(self, packet: RtpPacket) -> None:
        if self._ssrc is not None and packet.ssrc != self._ssrc:
            logger.info("rtp %s: new SSRC %08x: new stream", self.name, packet.ssrc)
            self._restart()
        self._ssrc = packet.ssrc
        result = self._jitter.push(
            packet.sequence_number, packet.timestamp, packet.payload, self._clock.now()
        )
        self._media_started = True
        self._late_streak = self._late_streak + 1 if result is PushResult.LATE else 0
        if self._late_streak >= _LATE_STREAK_RESET:
            logger.info("rtp %s: packets keep coming too late: new stream", self.name)
            self._restart()

    def _restart(self) -> None:
        self._collect_jitter_stats()
        self.stats.restarts += 1
        self._new_stream()

    def _on_event(self, packet: RtpPacket) -> None:
        digit = self._dtmf.receive(packet)
        if digit is not None:
            self.keypad(digit)

    def keypad(self, digit: str) -> None:
        """A key the caller pressed (from RTP events here, or SIP INFO): one DtmfInput."""
        if self.closed is not None:
            return
        self.stats.dtmf_digits += 1
        # not which one: callers type their verification factors
        logger.info("rtp %s: keypad digit received", self.name)
        self._queue.put_nowait(DtmfInput(digit, self._clock.now()))

    # --- the line's clock ------------------------------------------------------------------

    async def run(self) -> str:
        """Send, receive and watch until the session closes; returns why it closed."""
        self._closing = asyncio.get_running_loop().create_future()
        if self.closed is not None:
            return self.closed
        start = self._clock.now()
        ticks = 0
        while self.closed is None:
            due = start + ticks * FRAME_S
            now = self._clock.now()
            if due > now:
                await self._sleep(due - now)
                now = self._clock.now()
            elif now - due > _LATE_RESET_S:
                start = now - ticks * FRAME_S
            if self.closed is not None:
                break
            self.tick(now)
            ticks += 1
        return self.closed

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the Clock, waking early if the session closes."""
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        assert self._closing is not None
        await asyncio.wait((sleeper, self._closing), return_when=asyncio.FIRST_COMPLETED)
        if not sleeper.done():
            sleeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sleeper

    def tick(self, now: float) -> None:
        """One 20 ms step of the line (run() calls it; tests may too)."""
        self._send_audio()
        self._receive_audio(now)
        self._watch(now)

    def _send_audio(self) -> None:
        frame = self._playout.read(PIPELINE_FRAME)  # read even on hold: the line's time passes
        line = self._band.down(frame.samples)
        destination = self._destination()
        if destination is None or self._transport is None:
            self._sender.silence(len(line))
            return
        packet = bytes(self._sender.audio(self._codec.encode(line), len(line)))
        if self._srtp is not None:
            packet = self._srtp.protect(packet)
        self._transport.sendto(packet, destination)
        self.stats.packets_out += 1

    def _destination(self) -> Address | None:
        params = self._params
        if not params.direction.sends or _is_unspecified(params.remote_address):
            return None
        if self._latched is not None:
            return self._latched
        return (params.remote_address, params.remote_port)

    def _receive_audio(self, now: float) -> None:
        if not self._media_started:
            self._timeline.add(np.zeros(PIPELINE_FRAME, dtype=np.int16), now)
            return
        while (item := self._jitter.pop(now)) is not None:
            audio = self._band.up(self._decoded(item))
            if self.on_hold:
                audio = np.zeros_like(audio)  # music on hold is not the caller speaking
            self._timeline.add(audio, now)

    @property
    def on_hold(self) -> bool:
        """The caller put the call on hold (their SDP stopped receiving our audio)."""
        return not self._params.direction.sends

    def _decoded(self, item: Frame | Gap) -> Int16Array:
        if isinstance(item, Frame):
            return self._concealer.frame(self._codec.decode(item.payload))
        if item.reason is GapReason.SILENCE:
            return self._concealer.silence(item.samples)
        return self._concealer.conceal(item.samples)

    def _watch(self, now: float) -> None:
        if self._held_since is not None and now - self._held_since > self._options.max_hold_s:
            self.close(f"on hold for over {self._options.max_hold_s:g} s")
            return
        if self.on_hold or not self._params.direction.receives:
            self._last_heard = now  # on hold the caller may send nothing: not a vanished caller
            return
        if now - self._last_heard > self._options.timeout_s:
            self.close(f"no RTP from the caller for {self._options.timeout_s:g} s")

    def _deliver(self, frame: AudioFrame) -> None:
        if self.closed is None and self._queue.qsize() < _INPUT_QUEUE_FRAMES:
            self._queue.put_nowait(frame)

    # --- the session's side ----------------------------------------------------------------

    async def inputs(self) -> AsyncIterator[AudioFrame | DtmfInput]:
        while (item := await self._queue.get()) is not None:
            yield item

    def close(self, reason: str) -> None:
        """End the media (idempotent): inputs end, the clock stops, the socket closes."""
        if self.closed is not None:
            return
        self.closed = reason
        self._collect_jitter_stats()
        logger.info("rtp %s closed: %s; %s", self.name, reason, self.stats)
        self._queue.put_nowait(None)
        if self._closing is not None and not self._closing.done():
            self._closing.set_result(None)
        if self._transport is not None:
            self._transport.close()
        if self.on_close is not None:
            self.on_close(reason)

    def _collect_jitter_stats(self) -> None:
        jitter = self._jitter.stats
        self.stats.lost += jitter.lost
        self.stats.late += jitter.late
        self.stats.concealed_ms += self._concealer.concealed_samples / LINE_RATE * 1000


def _is_unspecified(host: str) -> bool:
    return host in ("0.0.0.0", "::")


def bind_rtp_socket(host: str, port_min: int, port_max: int) -> socket.socket:
    """A UDP socket on the first free even port in the range (RTP takes even ports, RFC 3550)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    first = port_min + port_min % 2
    for port in range(first, port_max + 1, 2):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        return sock
    raise OSError(f"no free RTP port in {port_min}-{port_max} on {host}")


async def open_rtp_session(session: RtpSession, host: str, port_min: int, port_max: int) -> int:
    """Bind the session to a port in the range; returns the port."""
    sock = bind_rtp_socket(host, port_min, port_max)
    loop = asyncio.get_running_loop()
    try:
        await loop.create_datagram_endpoint(lambda: session, sock=sock)
    except BaseException:
        with contextlib.suppress(OSError):
            sock.close()
        raise
    return session.local_port
