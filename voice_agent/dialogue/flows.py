"""The requests of docs/requests.md beyond status, lost parcels, returns, duties and address
changes (orders.py): tracking and carrier, delivered but not received, where it was left,
damaged / wrong / missing items, refund status, cancellation, invoices, double charges,
complaints, delivery times before buying, and an overdue parcel told whatever was asked.

Every fact comes from the order's data or the policy file. What only the shop can do (cancel,
send an invoice or a link, look into a payment, answer a complaint, ask for photos) is recorded
for it as a write, and said as recorded, never as done.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import timedelta

from voice_agent.dialogue import orders
from voice_agent.dialogue.draft import Draft
from voice_agent.dialogue.nlu import Intent
from voice_agent.dialogue.policies import ItemKind, TrackingPolicy
from voice_agent.dialogue.products import Catalogue, ship_time_said
from voice_agent.dialogue.state import Awaiting, PendingClaim, PendingHandoff, PendingRequest
from voice_agent.store.views import OrderView
from voice_agent.store.writes import ShopRequest

logger = logging.getLogger(__name__)

_ITEM_KINDS: dict[Intent, ItemKind] = {
    Intent.DAMAGED_ITEM: "damaged_item",
    Intent.WRONG_ITEM: "wrong_item",
    Intent.MISSING_ITEM: "missing_item",
}


def run(draft: Draft, intent: Intent, order: OrderView) -> None:
    """Answer ``intent`` about a verified ``order`` (the intents orders.run does not cover)."""
    draft.fact("intent", intent.value)
    if intent is Intent.TRACKING:
        tracking(draft, order)
    elif intent is Intent.NOT_RECEIVED:
        not_received(draft, order)
    elif intent is Intent.DELIVERY_LOCATION:
        delivery_location(draft, order)
    elif intent in _ITEM_KINDS:
        item_claim(draft, order, _ITEM_KINDS[intent])
    elif intent is Intent.REFUND_STATUS:
        refund_status(draft, order)
    elif intent is Intent.CANCEL:
        cancel(draft, order)
    elif intent is Intent.INVOICE:
        record(draft, order.number, "invoice", draft.state.fact("request") or draft.text)
    elif intent is Intent.CHARGED_TWICE:
        draft.say("ack.sorry")
        draft.say("charge.cannot_see")
        record(draft, order.number, "duplicate_charge", draft.state.fact("request") or draft.text)
    elif intent is Intent.COMPLAINT:
        complaint(draft)
    else:
        raise ValueError(f"not an order intent of this module: {intent}")


# --- tracking number and carrier ---------------------------------------------------------------


def tracking(draft: Draft, order: OrderView) -> None:
    shipment = order.shipment
    speech = draft.speech
    if shipment is None or not shipment.tracking.strip():
        draft.say("ack.checking")
        draft.say("tracking.none")
        draft.say("status.placed", date=speech.date(order.placed_at.date()))
        draft.anything_else()
        return
    draft.say("ack.sure")
    draft.say("tracking.number", number=speech.spell(_groups(shipment.tracking)))
    courier = shipment.last_mile
    if courier and courier != shipment.carrier:
        draft.say("tracking.carrier", carrier=shipment.carrier, courier=courier)
    else:
        draft.say("tracking.carrier_only", carrier=shipment.carrier)
    draft.say("tracking.offer_link")
    draft.ask(
        Awaiting.CONFIRM_REQUEST,
        PendingRequest("tracking_link", f"tracking {shipment.tracking} ({shipment.carrier})"),
    )


def _groups(tracking_number: str, size: int = 4) -> str:
    """ "YT2412345678901" -> "YT24 1234 5678 901": read in groups, a pause between."""
    compact = "".join(tracking_number.split())
    return " ".join(compact[i : i + size] for i in range(0, len(compact), size))


# --- delivered but not received; where it was left --------------------------------------------


def not_received(draft: Draft, order: OrderView) -> None:
    """Marked delivered but not there: where the scan says it was left, then the claim."""
    delivered = orders.delivered_event(order, draft.policies.tracking)
    if delivered is None:
        orders.lost_parcel(draft, order)  # not delivered: is it late, or lost?
        return
    if draft.policies.tracking.left_with.search(delivered.text):
        draft.say("ack.sorry")
        draft.say("where.left", text=orders.scan_words(draft, delivered))
        draft.say("where.check_first")
        draft.fact("delivered_scan", delivered.text)
        mark = len(draft.chunks)
        orders.lost_parcel(draft, order)  # the claim, should it not be there
        del draft.chunks[mark]  # its opener: ours was said
        return
    orders.lost_parcel(draft, order)


def delivery_location(draft: Draft, order: OrderView) -> None:
    delivered = orders.delivered_event(order, draft.policies.tracking)
    if delivered is None:
        draft.say("ack.checking")
        draft.say("where.not_delivered")
        orders.status(draft, order)
        return
    speech = draft.speech
    draft.say("ack.checking")
    draft.say(
        "where.delivered",
        date=speech.date(delivered.at.date()),
        place=orders.spoken_place(delivered.place, order.customer.country, speech),
    )
    if says_more_than_delivered(delivered.text, draft.policies.tracking):
        # The scan's own words, whatever they say ("signed by the recipient", "in the porch").
        draft.say("where.left", text=orders.scan_words(draft, delivered))
    else:
        draft.say("where.no_detail")
    draft.say("where.if_missing")
    draft.anything_else()


def says_more_than_delivered(text: str, policy: TrackingPolicy) -> bool:
    """Whether a delivery scan says anything besides "delivered" (worth reading out)."""
    if policy.left_with.search(text):
        return True
    rest = policy.delivered.sub(" ", text)
    return any(word.isalpha() for word in re.findall(r"[^\W\d_]+", rest))


# --- damaged, wrong or missing item -------------------------------------------------------------


def item_claim(draft: Draft, order: OrderView, kind: ItemKind) -> None:
    speech = draft.speech
    existing = [
        claim
        for claim in draft.repository.claims(order.number)
        if claim.status == "open" and claim.kind == kind
    ]
    if existing:
        draft.say("ack.checking")
        draft.say("item.existing", reference=speech.digits(existing[-1].reference))
        draft.anything_else()
        return
    policy = draft.policies.item_claims[kind]
    held: list[str] = []
    missing: list[str] = []
    for item in policy.evidence:
        is_held = item.held != "from_shopper" and orders.held_now(item.held, order, draft.policies)
        (held if is_held else missing).append(item.name)
    photos = [item.name for item in policy.evidence if item.held == "from_shopper"]
    event = orders.last_event(order)
    stage = "last_mile" if event is None else event.stage
    draft.say("ack.sorry")
    draft.say(f"item.sorry.{kind}")
    draft.say(f"item.claim.{kind}")
    if photos:
        draft.say("item.photos", evidence=speech.join(draft.policy_texts(photos)))
    draft.say("item.outcome", days=speech.days(policy.outcome.days))
    draft.say("item.confirm")
    draft.fact("item_problem", kind)
    draft.ask(
        Awaiting.CONFIRM_CLAIM,
        PendingClaim(
            stage=stage,
            party=policy.responsible,
            evidence_held=tuple(held),
            evidence_missing=tuple(missing),
            outcome=policy.outcome.kind,
            promised_by=draft.now.date() + timedelta(days=policy.outcome.days),
            kind=kind,
            photos_needed=policy.photos_needed,
        ),
    )


# --- refund status ---------------------------------------------------------------------------


def refund_status(draft: Draft, order: OrderView) -> None:
    """From the shop's refund and return records, then the agent's own return requests."""
    speech = draft.speech
    refund_days = draft.policies.returns.refund_days
    if order.refunds:
        refund = order.refunds[-1]
        amount = speech.money(refund.amount, order.currency)
        day = speech.date(refund.at.date())
        draft.say("ack.checking")
        draft.say(f"refund.{refund.status}", amount=amount, date=day)
        if refund.status == "refused":
            draft.say("refund.offer_person")
            draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("refund refused: caller asks why"))
            return
        draft.anything_else()
        return
    if order.returns:
        record = order.returns[-1]
        draft.say("ack.checking")
        if record.received_at is not None:
            due = record.received_at.date() + timedelta(days=refund_days)
            draft.say("refund.received", date=speech.date(record.received_at.date()))
            draft.say("refund.due", days=speech.days(refund_days), date=speech.date(due))
        else:
            draft.say("refund.return_registered", date=speech.date(record.requested_at.date()))
            draft.say("refund.after_receipt", days=speech.days(refund_days))
        draft.anything_else()
        return
    requests = draft.repository.return_requests(order.number)
    if requests:
        draft.say("ack.checking")
        draft.say("refund.request_open", reference=speech.digits(requests[-1].reference))
        draft.say("refund.after_receipt", days=speech.days(refund_days))
        draft.anything_else()
        return
    draft.say("ack.checking")
    draft.say("refund.nothing")
    draft.say("refund.how")
    draft.anything_else()


# --- cancellation ----------------------------------------------------------------------------


def cancel(draft: Draft, order: OrderView) -> None:
    speech = draft.speech
    existing = [
        request
        for request in draft.repository.shop_requests(order.number)
        if request.kind == "cancellation" and request.status == "open"
    ]
    if existing:
        draft.say("ack.checking")
        draft.say("cancel.existing", reference=speech.digits(existing[-1].reference))
        draft.anything_else()
        return
    if not orders.dispatched(order, draft.policies.tracking):
        draft.say("ack.sure")
        draft.say("cancel.can_ask")
        draft.say("cancel.not_done")
        draft.say("cancel.confirm")
        reason = draft.state.fact("request") or draft.text
        draft.ask(Awaiting.CONFIRM_REQUEST, PendingRequest("cancellation", reason))
        return
    draft.say("ack.sorry")
    draft.say("cancel.dispatched")
    if orders.delivered_event(order, draft.policies.tracking) is not None:
        draft.say("cancel.return_instead")
        mark = len(draft.chunks)
        orders.return_request(draft, order)  # offers the return (or says why not)
        del draft.chunks[mark]  # its opener ("Sure."): ours was said
        return
    draft.say("cancel.return_path", days=speech.days(draft.policies.returns.window_days))
    draft.say(f"return.shipping.{draft.policies.returns.return_shipping_paid_by}")
    draft.anything_else()


# --- requests recorded for the shop -----------------------------------------------------------


def record(draft: Draft, order_number: str | None, kind: str, details: str) -> None:
    """Record a request for the shop's team, and say so with its reference and reply date."""
    speech = draft.speech
    reference = draft.new_reference()
    reply_by = draft.now.date() + timedelta(days=draft.policies.request_reply_days)
    draft.write(
        ShopRequest(
            reference=reference,
            kind=kind,
            order_number=order_number,
            details=details,
            requested_at=draft.now,
            reply_by=reply_by,
            conversation_id=draft.state.conversation_id,
        )
    )
    draft.fact(f"{kind}_reference", reference)
    if not draft.chunks:
        draft.say("ack.done")
    draft.say(f"request.recorded.{kind}")
    draft.say("claim.reference", reference=speech.digits(reference))
    draft.say("request.reply_by", date=speech.date(reply_by))
    draft.anything_else()


_ABOUT_AN_ORDER = re.compile(
    r"\b(?:parcels?|packages?|orders?|deliver(?:y|ies|ed|ing)?|drivers?|couriers?|"
    r"shipments?|shipping|postm[ae]n|delivery (?:man|men|guy))\b",
    re.IGNORECASE,
)


def about_an_order(text: str) -> bool:
    """Whether a complaint is about a parcel, an order or its delivery (the driver, the
    courier): the shop's team needs the order to act on it, so the caller is verified first."""
    return bool(_ABOUT_AN_ORDER.search(text))


def complaint(draft: Draft) -> None:
    """The complaint recorded for the shop (against the verified order, if any), in the words
    it was made in: those said before verification when it waited for it, else the last
    turns."""
    said = draft.state.fact("complaint_text")
    if said is None:
        lines = [line.text for line in draft.state.transcript if line.speaker == "caller"]
        said = "\n".join(lines[-3:])
    draft.say("ack.sorry")
    draft.say("complaint.heard")
    record(draft, draft.state.verified_order, "complaint", said)


# --- delivery time before buying -------------------------------------------------------------


def delivery_time(draft: Draft, catalogue: Catalogue) -> None:
    speech = draft.speech
    country = catalogue.country(draft.text, draft.language)
    if country is None and draft.state.verified_order is not None:
        order = draft.order(draft.state.verified_order)
        country = None if order is None else order.customer.country
    key = f"ship_time.{country}" if country else "ship_time.default"
    times = Counter(
        product.attributes[key]
        for product in catalogue.products.values()
        if key in product.attributes
    )
    if not times and country is not None:
        key = "ship_time.default"
        times = Counter(
            product.attributes[key]
            for product in catalogue.products.values()
            if key in product.attributes
        )
        country = None
    if not times:
        draft.say("ack.sorry")
        draft.say("delivery_time.unknown")
        draft.say("product.offer_person")
        draft.ask(Awaiting.OFFER_HANDOFF, PendingHandoff("delivery time question"))
        return
    usual, _ = times.most_common(1)[0]
    said = ship_time_said(speech, usual)
    draft.say("ack.sure")
    if country is None:
        draft.say("delivery_time.default", value=said)
    else:
        draft.say("delivery_time.country", country=speech.country(country), value=said)
    faster = sorted(
        product.name_in(draft.language)
        for product in catalogue.products.values()
        if product.attributes.get(key, usual) != usual
    )
    if faster:
        draft.say("delivery_time.others", products=speech.join(faster))
    draft.anything_else()


# --- an overdue parcel, whatever was asked ----------------------------------------------------


def is_overdue(draft: Draft, order: OrderView) -> bool:
    """No scan for longer than the last scan's stage allows, not delivered, no claim open."""
    policies = draft.policies
    event = orders.last_event(order)
    if event is None or orders.delivered_event(order, policies.tracking) is not None:
        return False
    if draft.now - event.at < policies.stages[event.stage].lost_after:
        return False
    return not any(claim.status == "open" for claim in draft.repository.claims(order.number))


def tell_overdue(draft: Draft, order: OrderView) -> None:
    """Say the parcel is overdue and offer the claim (``is_overdue`` holds)."""
    policies = draft.policies
    event = orders.last_event(order)
    assert event is not None
    stage = policies.stages[event.stage]
    days = int((draft.now - event.at) / timedelta(days=1))
    speech = draft.speech
    draft.say("overdue.said", age=speech.days(days), date=speech.date(event.at.date()))
    draft.say(
        "overdue.rule",
        stage=speech.say(f"stage.{event.stage}"),
        days=speech.days(stage.lost_after.days),
    )
    draft.fact("overdue", f"no scan for {days} days at {event.stage}")
    orders.propose_claim(draft, order, stage, policies)
