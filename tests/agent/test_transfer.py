"""The transfer decision: a hand-off during the team's hours is put through, with the real
dialogue (demo store) deciding the hand-off; in a session in stepped time, the REFER comes
once "putting you through" is said, and a failed transfer is followed by the call-back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.dialogue.conftest import ANCHOR, POLICIES
from tests.fakes.stages import EnergyVad, ListRecorder, ScriptedAsr, ToneTts, burst
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallParts
from voice_agent.agent.session import CallSession
from voice_agent.agent.transfer import (
    REFERENCE_HEADER,
    HandoffTransfers,
    TransferReply,
    TransferringDialogue,
    handoff_in,
)
from voice_agent.bench.caller import Cue, Line, ScriptedCaller
from voice_agent.clock import FakeClock
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import load_policies
from voice_agent.settings import PathsSettings, SessionSettings, StoreSettings
from voice_agent.store.db import open_database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository
from voice_agent.transport.wavfile import Pacing, WavCallTransport

TEAM = "sip:team@127.0.0.1:5090"
ASK_FOR_A_PERSON = "I'd like to speak to a person please"
SATURDAY = datetime.fromisoformat("2024-11-16T12:00:00+00:00")


@dataclass
class TeamLine:
    """The call as the transfer sees it: records each REFER, answers as told."""

    succeeds: bool = True
    referred: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)

    async def transfer(self, target: str, headers: Sequence[tuple[str, str]] = ()) -> bool:
        self.referred.append((target, list(headers)))
        return self.succeeds


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DialogueEngine]:
    settings = StoreSettings(url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with open_database(settings, PathsSettings()) as database:
        import_document(database, demo_document(ANCHOR), "demo shop")
        yield DialogueEngine(Repository(database), load_policies(POLICIES))


def _dialogue(engine: DialogueEngine, line: TeamLine, target: str = TEAM) -> TransferringDialogue:
    conversation = CallDialogue(engine)  # no caller to call back: the ticket is written at once
    is_open = engine.policies.handoff.is_open
    return TransferringDialogue(
        conversation, HandoffTransfers(line, target, is_open, conversation.say)
    )


def test_a_handoff_in_hours_is_put_through_with_its_reference(engine: DialogueEngine) -> None:
    line = TeamLine()
    dialogue = _dialogue(engine, line)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond(ASK_FOR_A_PERSON, None, state, ANCHOR)
    assert isinstance(reply, TransferReply)
    handoff = handoff_in(reply)
    assert handoff is not None and handoff.facts["transferred_to"] == TEAM
    spoken_reference = ", ".join(handoff.reference)
    assert reply.chunks == (
        f"I'm putting you through to a colleague now. Your reference is {spoken_reference}.",
    )
    assert asyncio.run(reply.transfer.run()) is None
    assert line.referred == [(TEAM, [(REFERENCE_HEADER, handoff.reference)])]


def test_a_failed_transfer_falls_back_to_the_call_back_promise(engine: DialogueEngine) -> None:
    line = TeamLine(succeeds=False)
    dialogue = _dialogue(engine, line)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond(ASK_FOR_A_PERSON, None, state, ANCHOR)
    assert isinstance(reply, TransferReply)
    fallback = asyncio.run(reply.transfer.run())
    assert fallback is not None and fallback.writes == ()  # the ticket is stored once
    assert "call you back" in " ".join(fallback.chunks)
    assert len(line.referred) == 1


@pytest.mark.parametrize(
    ("now", "transferred"),
    [
        (ANCHOR, True),  # Wednesday 12:00 in London
        (ANCHOR.replace(hour=16, minute=59), True),
        (ANCHOR.replace(hour=17, minute=0), False),  # closed at 17:00
        (ANCHOR.replace(hour=8, minute=59), False),
        (SATURDAY, False),
        (datetime.fromisoformat("2024-07-10T08:00:00+00:00"), True),  # 09:00 summer time
    ],
)
def test_the_teams_hours_decide(engine: DialogueEngine, now: datetime, transferred: bool) -> None:
    line = TeamLine()
    dialogue = _dialogue(engine, line)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond(ASK_FOR_A_PERSON, None, state, now)
    assert handoff_in(reply) is not None  # the ticket is stored either way
    assert isinstance(reply, TransferReply) is transferred
    if not transferred:
        assert "call you back" in " ".join(reply.chunks)


def test_no_target_or_a_second_handoff_promises_a_call_back(engine: DialogueEngine) -> None:
    off = _dialogue(engine, TeamLine(), target="")
    state = off.greeting(off.initial_state()).state
    assert not isinstance(off.respond(ASK_FOR_A_PERSON, None, state, ANCHOR), TransferReply)
    dialogue = _dialogue(engine, TeamLine(succeeds=False))
    state = dialogue.greeting(dialogue.initial_state()).state
    first = dialogue.respond(ASK_FOR_A_PERSON, None, state, ANCHOR)
    assert isinstance(first, TransferReply)
    assert asyncio.run(first.transfer.run()) is not None  # it failed: the call-back instead
    later = ANCHOR + timedelta(minutes=2)
    second = dialogue.respond(ASK_FOR_A_PERSON, None, first.state, later)
    assert handoff_in(second) is not None and not isinstance(second, TransferReply)


def test_a_discarded_speculation_does_not_use_up_the_transfer(engine: DialogueEngine) -> None:
    """The session answers a tentative pause ahead and drops that reply when the caller goes
    on: only a transfer that runs counts."""
    line = TeamLine()
    dialogue = _dialogue(engine, line)
    state = dialogue.greeting(dialogue.initial_state()).state
    speculation = dialogue.respond(ASK_FOR_A_PERSON, None, state, ANCHOR)
    assert isinstance(speculation, TransferReply)
    committed = dialogue.respond(ASK_FOR_A_PERSON, None, state, ANCHOR)
    assert isinstance(committed, TransferReply)
    assert asyncio.run(committed.transfer.run()) is None
    assert len(line.referred) == 1


@pytest.mark.parametrize("succeeds", [True, False])
def test_the_session_transfers_once_the_caller_has_heard_it(
    engine: DialogueEngine, succeeds: bool
) -> None:
    clock = FakeClock(100.0)
    playout = Playout(clock)
    caller = ScriptedCaller([Line(burst(1.0), cue=Cue.AFTER_REPLY)])
    transport = WavCallTransport(caller, playout, clock, Pacing.STEPPED, max_s=40)
    recorder = ListRecorder()
    line = TeamLine(succeeds=succeeds)
    dialogue = _dialogue(engine, line)
    asr = ScriptedAsr({0.0: ASK_FOR_A_PERSON})
    parts = CallParts(transport, playout, EnergyVad(), asr, ToneTts(), dialogue, recorder)
    parts.wall_clock = lambda: ANCHOR
    session = CallSession(SessionSettings(), parts, clock)
    transport.settle = session.settled
    asyncio.run(session.run())
    said = [turn.text for turn in recorder.turns if turn.speaker == "agent"]
    putting_through = next(i for i, text in enumerate(said) if "putting you through" in text)
    assert len(line.referred) == 1
    assert [type(w).__name__ for w in recorder.writes].count("HandoffWrite") == 1
    follow_up = said[putting_through + 1 :]
    if succeeds:
        assert not any("call you back" in text for text in follow_up)
    else:
        assert "call you back" in follow_up[0]
