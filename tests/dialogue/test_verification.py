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


# --- what the caller confirmed counts; limits per caller and per order ----------------------

WEB_CUSTOMER = Caller("webrtc", "web:198.51.100.7")


def _stranger(index: int) -> Caller:
    number = f"+4477009001{index:02d}"
    return Caller("sip", f"sip:{number}@203.0.113.5", number)


def _failures(repository: Repository, number: str = NUMBER) -> list[VerificationAttempt]:
    return [a for a in repository.verification_attempts(number) if not a.success]


def test_three_rewritten_answers_turned_down_count_nothing_and_lock_nothing(
    engine: DialogueEngine, repository: Repository
) -> None:
    """The caller said the right digits three times; the ASR rewrote them wrong each time."""
    call = new_call(engine, repository, caller=OWNER)
    call.say(f"where is order {NUMBER}")
    for misheard in ("1 2 3 5", "1 2 2 4", "7 2 3 4"):
        heard = call.say(f"the last four digits are {misheard}", rewritten=True)
        assert heard.text.startswith("I heard ") and heard.text.endswith("Is that right?")
        assert heard.writes == ()
        turned_down = call.say("no")
        assert turned_down.writes == ()
        assert "type it on your keypad" in turned_down.text
    assert repository.verification_attempts(NUMBER) == []
    assert repository.locks(NUMBER, ANCHOR) == []
    right = call.say("the last four digits are 1 2 3 4", rewritten=True)
    assert right.text == "I heard one, two, three, four. Is that right?"
    verified = call.say("yes, that's right")
    assert call.state.verified_order == NUMBER
    assert "Leipzig" in verified.text
    assert [a.success for a in repository.verification_attempts(NUMBER)] == [True]


def test_three_confirmed_wrong_answers_lock_that_caller_out_of_that_order(
    engine: DialogueEngine, repository: Repository, policies: Policies
) -> None:
    stranger = new_call(engine, repository, caller=STRANGER)
    stranger.say(f"order {NUMBER}")
    stranger.say("x y z")
    stranger.say("the postcode is nine nine nine nine nine", confidence=0.3)  # read back
    stranger.say("yes")
    third = stranger.say("q q q")
    locks = [write for write in third.writes if isinstance(write, OrderLock)]
    assert locks == [
        OrderLock(
            order_number=NUMBER,
            until=ANCHOR + policies.verification.lock,
            conversation_id=stranger.state.conversation_id,
            caller=STRANGER.key,
        )
    ]
    assert [a.caller for a in _failures(repository)] == [STRANGER.key] * 3
    # that caller, calling again, is refused before giving any factor
    again = new_call(engine, repository, ANCHOR + timedelta(minutes=5), STRANGER)
    refused = again.say(f"where is order {NUMBER}")
    assert "locked until 12:30 PM" in refused.text
    again.say(RIGHT_POSTCODE)
    assert again.state.verified_order is None
    # ... but not out of another order, and nobody else is locked out of this one
    other = new_call(engine, repository, ANCHOR + timedelta(minutes=5), STRANGER)
    other.say("order 47700")
    assert "To confirm it's you" in other.replies[-1].text
    customer = new_call(engine, repository, ANCHOR + timedelta(minutes=5), WEB_CUSTOMER)
    customer.say(f"where is order {NUMBER}")
    customer.say(RIGHT_POSTCODE)
    assert customer.state.verified_order == NUMBER


def test_a_caller_rotating_caller_ids_stays_under_the_per_order_limit(
    engine: DialogueEngine, repository: Repository, policies: Policies
) -> None:
    limit = policies.verification.order_max_failed_attempts
    for index in range(8):
        call = new_call(engine, repository, ANCHOR + timedelta(minutes=index), _stranger(index))
        if "locked" in call.say(f"order {NUMBER}").text:
            continue
        for wrong in ("x y z", "q q q", "z z z"):
            if "locked" in call.say(wrong).text:
                break
    assert len(_failures(repository)) == limit
    (order_lock,) = [lock for lock in repository.locks(NUMBER, ANCHOR) if lock.caller is None]
    assert order_lock.until == ANCHOR + timedelta(minutes=3) + policies.verification.order_lock
    # a fresh caller ID gets no attempt at all while the order is locked
    fresh = new_call(engine, repository, ANCHOR + timedelta(hours=1), _stranger(99))
    assert "is locked until" in fresh.say(f"order {NUMBER}").text
    fresh.say(RIGHT_POSTCODE)
    assert fresh.state.verified_order is None
    assert len(_failures(repository)) == limit


def test_the_real_customer_from_their_own_number_verifies_after_others_failures(
    engine: DialogueEngine, repository: Repository
) -> None:
    # Under the order's limit: three strangers fail three times each (nine failures).
    for index in range(3):
        call = new_call(engine, repository, ANCHOR + timedelta(minutes=index), _stranger(index))
        call.say(f"order {NUMBER}")
        for wrong in ("x y z", "q q q", "z z z"):
            call.say(wrong)
    assert len(_failures(repository)) == 9
    owner = new_call(engine, repository, ANCHOR + timedelta(minutes=10), OWNER)
    owner.say(f"where is order {NUMBER}")
    owner.say("the last four digits are 1 2 3 5")  # a slip of their own, counted as theirs
    owner.say("the last four digits are 1 2 3 4")
    assert owner.state.verified_order == NUMBER
    # Past it: the order is locked for everyone but a call from the order's own phone.
    stranger = new_call(engine, repository, ANCHOR + timedelta(minutes=11), _stranger(3))
    stranger.say(f"order {NUMBER}")
    stranger.say("x y z")
    assert any(lock.caller is None for lock in repository.locks(NUMBER, ANCHOR))
    web = new_call(engine, repository, ANCHOR + timedelta(minutes=20), WEB_CUSTOMER)
    assert "is locked until" in web.say(f"where is order {NUMBER}").text
    owner = new_call(engine, repository, ANCHOR + timedelta(minutes=20), OWNER)
    owner.say(f"where is order {NUMBER}")
    owner.say(RIGHT_POSTCODE)
    assert owner.state.verified_order == NUMBER


def test_an_operator_unlock_lets_the_customer_in_at_once(
    engine: DialogueEngine, repository: Repository
) -> None:
    stranger = new_call(engine, repository, caller=STRANGER)
    stranger.say(f"order {NUMBER}")
    for wrong in ("x y z", "q q q", "z z z"):
        stranger.say(wrong)
    lifted = repository.lift_locks(NUMBER, ANCHOR + timedelta(minutes=1))
    assert [lock.caller for lock in lifted] == [STRANGER.key]
    again = new_call(engine, repository, ANCHOR + timedelta(minutes=2), STRANGER)
    again.say(f"order {NUMBER}")
    first = again.say("x y z")
    assert "2 more times" in first.text  # the failures before the unlock count no more


# --- near misses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "near"),
    [
        ("1235", True),  # one digit off
        ("1243", True),  # two neighbours swapped
        ("2134", True),
        ("1324", True),
        ("1256", False),  # two digits off
        ("4321", False),
        ("9999", False),
    ],
)
def test_a_near_miss_is_one_digit_off_or_one_swap(
    repository: Repository, policies: Policies, answer: str, near: bool
) -> None:
    order = repository.find_order(NUMBER)
    check = check_factor("", f"{answer}#", order, policies.verification)
    assert check is not None and not check.success
    assert check.near_miss is near


def test_a_near_miss_of_the_postcode_or_letters(repository: Repository, policies: Policies) -> None:
    order = repository.find_order(NUMBER)
    for text in ("my postcode is one oh one one eight", "a n m"):
        check = check_factor(text, None, order, policies.verification)
        assert check is not None and check.near_miss, text
    unknown = check_factor("", "1235#", None, policies.verification)
    assert unknown is not None and not unknown.near_miss


def test_a_near_miss_sounds_exactly_like_any_miss(
    engine: DialogueEngine, repository: Repository
) -> None:
    near = new_call(engine, repository, caller=_stranger(1))
    near.say(f"order {NUMBER}")
    near_replies = [near.say(dtmf=keys).text for keys in ("1235#", "1243#")]
    far = new_call(engine, repository, caller=_stranger(2))
    far.say(f"order {NUMBER}")
    far_replies = [far.say(dtmf=keys).text for keys in ("9999#", "5555#")]
    assert near_replies == far_replies
    assert [a.near_miss for a in _failures(repository)] == [True, True, False, False]


def test_near_misses_count_for_the_caller_but_only_past_a_few_for_the_order(
    engine: DialogueEngine, repository: Repository, policies: Policies
) -> None:
    forgiven = policies.verification.near_misses_forgiven
    assert forgiven == 2
    near = new_call(engine, repository, caller=_stranger(0))
    near.say(f"order {NUMBER}")
    near.say(dtmf="1235#")
    near.say(dtmf="1243#")
    locked = near.say(dtmf="2134#")  # three near misses: that caller is out, like any three
    assert [lock.caller for lock in locked.writes if isinstance(lock, OrderLock)] == [
        _stranger(0).key
    ]
    # 3 near misses (2 forgiven) + 2 x 3 misses = 7 toward the order's 10; then 3 more lock it
    for index in (1, 2, 3):
        call = new_call(engine, repository, caller=_stranger(index))
        call.say(f"order {NUMBER}")
        for wrong in ("x y z", "q q q", "z z z"):
            call.say(wrong)
    assert len(_failures(repository)) == 12
    order_locks = [lock for lock in repository.locks(NUMBER, ANCHOR) if lock.caller is None]
    assert len(order_locks) == 1
    last = repository.verification_attempts(NUMBER)[-1]
    assert order_locks[0].conversation_id == last.conversation_id


# --- reading back what was heard uncertainly --------------------------------------------


def test_an_order_number_heard_uncertainly_is_read_back_before_it_counts(
    call: Conversation,
) -> None:
    call.say("where is my order")
    heard = call.say("4 7 7 0 0", confidence=0.3)
    assert heard.text == "I heard four, seven, seven, zero, zero. Is that right?"
    assert heard.expect is Expect.DIGITS
    assert call.state.candidate_order is None
    again = call.say("no")
    assert again.text == "Sorry, my mistake. What's your order number?"
    assert again.writes == ()
    corrected = call.say("no it's 4 5 0 6 9", rewritten=True)
    assert corrected.text == "I heard four, five, zero, six, nine. Is that right?"
    asked = call.say("yes")
    assert call.state.candidate_order == NUMBER
    assert "To confirm it's you" in asked.text


def test_a_factor_turned_down_can_be_corrected_in_the_same_breath(call: Conversation) -> None:
    call.say(f"order {NUMBER}")
    call.say("one oh one one eight", confidence=0.4)
    corrected = call.say("no, one oh one one nine")  # heard surely this time: it counts
    assert call.state.verified_order == NUMBER, corrected.text


def test_keypad_digits_are_never_read_back(call: Conversation) -> None:
    call.say("where is my order")
    asked = call.say(dtmf="45069#")
    assert "To confirm it's you" in asked.text
    reply = call.say(dtmf="1234#")
    assert call.state.verified_order == NUMBER, reply.text


def test_a_read_back_answered_with_neither_asks_for_yes_or_no(call: Conversation) -> None:
    call.say(f"order {NUMBER}")
    call.say("a n n", confidence=0.3)
    reply = call.say("hmm I don't know")
    assert reply.text.endswith("Please say yes or no.")
    call.say("yes")
    assert call.state.verified_order == NUMBER


def test_turning_down_read_backs_again_and_again_offers_a_person(call: Conversation) -> None:
    call.say(f"order {NUMBER}")
    for _ in range(4):
        call.say("1 2 3 5", rewritten=True)
        reply = call.say("no")
    assert reply.expect is Expect.YES_NO
    assert "person" in reply.text
    assert call.state.verified_order is None


def test_the_keypad_is_offered_on_the_phone_only(
    engine: DialogueEngine, repository: Repository
) -> None:
    phone = new_call(engine, repository, caller=OWNER)
    phone.say("where is my order")
    assert "type it on your keypad, then press hash" in phone.say("hmm").text
    web = new_call(engine, repository, caller=WEB_CUSTOMER)
    web.say("where is my order")
    assert "press hash" not in web.say("hmm").text


def test_a_corrected_factor_is_a_new_attempt_not_a_new_order_number(
    call: Conversation, repository: Repository
) -> None:
    # Order 58813: a US zip code, 33130, as long as an order number.
    call.say("I want to return something")
    call.say("five eight eight one three")
    wrong = call.say("postcode one zero one one nine")
    assert wrong.actions[0]["success"] is False
    corrected = call.say("sorry I meant three three one three zero")
    assert call.state.verified_order == "58813"
    assert corrected.actions[0] == {
        "type": "verification",
        "order": "58813",
        "factor": "postcode",
        "success": True,
    }
    assert [a.success for a in repository.verification_attempts("58813")] == [False, True]


def test_a_corrected_order_number_after_a_failed_factor_is_still_the_order_number(
    call: Conversation,
) -> None:
    call.say("where is my order")
    call.say("4 5 0 6 8")
    call.say("my postcode is one oh one one nine")
    call.say("no, I said 4 5 0 6 9")  # one digit off the number heard: the number misheard
    assert call.state.candidate_order == NUMBER
    assert call.state.failed_attempts == 0
