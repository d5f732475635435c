"""The engine as the call session uses it: interruptions and complete answers."""

from __future__ import annotations

from tests.dialogue.conftest import ANCHOR
from voice_agent.agent.ports import Dialogue
from voice_agent.dialogue.call import CallDialogue, caller_of
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.state import Awaiting, Caller, DialogueState
from voice_agent.stages.asr import Transcript
from voice_agent.store.repository import Repository


def _to_claim_question(dialogue: CallDialogue) -> DialogueState:
    state = dialogue.greeting(dialogue.initial_state()).state
    for said in ("my parcel is lost", "31146", "33130"):
        state = dialogue.respond(said, None, state, ANCHOR).state
    assert state.awaiting is Awaiting.CONFIRM_CLAIM
    return state


def test_it_is_the_sessions_dialogue(engine: DialogueEngine, repository: Repository) -> None:
    conversation = repository.start_conversation("test", None, ANCHOR)
    dialogue: Dialogue = CallDialogue(engine, conversation)
    state = dialogue.initial_state()
    assert state.conversation_id == conversation
    reply = dialogue.respond("", "45069#", dialogue.greeting(state).state, ANCHOR)
    assert reply.state.candidate_order == "45069"


def test_an_unheard_question_cannot_be_answered_yes(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = CallDialogue(engine)
    state = _to_claim_question(dialogue)
    cut = dialogue.heard(state, "Thank you, that matches. Thanks, I've checked.")
    assert cut.awaiting is Awaiting.NOTHING
    assert cut.pending is None
    assert cut.transcript[-1].text == "Thank you, that matches. Thanks, I've checked."
    reply = dialogue.respond("yes", None, cut, ANCHOR)
    assert reply.writes == ()
    assert repository.claims("31146") == []


def test_a_heard_question_still_counts(engine: DialogueEngine, repository: Repository) -> None:
    dialogue = CallDialogue(engine)
    state = _to_claim_question(dialogue)
    heard = dialogue.heard(state, " ".join(state.last_reply))
    assert heard.awaiting is Awaiting.CONFIRM_CLAIM
    reply = dialogue.respond("yes", None, heard, ANCHOR)
    assert [action["type"] for action in reply.actions] == ["claim"]


def test_complete_answers_for_endpointing(engine: DialogueEngine) -> None:
    dialogue = CallDialogue(engine)
    state = dialogue.greeting(dialogue.initial_state()).state
    assert dialogue.entity_complete("hello", state) is None
    asking = dialogue.respond("where is my order", None, state, ANCHOR).state
    assert dialogue.entity_complete("four five zero", asking) is False
    assert dialogue.entity_complete("four five zero six nine", asking) is True
    assert dialogue.entity_complete("It's i made it.", asking) is False  # digits misheard
    assert dialogue.entity_complete("No thanks, goodbye.", asking) is True  # answers otherwise
    assert dialogue.entity_complete("Can I talk to a person?", asking) is True
    # A yes that starts the number is not a yes: the caller is pausing inside the number.
    assert dialogue.entity_complete("Yes. the order number is 4 5", asking) is False
    assert dialogue.entity_complete("Yes, the order number is 4 5 0 6 9", asking) is True
    factor = dialogue.respond("45069", None, asking, ANCHOR).state
    assert dialogue.entity_complete("S W one", factor) is False
    assert dialogue.entity_complete("S W one A one A A", factor) is True
    assert dialogue.entity_complete("a n n", factor) is True
    assert dialogue.entity_complete("a n", factor) is False
    assert dialogue.entity_complete("the last four digits of my phone are 0-3 to 1", factor)
    assert dialogue.entity_complete("Hmm, let me see", factor) is False
    claim = _to_claim_question(dialogue)
    assert dialogue.entity_complete("yes", claim) is True
    assert dialogue.entity_complete("well", claim) is False


def _heard(text: str, confidence: float, rewritten: bool = False) -> Transcript:
    return Transcript(text, "en", confidence, digits_rewritten=rewritten)


def test_the_transcripts_confidence_decides_a_read_back(engine: DialogueEngine) -> None:
    dialogue = CallDialogue(engine)
    state = dialogue.greeting(dialogue.initial_state()).state
    state = dialogue.respond("where is my order", None, state, ANCHOR).state
    sure = dialogue.respond("4 5 0 6 9", None, state, ANCHOR, _heard("4 5 0 6 9", 0.9))
    assert sure.state.candidate_order == "45069"
    unsure = dialogue.respond("4 5 0 6 9", None, state, ANCHOR, _heard("4 5 0 6 9", 0.3))
    assert unsure.text == "I heard four, five, zero, six, nine. Is that right?"
    rewritten = dialogue.respond("4 5 0 6 9", None, state, ANCHOR, _heard("4 5 0 6 9", 0.9, True))
    assert rewritten.text == unsure.text
    too_low = dialogue.respond("4 5 0 6 9", None, state, ANCHOR, _heard("4 5 0 6 9", 0.1))
    assert too_low.text == "Sorry, I didn't catch that. Could you say that again?"


def test_a_read_back_cut_short_is_not_confirmed_by_a_yes(engine: DialogueEngine) -> None:
    dialogue = CallDialogue(engine, caller=caller_of("sip", "+447700900123@203.0.113.5"))
    state = dialogue.greeting(dialogue.initial_state()).state
    state = dialogue.respond("where is my order", None, state, ANCHOR).state
    state = dialogue.respond("4 5 0 6 9", None, state, ANCHOR, _heard("4 5 0 6 9", 0.3)).state
    cut = dialogue.heard(state, "I heard four, five,")
    assert cut.read_back is None
    reply = dialogue.respond("yes", None, cut, ANCHOR, _heard("yes", 0.9))
    assert reply.state.candidate_order is None
    assert "press hash" in reply.text  # asked for the number again, with the keypad offered


def test_callers_as_the_limits_count_them() -> None:
    phone = caller_of("sip", "+447700900123@203.0.113.5")
    assert phone == Caller("sip", "sip:+447700900123@203.0.113.5", "+447700900123")
    assert caller_of("sip", "anonymous@203.0.113.5").number is None
    assert caller_of("webrtc", "web:198.51.100.7") == Caller("webrtc", "web:198.51.100.7")
    assert caller_of("chat", None) == Caller("chat", "chat:unknown")
