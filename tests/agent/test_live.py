"""The live-call registry: calls register and leave, events become state and captions, and
subscribers get each change (a slow one is dropped, not waited for)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.fakes.stages import EchoDialogue, EnergyVad, ListRecorder, ScriptedAsr, ToneTts, burst
from voice_agent.agent.events import (
    AgentSaid,
    AgentStopped,
    BargeIn,
    CallEnded,
    CallerHeard,
    CallerSaid,
    StateChanged,
    TurnState,
)
from voice_agent.agent.live import MAX_LINES, LiveCalls
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts
from voice_agent.agent.session import CallSession
from voice_agent.bench.caller import Line, ScriptedCaller
from voice_agent.clock import FakeClock
from voice_agent.settings import SessionSettings
from voice_agent.transport.wavfile import Pacing, WavCallTransport

STARTED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_events_become_state_and_captions() -> None:
    calls = LiveCalls()
    call = calls.start("sip", "sip:+4930555@host", STARTED, conversation_id=7)
    call.observe(AgentSaid(0.1, "Hello, how can I help?"))
    call.observe(StateChanged(0.2, TurnState.LISTENING))
    call.observe(CallerHeard(0.5, "where is", "my ord"))
    assert call.to_json()["hearing"] == "where is my ord"
    call.observe(CallerSaid(0.9, "Where is my order?"))
    call.observe(StateChanged(1.0, TurnState.SPEAKING))
    call.observe(AgentSaid(1.1, "Your order 10231 is out for delivery with DHL."))
    call.observe(AgentStopped(1.8, "Your order 10231", interrupted=True))
    view = call.to_json()
    assert (view["state"], view["hearing"], view["conversation_id"]) == ("speaking", "", 7)
    assert [(line["speaker"], line["text"]) for line in view["lines"]] == [
        ("agent", "Hello, how can I help?"),
        ("caller", "Where is my order?"),
        ("agent", "Your order 10231 is out for delivery with DHL."),
    ]
    assert view["lines"][2]["interrupted"] and view["lines"][2]["heard"] == "Your order 10231"
    assert not view["lines"][0]["interrupted"]
    assert [c.id for c in calls.calls()] == [call.id]
    calls.end(call)
    assert calls.calls() == []


def test_only_the_latest_captions_are_kept() -> None:
    call = LiveCalls().start("webrtc", "web:1", STARTED, None)
    for n in range(MAX_LINES + 5):
        call.observe(CallerSaid(float(n), f"line {n}"))
    lines = call.to_json()["lines"]
    assert len(lines) == MAX_LINES
    assert lines[-1]["text"] == f"line {MAX_LINES + 4}"


def test_subscribers_get_every_change_and_the_end() -> None:
    async def scenario() -> None:
        calls = LiveCalls()
        with calls.subscribe() as queue:
            call = calls.start("webrtc", "web:1", STARTED, 3)
            call.observe(CallerSaid(0.5, "hello"))
            call.observe(BargeIn(0.6, 0.55))  # not shown: no change sent
            call.observe(CallEnded(0.9, "ended"))
            calls.end(call)
            changes = [queue.get_nowait() for _ in range(queue.qsize())]
        assert [change and change["state"] for change in changes] == [
            "listening",
            "listening",
            "ended",
            "ended",
        ]
        assert changes[-1] is not None and changes[-1]["ended"]
        assert calls._subscribers == set()

    asyncio.run(scenario())


def test_a_subscriber_that_falls_behind_is_dropped_not_waited_for() -> None:
    async def scenario() -> None:
        calls = LiveCalls(queue_size=3)
        with calls.subscribe() as slow, calls.subscribe() as keeping_up:
            call = calls.start("webrtc", "web:1", STARTED, None)
            for n in range(5):
                call.observe(CallerSaid(float(n), f"line {n}"))
                while not keeping_up.empty():
                    keeping_up.get_nowait()
            assert slow.get_nowait() is None  # told to start again
            assert slow.empty()
            call.observe(CallerSaid(9.0, "after"))
            assert slow.empty()
            latest = keeping_up.get_nowait()
            assert latest is not None and latest["lines"][-1]["text"] == "after"

    asyncio.run(scenario())


def _session_events(observer: object) -> list[object]:
    """The events a short call (fake stages, stepped time) sends its transport."""
    clock = FakeClock(100.0)
    playout = Playout(clock)
    transport = WavCallTransport(
        ScriptedCaller([Line(burst(1.0))]), playout, clock, Pacing.STEPPED, max_s=30
    )
    asr = ScriptedAsr({0.0: "where is my order"})
    parts = CallParts(
        transport, playout, EnergyVad(), asr, ToneTts(), EchoDialogue(), ListRecorder()
    )
    parts.observer = observer  # type: ignore[assignment]
    session = CallSession(SessionSettings(), parts, clock)
    transport.settle = session.settled
    asyncio.run(session.run())
    return list(transport.call.events)


def test_the_observer_sees_every_event_the_transport_is_sent() -> None:
    seen: list[object] = []
    sent = _session_events(seen.append)
    assert seen == sent
    assert any(isinstance(event, CallerSaid) for event in seen)
    assert isinstance(seen[-1], CallEnded)


def test_a_failing_observer_does_not_disturb_the_call() -> None:
    def broken(event: object) -> None:
        raise RuntimeError("the desk is down")

    sent = _session_events(broken)
    assert any(isinstance(event, CallerSaid) for event in sent)
    assert isinstance(sent[-1], CallEnded)
