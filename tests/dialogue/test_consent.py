"""The objection to recording: the rule, and the call's dialogue when the call is recorded."""

from __future__ import annotations

import pytest

from tests.dialogue.conftest import ANCHOR
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.consent import find_objection
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.state import Awaiting
from voice_agent.store.repository import Repository
from voice_agent.store.writes import RecordingRefused

NOTICE = "This call is recorded so we can check how we did. If you'd rather it wasn't, just say so."

TUNED_ON = [
    "don't record this",
    "I don't want to be recorded",
    "no recording please",
    "please don't record me",
    "stop recording",
    "I'd rather it wasn't recorded",
    "can you not record this?",
    "turn off the recording",
    "I object to being recorded",
    "no need to record this",
]

NOT_TUNED_ON = [
    "Please do not record this conversation.",
    "I really don't want this call to be recorded.",
    "I'm not okay with being recorded",
    "Could you switch the recording off?",
    "I would prefer you didn't record me, I'm a bit private.",
    "Don\u2019t record my call please",
    "I refuse to have this call recorded",
    "Hello. I don't consent to any recording.",
    "Kindly stop the recording",
    "I'd like to opt out of the recording",
    "We'd rather not be recorded",
    "Can we do this without recording?",
    # a second set, found after the rule above was written (three of them made it broader)
    "Please, no recordings.",
    "I do not wish to be recorded today",
    "Stop the recording now",
    "Do you mind not recording this?",
    "Not recorded please",
    "I said don't record me!",
    "Could you please not record our conversation",
    "I don't agree to this being recorded",
    "Turn the recorder off",
    "I would rather this call was not recorded",
]

NOT_OBJECTIONS = [
    "record my new address",
    "is there a record of my order",
    "there's no record of my order in the tracking",
    "you don't have a record of my return?",
    "I don't mind being recorded",
    "my return isn't recorded in your system",
    "did you record my new address?",
    "is this call being recorded?",
    "Isn't this call recorded?",
    "don't forget to record my new address",
    "I want to record a complaint",
    "please make a record that I called",
    "the courier never recorded the delivery",
    "they didn't record it",
    "it wasn't recorded",
    "no, that's fine, you can record",
    "I have no record of the refund",
    "Where is my order?",
    "I'd rather not",
    "Can I get a record of my refund?",
    "I need a recording of the delivery proof",
    "there's no recorded delivery",
    "Yes please record the new address",
    "Not sure you recorded my postcode right",
    "Is the call recorded?",
    "No, I never got a tracking record",
]


@pytest.mark.parametrize("said", TUNED_ON + NOT_TUNED_ON)
def test_objections_are_found(said: str) -> None:
    assert find_objection(said) is not None


@pytest.mark.parametrize("said", NOT_OBJECTIONS)
def test_other_talk_of_records_is_not_an_objection(said: str) -> None:
    assert find_objection(said) is None


def test_the_rest_of_the_turn_is_kept_for_the_dialogue() -> None:
    objection = find_objection("Please don't record this, where is my order?")
    assert objection is not None and objection.rest == "where is my order"
    alone = find_objection("Okay, but please don't record me.")
    assert alone is not None and alone.rest == ""


def test_declining_in_the_notices_own_words_counts_only_as_its_answer() -> None:
    assert find_objection("I'd rather not.", after_notice=True) is not None
    assert find_objection("No, I'd rather it wasn't.", after_notice=True) is not None
    assert find_objection("I'd rather not.") is None


def _recorded(engine: DialogueEngine, repository: Repository) -> CallDialogue:
    conversation = repository.start_conversation("sip", "+44 20 7946 0321", ANCHOR)
    return CallDialogue(engine, conversation, recording_notice=NOTICE)


def test_the_notice_is_the_first_thing_said_when_calls_are_recorded(
    engine: DialogueEngine, repository: Repository
) -> None:
    greeting = _recorded(engine, repository).greeting(engine.initial_state(1))
    assert greeting.chunks[:2] == (
        "This call is recorded so we can check how we did.",
        "If you'd rather it wasn't, just say so.",
    )
    assert greeting.chunks[2:] == engine.greeting(engine.initial_state()).chunks
    assert greeting.state.last_reply == greeting.chunks
    plain = CallDialogue(engine).greeting(engine.initial_state())
    assert not any("record" in chunk for chunk in plain.chunks)


def test_an_objection_is_acknowledged_and_carried_as_a_write(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = _recorded(engine, repository)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond("I'd rather not be recorded.", None, state, ANCHOR)
    assert reply.chunks == ("All right, this call won't be recorded.", "How can I help?")
    assert reply.writes == (RecordingRefused(conversation_id=state.conversation_id or 0),)
    assert reply.state.recording_refused
    repository.apply(reply.writes)
    view = next(view for view in repository.conversations() if view.id == state.conversation_id)
    assert view.recording_consent is False and view.recording_path is None
    # said again later, it is just talk: no second acknowledgement
    later = dialogue.respond("don't record this", None, reply.state, ANCHOR)
    assert "won't be recorded" not in later.text and not later.writes


def test_the_rest_of_an_objecting_turn_is_answered(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = _recorded(engine, repository)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond("Don't record this, where is my order?", None, state, ANCHOR)
    assert reply.chunks[0] == "All right, this call won't be recorded."
    assert reply.state.awaiting is Awaiting.ORDER_NUMBER
    assert any("order number" in chunk for chunk in reply.chunks[1:])
    assert isinstance(reply.writes[0], RecordingRefused)


def test_an_objection_mid_question_asks_the_question_again(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = _recorded(engine, repository)
    state = dialogue.greeting(dialogue.initial_state()).state
    asking = dialogue.respond("where is my order", None, state, ANCHOR).state
    reply = dialogue.respond("stop recording please", None, asking, ANCHOR)
    assert reply.chunks == ("All right, this call won't be recorded.", asking.last_reply[-1])
    assert reply.state.awaiting is Awaiting.ORDER_NUMBER


def test_with_recordings_off_an_objection_is_just_talk(engine: DialogueEngine) -> None:
    dialogue = CallDialogue(engine)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond("please don't record me", None, state, ANCHOR)
    assert "won't be recorded" not in reply.text
    assert not any(isinstance(write, RecordingRefused) for write in reply.writes)
