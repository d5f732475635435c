"""The phone line over UDP: one socket feeding the sans-I/O user agent (protocol/sip/agent.py).

`SipEndpoint` binds 127.0.0.1:5060 by default, hands every datagram to the `UserAgent`, sends
what it returns, sleeps until its next deadline and acts on its events: an offered call gets
an RTP port and a line (`CallLimiter`), rings, and is answered with the media open; a call
that is up runs its session (`CallRunner`) until either side ends it. Who may call is decided
here (`sip_access`: trusted networks, digest users, a rate limit per source).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, cast

from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.playout import Playout
from voice_agent.clock import Clock
from voice_agent.protocol.sdp import AudioParameters, LocalMedia
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_calls import AgentConfig, Refusal, caller_address
from voice_agent.protocol.sip.agent_events import (
    CallAnswered,
    CallEnded,
    CallHeld,
    CallOffered,
    CallResumed,
    CallRinging,
    Digit,
    Event,
    MalformedMessage,
    MediaChanged,
    Output,
    TransferProgress,
)
from voice_agent.protocol.sip.message import SipRequest, build_response, new_tag
from voice_agent.settings import SipSettings
from voice_agent.transport.forwarded import IpNetwork, is_trusted
from voice_agent.transport.rtp_udp import RtpOptions, RtpSession, bind_rtp_socket
from voice_agent.transport.sip.call import CallRunner, SipCall, run_session
from voice_agent.transport.sip.config import advertised_host, agent_config, local_media
from voice_agent.transport.sip.inbound import InboundCalls
from voice_agent.transport.sip.net import Address, DropWatch
from voice_agent.transport.sip.outbound import OutboundCalls
from voice_agent.transport.sip.registration import Registration
from voice_agent.transport.sip_access import MALFORMED_COST, AccessControl, RateLimiter
from voice_agent.transport.udp_buffer import enlarge_receive_buffer, receive_drops

logger = logging.getLogger(__name__)

_MAX_TIMER_SLEEP_S = 0.1
_MIN_TIMER_SLEEP_S = 0.002
_CLOSE_WAIT_S = 2.0
_FINISHED_KEPT = 20

ActStep = Callable[[UserAgent, float], Output]
"""One call into the user agent, given it and the time."""


class SipEndpoint(asyncio.DatagramProtocol):
    transport_name = "UDP"
    """What our Via and Contact say (stream.py's subclass: TCP or TLS)."""

    def __init__(
        self,
        settings: SipSettings,
        clock: Clock,
        limiter: CallLimiter,
        run_call: CallRunner,
        proxies: Sequence[IpNetwork] = (),
    ) -> None:
        """`proxies`: the trusted proxies in front (server.trusted_proxies): a request through
        one is rate-limited and identified by the caller below it (its Via)."""
        self.settings = settings
        self._proxies = tuple(proxies)
        self.clock = clock
        self._limiter = limiter
        self._run_call = run_call
        self._rate = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst, clock)
        self.access = AccessControl(settings, clock)
        self._transport: asyncio.DatagramTransport | None = None
        self._agent: UserAgent | None = None
        self._deadline: float | None = None
        self._inbound = InboundCalls(self, limiter)
        self._calls: dict[str, SipCall] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer_task: asyncio.Task[None] | None = None
        self._outbound = OutboundCalls(self)
        self.registration: Registration | None = None
        self._closing = False
        self._drops = DropWatch(self.receive_drops)
        self.address: Address = (settings.listen_host, settings.listen_port)
        self.receive_buffer_bytes = 0
        """The SIP socket's receive buffer, as the kernel granted it."""
        self.finished_calls: deque[SipCall] = deque(maxlen=_FINISHED_KEPT)
        """The last calls that ended (for tests and the CLI; bounded, a server runs long)."""
        self.companions: list[SipEndpoint] = []
        """The TCP and TLS lines started with this one (stream.py), closed with it."""

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
        self._agent = UserAgent(self._agent_config(port), self.screen)
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
            self.registration = Registration(self, self.settings.trunk)
            self.registration.start()

    async def aclose(self) -> None:
        """Hang up every call, unregister, stop."""
        for companion in self.companions:
            await companion.aclose()
        for call in list(self._calls.values()):
            self.end_call(call, "server shutting down")
        self._inbound.refuse_all("server shutting down")
        self._outbound.cancel_all()
        if self.registration is not None:
            await self.registration.stop()
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

    async def settled(self) -> None:
        """Wait until no call on this line or its companions is ringing, up, or winding down
        (its session storing its turns): a drained line may close without cutting anyone."""
        for line in (self, *self.companions):
            while line._tasks:
                await asyncio.wait(list(line._tasks))

    async def __aenter__(self) -> SipEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def calls(self) -> list[SipCall]:
        return list(self._calls.values())

    @property
    def agent(self) -> UserAgent:
        if self._agent is None:
            raise RuntimeError("the SIP endpoint is not started")
        return self._agent

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

    def _agent_config(self, port: int) -> AgentConfig:
        """The settings' user agent, told by the call limit whether to take new calls."""
        limiter = self._limiter
        config = agent_config(self.settings, self.host, port, self.transport_name)
        return replace(
            config,
            accepting=lambda: limiter.accepting,
            retry_after_s=limiter.retry_after_s,
            is_proxy=self.is_proxy,
        )

    def is_proxy(self, host: str) -> bool:
        return is_trusted(host, self._proxies)

    def screen(self, request: SipRequest, source: Address) -> Refusal | None:
        """Who may use the line (sip_access.py); through a trusted proxy the caller below it
        has the rate limit a direct caller has per datagram (the proxy itself has none: it
        carries everyone's calls)."""
        if self.is_proxy(source[0]):
            caller = caller_address(request, source, self.is_proxy)
            if not self._rate.allow(caller[0]):
                refusal = build_response(request, 403, "Rate Limited", to_tag=new_tag())
                return refusal, f"{caller[0]} (through {source[0]}) is over the rate limit"
        return self.access.screen(request, source)

    # --- addresses -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address others reach us at (Via, Contact, SDP)."""
        return advertised_host(self.settings, self.address[0])

    def local_media(self, port: int) -> LocalMedia:
        return local_media(self.settings, self.host, port)

    def bind_rtp(self) -> socket.socket:
        settings = self.settings
        return bind_rtp_socket(settings.listen_host, settings.rtp_port_min, settings.rtp_port_max)

    def new_rtp(self, params: AudioParameters, call_id: str) -> tuple[RtpSession, Playout]:
        if params.srtp is not None and self.transport_name != "TLS":
            logger.warning(
                "call %s: SRTP keys were exchanged over %s, in clear: use SIP over TLS",
                call_id,
                self.transport_name,
            )
        playout = Playout(self.clock)
        options = RtpOptions.from_settings(self.settings)
        return RtpSession(params, playout, self.clock, options, name=call_id[:12]), playout

    # --- the machine -----------------------------------------------------------------------

    def act(self, step: ActStep) -> None:
        """Run one step of the user agent now and carry out what it returns."""
        self._apply(step(self.agent, self.clock.now()))

    def _apply(self, output: Output) -> None:
        for datagram in output.send:
            self._send(datagram.data, datagram.destination)
        self._deadline = output.deadline
        for event in output.events:
            try:
                self._on_event(event)
            except Exception:  # one call's trouble must never take the line down
                logger.exception("SIP: failed handling %s", type(event).__name__)

    def _send(self, data: bytes, destination: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, destination)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        source = (str(addr[0]), int(addr[1]))
        if self._closing or self._agent is None:
            return
        if not self.is_proxy(source[0]) and not self._rate.allow(source[0]):
            return
        try:
            self._apply(self._agent.receive(data, source, self.clock.now()))
        except Exception:  # one bad message must never take the line down
            logger.exception("SIP: failed handling a message from %s:%d", *source)

    async def _fire_timers(self) -> None:
        while True:
            now = self.clock.now()
            try:
                self._apply(self.agent.on_timer(now))
                self._drops.check(now)
            except Exception:
                logger.exception("SIP timers failed")
            wait = _MAX_TIMER_SLEEP_S if self._deadline is None else self._deadline - now
            await self.clock.sleep(min(max(wait, _MIN_TIMER_SLEEP_S), _MAX_TIMER_SLEEP_S))

    # --- events ----------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CallOffered):
            self._inbound.offered(event)
        elif isinstance(event, CallRinging):
            self._inbound.ringing(event)
        elif isinstance(event, CallAnswered):
            if event.outbound:
                self._outbound.answered(event)
        elif isinstance(event, CallEnded):
            self._ended(event)
        elif isinstance(event, MediaChanged | CallHeld | CallResumed | Digit | TransferProgress):
            call = self._calls.get(event.call_id)
            if call is not None:
                call.on_event(event)
        elif isinstance(event, MalformedMessage):
            self._rate.allow(event.source[0], cost=MALFORMED_COST - 1)
        elif self.registration is not None:
            self.registration.on_event(event)

    def _ended(self, event: CallEnded) -> None:
        if self._inbound.ended(event):
            return
        call = self._calls.get(event.call_id)
        if call is not None:
            self._end(call, event.reason)
            return
        self._outbound.ended(event)

    # --- calls -----------------------------------------------------------------------------

    def track(self, call: SipCall) -> None:
        """The call is up: in-call events reach it from now on."""
        self._calls[call.call_id] = call

    async def run(self, call: SipCall) -> None:
        self.track(call)
        await run_session(call, self, self._run_call, self._finished)

    def _finished(self, call: SipCall) -> None:
        self._calls.pop(call.call_id, None)
        self.finished_calls.append(call)

    # --- ending calls ----------------------------------------------------------------------

    def end_call(self, call: SipCall, reason: str) -> None:
        """Hang up from our side (BYE once); the media stops."""
        if not call.mark_ended(reason):
            return
        logger.info("hanging up call %s: %s", call.call_id, reason)
        call.rtp.close(reason)
        self.act(lambda agent, now: agent.hang_up(call.call_id, reason, now))

    def refer(self, call: SipCall, target: str, headers: Sequence[tuple[str, str]]) -> None:
        """Transfer the call to `target` (ValueError for a bad target); `TransferProgress`
        reaches the call."""
        self.act(lambda agent, now: agent.refer(call.call_id, target, headers, now))

    @property
    def transfer_timeout_s(self) -> float:
        return self.settings.transfer_timeout_s

    def _end(self, call: SipCall, reason: str) -> None:
        """The user agent ended the call (the caller's BYE, no ACK): stop the media."""
        if call.mark_ended(reason):
            call.rtp.close(reason)

    # --- calls out -------------------------------------------------------------------------

    async def place_call(self, target: str, caller_user: str | None = None) -> SipCall:
        """Call `target` (a SIP URI); returns once answered, with the session running.

        Raises OutboundCallError when the call is refused, not answered in time, or fails."""
        call = await self._outbound.place(target, caller_user, self._limiter)
        self.spawn(self.run(call))
        return call

    # --- plumbing --------------------------------------------------------------------------

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("SIP task failed", exc_info=task.exception())
