"""The caller's utterance under way: its recognition stream and the reply prepared for it;
and the turn just committed, while the caller may yet go on with it.

The session decides when to prepare a reply (at a tentative pause, at the VAD's end, once a
barge-in's words are judged) and what preparing means. The utterance holds the one
preparation that may be under way and drops it when the caller goes on; it feeds the caller's
audio to recognition, with a partial pass when one is due, while the caller is speaking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from voice_agent.agent.barge_in import LINE_GOES_ON_S
from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import AsrStream, Expect, Interim
from voice_agent.store.writes import TurnRecord

T = TypeVar("T")


@dataclass(slots=True)
class Utterance(Generic[T]):
    stream: AsrStream
    started: float
    speech_end: float | None = None
    """Where the speech ended, once the VAD is sure it did."""
    preparing: asyncio.Task[T] | None = None
    """The reply under way since the pause (tentative or sure)."""
    said_before: str = ""
    """What the caller said before a short pause this utterance goes on from (a turn taken
    back because the caller's line went on): the turn's text begins with it."""

    def hear(self, frame: AudioFrame) -> Awaitable[Interim] | None:
        """The caller's next frame; a partial pass, if one is due and no final is under way."""
        self.stream.append(frame)
        return self.stream.partial() if self.preparing is None else None

    def prepare(self, start: Callable[[Utterance[T]], asyncio.Task[T]]) -> None:
        """Begin preparing the reply, unless it is under way already."""
        if self.preparing is None:
            self.preparing = start(self)

    def going_on(self) -> None:
        """The caller went on after a pause: what was prepared is dropped."""
        if self.preparing is not None:
            self.preparing.cancel()
        self.preparing = None
        self.speech_end = None


@dataclass(frozen=True, slots=True)
class Listening:
    """What the session listens with, kept to go back to: the dialogue's state and what it
    expects next, the language it answers in and the one it listens for."""

    state: Any
    expect: Expect
    language: str
    listen: str | None


@dataclass(slots=True)
class ProvisionalTurn:
    """A caller's turn committed at a short pause, while the caller may still go on with it.

    Endpointing commits a complete-sounding sentence 0.25 s after it ends, so the reply comes
    fast; a comma, a breath or a few packets lost on the way leave pauses that long inside one
    line. A caller who goes on within LINE_GOES_ON_S of the end and talks over the reply was
    still saying their line: the turn is taken back and the whole line becomes one turn. Until
    the turn is final, its record and its reply's writes wait, and the session keeps what it
    listened with before it."""

    record: TurnRecord
    text: str
    started: float
    speech_end: float
    before: Listening
    writes: Sequence[Any] = ()

    def goes_on_with(self, onset: float) -> bool:
        """Whether the caller's speech from `onset` is the same line going on."""
        return onset - self.speech_end <= LINE_GOES_ON_S

    def final_at(self, now: float) -> bool:
        """Whether the caller can no longer be going on with it (a barge-in aside)."""
        return now - self.speech_end > LINE_GOES_ON_S
