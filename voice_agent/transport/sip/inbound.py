"""Calls in on the phone line: an offered call gets an RTP port and a line (or 503), rings
for ring_s, has its media opened, and is answered; then its session runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from voice_agent.agent.limits import CallLimiter, CallSlot
from voice_agent.agent.playout import Playout
from voice_agent.clock import Clock
from voice_agent.protocol.sdp import AudioParameters, LocalMedia
from voice_agent.protocol.sip.agent import UserAgent
from voice_agent.protocol.sip.agent_events import CallEnded, CallOffered, CallRinging, Output
from voice_agent.settings import SipSettings
from voice_agent.transport.rtp_udp import RtpSession
from voice_agent.transport.sip.call import CallLine, SipCall

logger = logging.getLogger(__name__)


class InboundLine(CallLine, Protocol):
    """What calls in need of the endpoint."""

    settings: SipSettings
    clock: Clock

    @property
    def agent(self) -> UserAgent: ...

    def act(self, step: Callable[[UserAgent, float], Output]) -> None: ...

    def bind_rtp(self) -> socket.socket: ...

    def local_media(self, port: int) -> LocalMedia: ...

    def new_rtp(self, params: AudioParameters, call_id: str) -> tuple[RtpSession, Playout]: ...

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...

    def run(self, call: SipCall) -> Awaitable[None]: ...


@dataclass
class _Ringing:
    """An offered call we are taking: its RTP socket, its line, the task that answers it."""

    offered: CallOffered
    sock: socket.socket
    slot: CallSlot
    params: AudioParameters | None = None
    task: asyncio.Task[None] | None = None


class InboundCalls:
    def __init__(self, line: InboundLine, limiter: CallLimiter) -> None:
        self._line = line
        self._limiter = limiter
        self._ringing: dict[str, _Ringing] = {}

    def offered(self, event: CallOffered) -> None:
        call_id = event.call_id
        try:
            sock = self._line.bind_rtp()
        except OSError as error:
            self._refuse(call_id, 503, str(error))
            return
        slot = self._limiter.try_acquire("sip")
        if slot is None:  # 503, not 486: a proxy fails over to another agent on 503
            sock.close()
            why = self._limiter.refusal_reason()
            retry = self._limiter.retry_after_s
            self._line.act(lambda agent, now: agent.refuse(call_id, 503, why, now, retry))
            return
        ringing = _Ringing(event, sock, slot)
        self._ringing[call_id] = ringing
        local = self._line.local_media(sock.getsockname()[1])
        self._line.act(lambda agent, now: agent.ring(call_id, local, now))
        if call_id in self._ringing:  # not refused (488)
            ringing.task = self._line.spawn(self._answer(ringing))

    def ringing(self, event: CallRinging) -> None:
        if event.call_id in self._ringing:
            self._ringing[event.call_id].params = event.params

    def ended(self, event: CallEnded) -> bool:
        """Forget an offered call that ended before its answer (cancelled, refused); False if
        it is not one of ours."""
        ringing = self._ringing.pop(event.call_id, None)
        if ringing is None:
            return False
        if ringing.task is not None and ringing.task is not asyncio.current_task():
            ringing.task.cancel()  # still ringing: stop
        ringing.slot.release()
        with contextlib.suppress(OSError):
            ringing.sock.close()
        return True

    def refuse_all(self, why: str) -> None:
        for call_id in list(self._ringing):
            self._refuse(call_id, 503, why)

    def _refuse(self, call_id: str, status: int, why: str) -> None:
        self._line.act(lambda agent, now: agent.refuse(call_id, status, why, now))

    async def _answer(self, ringing: _Ringing) -> None:
        line, call_id = self._line, ringing.offered.call_id
        try:
            if line.settings.ring_s > 0:
                await line.clock.sleep(line.settings.ring_s)
            assert ringing.params is not None
            rtp, playout = line.new_rtp(ringing.params, call_id)
            loop = asyncio.get_running_loop()
            await loop.create_datagram_endpoint(lambda: rtp, sock=ringing.sock)
        except Exception as error:
            self._refuse(call_id, 500, f"could not open the media: {error}")
            raise
        if self._ringing.pop(call_id, None) is None:  # cancelled meanwhile
            rtp.close("cancelled")
            return
        line.act(lambda agent, now: agent.answer(call_id, now))
        state = line.agent.call(call_id)
        if state is None:  # its transaction was gone
            ringing.slot.release()
            rtp.close("not answered")
            return
        offered = ringing.offered
        call = SipCall(
            line, state.dialog, rtp, playout, offered.caller_id, state.peer, False, ringing.slot
        )
        call.dialled = offered.dialled
        logger.info("answered call %s (%s)", call_id, rtp.params.codec.name)
        await line.run(call)
