"""A call's outcome from what was seen of it; the recorder that sees it; the call's log lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from tests.fakes.stages import ListRecorder
from voice_agent.agent.metrics import AgentMetrics
from voice_agent.agent.observe import CallObservation, ObservedRecorder
from voice_agent.agent.outcome import CallOutcome, call_outcome
from voice_agent.clock import FakeClock
from voice_agent.store.views import CALL_OUTCOMES
from voice_agent.store.writes import HandoffWrite, OrderLock, TurnRecord

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
HANDOFF = HandoffWrite(
    reference="H-1", reason="asked", transcript="", facts={}, callback_by=AT, created_at=AT
)


@pytest.mark.parametrize(
    ("failed", "handed_off", "caller_spoke", "outcome"),
    [
        (False, False, True, CallOutcome.COMPLETED),
        (False, True, True, CallOutcome.HANDOFF),
        (False, False, False, CallOutcome.NO_SPEECH),
        (False, True, False, CallOutcome.HANDOFF),  # a hand-off the dialogue made on silence
        (True, True, True, CallOutcome.ERROR),
        (True, False, False, CallOutcome.ERROR),
    ],
)
def test_the_outcome_of_a_call(
    failed: bool, handed_off: bool, caller_spoke: bool, outcome: CallOutcome
) -> None:
    assert call_outcome(failed=failed, handed_off=handed_off, caller_spoke=caller_spoke) is outcome


def test_the_outcomes_are_those_the_store_keeps() -> None:
    assert tuple(CallOutcome) == CALL_OUTCOMES


def _turn(speaker: str) -> TurnRecord:
    return TurnRecord(speaker=speaker, text="hello", started_at=AT, ended_at=AT)


def test_the_recorder_notes_turns_and_hand_offs_and_counts_stored_writes() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    inner = ListRecorder()
    recorder = ObservedRecorder(inner, metrics)
    recorder.add_turn(_turn("agent"))
    assert not recorder.caller_spoke
    recorder.add_turn(_turn("caller"))
    recorder.apply([OrderLock(order_number="4567", until=AT)])
    assert not recorder.handed_off
    recorder.apply([HANDOFF])
    assert (recorder.turns, recorder.caller_spoke, recorder.handed_off) == (2, True, True)
    assert len(inner.turns) == 2 and len(inner.writes) == 2
    assert metrics.registry.get_sample_value("voice_agent_locks_total") == 1
    assert metrics.registry.get_sample_value("voice_agent_handoffs_total") == 1


class _Refusing(ListRecorder):
    def add_turn(self, turn: TurnRecord) -> None:
        raise RuntimeError("database gone")

    def apply(self, writes: Sequence[Any]) -> None:
        raise RuntimeError("database gone")


def test_what_the_store_refuses_is_an_error_and_not_counted_as_done() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    recorder = ObservedRecorder(_Refusing(), metrics)
    with pytest.raises(RuntimeError):
        recorder.add_turn(_turn("caller"))
    with pytest.raises(RuntimeError):
        recorder.apply([HANDOFF])
    assert recorder.caller_spoke  # the caller did speak; storing it failed
    assert not recorder.handed_off and recorder.turns == 0
    assert metrics.registry.get_sample_value("voice_agent_errors_total", {"kind": "store"}) == 2
    assert metrics.registry.get_sample_value("voice_agent_handoffs_total") == 0


def test_one_log_line_when_a_call_starts_and_one_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = AgentMetrics(CollectorRegistry())
    clock = FakeClock(100.0)
    recorder = ObservedRecorder(ListRecorder(), metrics)
    call = CallObservation("sip", 12, recorder, metrics, clock, "a84b4c76e66710@192.0.2.4")
    with caplog.at_level(logging.INFO, logger="voice_agent.calls"):
        call.started()
        assert (
            metrics.registry.get_sample_value("voice_agent_calls_in_progress", {"transport": "sip"})
            == 1
        )
        for speaker in ("agent", "caller", "agent"):
            recorder.add_turn(_turn(speaker))
        recorder.apply([HANDOFF])
        clock.advance(73.42)
        assert call.ended() is CallOutcome.HANDOFF
    lines = [(r.name, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "voice_agent.calls",
            "call started conversation=12 transport=sip call=a84b4c76e66710@192.0.2.4",
        ),
        (
            "voice_agent.calls",
            "call ended conversation=12 transport=sip outcome=handoff duration_s=73.4 turns=3",
        ),
    ]
    sample = metrics.registry.get_sample_value
    assert sample("voice_agent_calls_in_progress", {"transport": "sip"}) == 0
    assert sample("voice_agent_calls_total", {"transport": "sip", "outcome": "handoff"}) == 1


def test_a_failed_call_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    metrics = AgentMetrics(CollectorRegistry())
    recorder = ObservedRecorder(ListRecorder(), metrics)
    recorder.add_turn(_turn("caller"))
    call = CallObservation("webrtc", None, recorder, metrics, FakeClock(0.0))
    with caplog.at_level(logging.INFO, logger="voice_agent.calls"):
        call.started()
        call.failed()
        assert call.ended() is CallOutcome.ERROR
    assert "call ended conversation=- transport=webrtc outcome=error" in caplog.text
    assert metrics.registry.get_sample_value("voice_agent_errors_total", {"kind": "call"}) == 1
