"""A caller asked for a person and hung up while being asked where to call back: the end of
the call still leaves their ticket (``CallDialogue.call_ended``), with what was known."""

from __future__ import annotations

from tests.dialogue.conftest import ANCHOR, Conversation, new_call
from voice_agent.dialogue import callback
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.state import Awaiting, Caller
from voice_agent.store.repository import Repository
from voice_agent.store.views import HandoffView
from voice_agent.store.writes import HandoffWrite, Write

WEB = Caller("webrtc", "web:198.51.100.7")
PHONE = Caller("sip", "sip:+447700900123@203.0.113.5", "+447700900123")


def _hang_up(engine: DialogueEngine, call: Conversation) -> tuple[Write, ...]:
    """End the call as the session does: the writes its end implies, applied to the store."""
    dialogue = CallDialogue(engine, call.state.conversation_id, call.caller)
    writes = dialogue.call_ended(call.state, call.now)
    call.repository.apply(writes)
    assert all(isinstance(write, HandoffWrite) for write in writes)
    return writes


def _only_handoff(repository: Repository) -> HandoffView:
    (handoff,) = repository.handoffs()
    return handoff


def test_a_web_caller_hanging_up_when_asked_for_a_contact_gets_the_ticket_without_one(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=WEB)
    call.say("Can I talk to a real person, please?")
    assert call.state.awaiting is Awaiting.CALLBACK_CONTACT
    _hang_up(engine, call)
    handoff = _only_handoff(repository)
    assert handoff.contact is None
    assert handoff.reason == f"asked for a person ({callback.HUNG_UP})"
    assert handoff.conversation_id == call.state.conversation_id
    assert "contact_confirmed" not in handoff.facts
    assert "real person" in handoff.transcript  # the team sees what was asked


def test_a_phone_caller_offered_their_number_keeps_it_unconfirmed(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    offer = call.say("I need to talk to someone")
    assert "the number you're calling from" in offer.text
    _hang_up(engine, call)
    handoff = _only_handoff(repository)
    assert handoff.contact == "+447700900123"
    assert handoff.facts["contact_confirmed"] == "no"
    assert callback.HUNG_UP in handoff.reason


def test_a_phone_caller_who_refused_their_number_leaves_none(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    call.say("Can I speak to a person?")
    call.say("no")
    _hang_up(engine, call)
    assert _only_handoff(repository).contact is None


def test_a_contact_being_read_back_is_kept_unconfirmed(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=WEB)
    call.say("Can I talk to a real person, please?")
    read = call.say("my email is anna dot schmidt at example dot com")
    assert read.text.endswith("Is that right?")
    _hang_up(engine, call)
    handoff = _only_handoff(repository)
    assert handoff.contact == "anna.schmidt@example.com"
    assert handoff.facts["contact_confirmed"] == "no"


def test_a_read_back_cut_short_by_the_hang_up_keeps_the_contact_unconfirmed(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = CallDialogue(engine, caller=WEB)
    state = dialogue.greeting(dialogue.initial_state()).state
    state = dialogue.respond("I want to talk to a person", None, state, ANCHOR).state
    number = "it's oh one seven six one two three four five six seven"
    state = dialogue.respond(number, None, state, ANCHOR).state
    cut = dialogue.heard(state, "Thanks.")  # the session ends speech cut off by the hang-up
    assert cut.awaiting is Awaiting.CALLBACK_CONTACT  # their yes would confirm nothing
    (write,) = dialogue.call_ended(cut, ANCHOR)
    assert isinstance(write, HandoffWrite)
    assert (write.contact, write.facts["contact_confirmed"]) == ("01761234567", "no")


def test_a_contact_said_to_be_wrong_is_not_kept(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=WEB)
    call.say("Can I talk to a real person, please?")
    call.say("it's oh one seven six one two three four five six seven")
    asked = call.say("no, that's wrong")
    assert call.state.awaiting is Awaiting.CALLBACK_CONTACT, asked.text
    _hang_up(engine, call)
    assert _only_handoff(repository).contact is None


def test_a_verified_caller_who_hangs_up_is_reached_through_the_order(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=WEB)
    call.say("Where is order 45069?")
    call.say("1234")
    call.say("Can I talk to someone?")  # offered the order's phone
    call.say("no")  # asked for another
    _hang_up(engine, call)
    handoff = _only_handoff(repository)
    assert (handoff.order_number, handoff.contact) == ("45069", None)
    assert handoff.facts["verified"] == "yes"


def test_nothing_is_written_without_a_pending_hand_off(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=WEB)
    assert _hang_up(engine, call) == ()
    call.say("Where is order 45069?")  # asked for its verification, not for a contact
    assert _hang_up(engine, call) == ()
    assert repository.handoffs() == []


def test_a_ticket_already_written_is_not_written_again(
    engine: DialogueEngine, repository: Repository
) -> None:
    call = new_call(engine, repository, caller=PHONE)
    call.say("I need to talk to someone")
    call.say("yes")  # the ticket, with their number
    assert _hang_up(engine, call) == ()
    handoff = _only_handoff(repository)
    assert handoff.contact == "+447700900123"
    assert callback.HUNG_UP not in handoff.reason


def test_the_session_ends_calls_with_the_same_state_it_answers_with(
    engine: DialogueEngine,
) -> None:
    dialogue = CallDialogue(engine, caller=WEB)
    state = dialogue.greeting(dialogue.initial_state()).state
    asking = dialogue.respond("I want to talk to a person", None, state, ANCHOR).state
    (write,) = dialogue.call_ended(asking, ANCHOR)
    assert isinstance(write, HandoffWrite)
    assert write.created_at == ANCHOR and write.contact is None
    assert dialogue.call_ended(state, ANCHOR) == ()
