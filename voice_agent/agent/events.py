"""The handful of events a call emits: for captions, the page, logs and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TurnState(Enum):
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class StateChanged:
    at: float
    state: TurnState


@dataclass(frozen=True, slots=True)
class CallerHeard:
    """Interim captions while the caller speaks: words two recognition passes agreed on, and
    the latest pass's words after them, which may still change."""

    at: float
    confirmed: str
    pending: str


@dataclass(frozen=True, slots=True)
class CallerSaid:
    """The caller's turn, as the agent answers it."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class AgentSaid:
    at: float
    text: str
    """The whole reply as planned; AgentStopped says what was actually played."""


@dataclass(frozen=True, slots=True)
class BargeIn:
    at: float
    onset: float
    """Audio time at which the caller's speech began."""


@dataclass(frozen=True, slots=True)
class BargeInResolved:
    at: float
    onset: float
    interrupted: bool
    """True: the reply stopped for good; False: it resumed (a backchannel or a noise)."""
    heard: str = ""


@dataclass(frozen=True, slots=True)
class AgentStopped:
    at: float
    played_text: str
    interrupted: bool


@dataclass(frozen=True, slots=True)
class TurnLatency:
    at: float
    marks_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallEnded:
    at: float
    reason: str


CallEvent = (
    StateChanged
    | CallerHeard
    | CallerSaid
    | AgentSaid
    | BargeIn
    | BargeInResolved
    | AgentStopped
    | TurnLatency
    | CallEnded
)
