"""The calibration agent over real SIP and RTP: a `KnownDelayResponder` behind a minimal UAS.

On 127.0.0.1 (a free port), built on the same protocol cores as the caller: an INVITE is
answered 100 Trying (its server transaction), then 200 OK with a PCMU answer
(`protocol.sdp.create_answer`), repeated until the ACK (`AnswerRetransmitter`); BYE is
answered 200. Each call gets its own responder at the line rate: it hears the caller's RTP
decoded as each packet arrives, and is asked for each outgoing 20 ms packet at the moment the
packet is sent (start + n x 20 ms, in real time). What the benchmark caller measures against
it, minus the responder's delay, is what the line and the instrument add.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable

from voice_agent.audio.g711 import ulaw_encode
from voice_agent.bench.responder import KnownDelayResponder
from voice_agent.bench.sip_line import LINE_RATE, Address, RtpSocket, SipSocket, decode_audio
from voice_agent.bench.timeline import FRAME_S
from voice_agent.protocol.rtp import RtpSender
from voice_agent.protocol.sdp import (
    PCMU,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    create_answer,
)
from voice_agent.protocol.sip.dialog import AnswerRetransmitter
from voice_agent.protocol.sip.message import (
    SipMessage,
    SipRequest,
    SipResponse,
    build_response,
    new_tag,
)
from voice_agent.protocol.sip.transaction import (
    InviteServerTransaction,
    TransactionKey,
    transaction_key,
)

logger = logging.getLogger(__name__)

ResponderFactory = Callable[[], KnownDelayResponder]
_FRAME_SAMPLES = round(LINE_RATE * FRAME_S)


class _FakeCall:
    """One answered call: its RTP socket, its responder, the loop that sends its voice."""

    def __init__(self, responder: KnownDelayResponder, rtp: RtpSocket, to: Address) -> None:
        self.responder = responder
        self.rtp = rtp
        self.to = to
        self.answer: AnswerRetransmitter | None = None
        rtp.on_datagram = self.hear
        self.voice = asyncio.create_task(self._speak())

    def hear(self, data: bytes, arrived_at: float) -> None:
        decoded = decode_audio(data)
        if decoded is not None and decoded[0].payload_type == PCMU.payload_type:
            self.responder.heard(arrived_at, decoded[1])

    async def _speak(self) -> None:
        sender = RtpSender(PCMU.payload_type)
        started = time.monotonic()
        sent = 0
        while True:
            await asyncio.sleep(max(0.0, started + sent * FRAME_S - time.monotonic()))
            # asked at the moment of sending: a late loop shifts the packet, not the reply
            samples = self.responder.next_samples(time.monotonic(), _FRAME_SAMPLES)
            self.rtp.send(bytes(sender.audio(ulaw_encode(samples), len(samples))), self.to)
            sent += 1

    def stop(self) -> None:
        self.voice.cancel()
        self.rtp.close()


class _UserAgentServer:
    """The fake's signaling: INVITE, ACK and BYE; anything else is 405."""

    def __init__(self, agent: FakeSipAgent, factory: ResponderFactory) -> None:
        self._agent = agent
        self._factory = factory
        self._invites: dict[TransactionKey, InviteServerTransaction] = {}
        self.calls: dict[str, _FakeCall] = {}  # by Call-ID
        self._answering: set[asyncio.Task[None]] = set()
        self.sip: SipSocket | None = None

    def on_request(self, request: SipRequest, source: Address) -> None:
        if request.method == "INVITE":
            self._on_invite(request, source)
        elif request.method == "ACK":
            call = self.calls.get(request.call_id)
            if call is not None and call.answer is not None:
                call.answer.acknowledge(request)
        elif request.method == "BYE":
            self._on_bye(request, source)
        else:
            allow = [("Allow", "INVITE, ACK, BYE")]
            self._send([build_response(request, 405, to_tag=new_tag(), headers=allow)], source)

    def _send(self, messages: tuple[SipMessage, ...] | list[SipMessage], to: Address) -> None:
        assert self.sip is not None
        for message in messages:
            self.sip.send(message, to)

    def _on_invite(self, invite: SipRequest, source: Address) -> None:
        now = time.monotonic()
        known = self._invites.get(transaction_key(invite))
        if known is not None:  # a retransmission: the last response again
            self._send(known.receive(invite, now).send, source)
            return
        transaction = InviteServerTransaction(invite)
        self._invites[transaction.key] = transaction
        self._send(transaction.start(now).send, source)  # 100 Trying
        task = asyncio.create_task(self._answer(transaction, source))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer(self, transaction: InviteServerTransaction, source: Address) -> None:
        invite = transaction.request
        try:
            response = await self._accept(invite)
        except Exception:  # a broken factory: refuse at once rather than leave the caller waiting
            logger.exception("the fake SIP agent could not answer")
            response = build_response(invite, 500, to_tag=new_tag())
        self._send(transaction.respond(response, time.monotonic()).send, source)
        call = self.calls.get(invite.call_id)
        if response.is_success and call is not None:
            call.answer = AnswerRetransmitter(response, time.monotonic())
            assert self.sip is not None
            self.sip.run_timers(call.answer, source, on_timeout=lambda: None)

    async def _accept(self, invite: SipRequest) -> SipResponse:
        """The 200 OK with a PCMU answer, the call's media running; or 488."""
        try:
            offer = SessionDescription.parse(invite.body)
        except SdpParseError:
            return build_response(invite, 488, to_tag=new_tag())
        responder = self._new_responder()
        rtp = await RtpSocket.open(lambda data, at: None, self._agent.host)
        session_id = str(secrets.randbelow(10**9))
        local = LocalMedia(rtp.address[0], rtp.address[1], session_id, codecs=(PCMU,))
        try:
            answer, params = create_answer(offer, local)
        except SdpNegotiationError:
            rtp.close()
            return build_response(invite, 488, to_tag=new_tag())
        self.calls[invite.call_id] = _FakeCall(
            responder, rtp, (params.remote_address, params.remote_port)
        )
        contact = [("Contact", f"<{self._agent.target}>")]
        return build_response(
            invite,
            200,
            to_tag=new_tag(),
            headers=contact,
            body=bytes(answer),
            content_type="application/sdp",
        )

    def _new_responder(self) -> KnownDelayResponder:
        responder = self._factory()
        if responder.rate != LINE_RATE:
            # the line runs at 8 kHz both ways: no resampler delay in the calibration
            raise ValueError(f"the responder must run at {LINE_RATE} Hz, not {responder.rate}")
        self._agent.responders.append(responder)
        return responder

    def _on_bye(self, bye: SipRequest, source: Address) -> None:
        call = self.calls.get(bye.call_id)
        status = 481 if call is None else 200  # every copy of the BYE gets its 200
        self._send([build_response(bye, status)], source)
        if call is not None:
            call.stop()

    async def close(self) -> None:
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)
        for call in self.calls.values():
            call.stop()
        await asyncio.gather(*(call.voice for call in self.calls.values()), return_exceptions=True)
        if self.sip is not None:
            self.sip.close()


class FakeSipAgent:
    """The fake as an async context manager: `async with fake_sip_agent(f) as (host, port)`.

    It serves on `host` (a free port) until the block ends; `responders` holds each call's
    responder, in call order."""

    def __init__(self, responder_factory: ResponderFactory, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.responders: list[KnownDelayResponder] = []
        self._server = _UserAgentServer(self, responder_factory)

    @property
    def target(self) -> str:
        return f"sip:agent@{self.host}:{self.port}"

    async def __aenter__(self) -> Address:
        self._server.sip = await SipSocket.open(self._server.on_request, self.host)
        self.port = self._server.sip.address[1]
        return (self.host, self.port)

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()


def fake_sip_agent(responder_factory: ResponderFactory, host: str = "127.0.0.1") -> FakeSipAgent:
    return FakeSipAgent(responder_factory, host)
