"""A call the shop places about a decided claim: who calls and why, verification before any
detail, then the decision; on an answering machine, a message with no personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.dialogue.conftest import ANCHOR, POLICIES
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies, load_policies
from voice_agent.dialogue.purpose import (
    ClaimUpdate,
    PurposeError,
    ReturnUpdate,
    claim_update,
    return_update,
)
from voice_agent.dialogue.state import Awaiting, DialogueState
from voice_agent.store.db import Database
from voice_agent.store.models import Claim, Order, ReturnRequestRow
from voice_agent.store.repository import Repository
from voice_agent.store.writes import ReturnRequest

ORDER, POSTCODE = "31146", "33130"  # Maria Gonzalez's, shipped to Miami


def _claim(database: Database, status: str, order: str = ORDER) -> str:
    """A claim opened on a call for ``ORDER`` (as callers open them), then decided (and moved
    to ``order``)."""
    repository = Repository(database)
    dialogue = CallDialogue(DialogueEngine(repository, load_policies(POLICIES)))
    state = dialogue.greeting(dialogue.initial_state()).state
    for said in ("my parcel is lost", ORDER, POSTCODE, "yes"):
        reply = dialogue.respond(said, None, state, ANCHOR)
        repository.apply(reply.writes)
        state = reply.state
    (claim,) = repository.claims(ORDER)
    with database.transaction(write=True) as session:
        order_id = session.scalar(select(Order.id).where(Order.number == order))
        change = update(Claim).where(Claim.reference == claim.reference)
        session.execute(change.values(status=status, order_id=order_id))
    return claim.reference


def _update(
    repository: Repository, reference: str, offered: tuple[str, ...] = ("en",)
) -> ClaimUpdate:
    return claim_update(repository, reference, "Example Shop", "0800 123 456", offered)


def _said(state: DialogueState) -> str:
    return " ".join(line.text for line in state.transcript if line.speaker == "agent")


def test_a_decided_claim_is_told_only_after_verification(
    engine: DialogueEngine, repository: Repository, database: Database
) -> None:
    reference = _claim(database, "accepted")
    update_ = _update(repository, reference)
    assert (update_.order_number, update_.language) == (ORDER, "en")
    dialogue = CallDialogue(engine, purpose=update_)

    opening = dialogue.greeting(dialogue.initial_state())
    assert opening.chunks[0] == "Hello, this is Example Shop calling about your claim."
    assert opening.state.awaiting is Awaiting.ORDER_NUMBER
    state = dialogue.respond("hello, yes?", None, opening.state, ANCHOR).state
    state = dialogue.respond(ORDER, None, state, ANCHOR).state
    assert state.awaiting is Awaiting.FACTOR
    state = dialogue.respond("90210", None, state, ANCHOR).state  # the wrong postcode
    spoken_reference = engine.speech.digits(reference)
    before = _said(state)
    assert "accepted" not in before and spoken_reference not in before

    told = dialogue.respond(POSTCODE, None, state, ANCHOR)
    assert told.chunks[0] == "Thank you, that matches."
    assert told.chunks[1].startswith(f"Your claim {spoken_reference} has been accepted.")
    assert told.chunks[-1] == "Is there anything else I can help with?"
    assert told.state.awaiting is Awaiting.ANYTHING_ELSE
    done = dialogue.respond("no, that's all, thanks", None, told.state, ANCHOR)
    assert done.end_call
    assert not any("accepted" in chunk for chunk in done.chunks)  # told once, not per turn


def test_a_rejected_claim_is_told_as_declined(
    engine: DialogueEngine, repository: Repository, database: Database
) -> None:
    reference = _claim(database, "rejected")
    dialogue = CallDialogue(engine, purpose=_update(repository, reference))
    state = dialogue.greeting(dialogue.initial_state()).state
    state = dialogue.respond(ORDER, None, state, ANCHOR).state
    told = dialogue.respond(POSTCODE, None, state, ANCHOR)
    assert any("has been declined" in chunk for chunk in told.chunks)


def test_a_machine_hears_who_called_and_how_to_call_back_and_nothing_personal(
    engine: DialogueEngine, repository: Repository, database: Database
) -> None:
    reference = _claim(database, "accepted")
    dialogue = CallDialogue(engine, purpose=_update(repository, reference), leave_message=True)
    message = dialogue.greeting(dialogue.initial_state())
    assert message.end_call
    said = " ".join(message.chunks)
    assert said == (
        "Hello, this is Example Shop calling about your claim. "
        "Please call us back on 0800 123 456. Thank you, goodbye."
    )
    for personal in ("Maria", "Gonzalez", ORDER, reference, engine.speech.digits(reference)):
        assert personal not in said


def test_the_call_is_in_the_orders_language_when_offered(
    policies: Policies, repository: Repository, database: Database
) -> None:
    reference = _claim(database, "accepted", order="10457")  # Lukas, Munich
    assert _update(repository, reference, ("en",)).language is None  # German not offered
    update_ = _update(repository, reference, ("en", "de"))
    assert update_.language == "de"
    engine = DialogueEngine(repository, policies, offered=("en", "de"))
    dialogue = CallDialogue(engine, purpose=update_, language=update_.language)
    opening = dialogue.greeting(dialogue.initial_state())
    german = "Guten Tag, hier ist Example Shop, wir rufen wegen Ihrer Reklamation an."
    assert opening.chunks[0] == german


def test_unknown_and_undecided_claims_are_refused(
    repository: Repository, database: Database
) -> None:
    with pytest.raises(PurposeError, match="no claim with reference '99999999'"):
        _update(repository, "99999999")
    reference = _claim(database, "in_review")
    with pytest.raises(PurposeError, match=f"claim {reference} is in_review, not decided"):
        _update(repository, reference)


def test_a_placed_call_is_stored_as_outbound(repository: Repository) -> None:
    inbound = repository.start_conversation("sip", "shopper@host", ANCHOR)
    placed = repository.start_conversation(
        "sip", "shopper@host", ANCHOR, purpose="claim-update", case_reference="12345678"
    )
    stored = {c.id: c for c in repository.conversations()}
    assert (stored[inbound].direction, stored[inbound].purpose) == ("inbound", None)
    assert (stored[placed].direction, stored[placed].purpose) == ("outbound", "claim-update")
    assert stored[placed].case_reference == "12345678"


def _return(repository: Repository, database: Database, status: str) -> str:
    """A return of ``ORDER`` requested (as the agent files them), then moved to ``status``."""
    reference = "R-4711"
    request = ReturnRequest(
        reference=reference, order_number=ORDER, reason="too small", skus=(), requested_at=ANCHOR
    )
    repository.apply((request,))
    with database.transaction(write=True) as session:
        change = update(ReturnRequestRow).where(ReturnRequestRow.reference == reference)
        session.execute(change.values(status=status))
    return reference


def _return_update(repository: Repository, reference: str) -> ReturnUpdate:
    return return_update(repository, reference, "Example Shop", None, ("en",))


def test_a_refunded_return_is_told_only_after_verification(
    engine: DialogueEngine, repository: Repository, database: Database
) -> None:
    reference = _return(repository, database, "refunded")
    update_ = _return_update(repository, reference)
    assert (update_.order_number, update_.reference, update_.name) == (
        ORDER,
        reference,
        "return-update",
    )
    dialogue = CallDialogue(engine, purpose=update_)
    opening = dialogue.greeting(dialogue.initial_state())
    assert opening.chunks[0] == "Hello, this is Example Shop calling about your return."
    state = dialogue.respond(ORDER, None, opening.state, ANCHOR).state
    state = dialogue.respond("90210", None, state, ANCHOR).state  # the wrong postcode
    assert "refunded" not in _said(state)
    told = dialogue.respond(POSTCODE, None, state, ANCHOR)
    assert any(f"Your return {reference} has been refunded" in chunk for chunk in told.chunks)


def test_a_machine_hears_about_a_return_without_personal_data(
    engine: DialogueEngine, repository: Repository, database: Database
) -> None:
    reference = _return(repository, database, "refunded")
    purpose = _return_update(repository, reference)
    dialogue = CallDialogue(engine, purpose=purpose, leave_message=True)
    said = " ".join(dialogue.greeting(dialogue.initial_state()).chunks)
    assert said.startswith("Hello, this is Example Shop calling about your return.")
    for personal in ("Maria", "Gonzalez", ORDER, reference, "refund"):
        assert personal not in said


def test_unknown_and_unrefunded_returns_are_refused(
    repository: Repository, database: Database
) -> None:
    with pytest.raises(PurposeError, match="no return with reference 'R-0'"):
        _return_update(repository, "R-0")
    reference = _return(repository, database, "received")
    with pytest.raises(PurposeError, match=f"return {reference} is received, not refunded"):
        _return_update(repository, reference)
