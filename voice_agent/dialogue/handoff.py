"""Hand-off to a person: a ticket with the transcript and the facts gathered, and when a
colleague will call back (the policy's business hours, spoken in the caller's time zone)."""

from __future__ import annotations

import logging
from datetime import datetime

from babel.dates import get_timezone_location

from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.state import DialogueState
from voice_agent.store.writes import HandoffWrite

logger = logging.getLogger(__name__)


def transcript(state: DialogueState) -> str:
    return "\n".join(f"{line.speaker}: {line.text}" for line in state.transcript)


def create(
    draft: Draft,
    reason: str,
    contact: str | None = None,
    opener: str | None = "ack.of_course",
    reachable: bool = True,
) -> None:
    """Write the ticket and tell the caller when a colleague calls back and its reference.
    ``contact``: where to call back (voice_agent.dialogue.callback asks for it); ``reachable``
    False: nobody can call back (a web caller who gave no contact and has no verified order),
    so no time is promised and the caller is asked to quote the reference instead."""
    policy = draft.policies.handoff
    speech = draft.speech
    state = draft.state
    order_number = state.verified_order
    country = None
    if order_number is not None:
        order = draft.order(order_number)
        country = order.customer.country if order is not None else None
    callback_by = policy.callback_by(draft.now)
    reference = draft.new_reference()
    facts = dict(state.facts)
    facts["verified"] = "yes" if order_number is not None else "no"
    if state.intent is not None:
        facts.setdefault("intent", state.intent.value)
    draft.write(
        HandoffWrite(
            reference=reference,
            reason=reason,
            transcript=transcript(state),
            facts=facts,
            callback_by=callback_by,
            created_at=draft.now,
            order_number=order_number,
            conversation_id=state.conversation_id,
            contact=contact,
        )
    )
    draft.fact("handoff_reference", reference)
    if opener is not None:
        draft.say(opener)
    if reachable:
        _say_callback_time(draft, callback_by, country)
    draft.say("handoff.reference", reference=speech.digits(reference))
    if not reachable:
        draft.say("handoff.quote_reference")
    draft.anything_else()


def _say_callback_time(draft: Draft, callback_by: datetime, country: str | None) -> None:
    policy = draft.policies.handoff
    speech = draft.speech
    zone = policy.caller_timezone(country)
    local = callback_by.astimezone(zone)
    today = draft.now.astimezone(zone).date()
    time = speech.time(local)
    if country not in policy.caller_timezones:
        # The caller's own time zone is unknown: name the one the time is given in.
        # The city as the caller's language names it ("Londres"); Babel falls back to the
        # zone's own path ("Argentina/Buenos Aires") where it has no name.
        named = get_timezone_location(zone, locale=speech.locale, return_city=True)
        city = str(named).rsplit("/", 1)[-1].replace("_", " ")
        time = speech.say("handoff.zone_time", time=time, city=city)
    if local.date() == today:
        draft.say("handoff.created_today", time=time)
    else:
        draft.say("handoff.created", time=time, date=speech.date(local.date()))


def declined(draft: Draft) -> None:
    draft.say("handoff.declined")
    draft.anything_else()
