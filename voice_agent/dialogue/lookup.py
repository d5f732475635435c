"""A caller without their order number: find the order by the number they call from (SIP
caller ID), by the e-mail address they ordered with or by the phone number they say, then
verify as usual.

The order found is a candidate only; nothing about it (not even its number) is said before
a second factor matches. The factor that found it does not count as the second one (an
e-mail found by e-mail would prove nothing). Whether an e-mail address has orders is never
revealed: the caller hears the same words whether it has or not, and a factor given for an
address without orders simply "doesn't match". Failed attempts count on the phone number or
e-mail address, and lock it like an order number (Repository.locked_until).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from voice_agent.dialogue import entities, verification
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.policies import Factor
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.state import Awaiting, PendingHandoff, PendingLookup
from voice_agent.store.models import phone_key
from voice_agent.store.writes import OrderLock, VerificationAttempt

logger = logging.getLogger(__name__)


def start(draft: Draft) -> None:
    """The caller has no order number: look it up by their phone, else ask for the e-mail."""
    caller = draft.state.caller
    phone = caller.number if caller is not None else None
    if phone is not None:
        found = tuple(draft.repository.orders_by_phone(phone))
        if found:
            draft.say("ack.no_problem")
            draft.say("lookup.by_phone")
            _ask_factor(
                draft,
                PendingLookup(found, f"phone:{phone_key(phone)}", _factors(draft, "phone_last4")),
            )
            return
    draft.say("ack.no_problem")
    draft.say("lookup.ask_email")
    draft.say("lookup.spell")
    draft.ask(Awaiting.LOOKUP)


MIN_PHONE_DIGITS = 7
"""A run of digits this long, said when asked how to find the order, is a phone number."""


def spoken_phone(text: str) -> str | None:
    """A phone number the caller said ("plus four four one three one ..."), its digits."""
    runs = [run for run in entities.digit_runs(text) if len(run) >= MIN_PHONE_DIGITS]
    return runs[-1] if runs else None


def gives_contact(text: str) -> bool:
    """Whether ``text`` holds an e-mail address or a phone number to look the order up by."""
    return entities.email_address(text) is not None or spoken_phone(text) is not None


def on_email(draft: Draft) -> bool:
    """The answer to "what's the e-mail address?" (or the phone number the caller ordered
    with, said instead); False when the turn is something else."""
    address = entities.email_address(draft.text)
    phone = spoken_phone(draft.text) if address is None else None
    if phone is not None:
        found = tuple(draft.repository.orders_by_phone(phone))
        draft.fact("phone_given", phone)
        draft.say("ack.thanks")
        draft.say("lookup.phone_read_back", phone=draft.speech.digits(phone))
        # The same words whether the number has orders or not.
        _ask_factor(
            draft, PendingLookup(found, f"phone:{phone_key(phone)}", _factors(draft, "phone_last4"))
        )
        return True
    if address is None:
        if draft.heard.intent is not None:
            return False
        if draft.retry() > verification.MAX_UNCLEAR:
            _offer_person(draft, "could not take the caller's e-mail address")
            return True
        draft.say("ack.sorry_unclear")
        draft.say("lookup.email_unclear")
        draft.say("lookup.spell")
        return True
    found = tuple(draft.repository.orders_by_email(address))
    draft.fact("email_given", address)
    draft.say("ack.thanks")
    draft.say("lookup.email_read_back", email=_spoken_email(address, draft.speech))
    # The same words whether the address has orders or not.
    _ask_factor(
        draft, PendingLookup(found, f"email:{address}"[:64], _factors(draft, "email_prefix"))
    )
    return True


def on_factor(draft: Draft) -> bool | None:
    """The second factor for a looked-up order. True: verified (the engine goes on with the
    caller's request); False: not, the reply says why; None: not an answer to the question."""
    pending = draft.state.pending
    assert isinstance(pending, PendingLookup)
    policy = replace(
        draft.policies.verification,
        factors=tuple(f for f in draft.policies.verification.factors if f in pending.factors),
    )
    locked = draft.repository.locked_until(pending.key, draft.now)
    if locked is not None:
        _offer_person(draft, "lookup locked after failed verification", "lookup.locked")
        return False
    checks = [
        (
            number,
            verification.check_factor(draft.text, draft.turn.dtmf, draft.order(number), policy),
        )
        for number in pending.orders
    ]
    if not pending.orders:
        checks = [("", verification.check_factor(draft.text, draft.turn.dtmf, None, policy))]
    if checks[0][1] is None:
        if draft.heard.intent is not None:
            return None
        if draft.retry() > verification.MAX_UNCLEAR:
            _offer_person(draft, "could not take the caller's details")
            return False
        draft.say("ack.sorry_unclear")
        say_factors(draft, pending)
        return False
    for number, check in checks:
        if check is not None and check.success:
            draft.write(
                VerificationAttempt(
                    order_number=number,
                    factor=check.factor,
                    success=True,
                    at=draft.now,
                    conversation_id=draft.state.conversation_id,
                )
            )
            draft.update(verified_order=number, candidate_order=None, failed_attempts=0)
            draft.fact("order_number", number)
            draft.fact("verified", "yes")
            draft.fact("found_by", pending.key.split(":", 1)[0])
            draft.say("ack.verified")
            draft.say("lookup.found", number=draft.speech.digits(number))
            return True
    factor = checks[0][1].factor if checks[0][1] is not None else "postcode"
    draft.write(
        VerificationAttempt(
            order_number=pending.key,
            factor=factor,
            success=False,
            at=draft.now,
            conversation_id=draft.state.conversation_id,
        )
    )
    _failed(draft, pending)
    return False


def _failed(draft: Draft, pending: PendingLookup) -> None:
    policy = draft.policies.verification
    here = draft.state.failed_attempts + 1
    stored = draft.repository.failed_attempts(pending.key, draft.now - policy.attempt_window)
    failures = max(here, stored + 1)
    draft.update(failed_attempts=here)
    draft.say("ack.sorry")
    draft.say("lookup.no_match")
    left = policy.max_failed_attempts - failures
    if left > 0:
        key = "verify.attempts_left" if left == 1 else "verify.attempts_left_many"
        draft.say(key, count=draft.speech.number(left))
        say_factors(draft, pending)
        draft.ask(Awaiting.LOOKUP_FACTOR, pending)
        draft.update(failed_attempts=here)
        return
    draft.write(
        OrderLock(
            order_number=pending.key,
            until=draft.now + policy.lock,
            conversation_id=draft.state.conversation_id,
        )
    )
    draft.fact("verification", f"lookup locked after {failures} failed attempts")
    minutes = int(policy.lock / timedelta(minutes=1))
    draft.say("lookup.locked_now", minutes=draft.speech.number(minutes))
    draft.update(failed_attempts=0)
    draft.say("verify.offer_person")
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("lookup failed, locked"))


def _factors(draft: Draft, found_by: Factor) -> tuple[str, ...]:
    return tuple(f for f in draft.policies.verification.factors if f != found_by)


def _ask_factor(draft: Draft, pending: PendingLookup) -> None:
    if not pending.factors:
        _offer_person(draft, "no second factor left to verify a looked-up order")
        return
    say_factors(draft, pending)
    draft.ask(Awaiting.LOOKUP_FACTOR, pending)
    draft.update(failed_attempts=0)


def say_factors(draft: Draft, pending: PendingLookup) -> None:
    policy = draft.policies.verification
    options = [
        draft.speech.say(
            f"verify.factor.{factor}",
            letters=draft.speech.number(policy.email_prefix_letters),
            digits=draft.speech.number(policy.phone_digits),
        )
        for factor in pending.factors
    ]
    draft.say("lookup.ask_factor", factors=draft.speech.join_or(options))


def _offer_person(draft: Draft, reason: str, key: str = "verify.too_many_unclear") -> None:
    draft.say("ack.sorry")
    draft.say(key)
    draft.say("verify.offer_person")
    draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff(reason))


def _spoken_email(address: str, speech: Speech) -> str:
    local, _, domain = address.partition("@")
    dot = f" {speech.say('symbol.dot')} "
    return speech.say(
        "callback.email", local=local.replace(".", dot), domain=domain.replace(".", dot)
    )
