"""The calls this server runs now, as the desk shows them: state and captions, pushed to
whoever watches (the desk's live page, over Server-Sent Events).

Everything runs on the event loop: a session's events arrive through `LiveCall.observe`,
and each change goes to every subscriber's bounded queue. A subscriber too slow to keep up
is dropped (its stream ends; the browser reconnects and starts again from a snapshot), so
a stuck browser never holds a call back or grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voice_agent.agent.events import (
    AgentSaid,
    AgentStopped,
    CallEnded,
    CallerHeard,
    CallerSaid,
    CallEvent,
    StateChanged,
)

MAX_LINES = 40
"""Captions kept per call (the oldest go first)."""
QUEUE_SIZE = 256


@dataclass(slots=True)
class Caption:
    speaker: str
    """"caller" or "agent"."""
    text: str
    interrupted: bool = False
    heard: str | None = None
    """For an agent line cut short: what the caller heard of it."""


@dataclass(slots=True)
class LiveCall:
    id: int
    channel: str
    caller_id: str
    started_at: datetime
    conversation_id: int | None
    state: str = "listening"
    hearing: str = ""
    """Interim caption: what the caller is saying now, before the turn is committed."""
    lines: list[Caption] = field(default_factory=list)
    ended: bool = False
    _calls: LiveCalls | None = None

    def observe(self, event: CallEvent) -> None:
        """Feed one of the session's events (the session's `observer`)."""
        if self._apply(event) and self._calls is not None:
            self._calls.changed(self)

    def _apply(self, event: CallEvent) -> bool:
        if isinstance(event, StateChanged):
            self.state = event.state.value
        elif isinstance(event, CallerHeard):
            self.hearing = " ".join(part for part in (event.confirmed, event.pending) if part)
        elif isinstance(event, CallerSaid):
            self.hearing = ""
            self._add(Caption("caller", event.text))
        elif isinstance(event, AgentSaid):
            self._add(Caption("agent", event.text))
        elif isinstance(event, AgentStopped):
            return self._stopped(event)
        elif isinstance(event, CallEnded):
            self.state = "ended"
        else:
            return False
        return True

    def _stopped(self, event: AgentStopped) -> bool:
        if not event.interrupted:
            return False
        for line in reversed(self.lines):
            if line.speaker == "agent":
                line.interrupted, line.heard = True, event.played_text
                return True
        return False

    def _add(self, caption: Caption) -> None:
        self.lines.append(caption)
        del self.lines[:-MAX_LINES]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "caller_id": self.caller_id,
            "started_at": self.started_at.isoformat(),
            "conversation_id": self.conversation_id,
            "state": self.state,
            "hearing": self.hearing,
            "ended": self.ended,
            "lines": [
                {
                    "speaker": line.speaker,
                    "text": line.text,
                    "interrupted": line.interrupted,
                    "heard": line.heard,
                }
                for line in self.lines
            ],
        }


class LiveCalls:
    """The registry: calls register at their start and leave at their end."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._calls: dict[int, LiveCall] = {}
        self._ids = itertools.count(1)
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._queue_size = queue_size

    def start(
        self, channel: str, caller_id: str, started_at: datetime, conversation_id: int | None
    ) -> LiveCall:
        call = LiveCall(next(self._ids), channel, caller_id, started_at, conversation_id)
        call._calls = self
        self._calls[call.id] = call
        self.changed(call)
        return call

    def end(self, call: LiveCall) -> None:
        call.ended, call.state = True, "ended"
        self._calls.pop(call.id, None)
        self.changed(call)

    def calls(self) -> list[LiveCall]:
        return list(self._calls.values())

    def changed(self, call: LiveCall) -> None:
        message = call.to_json()
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._drop(queue)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[dict[str, Any] | None]]:
        """A queue of call snapshots, each as JSON-ready dict; None: too slow, start again."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def end_streams(self) -> None:
        """Tell every subscriber to stop (the server is shutting down: long-lived streams
        would otherwise hold it up)."""
        for queue in list(self._subscribers):
            self._drop(queue)

    def _drop(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
