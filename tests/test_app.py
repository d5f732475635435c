"""The composition root's own behaviour (the parts it wires are tested where they live)."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.stages import EchoDialogue, EchoReply, EnergyVad, ScriptedAsr, ToneTts, burst
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts, CallTransport
from voice_agent.agent.recorder import StoreRecorder
from voice_agent.agent.session import CallSession
from voice_agent.app import App
from voice_agent.bench.caller import Cue, Line, ScriptedCaller
from voice_agent.clock import FakeClock
from voice_agent.dialogue import callback
from voice_agent.dialogue.call import CallDialogue, caller_of
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import load_policies
from voice_agent.settings import Settings, load_settings
from voice_agent.stages.asr import Transcript
from voice_agent.store.outbox import Outbox
from voice_agent.store.writes import HandoffWrite
from voice_agent.transport.wavfile import Pacing, WavCallTransport


def _settings(data: Path, instance_id: str) -> Settings:
    return load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(data),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{data / 'shared.sqlite3'}",
            "VOICE_AGENT_SERVER__INSTANCE_ID": instance_id,
        }
    )


def test_a_restarted_instance_closes_the_calls_its_earlier_run_left_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    earlier, neighbour = App(_settings(tmp_path, "shop-1")), App(_settings(tmp_path, "shop-2"))
    try:
        _, died = earlier.conversation("sip", "+44 20 7946 0321")  # then kill -9: never ended
        _, running = neighbour.conversation("webrtc", "browser")  # another instance's live call
    finally:
        earlier.close()
    restarted = App(_settings(tmp_path, "shop-1"))
    try:
        with caplog.at_level(logging.INFO, logger="voice_agent.app"):
            assert restarted.close_abandoned_conversations() == 1
        stored = {c.id: c for c in restarted.repository.conversations()}
    finally:
        restarted.close()
        neighbour.close()
    assert stored[died.conversation_id].end_reason == "instance restarted"
    assert stored[died.conversation_id].ended_at is not None
    assert stored[running.conversation_id].ended_at is None
    assert "closed 1 conversations left open by an earlier run of instance shop-1" in [
        record.getMessage() for record in caplog.records
    ]


@pytest.mark.parametrize(
    ("enabled", "greeting", "recorded"),
    [("true", "true", True), ("false", "true", False), ("true", "false", False)],
)
def test_calls_are_recorded_only_when_on_and_the_notice_can_be_said(
    tmp_path: Path, enabled: str, greeting: str, recorded: bool
) -> None:
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path),
            "VOICE_AGENT_RECORDINGS__ENABLED": enabled,
            "VOICE_AGENT_SESSION__GREETING": greeting,
        }
    )
    assert App(settings).records_calls is recorded


def test_a_channel_we_never_record_gets_no_recording_notice(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "VOICE_AGENT_RECORDINGS__ENABLED": "true",
        }
    )
    app = App(settings)
    try:
        ours, _ = app.conversation("webrtc", "browser")
        theirs, _ = app.conversation("livekit", "participant", recordable=False)
    finally:
        app.close()
    assert ours.recorded and not theirs.recorded
    assert theirs.recording_notice is None


class _HandingOff(EchoDialogue):
    """Hands the caller's request to a person (a hand-off write with the reply)."""

    def respond(
        self,
        text: str,
        dtmf: str | None,
        state: Any,
        now: datetime,
        transcript: Transcript | None = None,
    ) -> EchoReply:
        reply = super().respond(text, dtmf, state, now, transcript)
        if reply.end_call:
            return reply
        handoff = HandoffWrite(
            reference="H-1",
            reason="asked",
            transcript=text,
            facts={},
            callback_by=now,
            created_at=now,
        )
        return replace(reply, writes=(handoff,))


class _Failing(EchoDialogue):
    def greeting(self, state: Any) -> EchoReply:
        raise RuntimeError("the dialogue broke")


class _BrokenAtTheEnd(EchoDialogue):
    def call_ended(self, state: Any, now: datetime) -> tuple[Any, ...]:
        raise RuntimeError("the end of the call broke")


def _run_call(
    app: App,
    dialogue: EchoDialogue,
    lines: list[Line],
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """One call through App.run_call on fake stages and the App's store; its conversation."""
    conversations: list[int] = []

    def call_parts(
        transport: CallTransport,
        playout: Playout,
        channel: str,
        caller_id: str,
        language: str | None = None,
        placed: object = None,
    ) -> CallParts:
        conversation = app.repository.start_conversation(channel, caller_id, datetime.now(UTC))
        conversations.append(conversation)
        recorder = StoreRecorder(app.repository, conversation)
        asr = ScriptedAsr({0.0: "bye", 1.2: "where is my order"})
        return CallParts(transport, playout, EnergyVad(), asr, ToneTts(), dialogue, recorder)

    monkeypatch.setattr(app, "call_parts", call_parts)
    clock = FakeClock(100.0)
    playout = Playout(clock)
    transport = WavCallTransport(ScriptedCaller(lines), playout, clock, Pacing.STEPPED, max_s=60)
    asyncio.run(app.run_call(transport, playout, "sip", "+44 20 7946 0321"))
    return conversations[0]


TWO_TURNS = [Line(burst(1.0), cue=Cue.AFTER_REPLY), Line(burst(0.6, seed=2))]


@pytest.mark.parametrize(
    ("dialogue", "lines", "outcome"),
    [
        (EchoDialogue(), TWO_TURNS, "completed"),
        (_HandingOff(), TWO_TURNS, "handoff"),
        (EchoDialogue(), [], "no_speech"),
    ],
)
def test_each_call_is_counted_logged_and_stored_with_its_outcome(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    dialogue: EchoDialogue,
    lines: list[Line],
    outcome: str,
) -> None:
    app = App(_settings(tmp_path, "shop-1"))
    try:
        with caplog.at_level(logging.INFO, logger="voice_agent.calls"):
            conversation = _run_call(app, dialogue, lines, monkeypatch)
        stored = {c.id: c for c in app.repository.conversations()}[conversation]
        turns = len(app.repository.turns(conversation))
        sample = app.metrics.registry.get_sample_value
    finally:
        app.close()
    assert stored.outcome == outcome and stored.ended_at is not None
    assert sample("voice_agent_calls_total", {"transport": "sip", "outcome": outcome}) == 1
    assert sample("voice_agent_calls_in_progress", {"transport": "sip"}) == 0
    assert sample("voice_agent_handoffs_total") == (1 if outcome == "handoff" else 0)
    started, ended = [r.getMessage() for r in caplog.records if r.name == "voice_agent.calls"]
    assert started.startswith(f"call started conversation={conversation} transport=sip call=")
    assert ended.startswith(f"call ended conversation={conversation} transport=sip ")
    assert f" outcome={outcome} duration_s=" in ended
    assert ended.endswith(f" turns={turns}") and turns >= 1  # the greeting at least
    assert "7946" not in caplog.text  # the caller's number is never logged


def test_a_call_whose_session_raises_is_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App(_settings(tmp_path, "shop-1"))
    try:
        with (
            caplog.at_level(logging.INFO, logger="voice_agent.calls"),
            pytest.raises(RuntimeError, match="the dialogue broke"),
        ):
            _run_call(app, _Failing(), TWO_TURNS, monkeypatch)
        (stored,) = app.repository.conversations()
        sample = app.metrics.registry.get_sample_value
    finally:
        app.close()
    assert stored.outcome == "error"
    assert sample("voice_agent_calls_total", {"transport": "sip", "outcome": "error"}) == 1
    assert sample("voice_agent_errors_total", {"kind": "call"}) == 1
    assert "outcome=error" in caplog.text


def test_a_call_that_cannot_start_is_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def call_parts(*args: Any) -> CallParts:
        raise RuntimeError("database gone")

    app = App(_settings(tmp_path, "shop-1"))
    monkeypatch.setattr(app, "call_parts", call_parts)
    clock = FakeClock(100.0)
    playout = Playout(clock)
    transport = WavCallTransport(ScriptedCaller([]), playout, clock, Pacing.STEPPED, max_s=1)
    try:
        with (
            caplog.at_level(logging.INFO, logger="voice_agent.calls"),
            pytest.raises(RuntimeError, match="database gone"),
        ):
            asyncio.run(app.run_call(transport, playout, "webrtc", "browser"))
        sample = app.metrics.registry.get_sample_value
    finally:
        app.close()
    assert sample("voice_agent_calls_total", {"transport": "webrtc", "outcome": "error"}) == 1
    assert sample("voice_agent_errors_total", {"kind": "call"}) == 1
    assert sample("voice_agent_calls_in_progress", {"transport": "webrtc"}) == 0
    assert caplog.messages == ["call not started transport=webrtc outcome=error"]


def _call_asking_for_a_person(
    app: App, channel: str, caller_id: str, lines: list[Line], monkeypatch: pytest.MonkeyPatch
) -> int:
    """One call through App.run_call: the real dialogue (rule-based understanding) on fake
    stages and the App's store; the caller asks for a person (a long burst), says "yes" to
    what follows (a short one), and hangs up."""
    engine = DialogueEngine(
        app.repository, load_policies(app.settings.paths.resolve(app.settings.dialogue.policies))
    )
    conversations: list[int] = []

    def call_parts(transport: CallTransport, playout: Playout, *_: Any) -> CallParts:
        conversation = app.repository.start_conversation(channel, caller_id, datetime.now(UTC))
        conversations.append(conversation)
        dialogue = CallDialogue(engine, conversation, caller_of(channel, caller_id))
        recorder = StoreRecorder(app.repository, conversation)
        asr = ScriptedAsr({0.0: "yes", 1.2: "Can I talk to a real person, please?"})
        return CallParts(transport, playout, EnergyVad(), asr, ToneTts(), dialogue, recorder)

    monkeypatch.setattr(app, "call_parts", call_parts)
    clock = FakeClock(100.0)
    playout = Playout(clock)
    transport = WavCallTransport(ScriptedCaller(lines), playout, clock, Pacing.STEPPED, max_s=60)
    asyncio.run(app.run_call(transport, playout, channel, caller_id))
    return conversations[0]


ASKS_FOR_A_PERSON = [Line(burst(1.0), cue=Cue.AFTER_REPLY)]


@pytest.mark.parametrize(
    ("channel", "caller_id", "lines", "contact", "hung_up"),
    [
        # asked where to call back, the caller hangs up: the ticket is written at the end
        ("webrtc", "web:198.51.100.7", ASKS_FOR_A_PERSON, None, True),
        # offered their own number, they say yes: written by the dialogue, and only once
        ("sip", "+44 20 7946 0321", TWO_TURNS, "+442079460321", False),
    ],
)
def test_a_person_asked_for_is_handed_off_even_when_the_caller_hangs_up(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    channel: str,
    caller_id: str,
    lines: list[Line],
    contact: str | None,
    hung_up: bool,
) -> None:
    app = App(_settings(tmp_path, "shop-1"))
    try:
        conversation = _call_asking_for_a_person(app, channel, caller_id, lines, monkeypatch)
        stored = {c.id: c for c in app.repository.conversations()}[conversation]
        (handoff,) = app.repository.handoffs()
        events = Outbox(app.database).due(datetime.now(UTC) + timedelta(days=1), limit=10)
        sample = app.metrics.registry.get_sample_value
    finally:
        app.close()
    assert stored.outcome == "handoff" and stored.ended_at is not None
    # the shop hears of it as of any hand-off, once
    assert [(e.event, e.conversation_id) for e in events] == [("handoff.created", conversation)]
    assert sample("voice_agent_handoffs_total") == 1
    assert handoff.conversation_id == conversation and handoff.contact == contact
    assert (callback.HUNG_UP in handoff.reason) is hung_up
    assert "real person" in handoff.transcript


def test_a_failure_at_the_end_of_the_call_still_ends_its_conversation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = App(_settings(tmp_path, "shop-1"))
    try:
        with caplog.at_level(logging.ERROR, logger="voice_agent.app"):
            conversation = _run_call(app, _BrokenAtTheEnd(), TWO_TURNS, monkeypatch)
        stored = {c.id: c for c in app.repository.conversations()}[conversation]
    finally:
        app.close()
    assert stored.outcome == "completed" and stored.ended_at is not None
    assert "the writes of the call's end could not be stored" in caplog.messages


@pytest.mark.parametrize("trim_after_call", [True, False])
def test_a_finished_call_leaves_nothing_of_itself_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trim_after_call: bool
) -> None:
    """A server runs for months: once a call has ended, its session and pipeline are garbage
    (nothing the App keeps refers to them, nor the transport, which may outlive its call),
    and the malloc heap's free pages are handed back when `server.malloc_trim_after_call`."""
    kept: list[weakref.ref[Any]] = []

    class Session(CallSession):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            kept.append(weakref.ref(self))

    def call_parts(transport: CallTransport, playout: Playout, *_: Any) -> CallParts:
        conversation = app.repository.start_conversation("sip", "+44 20 7946 0321", _now())
        parts = CallParts(
            transport,
            playout,
            EnergyVad(),
            ScriptedAsr({0.0: "bye", 1.2: "where is my order"}),
            ToneTts(),
            EchoDialogue(),
            StoreRecorder(app.repository, conversation),
        )
        kept.extend(weakref.ref(part) for part in (parts.vad, parts.asr, parts.tts))
        kept.extend(weakref.ref(part) for part in (parts.dialogue, parts.recorder))
        return parts

    trims: list[bool] = []
    monkeypatch.setattr("voice_agent.agent.session.CallSession", Session)
    monkeypatch.setattr("voice_agent.app.trim_native_heap", lambda: trims.append(True))
    settings = _settings(tmp_path, "shop-1")
    server = settings.server.model_copy(update={"malloc_trim_after_call": trim_after_call})
    app = App(settings.model_copy(update={"server": server}))
    monkeypatch.setattr(app, "call_parts", call_parts)
    clock = FakeClock(100.0)
    playout = Playout(clock)
    transport = WavCallTransport(
        ScriptedCaller(TWO_TURNS), playout, clock, Pacing.STEPPED, max_s=60
    )
    try:
        asyncio.run(app.answer_call(transport, playout, "sip", "+44 20 7946 0321"))
        gc.collect()
        (conversation,) = app.repository.conversations()
    finally:
        app.close()
    assert conversation.ended_at is not None  # the call ran to its end
    assert len(kept) == 6
    alive = [type(ref()).__name__ for ref in kept if ref() is not None]
    assert alive == [], f"kept after the call: {alive}"
    assert app.live_calls.calls() == []
    assert trims == ([True] if trim_after_call else [])


def _now() -> datetime:
    return datetime.now(UTC)
