"""What the agent tells a verified caller about their order: status, a lost parcel (and the
claim), returns, duties and taxes, an address change. Every fact comes from the order's data
or from the policy file; the writes (claim, return request, address change) are only proposed
here and made when the caller confirms.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, timedelta

from voice_agent.dialogue import entities
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.nlu import Intent
from voice_agent.dialogue.policies import Party, Policies, StagePolicy, TrackingPolicy
from voice_agent.dialogue.replies import Speech
from voice_agent.dialogue.state import (
    Awaiting,
    PendingAddress,
    PendingClaim,
    PendingHandoff,
    PendingReturn,
)
from voice_agent.store.views import EventView, OrderView
from voice_agent.store.writes import AddressChange, ClaimWrite, ReturnRequest

logger = logging.getLogger(__name__)


def run(draft: Draft, intent: Intent, order: OrderView) -> None:
    """Answer ``intent`` about a verified ``order``."""
    draft.fact("intent", intent.value)
    if intent is Intent.ORDER_STATUS:
        status(draft, order)
    elif intent is Intent.LOST_PARCEL:
        lost_parcel(draft, order)
    elif intent is Intent.RETURN:
        return_request(draft, order)
    elif intent is Intent.DUTIES:
        duties(draft, order)
    elif intent is Intent.ADDRESS_CHANGE:
        address_change(draft, order)
    else:
        raise ValueError(f"not an order intent: {intent}")


# --- reading tracking data -------------------------------------------------------------------


def last_event(order: OrderView) -> EventView | None:
    return None if order.shipment is None else order.shipment.last_event


def delivered_event(order: OrderView, tracking: TrackingPolicy) -> EventView | None:
    event = last_event(order)
    if event is not None and event.stage == "last_mile" and tracking.delivered.search(event.text):
        return event
    return None


def dispatched(order: OrderView, tracking: TrackingPolicy) -> bool:
    """Whether the parcel has left the seller: a pickup scan, or any scan past pickup."""
    if order.shipment is None:
        return False
    return any(
        event.stage != "pickup" or tracking.picked_up.search(event.text)
        for event in order.shipment.events
    )


def spoken_place(place: str, home_country: str, speech: Speech) -> str:
    """ "Leipzig, DE" -> "Leipzig" at home, "Almaty, KZ" -> "Almaty, Kazakhstan" abroad."""
    found = re.fullmatch(r"(.*?),\s*([A-Z]{2})", place.strip())
    if found is None:
        return place
    name, country = found.groups()
    country_name = speech.country(country)
    if country == home_country or country_name.lower().endswith(name.lower()):
        return name  # at home, or a city-state ("Singapore, SG")
    return f"{name}, {country_name}"


def event_text(event: EventView) -> str:
    """The event's own words, as the middle of a sentence."""
    text = event.text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def spoken_event_text(draft: Draft, event: EventView) -> str:
    """The event's words in the call's language: the shop's translation as the shop wrote it
    (a German noun keeps its capital), else the carrier's own as the middle of a sentence."""
    translated = draft.texts.translated(draft.language, event.text)
    if translated is None:
        return event_text(event)
    return translated.strip().rstrip(".")


def scan_words(draft: Draft, event: EventView) -> str:
    """The event's words as a sentence of their own, in the call's language where the shop
    translated them."""
    return draft.shop_text(event.text).strip().rstrip(".")


def evidence_for(
    stage: StagePolicy, order: OrderView, tracking: TrackingPolicy
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(held, missing): the stage's evidence split by what the order's data shows we have."""
    held: list[str] = []
    missing: list[str] = []
    for item in stage.evidence:
        (held if _held(item.held, stage, order, tracking) else missing).append(item.name)
    return tuple(held), tuple(missing)


def _held(condition: str, stage: StagePolicy, order: OrderView, tracking: TrackingPolicy) -> bool:
    shipment = order.shipment
    events = () if shipment is None else shipment.events
    if condition.startswith("incoterm:"):
        return order.incoterm == condition.split(":", 1)[1]
    checks: dict[str, Callable[[], bool]] = {
        "always": lambda: True,
        "never": lambda: False,
        "tracking": lambda: shipment is not None and bool(shipment.tracking.strip()),
        "scan_at_stage": lambda: any(event.stage == stage.stage for event in events),
        "picked_up": lambda: any(tracking.picked_up.search(event.text) for event in events),
        "delivered": lambda: delivered_event(order, tracking) is not None,
        "insured": lambda: order.insured,
        "compensation": lambda: shipment is not None and shipment.compensation,
        "from_shopper": lambda: False,
    }
    return checks[condition]()


def held_now(condition: str, order: OrderView, policies: Policies) -> bool:
    """Whether evidence under ``condition`` is held for ``order`` (an item claim's evidence:
    a stage's scans count as at the last mile)."""
    return _held(condition, policies.stages["last_mile"], order, policies.tracking)


def party_name(speech: Speech, party: Party, order: OrderView, short: bool = False) -> str:
    shipment = order.shipment
    carrier = shipment.carrier if shipment else ""
    courier = (shipment.last_mile or shipment.carrier) if shipment else ""
    key = f"party.short.{party}" if short else f"party.{party}"
    return speech.say(key, carrier=carrier, courier=courier)


def _age(speech: Speech, age: timedelta) -> str:
    if age < timedelta(days=1):
        return speech.hours(max(1, int(age / timedelta(hours=1))))
    return speech.days(int(age / timedelta(days=1)))


def _not_dispatched(draft: Draft, order: OrderView, explanation: str) -> None:
    """An order with no tracking event yet: why there is nothing to tell, and when it was placed."""
    draft.say("ack.checking")
    draft.say(explanation)
    draft.say("status.placed", date=draft.speech.date(order.placed_at.date()))
    draft.anything_else()


# --- order status ----------------------------------------------------------------------------


def status(draft: Draft, order: OrderView) -> None:
    speech = draft.speech
    event = last_event(order)
    if event is None:
        _not_dispatched(draft, order, "status.not_dispatched")
        return
    shipment = order.shipment
    assert shipment is not None
    country = order.customer.country
    draft.say("ack.latest")
    draft.say(
        "status.event",
        date=speech.date(event.at.date()),
        place=spoken_place(event.place, country, speech),
        text=spoken_event_text(draft, event),
    )
    if delivered_event(order, draft.policies.tracking) is not None:
        draft.say("status.delivered", date=speech.date(event.at.date()))
        draft.anything_else()
        return
    _holder(draft, order, event)
    _window(draft, shipment.expected_delivery)
    draft.anything_else()


def _holder(draft: Draft, order: OrderView, event: EventView) -> None:
    """Who has the parcel now: the carrier, the customs, the last-mile courier."""
    shipment = order.shipment
    if shipment is None:
        return
    draft.say(
        f"status.holder.{event.stage}",
        carrier=shipment.carrier,
        courier=shipment.last_mile or shipment.carrier,
        country=draft.speech.country(order.customer.country),
    )


def _window(draft: Draft, expected: date | None) -> None:
    if expected is None:
        return
    speech = draft.speech
    today = draft.now.date()
    if expected < today:
        draft.say("status.late", date=speech.date(expected))
        draft.say("status.late_claim")
        return
    start = max(today, expected - timedelta(days=draft.policies.delivery_window_days_before))
    if start >= expected:
        draft.say("status.window_by", date=speech.date(expected))
    else:
        draft.say("status.window", start=speech.date(start), end=speech.date(expected))


# --- lost parcel -------------------------------------------------------------------------------


def lost_parcel(draft: Draft, order: OrderView) -> None:
    speech = draft.speech
    policies = draft.policies
    event = last_event(order)
    if event is None:
        _not_dispatched(draft, order, "lost.not_dispatched")
        return
    existing = [claim for claim in draft.repository.claims(order.number) if claim.status == "open"]
    if existing:
        draft.say("ack.checking")
        draft.say("lost.existing", reference=speech.digits(existing[-1].reference))
        draft.say("lost.existing_by", date=speech.date(existing[-1].promised_by))
        draft.anything_else()
        return
    stage = policies.stages[event.stage]
    delivered = delivered_event(order, policies.tracking)
    age = draft.now - event.at
    if delivered is not None:
        draft.say("ack.sorry")
        draft.say(
            "lost.delivered",
            date=speech.date(event.at.date()),
            place=spoken_place(event.place, order.customer.country, speech),
        )
        draft.say("lost.delivered_missing")
    else:
        draft.say("ack.checking")
        draft.say(
            "lost.last_scan",
            age=_age(speech, age),
            date=speech.date(event.at.date()),
            stage=speech.say(f"stage.{event.stage}"),
        )
        draft.say("lost.scan_text", text=scan_words(draft, event))
        if age < stage.lost_after:
            _holder(draft, order, event)  # "tried to deliver, where is it now?": who has it
            _not_lost_yet(draft, stage, event)
            return
        draft.say("lost.presumed", days=speech.days(stage.lost_after.days))
    propose_claim(draft, order, stage, policies)


def _not_lost_yet(draft: Draft, stage: StagePolicy, event: EventView) -> None:
    speech = draft.speech
    draft.say(
        "lost.not_yet",
        stage=speech.say(f"stage.{stage.stage}"),
        days=speech.days(stage.lost_after.days),
    )
    draft.say("lost.call_back_on", date=speech.date((event.at + stage.lost_after).date()))
    draft.fact("lost_parcel", "not yet presumed lost")
    draft.anything_else()


def propose_claim(draft: Draft, order: OrderView, stage: StagePolicy, policies: Policies) -> None:
    speech = draft.speech
    party = stage.responsible_for(order.incoterm)
    held, missing = evidence_for(stage, order, policies.tracking)
    outcome = policies.outcomes.for_claim(order.insured, party)
    draft.say("lost.responsible", party=party_name(speech, party, order))
    if held:
        draft.say("lost.held", evidence=speech.join(draft.policy_texts(held)))
    else:
        draft.say("lost.held_nothing")
    if missing:
        draft.say("lost.missing", evidence=speech.join(draft.policy_texts(missing)))
    else:
        draft.say("lost.missing_nothing")
    draft.say("lost.confirm")
    # Marked delivered but not there is its own kind for the shop's team: the courier's proof
    # of delivery is what is disputed, not where the parcel went missing on the way.
    delivered = delivered_event(order, policies.tracking) is not None
    pending = PendingClaim(
        stage=stage.stage,
        party=party,
        evidence_held=held,
        evidence_missing=missing,
        outcome=outcome.kind,
        promised_by=draft.now.date() + timedelta(days=outcome.days),
        kind="not_received" if delivered else "lost_parcel",
    )
    draft.fact("stage", stage.stage)
    draft.fact("responsible_party", party)
    draft.ask(Awaiting.CONFIRM_CLAIM, pending)


def open_claim(draft: Draft, order: OrderView, pending: PendingClaim) -> None:
    speech = draft.speech
    reference = draft.new_reference()
    draft.write(
        ClaimWrite(
            reference=reference,
            order_number=order.number,
            stage=pending.stage,
            responsible_party=pending.party,
            evidence_held=pending.evidence_held,
            evidence_missing=pending.evidence_missing,
            insured=order.insured,
            outcome=pending.outcome,
            promised_by=pending.promised_by,
            opened_at=draft.now,
            conversation_id=draft.state.conversation_id,
            kind=pending.kind,
            photos_needed=pending.photos_needed,
        )
    )
    draft.fact("claim_reference", reference)
    draft.say("ack.done")
    draft.say("claim.opened")
    draft.say("claim.reference", reference=speech.digits(reference))
    if pending.photos_needed:
        draft.say("claim.photos_needed")
    draft.say(
        f"claim.outcome.{pending.outcome}",
        date=speech.date(pending.promised_by),
        party=party_name(speech, pending.party, order, short=True),
    )
    draft.say("claim.reference_again", reference=speech.digits(reference))
    draft.anything_else()


# --- returns -------------------------------------------------------------------------------------


def return_request(draft: Draft, order: OrderView) -> None:
    speech = draft.speech
    policy = draft.policies.returns
    existing = draft.repository.return_requests(order.number)
    if existing:
        draft.say("ack.checking")
        draft.say("return.existing", reference=speech.digits(existing[-1].reference))
        draft.anything_else()
        return
    delivered = delivered_event(order, draft.policies.tracking)
    window = speech.days(policy.window_days)
    if delivered is None:
        draft.say("ack.checking")
        draft.say("return.not_delivered")
        draft.say("return.window_rule", days=window)
        draft.anything_else()
        return
    end = delivered.at.date() + timedelta(days=policy.window_days)
    if draft.now.date() > end:
        draft.say("ack.sorry")
        draft.say(
            "return.expired",
            date=speech.date(delivered.at.date()),
            days=window,
            end=speech.date(end),
        )
        draft.say("return.offer_person")
        draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("return after the return window"))
        return
    draft.say("ack.sure")
    draft.say("return.until", date=speech.date(delivered.at.date()), end=speech.date(end))
    draft.say(f"return.shipping.{policy.return_shipping_paid_by}")
    draft.say(
        "return.refund_amount",
        amount=speech.money(order.total, order.currency),
        days=speech.days(policy.refund_days),
    )
    draft.say("return.confirm")
    reason = draft.state.fact("request") or draft.text
    draft.ask(Awaiting.CONFIRM_RETURN, PendingReturn(reason))


def open_return(draft: Draft, order: OrderView, pending: PendingReturn) -> None:
    speech = draft.speech
    reference = draft.new_reference()
    draft.write(
        ReturnRequest(
            reference=reference,
            order_number=order.number,
            reason=pending.reason,
            skus=(),
            requested_at=draft.now,
            conversation_id=draft.state.conversation_id,
        )
    )
    draft.fact("return_reference", reference)
    draft.say("ack.done")
    draft.say("return.opened")
    draft.say("claim.reference", reference=speech.digits(reference))
    draft.say("return.refund", days=speech.days(draft.policies.returns.refund_days))
    draft.anything_else()


# --- duties and taxes --------------------------------------------------------------------------


def duties(draft: Draft, order: OrderView) -> None:
    speech = draft.speech
    policy = draft.policies.duties[order.incoterm]
    incoterm = speech.say(f"incoterm.{order.incoterm}")
    event = last_event(order)
    held = event is not None and event.stage == "import_customs"
    if policy.payer == "seller":
        draft.say("ack.good_news")
        draft.say("duties.seller", incoterm=incoterm)
        draft.say("duties.seller_nothing")
    else:
        draft.say("ack.checking")
        draft.say("duties.shopper", incoterm=incoterm)
        draft.say("duties.shopper_how")
    if held and event is not None:
        draft.say("duties.held", date=speech.date(event.at.date()))
        draft.say("duties.held_text", text=scan_words(draft, event))
        if policy.payer == "seller":
            draft.say("duties.seller_documents")
        elif policy.documents:
            documents = draft.policies.said_in(speech.code, policy.documents)
            draft.say("duties.documents", documents=speech.join(documents))
    draft.anything_else()


# --- address change -----------------------------------------------------------------------------

_ADDRESS_PREAMBLE = re.compile(
    r"^(?:(?:yes|yeah|ok|okay|so|sure|um|uh|it's|it is|the new address is|my new address is|"
    r"new address|the address is|please send it to|send it to|deliver it to|to)\b[\s,.:]*)+",
    re.IGNORECASE,
)


def address_change(draft: Draft, order: OrderView) -> None:
    if dispatched(order, draft.policies.tracking):
        options = draft.policies.address_change.after_dispatch_options
        draft.say("ack.sorry")
        draft.say("address.dispatched")
        if options:
            said = draft.policies.said_in(draft.speech.code, options)
            draft.say("address.options", options=draft.speech.join_or(said))
        draft.say("address.offer_person")
        draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("address change after dispatch"))
        return
    draft.say("ack.sure")
    draft.say("address.can_change")
    draft.say("address.ask")
    draft.ask(Awaiting.NEW_ADDRESS)


def new_address(draft: Draft) -> bool:
    """The caller said the new address: read it back for confirmation (False: no postcode)."""
    code = entities.postcode(draft.text)
    if code is None:
        return False
    address = _ADDRESS_PREAMBLE.sub("", draft.text.strip())
    # The postcode is read back letter by letter on its own; keep it out of the street part.
    street = entities.without_postcode(address, code).strip(" ,.")
    draft.say("ack.thanks")
    draft.say("address.read_back", address=street, postcode=draft.speech.spell(code))
    draft.say("address.confirm")
    draft.ask(Awaiting.CONFIRM_ADDRESS, PendingAddress(street, code))
    return True


_POSTCODE_ONLY = re.compile(
    r"^(?:no|wait|sorry|actually|i mean|i said|not that|the|my|new|it s|it is|is|post ?code|"
    r"zip(?: code)?|postal code|should be|"
    r"[\s,.:!-])*$",
    re.IGNORECASE,
)
"""What may surround a postcode said alone to correct one ("no wait, the postcode is ...")."""


def correct_address(draft: Draft, pending: PendingAddress) -> None:
    """A postcode (or a whole address) said instead of yes to "shall I change it?": the
    corrected address is read back and confirmed again; nothing is changed yet."""
    code = entities.postcode(draft.text)
    assert code is not None
    rest = entities.without_postcode(draft.text.strip(), code).replace("'", " ")
    if rest == draft.text.strip().replace("'", " ") or not _POSTCODE_ONLY.match(rest):
        new_address(draft)  # a new address, postcode and all
        return
    address = pending.address.replace(pending.postcode, code)  # "..., 10435 Berlin" too
    draft.say("ack.thanks")
    draft.say("address.read_back", address=address, postcode=draft.speech.spell(code))
    draft.say("address.confirm")
    draft.ask(Awaiting.CONFIRM_ADDRESS, PendingAddress(address, code))


def change_address(draft: Draft, order: OrderView, pending: PendingAddress) -> None:
    draft.write(
        AddressChange(
            order_number=order.number,
            address=pending.address,
            postcode=pending.postcode,
            requested_at=draft.now,
            conversation_id=draft.state.conversation_id,
        )
    )
    draft.fact("new_address", f"{pending.address}, {pending.postcode}")
    draft.say("ack.done")
    draft.say("address.changed")
    draft.anything_else()
