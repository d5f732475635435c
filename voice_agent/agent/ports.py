"""What a call session needs from the outside: a transport, a dialogue and a recorder, and
the shared stages (`CallParts` holds them all for one call)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from voice_agent.agent.events import CallEvent
from voice_agent.agent.metrics import AgentMetrics
from voice_agent.agent.playout import Playout
from voice_agent.audio import AudioFrame
from voice_agent.stages.asr import Asr, Expect, StreamingAsr, Transcript
from voice_agent.stages.tts import Tts
from voice_agent.stages.vad import Vad
from voice_agent.store.writes import TurnRecord


@dataclass(frozen=True, slots=True)
class DtmfInput:
    """Digits the caller typed on the keypad (a phone line's RFC 4733 events)."""

    digits: str
    at: float


@dataclass(frozen=True, slots=True)
class HoldChanged:
    """The caller put the call on hold (`held`) or took it off (a phone line's re-INVITE).
    A transport without hold never sends it."""

    held: bool


CallInput = AudioFrame | DtmfInput | HoldChanged
"""What a transport hands the session, in order: the caller's audio, keys, hold and resume."""


class CallTransport(Protocol):
    """One call's audio edge. Audio in is 16 kHz, timestamped by the session's clock; audio out
    is read by the transport from the session's Playout at the pace of the line."""

    def inputs(self) -> AsyncIterator[CallInput]:
        """The caller's audio (and keypad digits, hold and resume); ends when the caller hangs
        up."""
        ...

    def clear(self) -> None:
        """Drop agent audio queued below the playout (barge-in)."""
        ...

    async def hang_up(self) -> None: ...

    def publish(self, event: CallEvent) -> None:
        """Captions, turn state and latency for a side channel (no-op where there is none)."""
        ...


class DialogueReply(Protocol):
    @property
    def chunks(self) -> tuple[str, ...]: ...
    @property
    def writes(self) -> tuple[Any, ...]: ...
    @property
    def state(self) -> Any: ...
    @property
    def expect(self) -> Expect: ...
    @property
    def end_call(self) -> bool: ...
    @property
    def language(self) -> str:
        """The language the chunks are in."""
        ...

    @property
    def listen(self) -> str | None:
        """The language to recognize the caller's next turn in; None: identify it."""
        ...


class Dialogue(Protocol):
    """The dialogue engine as the session uses it: plain sync calls, run off the event loop."""

    def greeting(self, state: Any) -> DialogueReply: ...

    def respond(
        self,
        text: str,
        dtmf: str | None,
        state: Any,
        now: datetime,
        transcript: Transcript | None = None,
    ) -> DialogueReply:
        """The reply to a turn: ``text`` heard (with the ``transcript`` it came from, whose
        confidence and rewritten digits the dialogue weighs) or ``dtmf`` keys typed."""
        ...

    def initial_state(self) -> Any: ...

    def say(self, state: Any, key: str, **values: str) -> str:
        """One sentence of the replies (``session.reprompt``, ...) in the call's language,
        its fields filled in with ``values``."""
        ...

    def heard(self, state: Any, played_text: str) -> Any:
        """The state after a reply was cut short: only what the caller heard counts."""
        ...

    def entity_complete(self, text: str, state: Any) -> bool | None:
        """Whether text holds a complete answer for what the dialogue expects (None: n/a)."""
        ...

    def call_ended(self, state: Any, now: datetime) -> tuple[Any, ...]:
        """The writes the end of the call implies, from the last state committed (a hand-off
        asked for and still waiting for an answer when the caller hung up); applied through
        the call's recorder before the call's outcome is worked out. Usually none."""
        ...


class CallRecorder(Protocol):
    """Stores each turn as it happens and applies a committed reply's writes (blocking I/O)."""

    def add_turn(self, turn: TurnRecord) -> None: ...

    def apply(self, writes: Sequence[Any]) -> None: ...


@dataclass(slots=True)
class CallParts:
    """The pieces one call is made of; stages and dialogue are shared, VAD is per call."""

    transport: CallTransport
    playout: Playout
    vad: Vad
    asr: Asr
    tts: Tts
    dialogue: Dialogue
    recorder: CallRecorder
    metrics: AgentMetrics | None = None
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    streaming: StreamingAsr | None = None
    """Recognition while the caller speaks; without it each utterance is decoded whole."""
    observer: Callable[[CallEvent], None] | None = None
    """Sees every event the transport is sent (the desk's live view of this server's calls)."""


@dataclass(frozen=True, slots=True)
class SessionReply:
    """A reply the session composes itself (reprompts, goodbyes)."""

    chunks: tuple[str, ...]
    state: Any
    writes: tuple[Any, ...] = ()
    expect: Expect = Expect.FREE
    end_call: bool = False
    language: str = "en"
    listen: str | None = None
