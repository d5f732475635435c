"""The two ends of the benchmark's SIP line share these: the sockets and the G.711 packets.

`SipSocket` is one UDP socket for signaling: it parses each datagram, runs what it sends in
`protocol.sip.transaction` client transactions (their retransmission timers on
`time.monotonic`), and passes requests up. `RtpSocket` passes each media datagram up with the
moment it arrived. `decode_audio` turns a packet into samples, ignoring what is not G.711.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from voice_agent.audio.frame import Int16Array
from voice_agent.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from voice_agent.protocol.rtp import RtpPacket, RtpParseError, is_rtcp
from voice_agent.protocol.sdp import PCMA, PCMU
from voice_agent.protocol.sip.dialog import AnswerRetransmitter
from voice_agent.protocol.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipResponse,
    build_response,
    parse_message,
)
from voice_agent.protocol.sip.transaction import (
    ClientTransaction,
    TransactionKey,
    client_transaction,
    transaction_key,
)

logger = logging.getLogger(__name__)

Address = tuple[str, int]
LINE_RATE = 8000
ENCODERS: dict[str, Callable[[Int16Array], bytes]] = {"PCMU": ulaw_encode, "PCMA": alaw_encode}
_DECODERS = {PCMU.payload_type: ulaw_decode, PCMA.payload_type: alaw_decode}

Retransmitting = ClientTransaction | AnswerRetransmitter
"""What has retransmission timers: a client transaction, the fake's 2xx to an INVITE."""


def decode_audio(data: bytes) -> tuple[RtpPacket, Int16Array] | None:
    """A G.711 packet and its samples; None for RTCP, other payload types and garbage.

    PCMU and PCMA have static payload types (0 and 8), so packets that arrive before the
    answer is read (the agent starts sending as it answers) are decoded all the same."""
    if is_rtcp(data):
        return None
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError:
        return None
    decode = _DECODERS.get(packet.payload_type)
    return None if decode is None else (packet, decode(packet.payload))


@dataclass
class _ClientEntry:
    transaction: ClientTransaction
    destination: Address
    on_response: Callable[[SipResponse], None]


class SipSocket(asyncio.DatagramProtocol):
    """One UDP socket for SIP: parses datagrams, runs the timers of what it sends, passes
    requests up and each response to the transaction that awaits it. Time is
    `time.monotonic`."""

    def __init__(self, on_request: Callable[[SipRequest, Address], None]) -> None:
        self.on_request = on_request
        self.address: Address = ("127.0.0.1", 0)
        self._transport: asyncio.DatagramTransport | None = None
        self._clients: dict[TransactionKey, _ClientEntry] = {}
        self._timers: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls, on_request: Callable[[SipRequest, Address], None], host: str = "127.0.0.1"
    ) -> SipSocket:
        sip = cls(on_request)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: sip, local_addr=(host, 0))
        sip._transport = transport
        sip.address = transport.get_extra_info("sockname")[:2]
        return sip

    def send(self, message: SipMessage, to: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(bytes(message), to)

    def request(
        self, request: SipRequest, to: Address, on_response: Callable[[SipResponse], None]
    ) -> None:
        """Send in a client transaction; every response it delivers (a 408 on timeout) goes
        to `on_response`."""
        transaction = client_transaction(request)
        self._clients[transaction.key] = _ClientEntry(transaction, to, on_response)
        for message in transaction.start(time.monotonic()).send:
            self.send(message, to)
        self.run_timers(transaction, to, lambda: on_response(build_response(request, 408)))

    def run_timers(
        self, timed: Retransmitting, to: Address, on_timeout: Callable[[], None]
    ) -> None:
        self._timers.add(task := asyncio.create_task(self._fire(timed, to, on_timeout)))
        task.add_done_callback(self._timers.discard)

    async def _fire(
        self, timed: Retransmitting, to: Address, on_timeout: Callable[[], None]
    ) -> None:
        # Ends when no timer runs: retransmission is over (answered, or given up).
        while (deadline := timed.deadline) is not None:
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            output = timed.on_timer(time.monotonic())
            for message in output.send:
                self.send(message, to)
            if output.timed_out:
                on_timeout()
                return

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            message = parse_message(data)
        except SipParseError as error:
            logger.debug("ignored an unreadable datagram from %s:%d: %s", *source, error)
            return
        if isinstance(message, SipRequest):
            self.on_request(message, source)
            return
        entry = self._clients.get(transaction_key(message))
        if entry is None:
            return  # a late copy of a response to a finished transaction
        output = entry.transaction.receive(message, time.monotonic())
        for sent in output.send:
            self.send(sent, entry.destination)  # the ACK of a failure
        for delivered in output.deliver:
            entry.on_response(cast(SipResponse, delivered))

    def close(self) -> None:
        for task in self._timers:
            task.cancel()
        if self._transport is not None:
            self._transport.close()


class RtpSocket(asyncio.DatagramProtocol):
    """One UDP socket for RTP; each datagram goes up with its arrival time."""

    def __init__(self, on_datagram: Callable[[bytes, float], None]) -> None:
        self.on_datagram = on_datagram
        self.address: Address = ("127.0.0.1", 0)
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(
        cls, on_datagram: Callable[[bytes, float], None], host: str = "127.0.0.1"
    ) -> RtpSocket:
        rtp = cls(on_datagram)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: rtp, local_addr=(host, 0))
        rtp._transport = transport
        rtp.address = transport.get_extra_info("sockname")[:2]
        return rtp

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.on_datagram(data, time.monotonic())

    def send(self, data: bytes, to: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, to)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
