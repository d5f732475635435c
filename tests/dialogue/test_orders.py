"""Verified callers asking about their order: status, lost parcels and claims, returns,
duties, address changes. Scripted conversations against the demo shop."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from tests.dialogue.conftest import ANCHOR, Conversation, new_call
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies
from voice_agent.stages.asr import Expect
from voice_agent.store.db import Database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository
from voice_agent.store.views import Stage
from voice_agent.store.writes import ClaimWrite


def _verified(call: Conversation, request: str, number: str, factor: str) -> str:
    """Ask, give the number and the factor; the reply to the factor (the answer itself)."""
    call.say(request)
    call.say(" ".join(number))
    reply = call.say(factor)
    assert call.state.verified_order == number, reply.text
    return reply.text


# --- status --------------------------------------------------------------------------------


def test_status_reads_the_last_event_and_the_window(call: Conversation) -> None:
    # 45069: DDP to Berlin, arrived at import customs in Leipzig 0.6 days ago
    text = _verified(call, "Where is my order?", "45069", "one oh one one nine")
    assert "On Tuesday, the 12th of November, in Leipzig customs office: arrived at import" in text
    assert "It's at import customs in Germany." in text
    order_reply = call.replies[-1]
    assert order_reply.expect is Expect.YES_NO  # "anything else?"


def test_status_of_a_delivered_order(call: Conversation) -> None:
    text = _verified(call, "Has my order arrived?", "58812", "seven five oh one one")
    assert "delivered" in text.lower()
    assert "It was delivered on Sunday, the 10th of November." in text


def test_status_of_a_late_parcel(call: Conversation) -> None:
    # 31146: transit hub 24 days ago, expected long since
    text = _verified(call, "Where is my parcel?", "31146", "three three one three oh")
    assert "so it's running late" in text
    assert "arrived at the transit hub" in text


def test_status_before_dispatch(call: Conversation) -> None:
    text = _verified(call, "Where's my order?", "10232", "S W one A one A A")
    assert "hasn't been dispatched yet" in text


# --- lost parcel: a claim in each of the five stages -----------------------------------------


@dataclass(frozen=True)
class LostCase:
    number: str
    factor: str
    stage: Stage
    holds: frozenset[str]
    """The evidence conditions the order's data meets (policies.toml vocabulary)."""
    party_words: str
    """How the responsible party is named in the reply."""


_PICKED_UP = frozenset({"always", "tracking", "scan_at_stage", "picked_up"})
LOST_CASES = [
    # pickup: sorted at the first-mile centre 11 days ago (DAP, uninsured)
    LostCase("10460", "seven eight seven oh one", "pickup", _PICKED_UP, "the seller"),
    # export customs: declaration under review for 13 days (DAP, insured)
    LostCase("20787", "one two two one one", "export_customs", _PICKED_UP, "the seller"),
    # international: transit hub 24 days ago (DAP, uninsured)
    LostCase(
        "31146",
        "three three one three oh",
        "international",
        _PICKED_UP,
        "the international carrier, Cainiao",
    ),
    # import customs, DDP: held 16 days, documents requested from the sender (insured)
    LostCase(
        "45068",
        "six nine oh oh two",
        "import_customs",
        _PICKED_UP | {"incoterm:DDP"},
        "the seller",
    ),
    # import customs, DAP: held 17 days for duties the recipient must pay
    LostCase("45067", "b e a", "import_customs", _PICKED_UP, "you, as the importer of record"),
    # last mile: handed to UPS 12 days ago (DAP, uninsured)
    LostCase("47702", "nine four one one oh", "last_mile", _PICKED_UP, "the delivery courier, UPS"),
    # last mile: marked delivered 6 days ago, not received
    LostCase(
        "58813",
        "three three one three oh",
        "last_mile",
        _PICKED_UP | {"delivered"},
        "the delivery courier, USPS",
    ),
]


@pytest.mark.parametrize("case", LOST_CASES, ids=lambda case: f"{case.stage}-{case.number}")
def test_a_lost_parcel_claim_names_the_policy_party_and_evidence(
    call: Conversation, repository: Repository, policies: Policies, case: LostCase
) -> None:
    order = repository.find_order(case.number)
    assert order is not None and order.shipment is not None
    stage = policies.stages[case.stage]
    party = stage.responsible_for(order.incoterm)
    held = tuple(item.name for item in stage.evidence if item.held in case.holds)
    missing = tuple(item.name for item in stage.evidence if item.held not in case.holds)
    outcome = policies.outcomes.for_claim(order.insured, party)

    proposal = _verified(call, "My parcel never arrived.", case.number, case.factor)
    assert f"The party responsible is {case.party_words}" in proposal
    for name in held:
        assert name in proposal.split("We already hold")[1].split("Still needed")[0]
    for name in missing:
        assert name in proposal.split("Still needed")[1]
    assert proposal.endswith("Shall I open a claim?")
    assert call.replies[-1].expect is Expect.YES_NO
    assert repository.claims(case.number) == []  # nothing before the caller says yes

    opened = call.say("Yes, please.")
    claims = [write for write in opened.writes if isinstance(write, ClaimWrite)]
    assert len(claims) == 1
    stored = repository.claims(case.number)
    assert len(stored) == 1
    claim = stored[0]
    assert claim.reference == claims[0].reference
    assert len(claim.reference) == 8 and claim.reference.isdigit()
    assert claim.stage == case.stage
    assert claim.responsible_party == party
    assert claim.evidence_held == held
    assert claim.evidence_missing == missing
    assert claim.insured is order.insured
    assert claim.outcome == outcome.kind
    assert claim.promised_by == ANCHOR.date() + timedelta(days=outcome.days)
    assert claim.conversation_id == call.state.conversation_id
    spoken = ", ".join(_DIGIT_WORDS[int(digit)] for digit in claim.reference)
    assert f"Your reference is {spoken}." in opened.text
    assert opened.actions[0]["type"] == "claim"


_DIGIT_WORDS = "zero one two three four five six seven eight nine".split()


def test_a_parcel_not_yet_overdue_gets_no_claim(call: Conversation, policies: Policies) -> None:
    # 31144: departed the origin airport 1.5 days ago
    text = _verified(call, "I think my parcel is lost", "31144", "M one one A E")
    days = policies.stages["international"].lost_after.days
    assert f"we count a parcel as lost after {days} days without a scan" in text
    assert "Shall I open a claim?" not in text
    assert call.state.pending is None
    assert call.say("yes").writes == ()


def test_a_missed_delivery_names_the_courier_who_has_it(call: Conversation) -> None:
    # 47703: delivery attempted a day ago, nobody at home; Royal Mail delivers.
    text = _verified(call, "they tried to deliver, I think my parcel is lost", "47703", "EH1 1YZ")
    assert "Delivery attempted: recipient not at home, card left." in text
    assert "It's now with Royal Mail for delivery." in text
    assert "Shall I open a claim?" not in text


def test_a_claim_declined_is_not_opened(call: Conversation, repository: Repository) -> None:
    _verified(call, "my parcel is lost", "31146", "three three one three oh")
    reply = call.say("No, not now.")
    assert reply.writes == ()
    assert "No claim" in reply.text
    assert repository.claims("31146") == []


def test_naming_the_claim_again_means_yes(call: Conversation, repository: Repository) -> None:
    _verified(call, "my parcel is lost", "31146", "three three one three oh")
    call.say("Please open a claim.")
    assert len(repository.claims("31146")) == 1


def test_a_second_call_finds_the_open_claim(engine: DialogueEngine, repository: Repository) -> None:
    first = new_call(engine, repository)
    _verified(first, "my parcel is lost", "31146", "three three one three oh")
    first.say("yes")
    reference = repository.claims("31146")[0].reference
    second = new_call(engine, repository, ANCHOR + timedelta(hours=2))
    text = _verified(second, "my parcel never arrived", "31146", "three three one three oh")
    spoken = ", ".join(_DIGIT_WORDS[int(digit)] for digit in reference)
    assert f"There's already a claim open for this order, reference {spoken}." in text
    assert len(repository.claims("31146")) == 1


def test_another_request_replaces_the_claim_question(
    call: Conversation, repository: Repository
) -> None:
    _verified(call, "it never arrived", "58813", "three three one three oh")
    reply = call.say("No, actually I want to return it.")
    assert "return it until" in reply.text
    assert repository.claims("58813") == []


# --- returns ----------------------------------------------------------------------------------


def test_a_return_request_after_confirmation(call: Conversation, repository: Repository) -> None:
    text = _verified(call, "I'd like to return my watch band", "58812", "c l a")
    assert "It was delivered on Sunday, the 10th of November" in text
    assert "until Tuesday, the 10th of December" in text  # 30 days
    assert "Return shipping is free." in text
    assert "We refund the 11 euros 99 you paid within 14 days of receiving it." in text
    assert repository.return_requests("58812") == []
    reply = call.say("yes")
    stored = repository.return_requests("58812")
    assert len(stored) == 1
    assert stored[0].reason == "I'd like to return my watch band"
    assert reply.actions[0]["type"] == "return"


def test_no_return_before_delivery(call: Conversation) -> None:
    text = _verified(call, "Can I get a refund?", "47700", "S W one A one A A")
    assert "hasn't been delivered yet" in text
    assert "within 30 days of delivery" in text
    assert call.state.pending is None


def test_a_return_after_the_window_is_offered_to_a_person(
    engine: DialogueEngine, repository: Repository
) -> None:
    late = new_call(engine, repository, ANCHOR + timedelta(days=40))
    text = _verified(late, "I want to send it back", "58812", "c l a")
    assert "the return window of 30 days ended on Tuesday, the 10th of December" in text
    reply = late.say("yes please")
    assert reply.actions[0]["type"] == "handoff"
    assert repository.return_requests("58812") == []


# --- duties and taxes ---------------------------------------------------------------------------


def test_duties_under_ddp_are_the_sellers(call: Conversation) -> None:
    text = _verified(call, "Do I have to pay import duties?", "45068", "six nine oh oh two")
    assert "D D P" in text
    assert "the seller pays the import duties and taxes" in text
    assert "You have nothing to pay on delivery." in text


def test_duties_under_dap_are_the_shoppers_with_documents(
    call: Conversation, policies: Policies
) -> None:
    text = _verified(call, "Why is customs asking me to pay tax?", "45067", "b e a")
    assert "D A P" in text
    assert "paid by you, the recipient" in text
    assert "Held at import customs: duties and taxes to be paid by the recipient" in text
    for document in policies.duties["DAP"].documents:
        assert document in text


# --- address change ---------------------------------------------------------------------------


def test_address_change_before_dispatch(call: Conversation, repository: Repository) -> None:
    text = _verified(call, "I need to change my delivery address", "10232", "o l i")
    assert "I can change the address" in text
    read_back = call.say("It's 14 Baker Street, London, N W one six X E")
    assert "The new address is 14 Baker Street, London, postcode N W one, six X E." in (
        read_back.text
    )
    assert read_back.expect is Expect.YES_NO
    assert repository.find_order("10232").customer.address == "14 Whitehall Place, London"  # type: ignore[union-attr]
    done = call.say("yes")
    assert done.actions[0]["type"] == "address_change"
    changed = repository.find_order("10232")
    assert changed is not None
    assert changed.customer.address == "14 Baker Street, London"
    assert changed.customer.postcode == "NW1 6XE"


def test_address_change_after_dispatch_offers_a_person(
    call: Conversation, repository: Repository, policies: Policies
) -> None:
    text = _verified(call, "Can you deliver it to a different address?", "47700", "0 3 2 1")
    assert "already been dispatched" in text
    for option in policies.address_change.after_dispatch_options:
        assert option in text
    reply = call.say("yes")
    handoffs = repository.handoffs()
    assert [h.reason for h in handoffs] == ["address change after dispatch"]
    assert reply.actions[0]["type"] == "handoff"


# --- in the caller's language ---------------------------------------------------------------


def test_a_lost_parcel_claim_is_proposed_in_german_with_the_policys_own_texts(
    repository: Repository, policies: Policies
) -> None:
    case = LOST_CASES[-1]  # last mile, with USPS
    call = new_call(DialogueEngine(repository, policies, language="de"), repository)
    proposal = _verified(call, "My parcel never arrived.", case.number, case.factor)
    assert "Die Verantwortung liegt bei dem Zustelldienst, USPS." in proposal
    for item in policies.stages[case.stage].evidence:
        assert policies.said["de"][item.name] in proposal
        assert item.name not in proposal
    assert proposal.endswith("Soll ich eine Reklamation eröffnen?")


def test_address_change_options_after_dispatch_in_french(
    repository: Repository, policies: Policies
) -> None:
    call = new_call(DialogueEngine(repository, policies, language="fr"), repository)
    text = _verified(call, "Can you deliver it to a different address?", "47700", "0 3 2 1")
    assert "Votre colis a déjà été expédié" in text
    for option in policies.address_change.after_dispatch_options:
        assert policies.said["fr"][option] in text
        assert option not in text


# --- the shop's words in the call's language ------------------------------------------------


def german_call(repository: Repository, policies: Policies) -> Conversation:
    return new_call(DialogueEngine(repository, policies, language="de"), repository)


def test_status_reads_the_event_text_in_the_call_language(
    repository: Repository, policies: Policies
) -> None:
    # 45069: its last scan reads "Arrived at import customs"; the demo shop translated it.
    call = german_call(repository, policies)
    text = _verified(call, "Where is my order?", "45069", "one oh one one nine")
    assert ": Beim Importzoll angekommen." in text
    assert "rrived at import customs" not in text


def test_a_text_the_shop_did_not_translate_is_read_as_stored(
    repository: Repository, policies: Policies, database: Database
) -> None:
    # The shop's German table no longer has the text: a German call reads the carrier's words.
    document = demo_document(ANCHOR)
    document["translations"] = {"de": {"Out for delivery": "In Zustellung"}}
    import_document(database, document, "the demo, a shorter German table")
    call = german_call(repository, policies)
    text = _verified(call, "Where is my order?", "45069", "one oh one one nine")
    assert ": arrived at import customs." in text


def test_the_lost_parcel_scan_is_read_in_the_call_language(
    repository: Repository, policies: Policies
) -> None:
    # 47702: handed to UPS 12 days ago, presumed lost at the last mile.
    call = german_call(repository, policies)
    text = _verified(call, "my parcel is lost", "47702", "nine four one one oh")
    assert "Zur Zustellung an UPS übergeben" in text
    assert "Handed over" not in text


def test_evidence_the_policy_does_not_translate_is_said_in_the_shops_words(
    repository: Repository, policies: Policies, database: Database
) -> None:
    # A policy file without German texts; the shop's table names one piece of evidence.
    document = demo_document(ANCHOR)
    document["translations"]["de"]["the courier's scan records"] = "die Scans des Zustellers"
    import_document(database, document, "the demo, with an evidence name")
    untranslated = replace(policies, said={})
    call = german_call(repository, untranslated)
    text = _verified(call, "my parcel is lost", "47702", "nine four one one oh")
    assert "die Scans des Zustellers" in text
    assert "the courier's scan records" not in text
    # The rest has no German words anywhere: said as the policy writes it.
    assert "the courier's delivery investigation" in text


def test_the_policys_own_translation_comes_before_the_shops(
    repository: Repository, policies: Policies, database: Database
) -> None:
    document = demo_document(ANCHOR)
    document["translations"]["de"]["the courier's scan records"] = "die Scans des Zustellers"
    import_document(database, document, "the demo, with an evidence name")
    call = german_call(repository, policies)
    text = _verified(call, "my parcel is lost", "47702", "nine four one one oh")
    assert policies.said["de"]["the courier's scan records"] in text
    assert "die Scans des Zustellers" not in text


def test_the_claim_stores_the_evidence_as_the_policy_names_it(
    repository: Repository, policies: Policies
) -> None:
    call = german_call(repository, policies)
    _verified(call, "my parcel is lost", "47702", "nine four one one oh")
    reply = call.say("yes")
    [claim] = [write for write in reply.writes if isinstance(write, ClaimWrite)]
    assert "the courier's scan records" in claim.evidence_held
