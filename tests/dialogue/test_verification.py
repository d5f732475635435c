"""Identity verification: before any order detail, limited, logged, and locked across calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dialogue.conftest import ANCHOR, Conversation, new_call
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.state import Caller
from voice_agent.dialogue.verification import check_factor
from voice_agent.stages.asr import Expect
from voice_agent.store.repository import Repository
from voice_agent.store.writes import OrderLock, VerificationAttempt

# Order 45069: Anna Schmidt, postcode 10119, phone ending 1234, anna.schmidt@example.com;
# a DDP parcel at import customs in Leipzig, with YunExpress and DHL.
NUMBER = "45069"
RIGHT_POSTCODE = "my postcode is one oh one one nine"
OWN_PHONE = "+49 30 5550 1234"  # the phone on order 45069 (the demo shop's)
STRANGER = Caller("sip", "sip:+447700900123@203.0.113.5", "+447700900123")
OWNER = Caller("sip", f"sip:{OWN_PHONE}@203.0.113.5", OWN_PHONE)


def _order_details(repository: Repository, number: str) -> list[str]:
    """Words that would give the order away: tracking texts and places, carrier, items, name."""
    order = repository.find_order(number)
    assert order is not None and order.shipment is not None
    details = [order.shipment.carrier, order.customer.name, *(i.name for i in order.items)]
    for event in order.shipment.events:
        details.extend([event.text, event.place.split(",")[0]])
    return [detail.lower() for detail in details]


def test_no_order_detail_before_verification(call: Conversation, repository: Repository) -> None:
    details = _order_details(repository, NUMBER)
    asked = call.say("Where is my order?")
    assert asked.expect is Expect.DIGITS
    factor = call.say("four five zero six nine")
    assert factor.expect is Expect.EMAIL
    assert "four, five, zero, six, nine" in factor.text
    wrong = call.say("my postcode is one oh one one eight")
    for reply in (asked, factor, wrong):
        assert not [detail for detail in details if detail in reply.text.lower()], reply.text
    status = call.say(RIGHT_POSTCODE)
    assert "import customs" in status.text.lower()
    assert "Leipzig" in status.text


def test_each_attempt_is_stored_with_its_factor(call: Conversation, repository: Repository) -> None:
    call.say(f"I'd like to check order {NUMBER}")
    failed = call.say("the first three letters are x y z")
    assert failed.actions == (
        {"type": "verification", "order": NUMBER, "factor": "email_prefix", "success": False},
    )
    call.say("a n n")
    attempts = repository.verification_attempts(NUMBER)
    assert [(a.factor, a.success) for a in attempts] == [
        ("email_prefix", False),
        ("email_prefix", True),
    ]
    assert all(a.conversation_id == call.state.conversation_id for a in attempts)
    assert call.state.verified_order == NUMBER


@pytest.mark.parametrize(
    "factor",
    [
        "one oh one one nine",
        "my postcode is 10119",
        "A N N",
        "anna dot schmidt at example dot com",
        "the last four digits are one two three four",
        "1234",
    ],
)
def test_any_one_factor_from_the_order_verifies(call: Conversation, factor: str) -> None:
    call.say(f"order number {NUMBER}")
    reply = call.say(factor)
    assert call.state.verified_order == NUMBER, reply.text
    assert reply.writes[0] == VerificationAttempt(
        order_number=NUMBER,
        factor=reply.writes[0].factor,  # type: ignore[union-attr]
        success=True,
        at=ANCHOR,
        conversation_id=call.state.conversation_id,
        caller=f"conversation:{call.state.conversation_id}",
    )


def test_keypad_digits_for_the_number_and_the_phone(call: Conversation) -> None:
    call.say("What's the status of my parcel?")
    call.say(dtmf="45069#")
    reply = call.say(dtmf="1234#")
    assert call.state.verified_order == NUMBER
    assert "Leipzig" in reply.text


def test_an_unusable_answer_is_asked_again_without_an_attempt(call: Conversation) -> None:
    call.say(f"order {NUMBER}")
    reply = call.say("hmm I don't know")
    assert reply.writes == ()
    assert reply.expect is Expect.EMAIL
    assert "postcode" in reply.text


def test_three_failures_lock_the_order_and_offer_a_person(
    call: Conversation, repository: Repository, policies: Policies
) -> None:
    call.say(f"Where is order {NUMBER}?")
    first = call.say("S W one A one A A")
    assert "2 more times" in first.text
    second = call.say("x y z")
    assert "1 more time" in second.text
    third = call.say("nine nine nine nine")
    lock = [write for write in third.writes if isinstance(write, OrderLock)]
    assert lock == [
        OrderLock(
            order_number=NUMBER,
            until=ANCHOR + policies.verification.lock,
            conversation_id=call.state.conversation_id,
            caller=f"conversation:{call.state.conversation_id}",
        )
    ]
    assert [action["type"] for action in third.actions] == ["verification", "lock"]
    assert "locked for 30 minutes" in third.text
    assert third.expect is Expect.YES_NO
    caller = f"conversation:{call.state.conversation_id}"
    assert repository.locked_until(NUMBER, ANCHOR, caller) == ANCHOR + timedelta(minutes=30)
    # the right factor now does not help: the order is locked
    after = call.say(f"the order is {NUMBER}")
    assert "locked until" in after.text
    call.say(RIGHT_POSTCODE)
    assert call.state.verified_order is None
    assert len(repository.verification_attempts(NUMBER)) == 3


def test_a_locked_order_stays_locked_in_a_new_conversation(
    engine: DialogueEngine, repository: Repository
) -> None:
    # The lock is the caller's: the same caller calling again (tests below: other callers).
    first = new_call(engine, repository, caller=STRANGER)
    first.say(f"order {NUMBER}")
    for wrong in ("x y z", "q q q", "z z z"):
        first.say(wrong)
    second = new_call(engine, repository, ANCHOR + timedelta(minutes=5), STRANGER)
    reply = second.say(f"Hi, where's my order {NUMBER}?")
    assert "locked until 12:30 PM" in reply.text
    assert reply.expect is Expect.YES_NO
    second.say(RIGHT_POSTCODE)
    assert second.state.verified_order is None
    # once the lock has run out, the owner gets in
    third = new_call(engine, repository, ANCHOR + timedelta(minutes=31), STRANGER)
    third.say(f"Hi, where's my order {NUMBER}?")
    third.say(RIGHT_POSTCODE)
    assert third.state.verified_order == NUMBER


def test_failures_count_across_calls(engine: DialogueEngine, repository: Repository) -> None:
    first = new_call(engine, repository, caller=STRANGER)
    first.say(f"order {NUMBER}")
    first.say("x y z")
    first.say("q q q")
    first.say("goodbye")
    second = new_call(engine, repository, ANCHOR + timedelta(minutes=2), STRANGER)
    second.say(f"order {NUMBER}")
    reply = second.say("z z z")
    assert any(isinstance(write, OrderLock) for write in reply.writes), reply.text


def test_an_unknown_number_fails_like_a_wrong_factor(
    engine: DialogueEngine, repository: Repository
) -> None:
    """The line must not tell which order numbers exist."""
    known = new_call(engine, repository)
    known.say("order 45069")
    known_reply = known.say("x y z")
    unknown = new_call(engine, repository)
    unknown.say("order 99999")
    unknown_reply = unknown.say("x y z")
    assert known_reply.text.replace("four, five, zero, six, nine", "N") == (
        unknown_reply.text.replace("nine, nine, nine, nine, nine", "N")
    )
    assert repository.verification_attempts("99999")[0].success is False


def test_a_factor_of_another_order_does_not_verify(
    repository: Repository, policies: Policies
) -> None:
    order = repository.find_order(NUMBER)
    other = repository.find_order("47700")  # Oliver Bennett, SW1A 1AA, ...0321
    check = check_factor("S W one A one A A", None, order, policies.verification)
    assert check is not None and check.factor == "postcode" and not check.success
    check = check_factor("S W one A one A A", None, other, policies.verification)
    assert check is not None and check.success
    check = check_factor("o l i", None, other, policies.verification)
    assert check is not None and check.factor == "email_prefix" and check.success
    check = check_factor("", "0321#", other, policies.verification)
    assert check is not None and check.factor == "phone_last4" and check.success
    assert check_factor("I want a refund", None, other, policies.verification) is None
