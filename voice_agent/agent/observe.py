"""What one call did, seen from outside the session: its outcome, its counters, its log lines.

The session hands every turn and every committed reply's writes to its recorder; the
`ObservedRecorder` wrapped around the real one notes what was stored (a hand-off, whether the
caller said anything) and counts it. `CallObservation` brackets the call: one log line on
``voice_agent.calls`` when it starts and one when it ends, the calls-in-progress gauge, and
the outcome, worked out by `outcome.call_outcome`. No caller identity is logged, only the
conversation's number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from voice_agent.agent.metrics import AgentMetrics
from voice_agent.agent.outcome import CallOutcome, call_outcome
from voice_agent.agent.ports import CallRecorder
from voice_agent.clock import Clock
from voice_agent.store.writes import HandoffWrite, TurnRecord

logger = logging.getLogger("voice_agent.calls")
"""One line per call start and end, key=value, for log search and counting."""


class ObservedRecorder:
    """A CallRecorder around another: what it stores is noted and counted, failures too (the
    session logs them and goes on)."""

    def __init__(self, inner: CallRecorder, metrics: AgentMetrics) -> None:
        self.inner = inner
        self._metrics = metrics
        self.turns = 0
        """Turns stored, the caller's and the agent's."""
        self.caller_spoke = False
        self.handed_off = False

    def add_turn(self, turn: TurnRecord) -> None:
        if turn.speaker == "caller":
            self.caller_spoke = True  # said, even if the store then fails
        try:
            self.inner.add_turn(turn)
        except Exception:
            self._metrics.error("store")
            raise
        self.turns += 1

    def apply(self, writes: Sequence[Any]) -> None:
        try:
            self.inner.apply(writes)
        except Exception:
            self._metrics.error("store")
            raise
        self._metrics.stored(writes)
        if any(isinstance(write, HandoffWrite) for write in writes):
            self.handed_off = True


class CallObservation:
    """One call from start to end: log lines, the in-progress gauge and the calls counter."""

    def __init__(
        self,
        transport: str,
        conversation_id: int | None,
        recorder: ObservedRecorder,
        metrics: AgentMetrics,
        clock: Clock,
        call_id: str | None = None,
    ) -> None:
        """`call_id` is the transport's id for the call (the SIP Call-ID, the web call's id):
        the start line ties it to the conversation, so a caller's record finds its turns."""
        self._transport = transport
        self._call_id = call_id or "-"
        self._conversation = "-" if conversation_id is None else str(conversation_id)
        self._recorder = recorder
        self._metrics = metrics
        self._clock = clock
        self._started = clock.now()
        self._failed = False

    def started(self) -> None:
        self._started = self._clock.now()
        self._metrics.call_started(self._transport)
        logger.info(
            "call started conversation=%s transport=%s call=%s",
            self._conversation,
            self._transport,
            self._call_id,
        )

    def failed(self) -> None:
        """The session raised (counted here; the caller of `run_call` sees the exception)."""
        self._failed = True
        self._metrics.error("call")

    def ended(self) -> CallOutcome:
        """Count and log the call's end; its outcome, to store with the conversation."""
        recorder = self._recorder
        outcome = call_outcome(
            failed=self._failed,
            handed_off=recorder.handed_off,
            caller_spoke=recorder.caller_spoke,
        )
        self._metrics.call_ended(self._transport, outcome)
        duration = self._clock.now() - self._started
        logger.info(
            "call ended conversation=%s transport=%s outcome=%s duration_s=%.1f turns=%d",
            self._conversation,
            self._transport,
            outcome,
            duration,
            recorder.turns,
        )
        return outcome


def call_not_started(transport: str, metrics: AgentMetrics) -> None:
    """A call that failed before its session began (its conversation could not be stored, say):
    an error, and a call ended in error, with one log line."""
    metrics.error("call")
    metrics.calls.labels(transport, CallOutcome.ERROR).inc()
    logger.info("call not started transport=%s outcome=%s", transport, CallOutcome.ERROR)
