"""Calls out on the phone line: an RTP port and a line for each, the INVITE through the user
agent, and the call once answered (or `OutboundCallError` with the final status)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voice_agent.agent.limits import CallLimiter, CallSlot
from voice_agent.agent.playout import Playout
from voice_agent.clock import Clock
from voice_agent.protocol.sdp import AudioParameters, LocalMedia
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_events import CallAnswered, CallEnded, Output
from voice_agent.protocol.sip.message import SipUri
from voice_agent.settings import SipSettings
from voice_agent.transport.rtp_udp import RtpSession
from voice_agent.transport.sip.call import CallLine, SipCall
from voice_agent.transport.sip.net import resolve


class OutboundCallError(Exception):
    """An outbound call was not answered: the final status and its reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class OutboundLine(CallLine, Protocol):
    """What calls out need of the endpoint."""

    settings: SipSettings
    clock: Clock

    @property
    def agent(self) -> UserAgent: ...

    def act(self, step: Callable[[UserAgent, float], Output]) -> None: ...

    def bind_rtp(self) -> socket.socket: ...

    def local_media(self, port: int) -> LocalMedia: ...

    def new_rtp(self, params: AudioParameters, call_id: str) -> tuple[RtpSession, Playout]: ...

    def track(self, call: SipCall) -> None: ...


@dataclass
class _Placing:
    target: SipUri
    sock: socket.socket
    slot: CallSlot
    future: asyncio.Future[SipCall]


class OutboundCalls:
    def __init__(self, line: OutboundLine) -> None:
        self._line = line
        self._placing: dict[str, _Placing] = {}

    async def place(self, target: str, caller_user: str | None, limiter: CallLimiter) -> SipCall:
        """Ring `target` until answered (the call, its media connected), refused or not
        answered in time (OutboundCallError: the user agent cancels after no_answer_timeout_s;
        a peer that vanished ends the INVITE itself, timer B, 408)."""
        line = self._line
        uri = SipUri.parse(target)
        destination = await resolve(uri.host, uri.port or 5060)
        trunk = line.settings.trunk
        user = caller_user or (trunk.username if trunk else "agent")
        slot = limiter.try_acquire("sip")
        if slot is None:
            raise OutboundCallError(486, f"{limiter.refusal_reason()} here")
        try:
            sock = line.bind_rtp()
        except BaseException:
            slot.release()
            raise
        local = line.local_media(sock.getsockname()[1])
        placing = _Placing(uri, sock, slot, asyncio.get_running_loop().create_future())
        call_ids: list[str] = []

        def invite(agent: UserAgent, now: float) -> Output:
            call_id, output = agent.invite(uri, destination, user, local, now)
            call_ids.append(call_id)
            self._placing[call_id] = placing
            return output

        try:
            line.act(invite)
            call = await placing.future
            loop = asyncio.get_running_loop()
            await loop.create_datagram_endpoint(lambda: call.rtp, sock=sock)
        except BaseException:
            self._give_up(call_ids[0] if call_ids else None, placing)
            raise
        return call

    def _give_up(self, call_id: str | None, placing: _Placing) -> None:
        if call_id is not None and self._placing.pop(call_id, None) is not None:
            self._hang_up(call_id, "the caller gave up")
        future = placing.future
        if future.done() and not future.cancelled() and future.exception() is None:
            self._line.end_call(future.result(), "could not open the media")  # answered
            return
        placing.slot.release()
        with contextlib.suppress(OSError):
            placing.sock.close()

    def answered(self, event: CallAnswered) -> None:
        placing = self._placing.pop(event.call_id, None)
        state = self._line.agent.call(event.call_id)
        if placing is None or state is None or placing.future.done():
            return
        rtp, playout = self._line.new_rtp(event.params, event.call_id)
        call = SipCall(
            self._line,
            state.dialog,
            rtp,
            playout,
            str(placing.target),
            event.peer,
            True,
            placing.slot,
        )
        self._line.track(call)  # a BYE that comes at once finds it
        placing.future.set_result(call)

    def ended(self, event: CallEnded) -> None:
        placing = self._placing.pop(event.call_id, None)
        if placing is not None and not placing.future.done():
            placing.future.set_exception(OutboundCallError(event.status or 500, event.reason))

    def cancel_all(self) -> None:
        for call_id in list(self._placing):
            self._hang_up(call_id, "server shutting down")

    def _hang_up(self, call_id: str, why: str) -> None:
        self._line.act(lambda agent, now: agent.hang_up(call_id, why, now))
