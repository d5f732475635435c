"""The request catalogue (docs/requests.md), one flow at a time, against the demo shop: what
each answers from the data and the policy, and what it records for the shop."""

from __future__ import annotations

import dataclasses

import pytest

from tests.dialogue.conftest import ANCHOR, Conversation, new_call
from voice_agent.dialogue import flows
from voice_agent.dialogue.call import caller_of
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.nlu import Intent, Understand, Understanding, understand
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.state import Awaiting, DialogueState
from voice_agent.stages.asr import Expect
from voice_agent.store.repository import Repository


def _verified(call: Conversation, request: str, number: str, factor: str) -> str:
    call.say(request)
    call.say(number)
    reply = call.say(factor)
    assert call.state.verified_order == number, reply.text
    return reply.text


def _types(call: Conversation) -> list[str]:
    return [action["type"] for reply in call.replies for action in reply.actions]


# --- the examples ------------------------------------------------------------------


def test_cancel_before_dispatch_records_a_request_and_never_ends_the_call(
    call: Conversation, repository: Repository
) -> None:
    text = _verified(call, "Please cancel it", "10231", "10119")
    assert "I can ask the shop to cancel it" in text
    assert "It's cancelled once the shop confirms." in text
    assert not call.replies[-1].end_call
    reply = call.say("yes")
    assert not reply.end_call
    assert "I've sent your cancellation request to the shop." in reply.text
    assert "They'll answer by Friday, the 15th of November." in reply.text
    (request,) = repository.shop_requests("10231")
    assert (request.kind, request.status) == ("cancellation", "open")
    assert request.reference in reply.actions[0]["reference"]
    again = new_call(call.engine, repository)
    assert "already a cancellation request" in _verified(again, "cancel my order", "10231", "10119")


def test_cancel_after_dispatch_explains_the_return_path(call: Conversation) -> None:
    text = _verified(call, "I want to cancel my order", "47700", "SW1A 1AA")
    assert "already been dispatched, so it can't be cancelled" in text
    assert "you can return it within 30 days of delivery" in text
    assert "Return shipping is free." in text
    assert not call.replies[-1].end_call


def test_cancel_said_to_anything_else_is_a_request_not_a_goodbye(call: Conversation) -> None:
    _verified(call, "Where is my order?", "10231", "10119")
    assert call.state.awaiting is Awaiting.ANYTHING_ELSE
    reply = call.say("Please cancel it")
    assert not reply.end_call
    assert "cancel it" in reply.text


def test_refund_status_reads_the_shops_records(
    engine: DialogueEngine, repository: Repository
) -> None:
    paid = new_call(engine, repository)
    text = _verified(paid, "When will I get my refund?", "58816", "20121")
    assert "Your refund of 40 euros 99 was paid on Friday, the 8th of November" in text
    assert "return window" not in text.lower()
    approved = new_call(engine, repository)
    text = _verified(approved, "Where is my refund?", "58817", "3011 AD")
    assert "was approved on Monday, the 11th of November, and isn't paid yet." in text
    on_its_way = new_call(engine, repository)
    text = _verified(on_its_way, "What's the status of my refund?", "58818", "78701")
    assert "Your return was registered on Sunday, the 10th of November" in text
    assert "We refund within 14 days of receiving the items." in text
    nothing = new_call(engine, repository)
    text = _verified(nothing, "Has my refund been paid?", "58812", "75011")
    assert "I can't find a return or a refund for this order." in text


def test_tracking_number_and_carrier_then_the_link_as_a_request(
    call: Conversation, repository: Repository
) -> None:
    text = _verified(call, "What's the tracking number?", "47700", "SW1A 1AA")
    assert "The tracking number is Y T two four, one seven seven zero" in text
    assert "It's carried by YunExpress, and delivered by Royal Mail." in text
    assert call.replies[-1].expect is Expect.YES_NO
    carrier = call.say("Which company is delivering it?")
    assert "I can't help with that" not in carrier.text
    assert "delivered by Royal Mail" in carrier.text
    call.say("yes please")
    assert [r.kind for r in repository.shop_requests("47700")] == ["tracking_link"]


def test_wrong_item_is_a_claim_with_photos_needed(
    call: Conversation, repository: Repository
) -> None:
    text = _verified(call, "I received the wrong item", "58812", "75011")
    assert "I can open a claim for the wrong item." in text
    assert "a photo of the item you received and a photo of the parcel label" in text
    assert "product" not in text.lower()
    opened = call.say("yes")
    assert "The shop will contact you for the photos." in opened.text
    assert "replacement or a refund by Wednesday, the 20th of November" in opened.text
    (claim,) = repository.claims("58812")
    assert (claim.kind, claim.photos_needed, claim.outcome) == (
        "wrong_item",
        True,
        "replace_or_refund",
    )
    assert claim.evidence_held == ("the packing list",)


def test_damaged_and_missing_items_are_claims_of_their_kind(
    engine: DialogueEngine, repository: Repository
) -> None:
    damaged = new_call(engine, repository)
    assert "damaged item" in _verified(damaged, "The mug arrived broken", "58814", "M1 1AE")
    damaged.say("yes")
    missing = new_call(engine, repository)
    text = _verified(missing, "One of the items is missing", "58813", "33130")
    assert "claim for the missing item" in text
    missing.say("yes")
    kinds = {claim.order_number: claim.kind for claim in repository.claims()}
    assert kinds == {"58814": "damaged_item", "58813": "missing_item"}


def test_an_overdue_parcel_is_flagged_whatever_was_asked(
    call: Conversation, repository: Repository
) -> None:
    # 31146: no scan for 24 days in international transit (lost after 10); asked for a refund
    call.say("This is ridiculous, I want my money back!")
    call.say("31146")
    text = call.say("33130").text
    assert "Your parcel is overdue: there's been no scan for 24 days" in text
    assert text.endswith("Shall I open a claim?")
    assert call.state.awaiting is Awaiting.CONFIRM_CLAIM
    call.say("yes")
    assert [claim.kind for claim in repository.claims("31146")] == ["lost_parcel"]


def test_overdue_is_said_once_and_not_for_a_parcel_on_time(
    engine: DialogueEngine, repository: Repository
) -> None:
    late = new_call(engine, repository)
    text = _verified(late, "What's the tracking number?", "31146", "33130")
    assert "overdue" in text
    late.say("no")
    again = late.say("Where is my order?")
    assert "overdue" not in again.text
    on_time = new_call(engine, repository)
    assert "overdue" not in _verified(on_time, "Where is my order?", "45069", "10119")


def test_delivered_with_a_neighbour_reads_the_scan(
    call: Conversation, repository: Repository
) -> None:
    text = _verified(call, "It says delivered but I didn't get it", "58819", "69002")
    assert "The delivery scan reads: Delivered: left with a neighbour at number 16." in text
    assert "Please check there first." in text
    assert text.endswith("Shall I open a claim?")
    call.say("yes")
    # Not a parcel lost on the way: the courier's proof of delivery is what the shop disputes.
    assert [claim.kind for claim in repository.claims("58819")] == ["not_received"]


def test_where_was_it_left(call: Conversation) -> None:
    text = _verified(call, "Where did the courier leave it?", "58819", "69002")
    assert "left with a neighbour at number 16" in text
    plain = _verified(call, "where was it left? order 58812", "58812", "75011")
    assert "doesn't say where it was left" in plain


@pytest.mark.parametrize(
    ("scan", "read"),
    [
        ("Delivered, signed by the recipient", True),
        ("Delivered: left with a neighbour at number 16", True),
        ("Entregue, deixado na caixa de correio", True),
        ("Delivered", False),
        ("Delivered.", False),
    ],
)
def test_a_delivery_scan_is_read_whenever_it_says_more_than_delivered(
    policies: Policies, scan: str, read: bool
) -> None:
    assert flows.says_more_than_delivered(scan, policies.tracking) is read


def test_invoice_and_double_charge_are_requests_for_the_shop(
    engine: DialogueEngine, repository: Repository
) -> None:
    invoice = new_call(engine, repository)
    text = _verified(invoice, "Can I get an invoice?", "58812", "75011")
    assert "I've asked the shop to e-mail you the invoice." in text
    charged = new_call(engine, repository)
    text = _verified(charged, "I was charged twice", "47704", "28013")
    assert "I can't see payments myself." in text
    assert "check the double charge" in text
    kinds = [(r.kind, r.order_number) for r in repository.shop_requests()]
    assert kinds == [("invoice", "58812"), ("duplicate_charge", "47704")]


def test_a_complaint_is_recorded_without_verification(
    call: Conversation, repository: Repository
) -> None:
    reply = call.say("I want to make a complaint about your service")
    assert "I've recorded your complaint for the shop's team." in reply.text
    (request,) = repository.shop_requests()
    assert (request.kind, request.order_number) == ("complaint", None)
    assert "complaint about your service" in request.details


def test_a_complaint_and_a_person_in_one_turn_are_both_recorded(
    call: Conversation, repository: Repository
) -> None:
    reply = call.say("I want to file a complaint and I want to speak to a manager about it")
    assert [action["type"] for action in reply.actions] == ["complaint", "handoff"]
    (request,) = repository.shop_requests()
    (ticket,) = repository.handoffs()
    assert request.kind == "complaint"
    assert ticket.facts["complaint_reference"] == request.reference
    assert reply.text.count("Is there anything else") == 1
    assert call.state.awaiting is Awaiting.ANYTHING_ELSE
    person_only = call.say("can I talk to a real person")
    assert [action["type"] for action in person_only.actions] == ["handoff"]


def test_delivery_time_to_a_country_before_buying(call: Conversation) -> None:
    reply = call.say("Do you ship to Canada?")
    assert "Delivery to Canada takes 12 to 18 days for most items." in reply.text
    germany = call.say("How long does shipping to Germany take?")
    assert "Delivery to Germany takes 8 to 12 days for most items." in germany.text
    assert "Yoga mat 6 mm" in germany.text  # ships faster, from the EU warehouse


def test_return_says_who_pays_the_postage(call: Conversation) -> None:
    text = _verified(call, "I want to return it", "58812", "75011")
    assert "Return shipping is free." in text


def test_duties_name_the_documents_customs_asks_for(call: Conversation) -> None:
    text = _verified(call, "Do I have to pay import duties?", "45070", "3000")
    assert "paid by you, the recipient" in text
    assert "a copy of our commercial invoice and proof that you paid the duties" in text


def test_slower_says_it_again_in_short_pieces(call: Conversation) -> None:
    call.say("Where is my order?")
    call.say("45069")
    reply = call.say("Could you speak more slowly?")
    assert reply.chunks[0] == "Of course, more slowly."
    assert "Order four," in reply.chunks
    assert call.state.awaiting is Awaiting.FACTOR


# --- no order number at hand --------------------------------------------------------------


def test_no_order_number_finds_it_by_email_then_verifies(call: Conversation) -> None:
    reply = call.say("I don't have the order number")
    assert "What's the e-mail address you ordered with?" in reply.text
    asked = call.say("anna dot schmidt at example dot com")
    assert "please tell me the postcode or the last 4 digits" in asked.text
    assert "e-mail" not in asked.text.split("That's")[-1].split(".")[-2]  # not the e-mail again
    assert "1 0 2" not in asked.text and "one, zero" not in asked.text  # no order detail yet
    found = call.say("postcode 10119")
    assert call.state.verified_order == "10231"  # Anna's newest order
    assert "I've found your order, number one, zero, two, three, one." in found.text


def test_an_unknown_email_sounds_the_same_and_fails_like_a_wrong_factor(
    engine: DialogueEngine, repository: Repository
) -> None:
    known = new_call(engine, repository)
    known.say("I don't have the order number")
    unknown = new_call(engine, repository)
    unknown.say("I don't have the order number")
    a = known.say("anna dot schmidt at example dot com").text
    b = unknown.say("nobody at example dot com").text
    assert a.replace("anna dot schmidt", "X") == b.replace("nobody", "X")
    assert known.say("postcode 99999").text == unknown.say("postcode 99999").text
    assert unknown.state.verified_order is None


def test_an_order_number_found_during_the_lookup_is_verified_as_usual(
    call: Conversation, repository: Repository
) -> None:
    call.say("I don't have the order number")
    reply = call.say("oh wait here it is, five eight eight one four")
    assert call.state.awaiting is Awaiting.FACTOR
    assert call.state.candidate_order == "58814"
    assert call.state.verified_order is None
    assert "e-mail address" not in reply.text.split(".")[0]
    assert reply.writes == ()
    call.say("the postcode is M1 1AE")
    assert call.state.verified_order == "58814"


def test_no_order_number_finds_it_by_caller_id(
    engine: DialogueEngine, repository: Repository
) -> None:
    conversation = repository.start_conversation("sip", "+4930 5550 1234", ANCHOR)
    call = Conversation(engine, repository)
    call.state = engine.initial_state(conversation, caller_of("sip", "+493055501234@192.0.2.7"))
    reply = call.say("I want to cancel, but I don't have my order number")
    assert "I can look it up by the number you're calling from." in reply.text
    assert "phone number" not in reply.text  # the phone found it: it can't also prove it
    verified = call.say("postcode 10119")
    assert call.state.verified_order == "10231"
    assert "I can ask the shop to cancel it" in verified.text  # the goal survived


# --- several requests, goals across verification, slots from any turn -----------------------


def test_three_questions_in_one_turn_get_three_answers(
    call: Conversation, repository: Repository
) -> None:
    call.say("Where is my parcel? Also can I get an invoice, and what is the yoga mat made of?")
    call.say("45069")
    text = call.say("10119").text
    assert "It's at import customs in Germany." in text
    assert "I've asked the shop to e-mail you the invoice." in text
    assert "The Yoga mat 6 mm: material, TPE, latex-free." in text
    assert text.count("Is there anything else") == 1
    assert [r.kind for r in repository.shop_requests("45069")] == ["invoice"]


def test_a_question_asked_during_verification_is_answered_after_it(call: Conversation) -> None:
    call.say("Where is my order?")
    call.say("45069")
    waiting = call.say("What is the yoga mat made of?")
    assert "I'll come to that once I've confirmed it's you." in waiting.text
    assert call.state.awaiting is Awaiting.FACTOR
    text = call.say("10119").text
    assert "It's at import customs in Germany." in text
    assert "TPE, latex-free" in text


def test_the_goal_survives_verification(call: Conversation) -> None:
    call.say("I received the wrong item")
    call.say("order 5 8 8 1 2")
    text = call.say("the postcode is 75011").text
    assert "I can open a claim for the wrong item." in text


def test_order_number_and_postcode_in_one_turn(call: Conversation) -> None:
    call.say("I received the wrong item")
    reply = call.say("order 58812, postcode 75011")
    assert call.state.verified_order == "58812"
    assert "please tell me" not in reply.text
    assert "claim for the wrong item" in reply.text
    call.say("not now")
    direct = call.say("and where is order 45069, my postcode is 10119")
    assert call.state.verified_order == "45069"
    assert "Leipzig" in direct.text


def test_a_corrected_order_number_replaces_the_first(call: Conversation) -> None:
    call.say("Where is my order?")
    call.say("4 7 7 0 1")
    reply = call.say("no, I said 4 7 7 0 0")
    assert "Order four, seven, seven, zero, zero." in reply.text
    assert call.state.candidate_order == "47700"
    assert call.say("SW1A 1AA").text.count("Royal Mail") >= 1


# --- frustration, and no request ends the call ----------------------------------------------


def test_frustration_is_acknowledged_once_with_a_priority_person_offered(
    call: Conversation, repository: Repository
) -> None:
    first = call.say("This is ridiculous, where is my order?")
    assert first.chunks[0] == "I'm sorry, I understand."
    call.say("45069")
    text = call.say("10119").text
    assert "I'm sorry, I understand." not in text
    assert text.endswith("I can have a person call you back first. Would you like that?")
    call.say("yes")
    (handoff,) = repository.handoffs()
    assert handoff.reason == "priority: frustrated caller"
    assert handoff.facts["priority"] == "high"


def test_no_request_ends_the_call(engine: DialogueEngine, repository: Repository) -> None:
    for request in (
        "Please cancel it",
        "I want to cancel my order",
        "No, I want a refund",
        "no, that's not what I asked",
        "I don't have the order number",
        "I want to make a complaint",
    ):
        call = new_call(engine, repository)
        _verified(call, "Where is my order?", "45069", "10119")
        reply = call.say(request)
        assert not reply.end_call, (request, reply.text)
    ended = new_call(engine, repository)
    _verified(ended, "Where is my order?", "45069", "10119")
    assert ended.say("no thanks").end_call


# --- routing every intent, with an injected understanding -----------------------------------


def _always(*intents: Intent) -> Understand:
    def understood(text: str, language: str = "en") -> Understanding:
        heard = understand(text)
        if heard.intent is not None or heard.yes_no is not None or any(ch.isdigit() for ch in text):
            return heard
        return Understanding(heard.text, intents[0], None, intents)

    return understood


def test_every_intent_is_routed(repository: Repository, policies: Policies) -> None:
    for intent in Intent:
        engine = DialogueEngine(repository, policies, understand=_always(intent))
        call = new_call(engine, repository)
        reply = call.say("(a request in words the rules do not know)")
        assert reply.chunks, intent
        assert not reply.end_call or intent is Intent.GOODBYE, intent
        if intent in (Intent.TRACKING, Intent.CANCEL, Intent.REFUND_STATUS, Intent.INVOICE):
            assert reply.state.awaiting is Awaiting.ORDER_NUMBER, intent


def test_injected_multi_part_understanding_is_answered_part_by_part(
    repository: Repository, policies: Policies
) -> None:
    engine = DialogueEngine(
        repository, policies, understand=_always(Intent.TRACKING, Intent.REFUND_STATUS)
    )
    call = new_call(engine, repository)
    call.say("the thing with the numbers, and my money")
    call.say("58816")
    text = call.say("20121").text
    assert "The tracking number is" in text
    # An offer decides nothing the next request needs: that request is answered first, and
    # the offer is made again last.
    assert "Your refund of 40 euros 99 was paid" in text
    assert text.index("The tracking number is") < text.index("Your refund")
    assert text.endswith("Shall I ask the shop to e-mail you the tracking link?")
    assert text.count("tracking link") == 1
    assert "Nothing sent, then." in call.say("no").text


def test_a_question_a_request_needs_still_holds_back_the_next(
    repository: Repository, policies: Policies
) -> None:
    # Not an offer: "shall I open a claim?" is answered before the next request.
    engine = DialogueEngine(
        repository, policies, understand=_always(Intent.LOST_PARCEL, Intent.TRACKING)
    )
    call = new_call(engine, repository)
    call.say("it never came, and who has it")
    call.say("31146")
    text = call.say("33130").text
    assert text.endswith("Shall I open a claim?")
    assert "The tracking number is" not in text


def test_a_cancellation_question_not_heard_is_not_answered_by_yes(call: Conversation) -> None:
    from voice_agent.dialogue.call import CallDialogue

    _verified(call, "Please cancel it", "10231", "10119")
    dialogue = CallDialogue(call.engine)
    cut = dialogue.heard(call.state, "Thank you, that matches. Sure.")
    assert cut.awaiting is Awaiting.NOTHING
    assert dialogue.entity_complete("anna dot schmidt at example dot com", replace_awaiting(cut))


def replace_awaiting(state: DialogueState) -> DialogueState:
    return dataclasses.replace(state, awaiting=Awaiting.LOOKUP)


def test_a_goodbye_ending_a_request_closes_the_call(
    repository: Repository, policies: Policies
) -> None:
    # A question that needs no order is answered, then the call ends.
    engine = DialogueEngine(
        repository, policies, understand=_always(Intent.DELIVERY_TIME, Intent.GOODBYE)
    )
    reply = new_call(engine, repository).say("to Germany then, ciao")
    assert "Germany" in reply.text and reply.end_call
    # One that would ask the leaving caller for an order number is not started.
    engine = DialogueEngine(
        repository, policies, understand=_always(Intent.TRACKING, Intent.GOODBYE)
    )
    reply = new_call(engine, repository).say("the thing with the numbers then, ciao")
    assert reply.end_call and "order number" not in reply.text


def test_a_complaint_about_a_delivery_is_recorded_against_the_verified_order(
    call: Conversation, repository: Repository
) -> None:
    asked = call.say("I want to make a complaint about the courier, he was very rude")
    assert call.state.awaiting is Awaiting.ORDER_NUMBER
    assert [action["type"] for action in asked.actions] == []
    call.say("58812")
    reply = call.say("75011")
    assert call.state.verified_order == "58812"
    assert "I've recorded your complaint for the shop's team." in reply.text
    (request,) = repository.shop_requests()
    assert (request.kind, request.order_number) == ("complaint", "58812")
    assert "the courier, he was very rude" in request.details  # the complaint's own words


def test_a_complaint_about_an_order_is_recorded_without_it_when_the_caller_declines(
    call: Conversation, repository: Repository
) -> None:
    call.say("I want to complain about how my order was delivered")
    assert call.state.awaiting is Awaiting.ORDER_NUMBER
    reply = call.say("no, I would rather not")
    assert "I've recorded your complaint for the shop's team." in reply.text
    (request,) = repository.shop_requests()
    assert (request.kind, request.order_number) == ("complaint", None)
    after = call.state  # read anew: the reply changed it
    assert after.awaiting is Awaiting.ANYTHING_ELSE


def test_delivery_times_before_buying_in_french(repository: Repository, policies: Policies) -> None:
    call = new_call(DialogueEngine(repository, policies, language="fr"), repository)
    reply = call.say("How long does delivery to Germany take?")
    assert "Pour le pays de livraison, Allemagne, comptez huit à douze jours" in reply.text
