"""One phone call as the session sees it: the CallTransport over an RTP session."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from voice_agent.agent.events import CallEvent
from voice_agent.agent.limits import CallSlot
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallInput, HoldChanged
from voice_agent.protocol.sip.agent_events import (
    CallHeld,
    CallResumed,
    Digit,
    MediaChanged,
    TransferProgress,
)
from voice_agent.protocol.sip.dialog import Dialog
from voice_agent.transport.rtp_udp import RtpSession
from voice_agent.transport.sip.net import Address

logger = logging.getLogger(__name__)


class CallLine(Protocol):
    """What a call may ask of the line it is on."""

    def end_call(self, call: SipCall, reason: str) -> None: ...

    def refer(self, call: SipCall, target: str, headers: Sequence[tuple[str, str]]) -> None: ...

    @property
    def transfer_timeout_s(self) -> float: ...


class SipCall:
    """One phone call: the CallTransport a session runs on."""

    def __init__(
        self,
        line: CallLine,
        dialog: Dialog,
        rtp: RtpSession,
        playout: Playout,
        caller_id: str,
        peer: Address,
        outbound: bool,
        slot: CallSlot,
    ) -> None:
        self._line = line
        self.dialog = dialog
        self.rtp = rtp
        self.playout = playout
        self.caller_id = caller_id
        self.dialled: str | None = None
        """The number the caller dialled (the INVITE's Request-URI user); the app may pick
        the call's language by it."""
        self.peer = peer
        self.outbound = outbound
        self.slot = slot  # released when the call ends, though the session may still clean up
        self.ended: str | None = None
        self.held = False
        self._hold_changes: deque[HoldChanged] = deque()
        self.finished = asyncio.Event()
        self.events: list[CallEvent] = []
        self._transfer: asyncio.Future[TransferProgress] | None = None
        self.transferred_to: str | None = None
        """Where the caller was put through, once a transfer succeeded."""

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    def mark_ended(self, reason: str) -> bool:
        """Record why the call ended and free its line at once; False if it had ended."""
        if self.ended is not None:
            return False
        self.ended = reason
        self.slot.release()  # the line is free for the next caller at once
        return True

    async def transfer(self, target: str, headers: Sequence[tuple[str, str]] = ()) -> bool:
        """Ask the caller's phone to call `target` (REFER); True once the caller talks to it
        (our leg then ends), False when the transfer failed and the call goes on with us."""
        if self.ended is not None or self._transfer is not None:
            return False
        self._transfer = asyncio.get_running_loop().create_future()
        try:
            self._line.refer(self, target, headers)
            # the user agent decides within its bound; this one only guards against a line
            # that is closed meanwhile
            async with asyncio.timeout(self._line.transfer_timeout_s + 5):
                result = await self._transfer
        except (ValueError, TimeoutError) as error:
            logger.info("call %s: transfer to %s failed: %s", self.call_id, target, error)
            return False
        finally:
            self._transfer = None
        if result.succeeded:
            self.transferred_to = target
        return result.succeeded

    def on_event(
        self, event: MediaChanged | CallHeld | CallResumed | Digit | TransferProgress
    ) -> None:
        """What the user agent heard within the call."""
        if isinstance(event, TransferProgress):
            logger.info(
                "call %s: transfer %d%s", self.call_id, event.status, " (final)" * event.final
            )
            if event.final and self._transfer is not None and not self._transfer.done():
                self._transfer.set_result(event)
        elif isinstance(event, MediaChanged):
            self.rtp.update(event.params)
            logger.info("call %s: media now %s", self.call_id, event.params.direction.value)
        elif isinstance(event, Digit):
            self.rtp.keypad(event.digit)
        else:  # the session pauses on hold: told in order with the audio
            self.held = isinstance(event, CallHeld)
            self._hold_changes.append(HoldChanged(self.held))
            logger.info("call %s %s", self.call_id, "on hold" if self.held else "resumed")

    # --- CallTransport ---------------------------------------------------------------------

    async def inputs(self) -> AsyncIterator[CallInput]:
        # The line delivers a frame every 20 ms, on hold too: a change waits at most that long.
        async for item in self.rtp.inputs():
            while self._hold_changes:
                yield self._hold_changes.popleft()
            yield item

    def clear(self) -> None:
        """Nothing is queued below the Playout: the line reads 20 ms when each packet is due."""

    async def hang_up(self) -> None:
        self._line.end_call(self, "agent hung up")

    def publish(self, event: CallEvent) -> None:
        self.events.append(event)
        # the kind only: what the caller said or typed is personal data
        logger.debug("sip call %s: %s", self.call_id, type(event).__name__)

    async def wait(self) -> None:
        await self.finished.wait()


CallRunner = Callable[[SipCall, Playout, str], Awaitable[None]]
"""Runs one call's session to its end: (transport, playout, caller id)."""


async def run_session(
    call: SipCall, line: CallLine, runner: CallRunner, done: Callable[[SipCall], None]
) -> None:
    """Run the session on the call until either side ends it, then clean up."""
    rtp_task = asyncio.create_task(call.rtp.run())
    call.rtp.on_close = lambda reason: line.end_call(call, reason)
    with call.slot:
        try:
            await runner(call, call.playout, call.caller_id)
        except Exception:
            logger.exception("SIP call %s failed", call.call_id)
        finally:
            line.end_call(call, "the session ended")
            call.rtp.close("call ended")
            await rtp_task
            # kept among the finished calls, without the rest of a reply cut short
            call.playout.clear()
            done(call)
            call.finished.set()
            logger.info("call %s ended: %s", call.call_id, call.ended)
