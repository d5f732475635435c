"""The phone line's signaling: SIP over UDP on asyncio, driving the sans-I/O cores.

`SipEndpoint` is one UDP socket (127.0.0.1:5060 by default) and everything above it:
- the transaction layer: `protocol.sip.transaction` machines keyed by branch, their deadlines
  fired by one timer task on the injected Clock;
- calls in: INVITE answered with 100, 180 and 200 (SDP answer), ACK, BYE either way, CANCEL,
  OPTIONS, re-INVITE (hold and resume), keypad digits by RTP events or SIP INFO; refusals with
  486 (all lines busy), 488 (no common codec), 400 (malformed), 405/501 (not supported),
  403/401 (access control, `sip_access`), each logged with its reason;
- calls out: `place_call()` rings a number and runs the session once answered, so the
  greeting plays at once, without waiting for the callee to speak;
- registration with a trunk or PBX (digest MD5 or SHA-256), refreshed at half its lifetime.

A call is a `SipCall` (the session's CallTransport) over an `RtpSession` (rtp_udp.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from voice_agent.agent.events import CallEvent
from voice_agent.agent.limits import CallLimiter, CallSlot
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import DtmfInput
from voice_agent.audio import AudioFrame
from voice_agent.clock import Clock
from voice_agent.protocol.dtmf import EVENT_DIGITS
from voice_agent.protocol.sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    AudioParameters,
    Direction,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
    create_answer,
    create_offer,
)
from voice_agent.protocol.sip.auth import AuthError, DigestClient, DigestCredentials
from voice_agent.protocol.sip.dialog import (
    AnswerRetransmitter,
    Dialog,
    DialogId,
    DialogState,
    build_cancel,
)
from voice_agent.protocol.sip.message import (
    NameAddr,
    SipLimits,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    build_response,
    is_keepalive,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from voice_agent.protocol.sip.timers import SipTimers
from voice_agent.protocol.sip.transaction import (
    ClientTransaction,
    InviteServerTransaction,
    ServerTransaction,
    TransactionKey,
    TransactionOutput,
    TransactionState,
    cancelled_invite_key,
    client_transaction,
    server_transaction,
    transaction_key,
)
from voice_agent.settings import SipSettings
from voice_agent.transport.rtp_udp import RtpOptions, RtpSession, bind_rtp_socket
from voice_agent.transport.sip_access import (
    MALFORMED_COST,
    AccessControl,
    RateLimiter,
    bad_request_response,
)
from voice_agent.transport.udp_buffer import enlarge_receive_buffer, receive_drops

if TYPE_CHECKING:
    from voice_agent.app import App

logger = logging.getLogger(__name__)

ALLOWED = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO")
_KNOWN_ELSEWHERE = frozenset("REGISTER SUBSCRIBE NOTIFY PUBLISH MESSAGE REFER UPDATE PRACK".split())
"""Methods we know but do not serve: 405 with Allow. Anything else is 501."""
_MAX_TIMER_SLEEP_S = 0.1
_MIN_TIMER_SLEEP_S = 0.002
_CLOSE_WAIT_S = 2.0
_DROPS_CHECK_S = 1.0
_FINISHED_KEPT = 20

CallRunner = Callable[["SipCall", Playout, str], Awaitable[None]]
"""Runs one call's session to its end: (transport, playout, caller id)."""


class OutboundCallError(Exception):
    """An outbound call was not answered: the final status and its reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


Address = tuple[str, int]


# --- one call ------------------------------------------------------------------------------


@dataclass
class _Pending:
    """An incoming INVITE not answered yet."""

    invite: SipRequest
    transaction: InviteServerTransaction
    source: Address
    to_tag: str
    slot: CallSlot
    rtp_socket: socket.socket
    params: AudioParameters
    answer: SessionDescription | None  # None: the INVITE had no offer; we offer in the 200
    local: LocalMedia
    cancelled: bool = False
    task: asyncio.Task[None] | None = None


class SipCall:
    """One phone call: the CallTransport a session runs on."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        dialog: Dialog,
        rtp: RtpSession,
        playout: Playout,
        caller_id: str,
        peer: Address,
        local: LocalMedia,
        outbound: bool,
        slot: CallSlot,
    ) -> None:
        self.endpoint = endpoint
        self.dialog = dialog
        self.rtp = rtp
        self.playout = playout
        self.caller_id = caller_id
        self.dialled: str | None = None
        """The number the caller dialled (the INVITE's Request-URI user); the app may pick
        the call's language by it."""
        self.peer = peer
        self.local = local
        self.outbound = outbound
        self.slot = slot  # released when the call ends, though the session may still clean up
        self.ended: str | None = None
        self.retransmitter: AnswerRetransmitter | None = None
        self.ack: SipRequest | None = None  # outbound: the ACK every 2xx copy gets
        self.offer: SessionDescription | None = None  # our offer awaiting an answer in ACK
        self.finished = asyncio.Event()
        self.events: list[CallEvent] = []

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    # --- CallTransport ---------------------------------------------------------------------

    async def inputs(self) -> AsyncIterator[AudioFrame | DtmfInput]:
        async for item in self.rtp.inputs():
            yield item

    def clear(self) -> None:
        """Nothing is queued below the Playout: the line reads 20 ms when each packet is due."""

    async def hang_up(self) -> None:
        await self.endpoint.hang_up(self, "agent hung up")

    def publish(self, event: CallEvent) -> None:
        self.events.append(event)
        # the kind only: what the caller said or typed is personal data
        logger.debug("sip call %s: %s", self.call_id, type(event).__name__)

    async def wait(self) -> None:
        await self.finished.wait()


# --- transactions ------------------------------------------------------------------------------


@dataclass
class _ServerEntry:
    transaction: ServerTransaction
    source: Address


@dataclass
class _ClientEntry:
    transaction: ClientTransaction
    destination: Address
    on_response: Callable[[SipResponse], None]
    on_timeout: Callable[[], None]


class SipEndpoint(asyncio.DatagramProtocol):
    def __init__(
        self,
        settings: SipSettings,
        clock: Clock,
        limiter: CallLimiter,
        run_call: CallRunner,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._limiter = limiter
        self._run_call = run_call
        self._timers = SipTimers(t1=settings.t1_ms / 1000)
        self._limits = SipLimits(max_message_size=65_535)
        self._rate = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst, clock)
        self.access = AccessControl(settings, clock)
        self._transport: asyncio.DatagramTransport | None = None
        self._server: dict[TransactionKey, _ServerEntry] = {}
        self._client: dict[TransactionKey, _ClientEntry] = {}
        self._pending: dict[TransactionKey, _Pending] = {}
        self._calls: dict[DialogId, SipCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer_task: asyncio.Task[None] | None = None
        self._registration: Registration | None = None
        self._closing = False
        self._drops_seen = 0
        self._drops_checked_at: float | None = None
        self.address: Address = (settings.listen_host, settings.listen_port)
        self.receive_buffer_bytes = 0
        """The SIP socket's receive buffer, as the kernel granted it."""
        self.finished_calls: deque[SipCall] = deque(maxlen=_FINISHED_KEPT)
        """The last calls that ended (for tests and the CLI; bounded, a server runs long)."""

    # --- life cycle ------------------------------------------------------------------------

    async def start(self, register: bool = True) -> None:
        """Bind the socket, start the timers and (with a trunk, unless told not to) register."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.settings.listen_host, self.settings.listen_port)
        )
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        self.address = (host, port)
        # a burst of requests (a trunk failing over, a scanner) must wait, not be dropped
        self.receive_buffer_bytes = enlarge_receive_buffer(self._transport.get_extra_info("socket"))
        self._timer_task = asyncio.create_task(self._fire_timers())
        # in KiB: a seven-digit byte count would be masked as a phone number by the log filter
        logger.info(
            "SIP listening on udp:%s:%d (receive buffer %d KiB)",
            host,
            port,
            self.receive_buffer_bytes // 1024,
        )
        if self.settings.trunk is not None and register:
            self._registration = Registration(self, self.settings)
            await self._registration.start()

    async def aclose(self) -> None:
        """Hang up every call, unregister, stop."""
        for call in list(self._calls.values()):
            await self.hang_up(call, "server shutting down")
        for pending in list(self._pending.values()):
            self._refuse_pending(pending, 503, "server shutting down")
        if self._registration is not None:
            await self._registration.stop()
        if self._tasks:  # calls wind down, BYEs are answered; a silent peer is not waited for
            _, stuck = await asyncio.wait(list(self._tasks), timeout=_CLOSE_WAIT_S)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        self._closing = True
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
        if self._transport is not None:
            self._transport.close()

    async def __aenter__(self) -> SipEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def calls(self) -> list[SipCall]:
        return list(self._calls.values())

    @property
    def registration(self) -> Registration | None:
        return self._registration

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (CPython's UDP transport does not subclass DatagramTransport, though it is one)
        self._transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:
        logger.debug("SIP socket: %s", exc)

    def receive_drops(self) -> int | None:
        """Datagrams the kernel dropped because the SIP socket's buffer was full (None where
        the system does not tell, or the socket is closed)."""
        if self._transport is None or self._transport.is_closing():
            return None
        return receive_drops(self._transport.get_extra_info("socket"))

    # --- addresses -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address others reach us at (Via, Contact, SDP)."""
        if self.settings.advertised_host:
            return self.settings.advertised_host
        host = self.address[0]
        return host if host not in ("0.0.0.0", "::") else _local_address_towards("192.0.2.1")

    def contact(self, user: str | None = None) -> NameAddr:
        return NameAddr(SipUri(self.host, user or "agent", self.address[1]))

    def new_via(self) -> str:
        return str(Via(self.host, self.address[1], "UDP", {"branch": new_branch(), "rport": None}))

    def local_media(self, port: int, version: int = 1) -> LocalMedia:
        codecs = tuple(PCMU if name == "PCMU" else PCMA for name in self.settings.codecs)
        return LocalMedia(
            address=self.host,
            port=port,
            session_id=str(secrets.randbelow(10**9)),
            session_version=version,
            codecs=codecs,
            telephone_event=TELEPHONE_EVENT if self.settings.dtmf else None,
        )

    # --- the wire --------------------------------------------------------------------------

    def send(self, message: SipRequest | SipResponse, destination: Address) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.sendto(bytes(message), destination)

    def _apply(self, output: TransactionOutput, destination: Address) -> None:
        for message in output.send:
            self.send(message, destination)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            self._receive(data, source)
        except Exception:  # one bad message must never take the line down
            logger.exception("SIP: failed handling a message from %s:%d", *source)

    def _receive(self, data: bytes, source: Address) -> None:
        if self._closing or not self._rate.allow(source[0]):
            return
        if is_keepalive(data):
            return
        try:
            message = parse_message(data, self._limits)
        except SipParseError as error:
            self._malformed(data, source, str(error))
            return
        if isinstance(message, SipResponse):
            self._on_response(message, source)
        else:
            self._on_request(message, source)

    def _malformed(self, data: bytes, source: Address, error: str) -> None:
        self._rate.allow(source[0], cost=MALFORMED_COST - 1)
        response = bad_request_response(data, error, self.host)
        if response is None:
            logger.info("dropped an unreadable message from %s:%d: %s", *source, error)
            return
        logger.info("refused a malformed request from %s:%d: 400 (%s)", *source, error)
        if self._transport is not None:
            self._transport.sendto(response, source)

    # --- timers ----------------------------------------------------------------------------

    async def _fire_timers(self) -> None:
        while True:
            now = self._clock.now()
            try:
                self._fire_due(now)
                self._watch_drops(now)
            except Exception:
                logger.exception("SIP timers failed")
            deadline = self._next_deadline()
            wait = _MAX_TIMER_SLEEP_S if deadline is None else deadline - now
            await self._clock.sleep(min(max(wait, _MIN_TIMER_SLEEP_S), _MAX_TIMER_SLEEP_S))

    def _watch_drops(self, now: float) -> None:
        """Warn when the kernel dropped datagrams since the last look (once a second)."""
        if self._drops_checked_at is not None and now - self._drops_checked_at < _DROPS_CHECK_S:
            return
        self._drops_checked_at = now
        drops = self.receive_drops()
        if drops is not None and drops > self._drops_seen:
            logger.warning(
                "SIP socket: %d datagrams dropped, its receive buffer was full (%d in all)",
                drops - self._drops_seen,
                drops,
            )
            self._drops_seen = drops

    def _next_deadline(self) -> float | None:
        deadlines = [e.transaction.deadline for e in self._server.values()]
        deadlines += [e.transaction.deadline for e in self._client.values()]
        deadlines += [c.retransmitter.deadline for c in self._calls.values() if c.retransmitter]
        return min((d for d in deadlines if d is not None), default=None)

    def _fire_due(self, now: float) -> None:
        for key, server in list(self._server.items()):
            deadline = server.transaction.deadline
            if deadline is not None and deadline <= now:
                self._apply(server.transaction.on_timer(now), server.source)
            if server.transaction.terminated:
                del self._server[key]
                self._pending.pop(key, None)
        for key, client in list(self._client.items()):
            deadline = client.transaction.deadline
            output = None
            if deadline is not None and deadline <= now:
                output = client.transaction.on_timer(now)
                self._apply(output, client.destination)
            if client.transaction.terminated:
                del self._client[key]
            if output is not None and output.timed_out:
                client.on_timeout()
        for call in list(self._calls.values()):
            self._retransmit_answer(call, now)

    def _retransmit_answer(self, call: SipCall, now: float) -> None:
        retransmitter = call.retransmitter
        if retransmitter is None or retransmitter.deadline is None or retransmitter.deadline > now:
            return
        output = retransmitter.on_timer(now)
        for response in output.send:
            self.send(response, call.peer)
        if output.timed_out:
            call.retransmitter = None
            self.end_call(call, "the caller never acknowledged the answer (no ACK)")

    # --- requests we receive ---------------------------------------------------------------

    def _on_request(self, request: SipRequest, source: Address) -> None:
        now = self._clock.now()
        if request.method == "ACK":
            self._on_ack(request, source)
            return
        key = transaction_key(request)
        known = self._server.get(key)
        if known is not None:
            self._apply(known.transaction.receive(request, now), known.source)  # retransmission
            return
        if request.method == "CANCEL":
            self._on_cancel(request, source)
            return
        transaction = server_transaction(request, timers=self._timers)
        entry = _ServerEntry(transaction, source)
        self._server[key] = entry
        self._apply(transaction.start(now), source)
        in_dialog = request.to_addr.tag is not None
        refusal = self._screen(request, source, in_dialog)
        if refusal is not None:
            self.respond(entry, refusal[0], refusal[1])
            return
        self._dispatch(request, entry, in_dialog)

    def _screen(
        self, request: SipRequest, source: Address, in_dialog: bool
    ) -> tuple[SipResponse, str] | None:
        """A response that refuses the request before it is served, and why; None to serve."""
        if request.max_forwards == 0 and request.method != "OPTIONS":
            return build_response(request, 483, to_tag=new_tag()), "Max-Forwards reached 0"
        required = [value for value in request.headers.values("Require") if value]
        if required:
            response = build_response(
                request, 420, to_tag=new_tag(), headers=[("Unsupported", ", ".join(required))]
            )
            return response, f"requires unsupported extensions {', '.join(required)}"
        if in_dialog:
            return None  # dialog tags are unguessable: the dialog itself is the credential
        verdict = self.access.check(request, source)
        if verdict.allowed:
            return None
        assert verdict.response is not None
        return verdict.response, verdict.reason

    def _dispatch(self, request: SipRequest, entry: _ServerEntry, in_dialog: bool) -> None:
        method = request.method
        if method == "INVITE":
            if in_dialog:
                self._on_reinvite(request, entry)
            else:
                self._on_invite(request, entry)
        elif method == "BYE":
            self._on_bye(request, entry)
        elif method == "OPTIONS":
            self.respond(entry, self._capabilities(request, 200))
        elif method == "INFO":
            self._on_info(request, entry)
        elif method in _KNOWN_ELSEWHERE:
            response = build_response(
                request, 405, to_tag=new_tag(), headers=[("Allow", ", ".join(ALLOWED))]
            )
            self.respond(entry, response, f"{method} is not served here")
        else:
            self.respond(
                entry, build_response(request, 501, to_tag=new_tag()), f"unknown method {method}"
            )

    def _capabilities(self, request: SipRequest, status: int) -> SipResponse:
        return build_response(
            request,
            status,
            to_tag=None if request.to_addr.tag else new_tag(),
            headers=[
                ("Allow", ", ".join(ALLOWED)),
                ("Accept", "application/sdp"),
                ("Supported", ""),
                ("Server", self.settings.user_agent),
            ],
        )

    def respond(self, entry: _ServerEntry, response: SipResponse, why: str | None = None) -> None:
        """Send a response through its server transaction; refusals are logged with why."""
        request = entry.transaction.request
        if response.status >= 300:
            logger.info(
                "refused %s from %s:%d: %d %s (%s)",
                request.method,
                *entry.source,
                response.status,
                response.reason,
                why or "no reason given",
            )
        response.headers.set("Server", self.settings.user_agent)
        self._apply(entry.transaction.respond(response, self._clock.now()), entry.source)

    # --- a new call ------------------------------------------------------------------------

    def _on_invite(self, invite: SipRequest, entry: _ServerEntry) -> None:
        assert isinstance(entry.transaction, InviteServerTransaction)
        if len(invite.contacts) != 1:
            response = build_response(invite, 400, "One Contact Required", to_tag=new_tag())
            self.respond(entry, response, f"{len(invite.contacts)} Contact headers")
            return
        readable, offer = self._read_offer(invite, entry)
        if not readable:
            return
        try:
            sock = bind_rtp_socket(
                self.settings.listen_host, self.settings.rtp_port_min, self.settings.rtp_port_max
            )
        except OSError as error:
            self.respond(entry, build_response(invite, 503, to_tag=new_tag()), str(error))
            return
        local = self.local_media(sock.getsockname()[1])
        try:
            answer, params = self._negotiate(offer, local)
        except SdpNegotiationError as error:
            sock.close()
            warning = f'305 {self.host} "{str(error)[:200]}"'
            response = build_response(invite, 488, to_tag=new_tag(), headers=[("Warning", warning)])
            self.respond(entry, response, f"no common codec: {error}")
            return
        slot = self._limiter.try_acquire("sip")
        if slot is None:
            sock.close()
            active = self._limiter.active
            self.respond(
                entry, build_response(invite, 486, to_tag=new_tag()), f"{active} calls active"
            )
            return
        pending = _Pending(
            invite, entry.transaction, entry.source, new_tag(), slot, sock, params, answer, local
        )
        self._pending[entry.transaction.key] = pending
        ringing = build_response(
            invite, 180, to_tag=pending.to_tag, headers=[("Contact", str(self.contact()))]
        )
        self.respond(entry, ringing)
        pending.task = self._spawn(self._answer(pending, entry))

    def _read_offer(
        self, invite: SipRequest, entry: _ServerEntry
    ) -> tuple[bool, SessionDescription | None]:
        """(False, None) if the body was refused (and answered); else (True, the offer or None
        when the INVITE has none)."""
        if not invite.body:
            return True, None
        if invite.content_type != "application/sdp":
            response = build_response(
                invite, 415, to_tag=new_tag(), headers=[("Accept", "application/sdp")]
            )
            self.respond(entry, response, f"body of type {invite.content_type}")
            return False, None
        try:
            return True, SessionDescription.parse(invite.body)
        except SdpParseError as error:
            response = build_response(invite, 400, "Malformed SDP", to_tag=new_tag())
            self.respond(entry, response, f"malformed SDP: {error}")
            return False, None

    def _negotiate(
        self, offer: SessionDescription | None, local: LocalMedia
    ) -> tuple[SessionDescription | None, AudioParameters]:
        if offer is None:
            # no offer: ours goes in the 200, the answer comes in the ACK; until then we
            # know nothing of the caller's media, so nothing is sent
            params = AudioParameters("0.0.0.0", 0, local.codecs[0], None, 20, Direction.RECVONLY)
            return None, params
        return create_answer(offer, local)

    async def _answer(self, pending: _Pending, entry: _ServerEntry) -> None:
        invite = pending.invite
        try:
            if self.settings.ring_s > 0:
                await self._clock.sleep(self.settings.ring_s)
            if pending.cancelled:
                return
            playout = Playout(self._clock)
            rtp = RtpSession(
                pending.params,
                playout,
                self._clock,
                RtpOptions.from_settings(self.settings),
                name=invite.call_id[:12],
            )
            loop = asyncio.get_running_loop()
            await loop.create_datagram_endpoint(lambda: rtp, sock=pending.rtp_socket)
        except Exception as error:
            self._refuse_pending(pending, 500, f"could not open the media: {error}")
            raise
        if pending.cancelled:
            rtp.close("cancelled")
            return
        body = pending.answer if pending.answer is not None else create_offer(pending.local)
        response = build_response(
            invite,
            200,
            to_tag=pending.to_tag,
            headers=[
                ("Contact", str(self.contact())),
                ("Allow", ", ".join(ALLOWED)),
                ("Supported", ""),
            ],
            body=bytes(body),
            content_type="application/sdp",
        )
        dialog = Dialog.from_uas(invite, response, self.contact())
        call = SipCall(
            self,
            dialog,
            rtp,
            playout,
            _caller_id(invite, pending.source),
            self.next_hop(dialog, pending.source),
            pending.local,
            outbound=False,
            slot=pending.slot,
        )
        if pending.answer is None:
            call.offer = body
        call.dialled = _dialled(invite)
        call.retransmitter = AnswerRetransmitter(response, self._clock.now(), self._timers)
        self._pending.pop(pending.transaction.key, None)
        self._calls[dialog.id] = call
        self.respond(entry, response)
        logger.info("answered call %s (%s)", invite.call_id, rtp.params.codec.name)
        await self._run(call)

    def _refuse_pending(self, pending: _Pending, status: int, why: str) -> None:
        pending.cancelled = True
        if pending.task is not None and pending.task is not asyncio.current_task():
            pending.task.cancel()  # still ringing: stop
        self._pending.pop(pending.transaction.key, None)
        pending.slot.release()
        with contextlib.suppress(OSError):
            pending.rtp_socket.close()
        entry = self._server.get(pending.transaction.key)
        if entry is not None and pending.transaction.state is TransactionState.PROCEEDING:
            response = build_response(pending.invite, status, to_tag=pending.to_tag)
            self.respond(entry, response, why)

    async def _run(self, call: SipCall) -> None:
        """Run the session on the call until either side ends it, then clean up."""
        rtp_task = asyncio.create_task(call.rtp.run())

        call.rtp.on_close = lambda reason: self.end_call(call, reason)
        with call.slot:
            try:
                await self._run_call(call, call.playout, call.caller_id)
            except Exception:
                logger.exception("SIP call %s failed", call.call_id)
            finally:
                await self.hang_up(call, "the session ended")
                call.rtp.close("call ended")
                await rtp_task
                # kept among the finished calls, without the rest of a reply cut short
                call.playout.clear()
                self._calls.pop(call.dialog.id, None)
                self.finished_calls.append(call)
                call.finished.set()
                logger.info("call %s ended: %s", call.call_id, call.ended)

    # --- requests within a call ------------------------------------------------------------

    def _call_for(self, request: SipRequest, entry: _ServerEntry) -> SipCall | None:
        call = self._calls.get(DialogId.of_incoming_request(request))
        if call is None:
            response = build_response(request, 481)
            self.respond(entry, response, "no such call")
            return None
        if not call.dialog.receive_request(request):
            self.respond(entry, build_response(request, 500), "CSeq out of order")
            return None
        return call

    def _on_ack(self, ack: SipRequest, source: Address) -> None:
        entry = self._server.get(transaction_key(ack))
        if entry is not None and entry.transaction.state is TransactionState.COMPLETED:
            self._apply(entry.transaction.receive(ack, self._clock.now()), entry.source)
            return
        call = self._calls.get(DialogId.of_incoming_request(ack))
        if call is None or call.retransmitter is None:
            return
        if not call.retransmitter.acknowledge(ack):
            return
        call.retransmitter = None
        if call.offer is not None and ack.body:
            self._accept_late_answer(call, ack)

    def _accept_late_answer(self, call: SipCall, ack: SipRequest) -> None:
        assert call.offer is not None
        try:
            params = accept_answer(call.offer, SessionDescription.parse(ack.body))
        except (SdpParseError, SdpNegotiationError) as error:
            logger.info("call %s: unusable answer in the ACK: %s", call.call_id, error)
            self._spawn(self.hang_up(call, f"unusable SDP answer in the ACK: {error}"))
            return
        call.offer = None
        call.rtp.update(params)

    def _on_cancel(self, cancel: SipRequest, source: Address) -> None:
        now = self._clock.now()
        transaction = server_transaction(cancel, timers=self._timers)
        entry = _ServerEntry(transaction, source)
        self._server[transaction_key(cancel)] = entry
        self._apply(transaction.start(now), source)
        invite_key = cancelled_invite_key(cancel)
        pending = self._pending.get(invite_key)
        invite_entry = self._server.get(invite_key)
        if invite_entry is None:
            self.respond(entry, build_response(cancel, 481, to_tag=new_tag()), "nothing to cancel")
            return
        self.respond(entry, build_response(cancel, 200, to_tag=pending.to_tag if pending else None))
        if pending is not None and not pending.cancelled:
            logger.info("call %s cancelled by the caller before the answer", cancel.call_id)
            self._refuse_pending(pending, 487, "cancelled by the caller")

    def _on_bye(self, bye: SipRequest, entry: _ServerEntry) -> None:
        call = self._call_for(bye, entry)
        if call is None:
            return
        self.respond(entry, call.dialog.response_for(bye, 200))
        self._end(call, "the caller hung up")

    def _on_reinvite(self, invite: SipRequest, entry: _ServerEntry) -> None:
        call = self._call_for(invite, entry)
        if call is None:
            return
        readable, offer = self._read_offer(invite, entry)
        if not readable:
            return
        version = call.local.session_version + 1
        local = replace(call.local, port=call.rtp.local_port, session_version=version)
        try:
            answer, params = self._negotiate(offer, local)
        except SdpNegotiationError as error:
            response = call.dialog.response_for(invite, 488)
            self.respond(entry, response, f"re-INVITE: {error}")
            return
        call.local = local
        body = answer if answer is not None else create_offer(local)
        response = call.dialog.response_for(
            invite, 200, body=bytes(body), content_type="application/sdp"
        )
        if answer is not None:
            call.rtp.update(params)
            logger.info("call %s: re-INVITE, media now %s", call.call_id, params.direction.value)
        else:
            call.offer = body
        call.retransmitter = AnswerRetransmitter(response, self._clock.now(), self._timers)
        self.respond(entry, response)

    def _on_info(self, info: SipRequest, entry: _ServerEntry) -> None:
        call = self._call_for(info, entry) if info.to_addr.tag else None
        if call is None:
            if not info.to_addr.tag:
                self.respond(
                    entry, build_response(info, 481, to_tag=new_tag()), "INFO outside a call"
                )
            return
        digit = _info_digit(info)
        if digit is None:
            self.respond(entry, call.dialog.response_for(info, 415), "INFO without a DTMF body")
            return
        call.rtp.keypad(digit)
        self.respond(entry, call.dialog.response_for(info, 200))

    def _end(self, call: SipCall, reason: str) -> None:
        if call.ended is None:
            self._mark_ended(call, reason)
            call.dialog.terminate()
            call.rtp.close(reason)

    def _mark_ended(self, call: SipCall, reason: str) -> None:
        call.ended = reason
        call.slot.release()  # the line is free for the next caller at once

    # --- requests we send ------------------------------------------------------------------

    def request(
        self,
        request: SipRequest,
        destination: Address,
        on_response: Callable[[SipResponse], None],
        on_timeout: Callable[[], None],
    ) -> ClientTransaction:
        request.headers.set("User-Agent", self.settings.user_agent)
        transaction = client_transaction(request, timers=self._timers)
        self._client[transaction.key] = _ClientEntry(
            transaction, destination, on_response, on_timeout
        )
        self._apply(transaction.start(self._clock.now()), destination)
        return transaction

    async def exchange(self, request: SipRequest, destination: Address) -> SipResponse:
        """Send a non-INVITE request and wait for its final response (408 on timeout)."""
        future: asyncio.Future[SipResponse] = asyncio.get_running_loop().create_future()

        def on_response(response: SipResponse) -> None:
            if response.status >= 200 and not future.done():
                future.set_result(response)

        def on_timeout() -> None:
            if not future.done():
                future.set_result(build_response(request, 408))

        self.request(request, destination, on_response, on_timeout)
        return await future

    def _on_response(self, response: SipResponse, source: Address) -> None:
        entry = self._client.get(transaction_key(response))
        if entry is None:
            self._stray_response(response)
            return
        output = entry.transaction.receive(response, self._clock.now())
        self._apply(output, entry.destination)
        for message in output.deliver:
            assert isinstance(message, SipResponse)
            entry.on_response(message)

    def _stray_response(self, response: SipResponse) -> None:
        """A 2xx to our INVITE after its transaction ended: acknowledge it again."""
        if response.cseq.method != "INVITE" or not response.is_success:
            return
        call = self._calls.get(DialogId.of_incoming_response(response))
        if call is not None and call.ack is not None:
            self.send(call.ack, call.peer)

    async def hang_up(self, call: SipCall, reason: str) -> None:
        """End a call from our side: BYE (once), then the media stops."""
        self.end_call(call, reason)

    def end_call(self, call: SipCall, reason: str) -> None:
        """`hang_up` for callers that cannot await (the media's timeout)."""
        if call.ended is not None:
            return
        self._mark_ended(call, reason)
        logger.info("hanging up call %s: %s", call.call_id, reason)
        call.rtp.close(reason)
        if call.dialog.state is DialogState.TERMINATED:
            return
        bye = call.dialog.create_bye()
        call.dialog.terminate()
        self._spawn(self._bye(call, bye))  # the call is over for us whatever the answer

    async def _bye(self, call: SipCall, bye: SipRequest) -> None:
        response = await self.exchange(bye, call.peer)
        if response.status >= 300:
            logger.info(
                "call %s: BYE answered %d %s", call.call_id, response.status, response.reason
            )

    # --- calls out -------------------------------------------------------------------------

    async def place_call(self, target: str, caller_user: str | None = None) -> SipCall:
        """Call `target` (a SIP URI); returns once answered, with the session running.

        Raises OutboundCallError when the call is refused, not answered in time, or fails."""
        uri = SipUri.parse(target)
        destination = await _resolve(uri.host, uri.port or 5060)
        user = caller_user or (self.settings.trunk.username if self.settings.trunk else "agent")
        slot = self._limiter.try_acquire("sip")
        if slot is None:
            raise OutboundCallError(486, "all lines are busy here")
        try:
            outbound = OutboundCall(self, uri, destination, user, slot)
            call = await outbound.ring()
        except BaseException:
            slot.release()
            raise
        self._calls[call.dialog.id] = call
        self._spawn(self._run(call))
        return call

    # --- plumbing --------------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("SIP task failed", exc_info=task.exception())

    def next_hop(self, dialog: Dialog, fallback: Address) -> Address:
        """Where in-dialog requests go: the first route, else the remote target (IP hosts;
        a name falls back to where the dialog's first request came from)."""
        uri = dialog.route_set[0].uri if dialog.route_set else dialog.remote_target
        if _is_ip(uri.host):
            return (uri.host.strip("[]"), uri.port or 5060)
        return fallback


class OutboundCall:
    """One INVITE on its way out: authentication, ringing, answer or failure, CANCEL."""

    def __init__(
        self, endpoint: SipEndpoint, target: SipUri, destination: Address, user: str, slot: CallSlot
    ) -> None:
        self._endpoint = endpoint
        self._target = target
        self._destination = destination
        self._user = user
        self._slot = slot
        self._sock = bind_rtp_socket(
            endpoint.settings.listen_host,
            endpoint.settings.rtp_port_min,
            endpoint.settings.rtp_port_max,
        )
        self._local = endpoint.local_media(self._sock.getsockname()[1])
        self._offer = create_offer(self._local)
        self._responses: asyncio.Queue[SipResponse] = asyncio.Queue()
        self._invite = self._first_invite()
        self._ack: SipRequest | None = None
        self._peer: Address | None = None

    def _first_invite(self) -> SipRequest:
        endpoint = self._endpoint
        local_uri = SipUri(endpoint.host, self._user, None)
        fields = [
            ("Via", endpoint.new_via()),
            ("Max-Forwards", "70"),
            ("From", f"<{local_uri}>;tag={new_tag()}"),
            ("To", f"<{self._target}>"),
            ("Call-ID", new_call_id(endpoint.host)),
            ("CSeq", "1 INVITE"),
            ("Contact", str(endpoint.contact(self._user))),
            ("Allow", ", ".join(ALLOWED)),
            ("Content-Type", "application/sdp"),
        ]
        return SipRequest.create("INVITE", str(self._target), fields, bytes(self._offer))

    async def ring(self) -> SipCall:
        """Ring until answered (the call), refused or not answered in time (OutboundCallError).

        Unanswered, the INVITE is cancelled after no_answer_timeout_s; a peer that vanished
        ends the INVITE transaction itself (timer B, 408)."""
        try:
            return await self._ring()
        except BaseException:
            with contextlib.suppress(OSError):
                self._sock.close()
            raise

    async def _ring(self) -> SipCall:
        endpoint = self._endpoint
        digest = _trunk_digest(endpoint.settings)
        authenticated = False
        self._send(self._invite)
        no_answer = asyncio.create_task(self._cancel_after(endpoint.settings.no_answer_timeout_s))
        try:
            while True:
                response = await self._responses.get()
                if response.is_provisional:
                    if response.status == 180:
                        logger.info("call %s: ringing", self._invite.call_id)
                    continue
                if response.is_success:
                    return await self._connected(response)
                if response.status in (401, 407) and digest is not None and not authenticated:
                    authenticated = True
                    try:
                        self._invite = digest.authorize(self._invite, response)
                    except AuthError as error:
                        raise OutboundCallError(response.status, str(error)) from None
                    self._send(self._invite)
                    continue
                raise OutboundCallError(response.status, response.reason)
        finally:
            no_answer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await no_answer

    def _send(self, invite: SipRequest) -> None:
        self._endpoint.request(
            invite,
            self._destination,
            self._on_response,
            lambda: self._responses.put_nowait(build_response(invite, 408)),
        )

    def _on_response(self, response: SipResponse) -> None:
        if self._ack is not None and self._peer is not None:
            if response.is_success:  # a copy of the 2xx: our ACK was lost, send it again
                self._endpoint.send(self._ack, self._peer)
            return
        self._responses.put_nowait(response)

    async def _cancel_after(self, seconds: float) -> None:
        await self._endpoint.clock.sleep(seconds)
        if self._ack is None:
            logger.info("call %s: no answer in %g s, cancelling", self._invite.call_id, seconds)
            cancel = build_cancel(self._invite)
            self._endpoint.request(cancel, self._destination, lambda r: None, lambda: None)

    async def _connected(self, response: SipResponse) -> SipCall:
        endpoint = self._endpoint
        dialog = Dialog.from_uac(self._invite, response)
        ack = dialog.create_ack(self._invite.cseq.seq)
        peer = endpoint.next_hop(dialog, self._destination)
        endpoint.send(ack, peer)
        self._ack, self._peer = ack, peer
        try:
            params = accept_answer(self._offer, SessionDescription.parse(response.body))
        except (SdpParseError, SdpNegotiationError) as error:
            bye = dialog.create_bye()
            endpoint.request(bye, peer, lambda r: None, lambda: None)
            raise OutboundCallError(488, f"unusable SDP answer: {error}") from None
        playout = Playout(endpoint.clock)
        rtp = RtpSession(
            params,
            playout,
            endpoint.clock,
            RtpOptions.from_settings(endpoint.settings),
            name=self._invite.call_id[:12],
        )
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: rtp, sock=self._sock)
        call = SipCall(
            endpoint,
            dialog,
            rtp,
            playout,
            str(self._target),
            peer,
            self._local,
            outbound=True,
            slot=self._slot,
        )
        call.ack = ack
        logger.info("call %s answered (%s)", dialog.call_id, params.codec.name)
        return call


class TooBriefError(Exception):
    """423 Interval Too Brief: register again asking for at least `minimum` seconds."""

    def __init__(self, minimum: int) -> None:
        super().__init__(f"the registrar wants at least {minimum} s")
        self.minimum = minimum


class Registration:
    """Keeps the agent registered with the trunk: REGISTER, answer the challenge, refresh."""

    def __init__(self, endpoint: SipEndpoint, settings: SipSettings) -> None:
        assert settings.trunk is not None
        self._endpoint = endpoint
        self._trunk = settings.trunk
        self._registrar = SipUri.parse(settings.trunk.registrar)
        self._domain = settings.trunk.domain or self._registrar.host
        self._digest = _trunk_digest(settings)
        self._call_id = new_call_id(endpoint.host)
        self._from_tag = new_tag()
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self.destination: Address | None = None
        self.registered_until: float | None = None
        self.attempts = 0
        self.successes = 0
        self.algorithms: list[str] = []
        """The digest algorithm of each challenge answered (MD5, SHA-256), in order."""
        self.registered = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_registered())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.registered_until is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self.register(expires=0)

    async def _keep_registered(self) -> None:
        clock = self._endpoint.clock
        expires = self._trunk.expires_s
        while True:
            granted: int | None = None
            try:
                await self._locate()
                granted = await self.register(expires)
            except TooBriefError as error:
                expires = error.minimum  # the registrar's minimum: ask again at once
                continue
            except OSError as error:
                logger.warning("registrar %s unreachable: %s", self._registrar, error)
            except Exception:
                logger.exception("registration failed")
            # refresh at half the lifetime, so a lost REGISTER can be retried before expiry
            await clock.sleep(granted / 2 if granted else self._trunk.retry_s)

    async def _locate(self) -> None:
        """Resolve the registrar (each attempt: its address may change); trust its address."""
        self.destination = await _resolve(self._registrar.host, self._registrar.port or 5060)
        self._endpoint.access.set_trunk(self.destination)

    async def register(self, expires: int) -> int | None:
        """One REGISTER exchange (answering one challenge); the lifetime granted, or None."""
        assert self.destination is not None
        self.attempts += 1
        request = self._request(expires)
        response = await self._endpoint.exchange(request, self.destination)
        if response.status in (401, 407) and self._digest is not None:
            realm_ok = self._challenge_realm_ok(response)
            if not realm_ok:
                logger.warning("registrar challenged for a realm other than the configured one")
                return None
            try:
                request = self._digest.authorize(request, response)
            except AuthError as error:
                logger.warning("cannot answer the registrar's challenge: %s", error)
                return None
            self.algorithms.append(_algorithm_of(request))
            self._seq = request.cseq.seq
            response = await self._endpoint.exchange(request, self.destination)
        minimum = response.headers.get("Min-Expires") or ""
        if response.status == 423 and minimum.isdigit() and int(minimum) > expires:
            raise TooBriefError(int(minimum))
        if not response.is_success:
            logger.warning(
                "registration with %s refused: %d %s",
                self._registrar,
                response.status,
                response.reason,
            )
            self.registered_until = None
            return None
        if expires == 0:
            logger.info("unregistered from %s", self._registrar)
            self.registered_until = None
            return 0
        granted = self._granted(response, expires)
        self.registered_until = self._endpoint.clock.now() + granted
        self.successes += 1
        self.registered.set()
        logger.info("registered with %s for %d s", self._registrar, granted)
        return granted

    def _request(self, expires: int) -> SipRequest:
        endpoint = self._endpoint
        self._seq += 1
        aor = SipUri(self._domain, self._trunk.username)
        fields = [
            ("Via", endpoint.new_via()),
            ("Max-Forwards", "70"),
            ("From", f"<{aor}>;tag={self._from_tag}"),
            ("To", f"<{aor}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._seq} REGISTER"),
            ("Contact", str(endpoint.contact(self._trunk.username))),
            ("Expires", str(expires)),
            ("Allow", ", ".join(ALLOWED)),
        ]
        request_uri = SipUri(self._registrar.host, None, self._registrar.port)
        return SipRequest.create("REGISTER", str(request_uri), fields)

    def _challenge_realm_ok(self, response: SipResponse) -> bool:
        wanted = self._trunk.realm
        if wanted is None:
            return True
        challenges = response.headers.get_all("WWW-Authenticate") + response.headers.get_all(
            "Proxy-Authenticate"
        )
        return any(f'realm="{wanted}"' in challenge for challenge in challenges)

    def _granted(self, response: SipResponse, asked: int) -> int:
        ours = self._endpoint.contact(self._trunk.username).uri
        for contact in response.contacts:
            if (contact.uri.host, contact.uri.port) == (ours.host, ours.port):
                value = contact.params.get("expires")
                if value and value.isdigit():
                    return int(value)
        header = response.headers.get("Expires")
        return int(header) if header and header.isdigit() else asked


# --- helpers ----------------------------------------------------------------------------------


def _trunk_digest(settings: SipSettings) -> DigestClient | None:
    trunk = settings.trunk
    return DigestClient(trunk.username, trunk.password) if trunk is not None else None


def _algorithm_of(request: SipRequest) -> str:
    value = request.headers.get("Authorization") or request.headers.get("Proxy-Authorization")
    algorithm = DigestCredentials.parse(value).algorithm if value else None
    return (algorithm or "MD5").upper()


def _caller_id(invite: SipRequest, source: Address) -> str:
    """The caller ID and the address the INVITE came from ("+4930123456@203.0.113.5"): one
    caller for the verification limits (docs/verification.md)."""
    uri = invite.from_addr.uri
    return f"{uri.user or uri}@{source[0]}"


def _info_digit(info: SipRequest) -> str | None:
    """The key of a SIP INFO keypad message (application/dtmf-relay or application/dtmf)."""
    text = info.body.decode("utf-8", "replace").strip()
    if info.content_type == "application/dtmf-relay":
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                text = value.strip()
                break
        else:
            return None
    elif info.content_type != "application/dtmf":
        return None
    if text == "10":
        text = "*"
    elif text == "11":
        text = "#"
    text = text.upper()
    return text if len(text) == 1 and text in EVENT_DIGITS else None


def _is_ip(host: str) -> bool:
    host = host.strip("[]")
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


async def _resolve(host: str, port: int) -> Address:
    if _is_ip(host):
        return (host.strip("[]"), port)
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"cannot resolve {host}")
    address = infos[0][4]
    return (str(address[0]), int(address[1]))


def _local_address_towards(peer: str) -> str:
    """The local address the OS would use to reach `peer` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((peer, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


# --- wiring ------------------------------------------------------------------------------------


async def start_sip(app: App) -> SipEndpoint | None:
    """Start the phone line for `voice-agent serve` (None when [sip] enabled = false)."""
    settings = app.settings.sip
    if not settings.enabled:
        return None

    async def run_call(transport: SipCall, playout: Playout, caller_id: str) -> None:
        await app.answer_call(transport, playout, channel="sip", caller_id=caller_id)

    endpoint = SipEndpoint(settings, app.clock, app.calls, run_call)
    await endpoint.start()
    return endpoint


async def call_out(app: App, target: str, listen_port: int = 0) -> SipCall:
    """`voice-agent call --transport sip --to URI`: ring `target` from a line of our own (an
    ephemeral port unless given, so a running server keeps its port), run the session until
    the call ends, and return the call (its events say what was said)."""
    settings = app.settings.sip.model_copy(update={"listen_port": listen_port})

    async def run_call(transport: SipCall, playout: Playout, caller_id: str) -> None:
        await app.run_call(transport, playout, channel="sip", caller_id=caller_id)

    endpoint = SipEndpoint(settings, app.clock, app.calls, run_call)
    await endpoint.start(register=False)  # the trunk's credentials still answer challenges
    try:
        call = await endpoint.place_call(target)
        await call.wait()
    finally:
        await endpoint.aclose()
    return call


def _dialled(invite: SipRequest) -> str | None:
    try:
        return invite.request_uri.user
    except ValueError:  # the URI was checked when the INVITE was taken; a hint only
        return None
