"""A hand-off during the team's hours puts a phone caller through to the team.

The dialogue decides a hand-off as it always does: its reply stores a `HandoffWrite` (the
ticket, with its reference) and promises a call-back. On a phone line that can transfer
(`[sip] transfer_to` set) and while the team is at their desks (policies `[handoff]` hours,
`HandoffPolicy.is_open`, given as `team_open`), `HandoffTransfers` changes what is said,
not what is stored: the caller hears they are being put through and their reference, the
ticket is marked with where it was transferred (fact `transferred_to`), and once that is
said the session runs the `PendingTransfer`: REFER to the team. On failure the original
reply, the call-back promise, is said after all (the ticket exists already). Out of hours,
or with no target, nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from voice_agent.agent.ports import Dialogue, DialogueReply
from voice_agent.stages.asr import Expect, Transcript
from voice_agent.store.writes import HandoffWrite

logger = logging.getLogger(__name__)

REFERENCE_HEADER = "X-Handoff-Reference"
"""The header the team's phone (or PBX) finds the hand-off reference in."""
TRANSFER_LINE = "handoff.transfer"
"""The replies' key for "I'm putting you through ... Your reference is {reference}"."""


@runtime_checkable
class Transferable(Protocol):
    """A call that can be transferred (transport/sip/call.py's SipCall)."""

    async def transfer(self, target: str, headers: Sequence[tuple[str, str]] = ()) -> bool: ...


@dataclass(frozen=True, slots=True)
class PendingTransfer:
    """A transfer to run once the caller has heard they are being put through."""

    call: Transferable
    target: str
    reference: str
    fallback: DialogueReply
    """What the dialogue said first (the call-back promise), said when the transfer fails."""
    started: Callable[[], None] = lambda: None
    """Told when the transfer runs: a reply is only decided, it may be a discarded speculation."""

    async def run(self) -> DialogueReply | None:
        """Transfer the call: None when the caller is put through, else the reply to say."""
        self.started()
        logger.info("hand-off %s during the team's hours: transferring", self.reference)
        if await self.call.transfer(self.target, [(REFERENCE_HEADER, self.reference)]):
            return None
        logger.info("hand-off %s: transfer failed, a call-back is promised", self.reference)
        return replace_reply(self.fallback, writes=())  # stored already with the transfer line


@dataclass(frozen=True, slots=True)
class _Said:
    """A reply as the session takes one (for the fallback, which has been stored)."""

    chunks: tuple[str, ...]
    writes: tuple[Any, ...]
    state: Any
    expect: Expect
    end_call: bool
    language: str
    listen: str | None


@dataclass(frozen=True, slots=True)
class TransferReply(_Said):
    """The dialogue's reply with the transfer line in place of the call-back promise."""

    transfer: PendingTransfer


def replace_reply(reply: DialogueReply, **changes: Any) -> DialogueReply:
    fields = {
        "chunks": reply.chunks,
        "writes": reply.writes,
        "state": reply.state,
        "expect": reply.expect,
        "end_call": reply.end_call,
        "language": reply.language,
        "listen": reply.listen,
    }
    fields.update(changes)
    return _Said(**fields)


def handoff_in(reply: DialogueReply) -> HandoffWrite | None:
    return next((w for w in reply.writes if isinstance(w, HandoffWrite)), None)


class HandoffTransfers:
    """The transfer decision for one phone call: when a reply hands off, and whether to put
    the caller through now."""

    def __init__(
        self,
        call: Transferable,
        target: str,
        team_open: Callable[[datetime], bool],
        say: Callable[..., str],
    ) -> None:
        """`team_open`: whether the team is at their desks at a time (HandoffPolicy.is_open,
        the hours the call-back promise counts in); `say`: the dialogue's `say`."""
        self._call = call
        self._target = target
        self._team_open = team_open
        self._say = say
        self._tried = False  # one transfer a call: a later hand-off promises a call-back

    def decide(self, reply: DialogueReply, now: datetime) -> DialogueReply:
        """`reply` as the dialogue gave it, or with the transfer line when it hands off during
        the team's hours."""
        handoff = handoff_in(reply)
        if handoff is None or self._tried or not self._target or not self._team_open(now):
            return reply
        reference = handoff.reference
        facts = {**handoff.facts, "transferred_to": self._target}
        writes = tuple(replace(w, facts=facts) if w is handoff else w for w in reply.writes)
        spoken = ", ".join(reference)
        line = self._say(reply.state, TRANSFER_LINE, reference=spoken)
        pending = PendingTransfer(self._call, self._target, reference, reply, self._tried_now)
        return TransferReply(
            chunks=(line,),
            writes=writes,
            state=reply.state,
            expect=reply.expect,
            end_call=False,
            language=reply.language,
            listen=reply.listen,
            transfer=pending,
        )

    def _tried_now(self) -> None:
        self._tried = True


class TransferringDialogue:
    """The call's dialogue with `HandoffTransfers` deciding on each reply (same protocol)."""

    def __init__(self, inner: Dialogue, transfers: HandoffTransfers) -> None:
        self._inner = inner
        self._transfers = transfers

    def greeting(self, state: Any) -> DialogueReply:
        return self._inner.greeting(state)

    def respond(
        self,
        text: str,
        dtmf: str | None,
        state: Any,
        now: datetime,
        transcript: Transcript | None = None,
    ) -> DialogueReply:
        reply = self._inner.respond(text, dtmf, state, now, transcript)
        return self._transfers.decide(reply, now)

    def initial_state(self) -> Any:
        return self._inner.initial_state()

    def say(self, state: Any, key: str, **values: str) -> str:
        return self._inner.say(state, key, **values)

    def heard(self, state: Any, played_text: str) -> Any:
        return self._inner.heard(state, played_text)

    def entity_complete(self, text: str, state: Any) -> bool | None:
        return self._inner.entity_complete(text, state)

    def call_ended(self, state: Any, now: datetime) -> tuple[Any, ...]:
        return self._inner.call_ended(state, now)
