"""Answers the engine must take as answers, whatever a classifier reads into them: a second
factor, a yes to a confirmation, a corrected postcode, the phone number or e-mail address an
order is looked up by (the scripted dialogues of benchmarks/dialogues found each)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from tests.dialogue.conftest import Conversation
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.nlu import Intent, Understand, Understanding, understand
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.state import Awaiting
from voice_agent.store.repository import Repository


def _misreading(readings: Mapping[str, Intent]) -> Understand:
    """The rules' understanding, except these texts read as these requests (a classifier's
    mistakes)."""

    def heard(text: str, language: str = "en") -> Understanding:
        base = understand(text)
        wrong = readings.get(text)
        if wrong is None:
            return base
        return dataclasses.replace(base, intent=wrong, intents=(wrong,))

    return heard


def _call(
    repository: Repository, policies: Policies, readings: Mapping[str, Intent]
) -> Conversation:
    engine = DialogueEngine(repository, policies, understand=_misreading(readings))
    return Conversation(engine, repository)


def test_a_factor_is_the_answer_whatever_request_it_is_read_as(
    repository: Repository, policies: Policies
) -> None:
    call = _call(repository, policies, {"S W one A one A A": Intent.MISSING_ITEM})
    call.say("where's my order")
    call.say("four seven seven zero zero")
    reply = call.say("S W one A one A A")
    assert call.state.verified_order == "47700", reply.text
    assert call.state.goals == ()  # no missing-item request waits


def test_a_factor_read_as_goodbye_does_not_end_the_call(
    repository: Repository, policies: Policies
) -> None:
    call = _call(repository, policies, {"sorry, phone ends zero one eight six": Intent.GOODBYE})
    call.say("there are two charges on my card")
    call.say("five eight eight one three")
    reply = call.say("sorry, phone ends zero one eight six")
    assert not reply.end_call
    assert call.state.verified_order == "58813", reply.text


def test_yes_to_a_confirmation_is_not_a_goodbye(repository: Repository, policies: Policies) -> None:
    call = _call(repository, policies, {"ok yes do it": Intent.GOODBYE})
    call.say("the box was crushed and the mug inside is cracked")
    call.say("5 8 8 1 3")
    call.say("33130")
    assert call.state.awaiting is Awaiting.CONFIRM_CLAIM
    reply = call.say("ok yes do it")
    assert not reply.end_call
    assert [action["type"] for action in reply.actions] == ["claim"]


def test_a_postcode_said_instead_of_yes_corrects_the_new_address(call: Conversation) -> None:
    call.say("can I change my shipping address")
    call.say("one zero two three one")
    call.say("phone one two three four")
    call.say("Kastanienallee 12, 10435 Berlin")
    reply = call.say("no wait the postcode is 10437")
    assert reply.actions == ()
    assert "Kastanienallee 12, 10437 Berlin, postcode one zero four three seven" in reply.text
    assert reply.text.endswith("Shall I change it?")
    (change,) = call.say("yes").actions
    assert (change["address"], change["postcode"]) == ("Kastanienallee 12, 10437 Berlin", "10437")


def test_an_order_is_found_by_the_phone_number_the_caller_says(call: Conversation) -> None:
    call.say("I don't know my order number")
    reply = call.say("it's plus four four one three one four nine six zero one eight eight")
    assert "That's four, four, one, three" in reply.text
    assert "last 4 digits of the phone number" not in reply.text  # it found the order
    call.say("the postcode is E H one one Y Z")
    assert call.state.verified_order == "47703"


def test_an_email_address_answers_the_lookup_however_it_is_read(
    repository: Repository, policies: Policies
) -> None:
    said = "my email is jack dot wilson at example dot com dot au"
    call = _call(repository, policies, {said: Intent.NO_ORDER_NUMBER})
    call.say("I don't have the order number")
    reply = call.say(said)
    assert "That's jack dot wilson at example dot com dot au." in reply.text
    assert call.state.awaiting is Awaiting.LOOKUP_FACTOR


def test_an_email_address_is_read_back_in_the_callers_language(
    repository: Repository, policies: Policies
) -> None:
    said = "my email is jack dot wilson at example dot com dot au"
    engine = DialogueEngine(
        repository, policies, language="de", understand=_misreading({said: Intent.NO_ORDER_NUMBER})
    )
    call = Conversation(engine, repository)
    call.say("I don't have the order number")
    reply = call.say(said)
    assert "Das ist jack Punkt wilson at example Punkt com Punkt au." in reply.text
    assert " dot " not in reply.text
