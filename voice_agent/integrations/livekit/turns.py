"""The dialogue of one LiveKit session, turn by turn: plain Python, no LiveKit types.

LiveKit asks its LLM for a reply with the whole chat history each time; our dialogue engine
keeps its own state (verification, the order talked about, what it expects) and answers only
the newest turn. `DialogueTurns` keeps that state for the session and decides what the newest
history asks for: the greeting before anyone spoke, the answer to a user message not answered
yet, or (asked with nothing new, as LiveKit does when the user went quiet) the session's
reprompt. A reply is committed as soon as it is computed, as `voice-agent chat` does: the
state adopted, the caller's turn, the reply's writes and the agent's turn stored through the
recorder (off the event loop). So the LiveKit session must not generate replies it may throw
away (agent.py turns its preemptive generation off). A reply LiveKit marks interrupted counts
in the dialogue only as far as it was heard (`Dialogue.heard`), as in our own call session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from voice_agent.agent.ports import CallRecorder, Dialogue, DialogueReply, SessionReply
from voice_agent.integrations.livekit.context import CallContext
from voice_agent.stages.asr import Expect
from voice_agent.store.writes import TurnRecord


@dataclass(frozen=True, slots=True)
class Message:
    """One chat history item as the dialogue needs it."""

    id: str
    role: str
    """"user" or "assistant" (other roles are not passed on)."""
    text: str
    interrupted: bool = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DialogueTurns:
    def __init__(
        self,
        dialogue: Dialogue,
        recorder: CallRecorder | None = None,
        context: CallContext | None = None,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._dialogue = dialogue
        self._recorder = recorder
        self.context = context if context is not None else CallContext()
        self._wall_clock = wall_clock
        self._state: Any = None
        self._greeted = False
        self._seen: set[str] = set()
        """Ids of the user messages answered and the interrupted replies accounted for."""
        self._lock = asyncio.Lock()
        """One reply at a time, committed in the order asked."""

    @property
    def state(self) -> Any:
        return self._state

    async def reply(self, history: list[Message]) -> DialogueReply:
        """The reply the newest history asks for, committed."""
        async with self._lock:
            if self._state is None:
                self._state = await asyncio.to_thread(self._dialogue.initial_state)
            await self._account_for_interruption(history)
            turn = self._newest_unanswered(history)
            now = self._wall_clock()
            if turn is not None:
                self._seen.add(turn.id)
                transcript = self.context.transcript_of(turn.text)
                reply = await asyncio.to_thread(
                    self._dialogue.respond, turn.text, None, self._state, now, transcript
                )
            elif not self._greeted:
                reply = await asyncio.to_thread(self._dialogue.greeting, self._state)
            else:
                reply = self._reprompt()
            self._greeted = True
            await self._commit(turn, reply, now)
            return reply

    async def _account_for_interruption(self, history: list[Message]) -> None:
        said = next((m for m in reversed(history) if m.role == "assistant"), None)
        if said is None or not said.interrupted or said.id in self._seen:
            return
        self._seen.add(said.id)
        self._state = await asyncio.to_thread(self._dialogue.heard, self._state, said.text)

    def _newest_unanswered(self, history: list[Message]) -> Message | None:
        newest = next((m for m in reversed(history) if m.role == "user"), None)
        if newest is None or newest.id in self._seen or not newest.text.strip():
            return None
        return newest

    def _reprompt(self) -> DialogueReply:
        context = self.context
        text = self._dialogue.say(self._state, "session.reprompt")
        return SessionReply(
            (text,), self._state, (), Expect.FREE, False, context.speaking, context.listen
        )

    async def _commit(self, turn: Message | None, reply: DialogueReply, now: datetime) -> None:
        self._state = reply.state
        context = self.context
        context.expect, context.listen = reply.expect, reply.listen
        context.speaking, context.end_call = reply.language, reply.end_call
        recorder = self._recorder
        if recorder is None:
            return
        agent = TurnRecord(
            speaker="agent", text=" ".join(reply.chunks), started_at=now, ended_at=now
        )
        caller = (
            None
            if turn is None
            else TurnRecord(speaker="caller", text=turn.text, started_at=now, ended_at=now)
        )

        def store() -> None:
            if caller is not None:
                recorder.add_turn(caller)
            if reply.writes:
                recorder.apply(reply.writes)
            recorder.add_turn(agent)

        await asyncio.to_thread(store)
