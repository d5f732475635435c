"""Identity verification: the order number, then one second factor from the order.

Nothing about an order is spoken before it succeeds. Whether an order number exists is not
revealed either: an unknown number gets the same "that doesn't match" as a wrong factor, so the
line cannot be used to probe order numbers. Every attempt is a write; too many failures lock
the order for every call (``Repository.locked_until``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from voice_agent.dialogue import entities
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.policies import Factor, VerificationPolicy
from voice_agent.dialogue.state import Awaiting, PendingHandoff
from voice_agent.store.views import OrderView
from voice_agent.store.writes import OrderLock, VerificationAttempt

logger = logging.getLogger(__name__)

_SAID_POSTCODE = re.compile(r"\b(?:post ?code|postal code|zip(?: code)?)\b")
_SAID_EMAIL = re.compile(r"\b(?:email|mail|letters)\b")
_SAID_PHONE = re.compile(r"\b(?:phone|mobile|cell|telephone)\b")
MAX_UNCLEAR = 2
"""Unusable answers to one question before the agent offers a person instead."""


@dataclass(frozen=True, slots=True)
class FactorCheck:
    factor: Factor
    success: bool


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
            return FactorCheck(factor, True)
    return FactorCheck(guesses[0][0], False)


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
        draft.say("verify.number_length", digits=low)
    draft.say("verify.ask_number")


def start(draft: Draft, number: str) -> bool:
    """The caller gave ``number``: ask for a second factor (or say it is locked).
    True when the caller is already verified for this order and the flow may go on."""
    if draft.state.verified_order == number:
        return True
    draft.update(candidate_order=number, failed_attempts=0)
    draft.fact("order_number", number)
    locked = draft.repository.locked_until(number, draft.now)
    if locked is not None:
        _say_locked(draft, number, locked.astimezone(draft.policies.handoff.timezone))
        return False
    draft.say("ack.thanks")
    draft.say("verify.read_back", number=draft.speech.digits(number))
    _ask_factor(draft)
    draft.ask(Awaiting.FACTOR)
    return False


def _ask_factor(draft: Draft) -> None:
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
    _ask_factor(draft)


def answer_factor(draft: Draft) -> bool | None:
    """Check the second factor in this turn. True: verified now; False: not (the reply says
    why); None: the turn held no usable factor."""
    number = draft.state.candidate_order
    assert number is not None, "a factor is only asked for after an order number"
    locked = draft.repository.locked_until(number, draft.now)
    if locked is not None:
        _say_locked(draft, number, locked.astimezone(draft.policies.handoff.timezone))
        return False
    order = draft.order(number)
    policy = draft.policies.verification
    check = check_factor(draft.text, draft.turn.dtmf, order, policy)
    if check is None:
        return None
    draft.write(
        VerificationAttempt(
            order_number=number,
            factor=check.factor,
            success=check.success,
            at=draft.now,
            conversation_id=draft.state.conversation_id,
        )
    )
    if check.success:
        draft.update(verified_order=number, candidate_order=None, failed_attempts=0)
        draft.fact("verified", "yes")
        draft.say("ack.verified")
        return True
    _failed(draft, number, policy)
    return False


def _failed(draft: Draft, number: str, policy: VerificationPolicy) -> None:
    failures_here = draft.state.failed_attempts + 1
    # Attempts from other calls count too; this call's own may not be stored yet.
    stored = draft.repository.failed_attempts(number, draft.now - policy.attempt_window)
    failures = max(failures_here, stored + 1)
    draft.update(failed_attempts=failures_here)
    draft.say("ack.sorry")
    draft.say("verify.no_match", number=draft.speech.digits(number))
    left = policy.max_failed_attempts - failures
    if left > 0:
        key = "verify.attempts_left" if left == 1 else "verify.attempts_left_many"
        draft.say(key, count=draft.speech.number(left))
        _ask_factor(draft)
        draft.ask(Awaiting.FACTOR)
        return
    until = draft.now + policy.lock
    draft.write(
        OrderLock(order_number=number, until=until, conversation_id=draft.state.conversation_id)
    )
    draft.fact("verification", f"locked after {failures} failed attempts")
    minutes = int(policy.lock / timedelta(minutes=1))
    draft.say("verify.locked_now", number=draft.speech.digits(number), minutes=minutes)
    draft.say("verify.offer_person")
    draft.update(candidate_order=None, failed_attempts=0)
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("verification failed, order locked"))


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
