"""Identity verification: the order number, then one second factor from the order.

Nothing about an order is spoken before it succeeds. Whether an order number exists is not
revealed either: an unknown number gets the same "that doesn't match" as a wrong factor, so the
line cannot be used to probe order numbers. Every attempt is a write.

Only what the caller confirmed counts: digits or letters heard with low ASR confidence, or
whose digits the ASR inferred, are read back first, and a "no" asks again without an attempt.
Failures are limited per caller and order, and per order across all callers; a near miss
sounds like any miss. The policy and its odds: docs/verification.md.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from voice_agent.dialogue import entities
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.policies import Factor, VerificationPolicy
from voice_agent.dialogue.state import Awaiting, DialogueState, PendingHandoff, ReadBack
from voice_agent.store.views import OrderView
from voice_agent.store.writes import OrderLock, VerificationAttempt

logger = logging.getLogger(__name__)

_SAID_POSTCODE = re.compile(r"\b(?:post ?code|postal code|zip(?: code)?)\b")
_SAID_EMAIL = re.compile(r"\b(?:email|mail|letters)\b")
_SAID_PHONE = re.compile(r"\b(?:phone|mobile|cell|telephone)\b")
MAX_UNCLEAR = 2
"""Unusable answers to one question before the agent offers a person instead."""
MAX_MISHEARD = 3
"""Read-backs the caller may turn down (asked again each time) before a person is offered."""
_OWN_PHONE_DIGITS = 9
"""Trailing digits compared to tell a call from the order's own phone (country prefixes vary);
numbers with fewer than 7 digits never match."""


@dataclass(frozen=True, slots=True)
class FactorCheck:
    factor: Factor
    success: bool
    near_miss: bool = False
    """Failed, but one character off (or two neighbours swapped) from the order's value."""
    heard: str = ""
    """The value heard for ``factor`` (what a read-back says)."""


def check_factor(
    text: str, dtmf: str | None, order: OrderView | None, policy: VerificationPolicy
) -> FactorCheck | None:
    """Which factor the caller gave and whether it matches ``order`` (None: no usable factor
    in what they said). A bare four-digit answer may be a phone ending or a postcode: both are
    compared, as one attempt."""
    guesses = _guesses(text, dtmf, policy)
    if not guesses:
        return None
    for factor, value in guesses:
        if order is not None and _matches(factor, value, order, policy):
            return FactorCheck(factor, True, heard=value)
    near = order is not None and any(
        _one_off(_compared(factor, value, policy), _expected(factor, order, policy))
        for factor, value in guesses
    )
    return FactorCheck(guesses[0][0], False, near_miss=near, heard=guesses[0][1])


def _guesses(text: str, dtmf: str | None, policy: VerificationPolicy) -> list[tuple[Factor, str]]:
    said = " ".join(entities.tokens(text))
    enabled = policy.factors
    guesses: list[tuple[Factor, str]] = []

    def add(factor: Factor, value: str | None) -> None:
        if value and factor in enabled:
            guesses.append((factor, value))

    if dtmf:
        digits = entities.dtmf_digits(dtmf)
        if len(digits) == policy.phone_digits:
            add("phone_last4", digits)
        add("postcode", digits)
        return guesses
    if _SAID_PHONE.search(said):
        add("phone_last4", entities.phone_tail(text, None, policy.phone_digits))
    elif _SAID_POSTCODE.search(said):
        add("postcode", entities.postcode(text))
    elif _SAID_EMAIL.search(said) or entities.email_address(text):
        add("email_prefix", _email_guess(text, policy))
    else:
        code = entities.postcode(text) or entities.spelled_code(text)
        if code is not None and entities.compact_code(code).isdigit():
            digits = entities.compact_code(code)
            if len(digits) == policy.phone_digits:
                add("phone_last4", digits)
            add("postcode", code)
        elif code is not None:
            add("postcode", code)
        else:
            add("email_prefix", _email_guess(text, policy))
    return guesses


def gives_factor(text: str, policy: VerificationPolicy) -> bool:
    """Whether ``text`` holds a whole second factor (for endpointing: stop waiting)."""
    return any(
        factor != "postcode" or entities.is_postcode(value)
        for factor, value in _guesses(text, None, policy)
    )


def names_factor(text: str) -> bool:
    """Whether the caller named a factor ("my postcode is ...", "the e-mail starts ...")."""
    said = " ".join(entities.tokens(text))
    return any(pattern.search(said) for pattern in (_SAID_POSTCODE, _SAID_EMAIL, _SAID_PHONE))


def _email_guess(text: str, policy: VerificationPolicy) -> str | None:
    letters = entities.spelled_letters(text)
    if letters is None or len(letters) < policy.email_prefix_letters:
        return None
    return letters[: policy.email_prefix_letters]


def _matches(factor: Factor, value: str, order: OrderView, policy: VerificationPolicy) -> bool:
    customer = order.customer
    if factor == "postcode":
        return customer.postcode is not None and entities.compact_code(
            value
        ) == entities.compact_code(customer.postcode)
    if factor == "email_prefix":
        local = re.sub(r"[^a-z0-9]", "", customer.email.lower().split("@")[0])
        return len(local) >= len(value) and local[: len(value)] == value
    phone = re.sub(r"\D", "", customer.phone)
    return len(phone) >= policy.phone_digits and phone[-policy.phone_digits :] == value


def _compared(factor: Factor, value: str, policy: VerificationPolicy) -> str:
    if factor == "postcode":
        return entities.compact_code(value)
    return value[: policy.email_prefix_letters] if factor == "email_prefix" else value


def _expected(factor: Factor, order: OrderView, policy: VerificationPolicy) -> str | None:
    """The order's value of ``factor``, in the form a caller's answer is compared in."""
    customer = order.customer
    if factor == "postcode":
        return None if customer.postcode is None else entities.compact_code(customer.postcode)
    if factor == "email_prefix":
        local = re.sub(r"[^a-z0-9]", "", customer.email.lower().split("@")[0])
        return local[: policy.email_prefix_letters] or None
    phone = re.sub(r"\D", "", customer.phone)
    return phone[-policy.phone_digits :] if len(phone) >= policy.phone_digits else None


def _one_off(heard: str, expected: str | None) -> bool:
    """One character different, or two neighbours swapped (not equal, same length)."""
    if expected is None or len(heard) != len(expected) or heard == expected:
        return False
    diffs = [i for i, (a, b) in enumerate(zip(heard, expected, strict=True)) if a != b]
    if len(diffs) == 1:
        return True
    first, second = diffs[0], diffs[-1]
    return (
        len(diffs) == 2
        and second == first + 1
        and heard[first] == expected[second]
        and heard[second] == expected[first]
    )


def caller_key(state: DialogueState) -> str:
    """The caller as the limits count them: the call's caller, else the conversation alone."""
    if state.caller is not None:
        return state.caller.key
    return f"conversation:{state.conversation_id}" if state.conversation_id else "unknown"


def _own_phone(state: DialogueState, order: OrderView | None) -> bool:
    """Whether the call comes from the order's own phone number (a SIP caller ID)."""
    number = None if state.caller is None else state.caller.number
    if number is None or order is None:
        return False
    calling = re.sub(r"\D", "", number)[-_OWN_PHONE_DIGITS:]
    phone = re.sub(r"\D", "", order.customer.phone)[-_OWN_PHONE_DIGITS:]
    return len(calling) >= 7 and calling == phone


# --- the flow ------------------------------------------------------------------------------


def ask_order_number(draft: Draft, opener: str = "ack.sure") -> None:
    draft.say(opener)
    draft.say("verify.ask_number")
    draft.say("verify.how_number")
    draft.ask(Awaiting.ORDER_NUMBER)


def order_number_unclear(draft: Draft) -> None:
    if draft.retry() > MAX_UNCLEAR:
        _too_unclear(draft)
        return
    low, high = draft.policies.verification.order_number_digits
    draft.say("ack.sorry_unclear")
    draft.say("verify.number_unclear")
    if low == high:
        draft.say("verify.number_length", digits=draft.speech.number(low))
    draft.say("verify.ask_number")
    _offer_keypad(draft)


def start(draft: Draft, number: str) -> bool:
    """The caller gave ``number``: read it back if it was heard uncertainly, else ask for a
    second factor (or say it is locked). True when the caller is already verified for this
    order and the flow may go on."""
    if draft.state.verified_order == number:
        return True
    if _uncertain(draft):
        value = draft.speech.digits(number)
        _read_back(draft, Awaiting.ORDER_NUMBER, ReadBack(text=number, value=value))
        return False
    _start_confirmed(draft, number)
    return False


def _start_confirmed(draft: Draft, number: str) -> None:
    if number != draft.state.candidate_order:
        draft.update(misheard=0)
    draft.update(candidate_order=number, failed_attempts=0)
    draft.fact("order_number", number)
    locked = _locked_until(draft, number)
    if locked is not None:
        _say_locked(draft, number, locked.astimezone(draft.policies.handoff.timezone))
        return
    draft.say("ack.thanks")
    draft.say("verify.read_back", number=draft.speech.digits(number))
    ask_factor(draft)
    draft.ask(Awaiting.FACTOR)


def _uncertain(draft: Draft) -> bool:
    """Whether this turn's answer must be read back before it counts: speech heard with low
    confidence, or whose digits the ASR inferred. Keypad digits are exact."""
    turn = draft.turn
    if turn.dtmf:
        return False
    threshold = draft.policies.verification.read_back_below_confidence
    return turn.rewritten or turn.confidence < threshold


def _read_back(draft: Draft, question: Awaiting, read_back: ReadBack) -> None:
    draft.say("verify.heard", value=read_back.value)
    draft.say("verify.is_that_right")
    draft.ask(question)
    draft.update(read_back=read_back)


def answer_read_back(draft: Draft) -> bool | None:
    """The caller's answer to a read-back. True: verified now; False: handled, not verified;
    None: the turn gives a new answer instead (handle it as one; the read-back is dropped)."""
    read_back = draft.state.read_back
    assert read_back is not None
    question = draft.state.awaiting
    yes = draft.heard.yes_no
    if yes is None:
        yes = entities.yes_or_no(draft.text)
    if yes is True:
        draft.update(read_back=None)
        if question is Awaiting.ORDER_NUMBER:
            _start_confirmed(draft, read_back.text)
            return False
        return _answer(draft, read_back.text, None, confirmed=True)
    if _gives_answer(draft, question):
        draft.update(read_back=None)
        if yes is False:
            draft.update(misheard=draft.state.misheard + 1)
        return None  # "no, it's 4 7 7 0 1", or the keypad: a new answer
    if yes is None:
        draft.say("ack.sorry_unclear")
        draft.say("general.yes_or_no")
        return False
    draft.update(read_back=None, misheard=draft.state.misheard + 1)
    if draft.state.misheard > MAX_MISHEARD:
        _too_unclear(draft)
        return False
    draft.say("verify.heard_wrong")
    if question is Awaiting.ORDER_NUMBER:
        draft.say("verify.ask_number")
    else:
        ask_factor(draft)
    _offer_keypad(draft)
    draft.ask(question)
    return False


def _gives_answer(draft: Draft, question: Awaiting) -> bool:
    policy = draft.policies.verification
    if question is Awaiting.ORDER_NUMBER:
        number = entities.order_number(draft.text, draft.turn.dtmf, policy.order_number_digits)
        return number is not None
    return bool(_guesses(_without_yes_no(draft.text), draft.turn.dtmf, policy))


def _without_yes_no(text: str) -> str:
    """ "no, it's one oh one one nine" -> "it's one oh one one nine" (a "no" is no letters)."""
    return re.sub(r"^\W*(?:no|nope|yes|yeah)\b\W*", "", text.strip(), flags=re.IGNORECASE)


def _offer_keypad(draft: Draft) -> None:
    caller = draft.state.caller
    if caller is not None and caller.channel == "sip":
        draft.say("verify.keypad")


def ask_factor(draft: Draft) -> None:
    policy = draft.policies.verification
    options = [
        draft.speech.say(
            f"verify.factor.{factor}",
            letters=draft.speech.number(policy.email_prefix_letters),
            digits=draft.speech.number(policy.phone_digits),
        )
        for factor in policy.factors
    ]
    draft.say("verify.ask_factor", factors=draft.speech.join_or(options))


def factor_unclear(draft: Draft) -> None:
    if draft.retry() > MAX_UNCLEAR:
        _too_unclear(draft)
        return
    draft.say("ack.sorry_unclear")
    ask_factor(draft)
    _offer_keypad(draft)


def answer_factor(draft: Draft) -> bool | None:
    """Check the second factor in this turn. True: verified now; False: not (the reply says
    why, or reads the answer back to be confirmed); None: the turn held no usable factor."""
    text = _without_yes_no(draft.text) if draft.heard.yes_no is False else draft.text
    return _answer(draft, text, draft.turn.dtmf, confirmed=not _uncertain(draft))


def _answer(draft: Draft, text: str, dtmf: str | None, confirmed: bool) -> bool | None:
    number = draft.state.candidate_order
    assert number is not None, "a factor is only asked for after an order number"
    locked = _locked_until(draft, number)
    if locked is not None:
        _say_locked(draft, number, locked.astimezone(draft.policies.handoff.timezone))
        return False
    order = draft.order(number)
    policy = draft.policies.verification
    check = check_factor(text, dtmf, order, policy)
    if check is None:
        return None
    if not confirmed:
        value = (
            draft.speech.digits(check.heard)
            if check.heard.isdigit()
            else draft.speech.spell(check.heard)
        )
        _read_back(draft, Awaiting.FACTOR, ReadBack(text=text, value=value))
        return False
    draft.write(
        VerificationAttempt(
            order_number=number,
            factor=check.factor,
            success=check.success,
            at=draft.now,
            conversation_id=draft.state.conversation_id,
            caller=caller_key(draft.state),
            near_miss=check.near_miss,
        )
    )
    if check.success:
        draft.update(verified_order=number, candidate_order=None, failed_attempts=0, misheard=0)
        draft.fact("verified", "yes")
        draft.say("ack.verified")
        return True
    _failed(draft, number, policy, check.near_miss)
    return False


def _locked_until(draft: Draft, number: str) -> datetime | None:
    """The end of the latest running lock that refuses this caller for this order: their own,
    or the order's (which a call from the order's own phone number passes)."""
    caller = caller_key(draft.state)
    for lock in draft.repository.locks(number, draft.now):  # latest end first
        if lock.caller == caller:
            return lock.until
        if lock.caller is None and not _own_phone(draft.state, draft.order(number)):
            return lock.until
    return None


def _failed(draft: Draft, number: str, policy: VerificationPolicy, near_miss: bool) -> None:
    caller = caller_key(draft.state)
    now = draft.now
    failures_here = draft.state.failed_attempts + 1
    # Attempts from other calls count too; this call's own may not be stored yet.
    since = now - max(policy.attempt_window, policy.order_attempt_window)
    stored = draft.repository.recent_failures(number, since)
    mine = [f for f in stored if f.caller == caller and f.at >= now - policy.attempt_window]
    caller_failures = max(failures_here, len(mine) + 1)
    on_order = [f for f in stored if f.at >= now - policy.order_attempt_window]
    near = sum(f.near_miss for f in on_order) + near_miss
    order_failures = len(on_order) + 1 - min(near, policy.near_misses_forgiven)
    draft.update(failed_attempts=failures_here)
    draft.say("ack.sorry")
    draft.say("verify.no_match", number=draft.speech.digits(number))
    # The count spoken is the caller's own (a near miss counts there like any miss, so the
    # words never tell a near miss from any other).
    left = policy.max_failed_attempts - caller_failures
    locks: list[OrderLock] = []
    if order_failures >= policy.order_max_failed_attempts:
        locks.append(_lock(draft, number, None, now + policy.order_lock))
    if left <= 0:
        locks.append(_lock(draft, number, caller, now + policy.lock))
    if not locks:
        key = "verify.attempts_left" if left == 1 else "verify.attempts_left_many"
        draft.say(key, count=draft.speech.number(left))
        ask_factor(draft)
        draft.ask(Awaiting.FACTOR)
        return
    for lock in locks:
        draft.write(lock)
    longest = max(lock.until for lock in locks) - now
    who = "every caller" if any(lock.caller is None for lock in locks) else "this caller"
    draft.fact("verification", f"locked for {who} after {caller_failures} failed attempts")
    draft.say(
        "verify.locked_now", number=draft.speech.digits(number), duration=_duration(draft, longest)
    )
    draft.say("verify.offer_person")
    draft.update(candidate_order=None, failed_attempts=0)
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("verification failed, order locked"))


def _lock(draft: Draft, number: str, caller: str | None, until: datetime) -> OrderLock:
    return OrderLock(
        order_number=number,
        until=until,
        conversation_id=draft.state.conversation_id,
        caller=caller,
    )


def _duration(draft: Draft, length: timedelta) -> str:
    minutes = int(length / timedelta(minutes=1))
    if minutes % 60 or minutes < 60:
        return draft.speech.say("verify.minutes", count=draft.speech.number(minutes))
    hours = minutes // 60
    if hours == 1:
        return draft.speech.say("verify.one_hour")
    return draft.speech.say("verify.hours", count=draft.speech.number(hours))


def _say_locked(draft: Draft, number: str, until_local: datetime) -> None:
    draft.say("ack.sorry")
    draft.say(
        "verify.locked",
        number=draft.speech.digits(number),
        time=draft.speech.time(until_local),
    )
    draft.say("verify.offer_person")
    draft.update(candidate_order=None)
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("order locked after failed verification"))


def _too_unclear(draft: Draft) -> None:
    draft.say("ack.sorry")
    draft.say("verify.too_many_unclear")
    draft.say("verify.offer_person")
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("could not take the caller's details"))
