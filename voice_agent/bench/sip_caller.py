"""The benchmark's phone caller: one SIP call (INVITE, ACK, BYE) with G.711 RTP, recorded.

Built on the project's sans-I/O cores: the INVITE and BYE run in `protocol.sip.transaction`
client transactions (timer A and E retransmissions, timer B), the dialog (`Dialog.from_uac`)
builds the ACK and BYE, `DigestClient` answers a 401/407, `protocol.sdp` makes the offer and
reads the answer, `protocol.rtp` numbers the packets. This module adds the call's order of
events over the sockets of `sip_line` (which the fake agent, `fake_sip.py`, shares).

Only the media may pass through the impairment relay (`voice_agent.bench.relay`); signaling
goes direct, so a lossy profile never costs the call its set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from voice_agent.bench.relay import MediaRelay, Profile
from voice_agent.bench.sip_line import (
    ENCODERS,
    LINE_RATE,
    Address,
    RtpSocket,
    SipSocket,
    decode_audio,
)
from voice_agent.bench.timeline import CallRecording, HeardPacket, Microphone
from voice_agent.protocol.rtp import RtpSender
from voice_agent.protocol.sdp import (
    PCMA,
    PCMU,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
    create_offer,
)
from voice_agent.protocol.sip.auth import AuthError, DigestClient
from voice_agent.protocol.sip.dialog import Dialog, DialogState, build_cancel
from voice_agent.protocol.sip.message import (
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
)

logger = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 15.0
BYE_WAIT_S = 2.0


class SipCallError(RuntimeError):
    """The call could not be set up: refused, unanswered, or answered with unusable SDP."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# --- sans-I/O: the messages, the timestamps -------------------------------------------------


def parse_target(target: str) -> SipUri:
    """`sip:agent@127.0.0.1:5060`, or just `host:port` (user `agent`)."""
    if target.lower().startswith(("sip:", "sips:")):
        return SipUri.parse(target)
    return SipUri.parse(f"sip:agent@{target}")


def caller_offer(media: Address, codec: str) -> SessionDescription:
    """PCMU and PCMA, `codec` first: the agent answers with the first one it supports."""
    codecs = (PCMU, PCMA) if codec == "PCMU" else (PCMA, PCMU)
    session_id = str(secrets.randbelow(10**9))
    # no telephone-event: the benchmark never presses keys
    local = LocalMedia(media[0], media[1], session_id, codecs=codecs, telephone_event=None)
    return create_offer(local)


def build_invite(target: SipUri, local: Address, offer: SessionDescription) -> SipRequest:
    contact = SipUri(local[0], "bench", local[1])
    via = Via(local[0], local[1], "UDP", {"branch": new_branch(), "rport": None})
    fields = [
        ("Via", str(via)),
        ("Max-Forwards", "70"),
        ("From", f"<sip:bench@{local[0]}>;tag={new_tag()}"),
        ("To", f"<{target}>"),
        ("Call-ID", new_call_id(local[0])),
        ("CSeq", "1 INVITE"),
        ("Contact", f"<{contact}>"),
        ("User-Agent", "voice-agent-bench"),
        ("Content-Type", "application/sdp"),
    ]
    return SipRequest.create("INVITE", str(target), fields, bytes(offer))


def next_hop(dialog: Dialog, fallback: Address) -> Address:
    """In-dialog requests go to the agent's Contact when it is an address, else `fallback`."""
    uri = dialog.remote_target
    try:
        host = str(ipaddress.ip_address(uri.host.strip("[]")))
    except ValueError:
        return fallback
    return (host, uri.port or 5060)


class TimestampUnwrapper:
    """RTP timestamps wrap at 2**32: each one becomes the nearest value to the previous."""

    def __init__(self) -> None:
        self._last: int | None = None

    def unwrap(self, timestamp: int) -> int:
        if self._last is None:
            self._last = timestamp
        else:
            self._last += (timestamp - self._last + 2**31) % 2**32 - 2**31
        return self._last


# --- the call ---------------------------------------------------------------------------------


@dataclass
class SipBenchCall:
    """A connected call: speak through `microphone`; `recording` fills as the call runs."""

    recording: CallRecording
    microphone: Microphone
    ended: asyncio.Event
    """Set when the agent hangs up (its BYE, answered 200)."""
    codec: str
    """The codec the agent chose: PCMU or PCMA."""
    call_id: str
    relay: MediaRelay | None = None
    line: _Call | None = field(default=None, repr=False)

    def vanish(self) -> None:
        """Gone without a BYE, as a phone that lost its network: no more media, nothing heard,
        and leaving the call sends nothing (the agent finds out when its RTP timeout runs)."""
        if self.line is not None:
            self.line.vanish()
        if self.relay is not None:
            self.relay.close()

    def relay_stats(self) -> dict[str, float] | None:
        """What the impairment relay did to the media (`to_agent_loss`, ...); None when the
        media went direct."""
        return None if self.relay is None else self.relay.stats().as_dict()


class _HeardRecorder:
    """The agent's RTP, decoded as each packet arrives, into the recording until the end."""

    def __init__(self, recording: CallRecording) -> None:
        self._recording = recording
        self._unwrapper = TimestampUnwrapper()
        self.listening = True

    def __call__(self, data: bytes, arrived_at: float) -> None:
        decoded = decode_audio(data) if self.listening else None
        if decoded is None:
            return
        packet, samples = decoded
        media_s = self._unwrapper.unwrap(packet.timestamp) / LINE_RATE
        self._recording.heard.append(HeardPacket(arrived_at, media_s, samples, LINE_RATE))


class _Call:
    """One call's signaling and media loop over its two sockets."""

    def __init__(self, sip: SipSocket, rtp: RtpSocket, heard: _HeardRecorder) -> None:
        self.sip = sip
        self.rtp = rtp
        self.heard = heard
        self.ended = asyncio.Event()
        self.ended_at: float | None = None
        self.dialog: Dialog | None = None
        self._peer: Address = ("127.0.0.1", 0)
        self._ack: SipRequest | None = None
        self._gone = False
        sip.on_request = self.on_request

    async def connect(
        self,
        invite: SipRequest,
        agent: Address,
        digest: DigestClient | None,
        timeout_s: float,
    ) -> SipResponse:
        """INVITE until a 2xx (answering one challenge), then ACK; SipCallError otherwise."""
        responses: asyncio.Queue[SipResponse] = asyncio.Queue()

        def on_response(response: SipResponse) -> None:
            if self._ack is not None and response.is_success:
                self.sip.send(self._ack, self._peer)  # a copy of the 2xx: our ACK was lost
            else:
                responses.put_nowait(response)

        try:
            async with asyncio.timeout(timeout_s):
                self.sip.request(invite, agent, on_response)
                while not (response := await responses.get()).is_success:
                    if response.is_provisional:
                        continue
                    invite = _authorized(invite, response, digest)
                    digest = None  # one challenge is answered; a second is a refusal
                    self.sip.request(invite, agent, on_response)
        except TimeoutError:
            self.sip.request(build_cancel(invite), agent, lambda _: None)
            raise SipCallError(f"the agent did not answer within {timeout_s:g} s") from None
        self._acknowledge(invite, response, agent)
        return response

    def _acknowledge(self, invite: SipRequest, response: SipResponse, agent: Address) -> None:
        try:
            self.dialog = Dialog.from_uac(invite, response)
        except SipParseError as error:
            raise SipCallError(f"the agent's 200 OK is unusable: {error}") from None
        self._peer = next_hop(self.dialog, agent)
        self._ack = self.dialog.create_ack(invite.cseq.seq)
        self.sip.send(self._ack, self._peer)

    def on_request(self, request: SipRequest, source: Address) -> None:
        """The agent's BYE ends the call; anything else in the dialog is not served."""
        if request.method == "ACK":
            return
        dialog = self.dialog
        if dialog is None or request.call_id != dialog.call_id:
            self.sip.send(build_response(request, 481, to_tag=new_tag()), source)
        elif request.method != "BYE":
            self.sip.send(dialog.response_for(request, 501), source)
        else:
            self.sip.send(dialog.response_for(request, 200), source)  # each copy of it
            if not self.ended.is_set():
                logger.debug("sip call %s: the agent hung up", dialog.call_id)
                dialog.terminate()
                self._media_over()
                self.ended.set()

    def _media_over(self) -> None:
        """The call ends here: nothing heard after this moment is recorded."""
        if self.ended_at is None:
            self.ended_at = time.monotonic()
            self.heard.listening = False

    async def send_media(self, microphone: Microphone, codec: str, pt: int, to: Address) -> None:
        encode = ENCODERS[codec]
        sender = RtpSender(pt)
        while not self.ended.is_set():
            frame = await microphone.next_frame()
            if not self._gone:
                self.rtp.send(bytes(sender.audio(encode(frame), len(frame))), to)

    def vanish(self) -> None:
        """The caller is gone without a word: no media, no BYE (the dialog ends here only)."""
        self._gone = True
        self._media_over()
        if self.dialog is not None:
            self.dialog.terminate()

    async def hang_up(self) -> None:
        """BYE, unless the agent hung up first; its answer is awaited a short while."""
        self._media_over()
        if self.dialog is None or self.dialog.state is DialogState.TERMINATED:
            return  # not connected, the agent hung up, or we already did
        bye = self.dialog.create_bye()
        self.dialog.terminate()
        answered = asyncio.Event()
        self.sip.request(bye, self._peer, lambda response: answered.set())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(BYE_WAIT_S):
                await answered.wait()


def _authorized(
    invite: SipRequest, response: SipResponse, digest: DigestClient | None
) -> SipRequest:
    """The INVITE again with credentials for a 401/407, or SipCallError for the refusal."""
    refusal = f"the agent refused the call: {response.status} {response.reason}"
    if response.status not in (401, 407):
        raise SipCallError(refusal, response.status)
    if digest is None:
        raise SipCallError(f"{refusal} (it wants a username and password)", response.status)
    try:
        return digest.authorize(invite, response)
    except AuthError as error:
        raise SipCallError(f"{refusal}: {error}", response.status) from None


def _read_answer(offer: SessionDescription, response: SipResponse) -> tuple[str, int, Address]:
    """(codec name, payload type, the agent's RTP address) from the SDP answer."""
    try:
        params = accept_answer(offer, SessionDescription.parse(response.body))
    except (SdpParseError, SdpNegotiationError) as error:
        raise SipCallError(f"the agent's SDP answer is unusable: {error}") from None
    codec = params.codec.name.upper()
    return codec, params.codec.payload_type, (params.remote_address, params.remote_port)


async def _resolve(uri: SipUri) -> Address:
    port = uri.port or 5060
    with contextlib.suppress(ValueError):
        return (str(ipaddress.ip_address(uri.host.strip("[]"))), port)
    infos = await asyncio.get_running_loop().getaddrinfo(uri.host, port)
    return (str(infos[0][4][0]), port)


def _impaired(profile: Profile | None) -> bool:
    return profile is not None and (
        profile.loss > 0 or profile.delay_ms > 0 or profile.jitter_ms > 0
    )


def _no_requests_yet(request: SipRequest, source: Address) -> None:
    """Nothing reaches the signaling socket before the INVITE goes out."""


@asynccontextmanager
async def sip_call(
    target: str,
    codec: str = "PCMU",
    relay_profile: Profile | None = None,
    username: str | None = None,
    password: str | None = None,
    *,
    local_host: str = "127.0.0.1",
    answer_timeout_s: float = ANSWER_TIMEOUT_S,
) -> AsyncIterator[SipBenchCall]:
    """Call the agent at `target` (`sip:agent@host:port` or `host:port`) and yield the call,
    its media running; on exit the caller hangs up (BYE) and `recording.ended_at` is set.

    `codec` is offered first (the agent may still pick the other). With a `relay_profile`
    that impairs anything, the media goes through a `MediaRelay`. Raises SipCallError when
    the call is refused ("the agent refused the call: 503 Service Unavailable") or not
    answered."""
    if codec not in ENCODERS:
        raise ValueError(f"codec must be PCMU or PCMA, not {codec!r}")
    uri = parse_target(target)
    agent = await _resolve(uri)
    recording = CallRecording()
    heard = _HeardRecorder(recording)
    async with contextlib.AsyncExitStack() as stack:
        rtp = await RtpSocket.open(heard, local_host)
        stack.callback(rtp.close)
        relay: MediaRelay | None = None
        if _impaired(relay_profile):
            assert relay_profile is not None
            relay = await MediaRelay.open(relay_profile, caller=rtp.address, seed=0)
            stack.callback(relay.close)
        sip = await SipSocket.open(_no_requests_yet, local_host)
        stack.callback(sip.close)
        call = _Call(sip, rtp, heard)
        offer = caller_offer(relay.agent_side if relay else rtp.address, codec)
        invite = build_invite(uri, sip.address, offer)
        digest = DigestClient(username, password) if username and password is not None else None
        answer = await call.connect(invite, agent, digest, answer_timeout_s)
        stack.push_async_callback(call.hang_up)
        chosen, payload_type, agent_media = _read_answer(offer, answer)
        logger.debug(
            "sip call %s answered (%s), media %s",
            invite.call_id,
            chosen,
            f"through the {relay.profile.name} relay" if relay is not None else "direct",
        )
        if relay is not None:
            relay.set_agent(agent_media)
        microphone = Microphone.real_time(LINE_RATE, recording)
        to = relay.caller_side if relay is not None else agent_media
        media = asyncio.create_task(call.send_media(microphone, chosen, payload_type, to))
        try:
            yield SipBenchCall(
                recording, microphone, call.ended, chosen, invite.call_id, relay, line=call
            )
        finally:
            media.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await media
            await call.hang_up()
            recording.ended_at = call.ended_at
