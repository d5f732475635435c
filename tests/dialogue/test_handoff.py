"""Hand-off to a person: a ticket with the transcript and facts, and a callback time."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.dialogue.conftest import ANCHOR, Conversation, new_call
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies
from voice_agent.store.repository import Repository


def test_a_person_on_request_with_transcript_and_facts(
    call: Conversation, repository: Repository, policies: Policies
) -> None:
    call.say("My parcel never arrived.")
    call.say("31146")
    call.say("33130")
    reply = call.say("This is taking too long, I want to speak to a real person.")
    handoffs = repository.handoffs()
    assert len(handoffs) == 1
    ticket = handoffs[0]
    assert ticket.reason == "asked for a person"
    assert ticket.order_number == "31146"
    assert ticket.callback_by == policies.handoff.callback_by(ANCHOR)
    assert ticket.conversation_id == call.state.conversation_id
    assert "caller: My parcel never arrived." in ticket.transcript
    assert "caller: This is taking too long, I want to speak to a real person." in ticket.transcript
    assert "agent: Hello, thanks for calling." in ticket.transcript
    assert ticket.facts["order_number"] == "31146"
    assert ticket.facts["verified"] == "yes"
    assert ticket.facts["intent"] == "lost_parcel"
    assert ticket.facts["stage"] == "international"
    assert ticket.facts["responsible_party"] == "international_carrier"
    # 16:00 UTC is noon in Miami, but the US has no single zone in the policy: London time
    assert "A colleague will call you back today, by 4 PM London time." in reply.text
    digits = ", ".join(
        "zero one two three four five six seven eight nine".split()[int(d)]
        for d in ticket.reference
    )
    assert f"Your reference is {digits}." in reply.text


def test_the_callback_time_in_the_callers_zone(call: Conversation) -> None:
    call.say("Where is order 45069?")
    call.say("1234")
    reply = call.say("Can I talk to someone?")
    assert "today, by 5 PM." in reply.text  # 16:00 UTC in Berlin


def test_after_hours_the_callback_is_the_next_business_day(
    engine: DialogueEngine, repository: Repository
) -> None:
    friday_evening = datetime(2024, 11, 15, 18, 30, tzinfo=UTC)
    call = new_call(engine, repository, friday_evening)
    reply = call.say("operator please")
    assert "by 1 PM London time on Monday, the 18th of November" in reply.text
    assert repository.handoffs()[0].order_number is None
    assert repository.handoffs()[0].facts["verified"] == "no"


def test_an_offered_person_declined(call: Conversation, repository: Repository) -> None:
    call.say("Can you tell me a joke?")
    reply = call.say("no thanks")
    assert "No problem." in reply.text
    assert repository.handoffs() == []


def test_a_date_the_caller_mentions_goes_with_the_ticket(
    call: Conversation, repository: Repository
) -> None:
    call.say("I ordered on the 3rd of November and I'd like to speak to someone from your team")
    assert repository.handoffs()[0].facts["date_mentioned"] == "2024-11-03"


def test_the_callback_time_and_city_in_the_callers_language(
    repository: Repository, policies: Policies
) -> None:
    friday_evening = datetime(2024, 11, 15, 18, 30, tzinfo=UTC)
    french = DialogueEngine(repository, policies, language="fr")
    reply = new_call(french, repository, friday_evening).say("operator please")
    assert "le lundi dix-huit novembre, avant treize heures, heure de Londres." in reply.text
