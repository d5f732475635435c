"""The caller's utterance under way: its recognition stream and the reply prepared for it.

The session decides when to prepare a reply (at a tentative pause, at the VAD's end, once a
barge-in's words are judged) and what preparing means. The utterance holds the one
preparation that may be under way and drops it when the caller goes on; it feeds the caller's
audio to recognition, with a partial pass when one is due, while the caller is speaking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import AsrStream, Interim

T = TypeVar("T")


@dataclass(slots=True)
class Utterance(Generic[T]):
    stream: AsrStream
    started: float
    speech_end: float | None = None
    """Where the speech ended, once the VAD is sure it did."""
    preparing: asyncio.Task[T] | None = None
    """The reply under way since the pause (tentative or sure)."""

    def hear(self, frame: AudioFrame) -> Awaitable[Interim] | None:
        """The caller's next frame; a partial pass, if one is due and no final is under way."""
        self.stream.append(frame)
        return self.stream.partial() if self.preparing is None else None

    def prepare(self, start: Callable[[AsrStream], asyncio.Task[T]]) -> None:
        """Begin preparing the reply, unless it is under way already."""
        if self.preparing is None:
            self.preparing = start(self.stream)

    def going_on(self) -> None:
        """The caller went on after a pause: what was prepared is dropped."""
        if self.preparing is not None:
            self.preparing.cancel()
        self.preparing = None
        self.speech_end = None
