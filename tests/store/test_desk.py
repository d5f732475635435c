"""The desk's store on SQLite and PostgreSQL: operators, sessions, the hand-off queue, case
workflows (allowed transitions, changes based on a stale status), the events desk actions
send the shop, call history search and detail, and the rows of the statistics."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.desk.seed import (
    ANNA_EMAIL,
    ANNA_ORDER,
    CALLBACK_NUMBER,
    OLIVER_ORDER,
    SIP_NUMBER,
    Seeded,
    seed_calls,
)
from tests.store.conftest import snapshot
from voice_agent.clock import iso_time
from voice_agent.store.db import Database
from voice_agent.store.demo import demo_document
from voice_agent.store.desk import DeskError, DeskRepository
from voice_agent.store.desk_calls import CallHistory, day_range
from voice_agent.store.desk_views import CallQuery
from voice_agent.store.importer import ImportSummary, import_document
from voice_agent.store.models import CaseEventRow, Claim
from voice_agent.store.outbox import EVENTS, Outbox
from voice_agent.store.repository import Repository
from voice_agent.store.writes import AddressChange, HandoffWrite

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(database: Database) -> DeskRepository:
    return DeskRepository(database)


@pytest.fixture
def seeded(database: Database) -> Seeded:
    return seed_calls(database, NOW)


# --- operators and sessions ------------------------------------------------------------------


def test_operators_are_unique_by_name_and_have_a_known_role(desk: DeskRepository) -> None:
    added = desk.add_operator("alice", "hash-a", "admin", NOW)
    assert (added.username, added.role, added.disabled) == ("alice", "admin", False)
    with pytest.raises(DeskError, match="already exists"):
        desk.add_operator("alice", "hash-b", "agent", NOW)
    with pytest.raises(DeskError, match="role 'boss'"):
        desk.add_operator("carol", "hash-c", "boss", NOW)
    assert [operator.username for operator in desk.operators()] == ["alice"]
    found = desk.credentials("alice")
    assert found is not None and found.password_hash == "hash-a"
    assert desk.credentials("nobody") is None


def test_a_session_lasts_until_it_expires_or_ends(desk: DeskRepository) -> None:
    operator = desk.add_operator("bob", "hash", "agent", NOW)
    desk.start_session(operator.id, "a" * 64, "csrf-1", NOW, NOW + timedelta(hours=1))
    found = desk.session("a" * 64, NOW + timedelta(minutes=59))
    assert found is not None
    assert (found.operator.username, found.csrf_token) == ("bob", "csrf-1")
    assert desk.session("a" * 64, NOW + timedelta(hours=1)) is None
    assert desk.session("b" * 64, NOW) is None
    desk.end_session("a" * 64)
    assert desk.session("a" * 64, NOW) is None


def test_disabling_an_operator_ends_their_sessions(desk: DeskRepository) -> None:
    operator = desk.add_operator("bob", "hash", "agent", NOW)
    desk.start_session(operator.id, "a" * 64, "csrf", NOW, NOW + timedelta(hours=1))
    assert desk.set_disabled("bob", True).disabled
    assert desk.session("a" * 64, NOW) is None
    desk.start_session(operator.id, "c" * 64, "csrf", NOW, NOW + timedelta(hours=1))
    assert desk.session("c" * 64, NOW) is None  # disabled: no session counts
    assert not desk.set_disabled("bob", False).disabled
    with pytest.raises(DeskError, match="no operator named 'eve'"):
        desk.set_disabled("eve", True)


# --- hand-offs ---------------------------------------------------------------------------------


def test_the_queue_lists_the_soonest_promise_first_with_how_to_reach_the_caller(
    desk: DeskRepository, seeded: Seeded
) -> None:
    queue = desk.handoff_queue()
    assert [case.reference for case in queue] == ["HO-4002", "HO-4001"]
    phone, web = queue
    assert phone.reach == SIP_NUMBER  # no contact given: the number the caller called from
    assert web.reach == ANNA_EMAIL  # the contact they gave
    assert phone.overdue(NOW) and not web.overdue(NOW)
    assert web.facts == {"verified": "order 10231 (postcode)"}
    assert (phone.order_number, web.order_number) == (OLIVER_ORDER, ANNA_ORDER)


def test_a_web_caller_without_a_contact_has_no_way_back(
    database: Database, desk: DeskRepository
) -> None:
    seed_calls(database, NOW)
    repository = Repository(database)
    call = repository.start_conversation("webrtc", "web:203.0.113.5", NOW)
    repository.apply(
        [
            HandoffWrite(
                reference="HO-4003",
                reason="r",
                transcript="",
                facts={},
                callback_by=NOW,
                created_at=NOW,
                conversation_id=call,
            )
        ]
    )
    case = next(case for case in desk.handoff_queue() if case.reference == "HO-4003")
    assert (case.channel, case.contact, case.reach) == ("webrtc", None, None)


def test_take_note_and_close_are_each_recorded(desk: DeskRepository, seeded: Seeded) -> None:
    handoff = seeded.overdue_handoff
    desk.take_handoff(handoff, "bob", NOW)
    desk.add_note("handoff", handoff, "bob", "  rang, voicemail  ", NOW + timedelta(minutes=1))
    desk.close_handoff(handoff, "bob", NOW + timedelta(minutes=2), "called back, sorted")
    case = desk.handoff(handoff)
    assert (case.status, case.taken_by) == ("closed", "bob")
    assert case.closed_at == NOW + timedelta(minutes=2)
    assert not case.overdue(NOW + timedelta(days=1))
    history = [(e.operator, e.action, e.status, e.text) for e in case.events]
    assert history == [
        ("bob", "take", "taken", ""),
        ("bob", "note", None, "rang, voicemail"),
        ("bob", "status", "closed", "called back, sorted"),
    ]
    assert desk.handoff_queue()[-1].reference == case.reference  # closed ones come last


def test_a_hand_off_taken_by_one_operator_is_not_taken_by_another(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    desk.take_handoff(seeded.later_handoff, "alice", NOW)
    before = snapshot(database)
    with pytest.raises(DeskError, match="was taken by alice"):
        desk.take_handoff(seeded.later_handoff, "bob", NOW)
    desk.close_handoff(seeded.later_handoff, "alice", NOW)
    with pytest.raises(DeskError, match="closed"):
        desk.take_handoff(seeded.later_handoff, "bob", NOW)
    with pytest.raises(DeskError, match="no hand-off 999"):
        desk.take_handoff(999, "bob", NOW)
    assert (
        snapshot(database)["case_events"][: len(before["case_events"])] == (before["case_events"])
    )


# --- cases -------------------------------------------------------------------------------------


def test_every_case_kind_is_listed_with_its_facts(desk: DeskRepository, seeded: Seeded) -> None:
    (claim,) = desk.cases("claim")
    assert (claim.reference, claim.title, claim.status) == ("CL-1001", "damaged item claim", "open")
    assert ("photos", "ask the shopper for photos") in claim.details
    assert [item.reference for item in desk.cases("return")] == ["RT-2001"]
    requests = {item.reference: item.title for item in desk.cases("shop_request")}
    assert requests == {"SR-3001": "cancellation", "SR-3002": "invoice"}
    (change,) = desk.cases("address_change")
    assert change.status == "unconfirmed"
    assert ("new address", "Invalidenstraße 1, Berlin, 10115") in change.details
    with pytest.raises(DeskError, match="no case kind 'parcel'"):
        desk.cases("parcel")


def test_a_status_change_follows_the_kinds_workflow_and_is_recorded(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    desk.set_status("claim", seeded.claim, "in_review", "bob", NOW, "asked for photos", seen="open")
    (claim,) = desk.cases("claim")
    assert claim.status == "in_review"
    assert [(e.action, e.status, e.text) for e in claim.events] == [
        ("status", "in_review", "asked for photos")
    ]
    before = snapshot(database)
    with pytest.raises(DeskError, match="'refunded' is not a status of a claim; one of open,"):
        desk.set_status("claim", seeded.claim, "refunded", "bob", NOW, seen="in_review")
    with pytest.raises(
        DeskError,
        match=r"claim CL-1001 is in review; it may go to accepted, rejected next, not closed$",
    ):
        desk.set_status("claim", seeded.claim, "closed", "bob", NOW, seen="in_review")
    with pytest.raises(DeskError, match="no claim 999"):
        desk.set_status("claim", 999, "in_review", "bob", NOW, seen="open")
    with pytest.raises(DeskError, match="no case kind 'parcel'"):
        desk.set_status("parcel", seeded.claim, "open", "bob", NOW, seen="open")
    with pytest.raises(DeskError, match="the note is empty"):
        desk.add_note("claim", seeded.claim, "bob", "   ", NOW)
    assert snapshot(database) == before  # no status, no history, no outbox event


def test_a_change_from_a_status_the_case_no_longer_has_is_refused_naming_who_changed_it(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    # Alice and Bob both opened the claim while it was open; Alice's change came first.
    desk.set_status("claim", seeded.claim, "in_review", "alice", NOW, seen="open")
    before = snapshot(database)
    with pytest.raises(
        DeskError,
        match=r"claim CL-1001 was changed meanwhile by alice: it is in review now, not open. "
        r"Nothing was changed",
    ):
        desk.set_status("claim", seeded.claim, "in_review", "bob", NOW, "mine", seen="open")
    assert snapshot(database) == before
    (change,) = desk.cases("address_change")
    _import_demo(database)  # the shop's file does not carry it: still unconfirmed
    desk.set_status("address_change", change.id, "confirmed", "alice", NOW, seen="unconfirmed")
    with pytest.raises(DeskError, match=r"AC-.* changed meanwhile by alice: it is confirmed now"):
        desk.set_status("address_change", change.id, "rejected", "bob", NOW, seen="unconfirmed")


def test_of_two_changes_at_once_the_second_waits_for_the_first_and_is_refused(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    refused: list[Exception] = []

    def bobs_change() -> None:
        try:
            desk.set_status("claim", seeded.claim, "in_review", "bob", NOW, seen="open")
        except DeskError as error:
            refused.append(error)

    bob = threading.Thread(target=bobs_change)
    # Alice's change, stopped half-way: the claim's row is hers until her transaction ends.
    with database.transaction(write=True) as session:
        claim = session.get(Claim, seeded.claim, with_for_update=True)
        assert claim is not None
        claim.status = "in_review"
        session.add(_status_event(seeded.claim, "alice", "in_review"))
        session.flush()
        bob.start()
        if database.backend == "postgresql":
            # Bob read the claim as open and wrote, or waits for the row: either way he waits.
            _until_a_session_waits_for_a_lock(database)
    bob.join(timeout=60)
    assert not bob.is_alive()
    assert [str(error) for error in refused] == [
        "claim CL-1001 was changed meanwhile by alice: it is in review now, not open. "
        "Nothing was changed; reload the page to see it."
    ]
    assert [e.operator for e in desk.case_events("claim", seeded.claim)] == ["alice"]


def _status_event(case_id: int, operator: str, status: str) -> CaseEventRow:
    return CaseEventRow(
        case_kind="claim",
        case_id=case_id,
        operator=operator,
        action="status",
        status=status,
        text="",
        at=NOW,
    )


def _until_a_session_waits_for_a_lock(database: Database) -> None:
    """Poll PostgreSQL (a bound, not a measure) until another session waits for a lock."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(600):
        with database.engine.connect() as connection:
            if connection.scalar(waiting):
                return
        time.sleep(0.05)
    raise AssertionError("the second change never waited for the first")


def _walk(
    desk: DeskRepository, kind: str, case_id: int, *statuses: str, admin: bool = False
) -> None:
    for seen, status in itertools.pairwise(statuses):
        desk.set_status(kind, case_id, status, "alice", NOW, seen=seen, admin=admin)


def test_every_kind_walks_its_workflow_to_the_end_and_only_an_admin_reopens(
    desk: DeskRepository, seeded: Seeded
) -> None:
    _walk(desk, "claim", seeded.claim, "open", "in_review", "accepted", "closed")
    with pytest.raises(DeskError, match=r"is closed, which is final; .*only an admin may reopen"):
        desk.set_status("claim", seeded.claim, "in_review", "bob", NOW, seen="closed")
    _walk(desk, "claim", seeded.claim, "closed", "in_review", "rejected", admin=True)
    (claim,) = desk.cases("claim")
    assert [e.status for e in claim.events] == [
        "in_review", "accepted", "closed", "in_review", "rejected"
    ]  # fmt: skip
    (back,) = desk.cases("return")
    with pytest.raises(DeskError, match="it may go to approved, rejected next, not refunded"):
        desk.set_status("return", back.id, "refunded", "bob", NOW, seen="open")
    _walk(desk, "return", back.id, "open", "approved", "received", "refunded", "closed")
    with pytest.raises(DeskError, match="return RT-2001 is closed, which is final; it cannot"):
        desk.set_status("return", back.id, "open", "alice", NOW, seen="closed", admin=True)
    cancellation = next(item for item in desk.cases("shop_request") if item.title == "cancellation")
    _walk(desk, "shop_request", cancellation.id, "open", "in_progress", "declined")
    (change,) = desk.cases("address_change")
    _walk(desk, "address_change", change.id, "unconfirmed", "rejected")
    with pytest.raises(DeskError, match="is rejected, which is final"):
        desk.set_status(
            "address_change", change.id, "unconfirmed", "alice", NOW, seen="rejected", admin=True
        )


def test_confirming_an_address_change_stamps_it(desk: DeskRepository, seeded: Seeded) -> None:
    (change,) = desk.cases("address_change")
    assert desk.unconfirmed_address_changes() == 1
    desk.set_status("address_change", change.id, "confirmed", "alice", NOW, seen="unconfirmed")
    assert desk.unconfirmed_address_changes() == 0
    (confirmed,) = desk.cases("address_change")
    assert confirmed.status == "confirmed"
    assert ("confirmed at", NOW.isoformat(timespec="minutes")) in confirmed.details


def _import_demo(database: Database) -> ImportSummary:
    """The shop's file again, with Anna's address as before the agent changed it."""
    return import_document(database, demo_document(NOW), "demo")


def _anna_address(database: Database) -> str | None:
    order = Repository(database).find_order(ANNA_ORDER)
    assert order is not None
    return order.customer.address


@pytest.mark.parametrize("decision", ["confirmed", "rejected"])
def test_an_address_change_decided_at_the_desk_no_longer_holds_back_the_shops_file(
    database: Database, desk: DeskRepository, seeded: Seeded, decision: str
) -> None:
    (change,) = desk.cases("address_change")
    agents = _anna_address(database)
    assert len(_import_demo(database).kept_address_changes) == 1  # unconfirmed: kept
    assert _anna_address(database) == agents
    desk.set_status("address_change", change.id, decision, "alice", NOW, seen="unconfirmed")
    report = _import_demo(database)
    assert (report.kept_address_changes, report.confirmed_address_changes) == ((), 0)
    assert _anna_address(database) != agents  # the file's address stands now
    (decided,) = desk.cases("address_change")
    assert decided.status == decision  # the import changed nothing of the desk's decision


def test_a_rejected_address_change_gives_the_order_its_address_before_unless_changed_since(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    (first,) = desk.cases("address_change")
    (before,) = Repository(database).unconfirmed_address_changes()
    later = AddressChange(
        order_number=ANNA_ORDER,
        address="Torstraße 5, Berlin",
        postcode="10119",
        requested_at=NOW,
        conversation_id=seeded.web_call,
    )
    Repository(database).apply([later])
    second = next(item for item in desk.cases("address_change") if item.id != first.id)
    desk.set_status("address_change", first.id, "rejected", "alice", NOW, seen="unconfirmed")
    assert _anna_address(database) == later.address  # the later change stands
    desk.set_status("address_change", second.id, "rejected", "alice", NOW, seen="unconfirmed")
    assert _anna_address(database) == before.previous_address  # both rejected: as at first
    assert before.previous_address not in (None, before.address, later.address)


def test_a_status_change_of_a_hand_off_keeps_taken_by_and_closed_at_true(
    desk: DeskRepository, seeded: Seeded
) -> None:
    desk.set_status("handoff", seeded.later_handoff, "taken", "bob", NOW, seen="open")
    desk.set_status("handoff", seeded.later_handoff, "open", "bob", NOW, "not mine", seen="taken")
    released = desk.handoff(seeded.later_handoff)
    assert (released.status, released.taken_by) == ("open", None)
    desk.set_status("handoff", seeded.later_handoff, "closed", "bob", NOW, seen="open")
    closed = desk.handoff(seeded.later_handoff)
    assert (closed.taken_by, closed.closed_at) == ("bob", NOW)
    with pytest.raises(DeskError, match=r"HO-4001 is closed, which is final; .*only an admin"):
        desk.set_status("handoff", seeded.later_handoff, "open", "bob", NOW, seen="closed")
    desk.set_status(
        "handoff", seeded.later_handoff, "open", "alice", NOW, "reopened", seen="closed", admin=True
    )
    reopened = desk.handoff(seeded.later_handoff)
    assert (reopened.status, reopened.taken_by, reopened.closed_at) == ("open", None, None)


# --- what reaches the shop ---------------------------------------------------------------------


def _events(database: Database) -> list[tuple[str, dict[str, Any]]]:
    return [(entry.event, entry.payload) for entry in Outbox(database).entries(since=NOW)]


def test_every_desk_action_reaches_the_outbox_with_the_action(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    later = NOW + timedelta(minutes=1)
    desk.take_handoff(seeded.overdue_handoff, "bob", later)
    desk.take_handoff(seeded.overdue_handoff, "bob", later)  # taking it again: nothing new
    desk.add_note("handoff", seeded.overdue_handoff, "bob", "voicemail", later)
    desk.close_handoff(seeded.overdue_handoff, "bob", later, " called back ")
    desk.set_status("claim", seeded.claim, "in_review", "alice", later, "photos", seen="open")
    (change,) = desk.cases("address_change")
    desk.set_status("address_change", change.id, "confirmed", "alice", later, seen="unconfirmed")
    cancellation = next(item for item in desk.cases("shop_request") if item.title == "cancellation")
    desk.set_status("shop_request", cancellation.id, "in_progress", "bob", later, seen="open")
    events = _events(database)
    assert [event for event, _ in events] == [
        "handoff.taken",
        "case.noted",
        "handoff.closed",
        "claim.status_changed",
        "address.confirmed",
        "shop_request.status_changed",
    ]
    taken, noted, closed, claim, address, request = (data for _, data in events)
    assert taken == {
        "case": "handoff",
        "reference": "HO-4002",
        "order_number": OLIVER_ORDER,
        "operator": "bob",
        "note": "",
        "at": "2026-12-02T10:01:00Z",
        "conversation_id": seeded.sip_call,
        "from_status": "open",
        "status": "taken",
    }
    assert (noted["reference"], noted["note"], "status" in noted) == ("HO-4002", "voicemail", False)
    assert (closed["from_status"], closed["status"], closed["note"]) == (
        "taken",
        "closed",
        "called back",
    )
    assert "contact" not in closed and "facts" not in closed  # told once, in handoff.created
    assert claim | {"at": ""} == {
        "case": "claim",
        "reference": "CL-1001",
        "order_number": ANNA_ORDER,
        "operator": "alice",
        "note": "photos",
        "at": "",
        "conversation_id": seeded.web_call,
        "from_status": "open",
        "status": "in_review",
    }
    # The address change as address.changed named it: its order and the time it was asked for.
    assert (address["order_number"], address["reference"]) == (ANNA_ORDER, f"AC-{change.id}")
    assert address["requested_at"] == iso_time(seeded.now - timedelta(hours=2))
    assert "address" not in address and "postcode" not in address
    assert (request["kind"], request["status"]) == ("cancellation", "in_progress")
    assert {event for event, _ in events} <= set(EVENTS)


def test_a_refused_desk_action_tells_the_shop_nothing(
    database: Database, desk: DeskRepository, seeded: Seeded
) -> None:
    desk.take_handoff(seeded.later_handoff, "alice", NOW)
    before = len(_events(database))
    with pytest.raises(DeskError, match="was taken by alice"):
        desk.take_handoff(seeded.later_handoff, "bob", NOW)
    with pytest.raises(DeskError, match="changed meanwhile by alice"):
        desk.set_status("handoff", seeded.later_handoff, "closed", "bob", NOW, seen="open")
    with pytest.raises(DeskError, match="changed meanwhile by alice: it is taken now"):
        desk.close_handoff(seeded.later_handoff, "bob", NOW, "sorted", seen="open")
    assert len(_events(database)) == before


# --- call history ------------------------------------------------------------------------------


def _found(history: CallHistory, **fields: object) -> list[int]:
    return [call.id for call in history.search(CallQuery(**fields)).calls]  # type: ignore[arg-type]


def test_calls_are_found_by_order_phone_and_email(database: Database, seeded: Seeded) -> None:
    history = CallHistory(database)
    both = [seeded.sip_call, seeded.web_call]  # newest first
    assert _found(history) == both
    assert _found(history, order_number=ANNA_ORDER) == [seeded.web_call]
    assert _found(history, order_number=OLIVER_ORDER) == [seeded.sip_call]  # checks only
    assert _found(history, order_number="99999") == []
    # Anna's order phone, written three ways
    for phone in ("+49 30 5550 1234", "030 55501234", "0049-30-5550-1234"):
        assert _found(history, phone=phone) == [seeded.web_call], phone
    assert _found(history, phone=CALLBACK_NUMBER) == [seeded.sip_call]  # the caller id
    assert _found(history, email=ANNA_EMAIL.upper()) == [seeded.web_call]
    assert _found(history, email="oliver.bennett@example.co.uk") == [seeded.sip_call]
    assert _found(history, email=ANNA_EMAIL, phone=CALLBACK_NUMBER) == []
    with pytest.raises(DeskError, match="no digits"):
        history.search(CallQuery(phone="call me"))


def test_a_hand_off_contact_finds_its_call(database: Database, seeded: Seeded) -> None:
    repository = Repository(database)
    call = repository.start_conversation("webrtc", "web:203.0.113.5", NOW)
    repository.apply(
        [
            HandoffWrite(
                reference="HO-4004",
                reason="r",
                transcript="",
                facts={},
                callback_by=NOW,
                created_at=NOW,
                conversation_id=call,
                contact="+1 (415) 555-0100",
            ),
            HandoffWrite(
                reference="HO-4005",
                reason="r",
                transcript="",
                facts={},
                callback_by=NOW,
                created_at=NOW,
                conversation_id=call,
                contact="Shopper@Example.org",
            ),
        ]
    )
    history = CallHistory(database)
    assert _found(history, phone="4155550100") == [call]
    assert _found(history, email="shopper@example.org") == [call]


def test_the_date_range_includes_both_days_and_pages_hold_their_share(
    database: Database, seeded: Seeded
) -> None:
    history = CallHistory(database)
    today, yesterday = NOW.date(), NOW.date() - timedelta(days=1)
    assert len(_found(history, since=today, until=today)) == 2
    assert _found(history, since=yesterday, until=yesterday) == []
    assert _found(history, until=yesterday) == []
    first = history.search(CallQuery(per_page=1))
    second = history.search(CallQuery(per_page=1, page=2))
    assert (first.total, first.pages) == (2, 2)
    assert [first.calls[0].id, second.calls[0].id] == [seeded.sip_call, seeded.web_call]


def test_a_call_in_full_shows_what_was_heard_and_what_was_done(
    database: Database, seeded: Seeded
) -> None:
    detail = CallHistory(database).detail(seeded.web_call)
    assert detail.summary.outcome == "handoff"
    assert detail.summary.order_numbers == (ANNA_ORDER,)
    speakers = [turn.speaker for turn in detail.turns]
    assert speakers == ["agent", "caller", "agent"]
    cut = detail.turns[2]
    assert cut.interrupted and cut.played_text == "I am sorry to hear that."
    assert cut.latency_marks["first_audio_sent"] == 410.0
    kinds = sorted(action.kind for action in detail.actions)
    assert kinds == sorted(
        [
            "verification",
            "claim",
            "return",
            "shop_request",
            "shop_request",
            "address_change",
            "handoff",
        ]
    )
    check = next(action for action in detail.actions if action.kind == "verification")
    assert check.summary == f"identity check on order {ANNA_ORDER} by postcode: passed"
    phone = CallHistory(database).detail(seeded.sip_call)
    outcomes = [action.status for action in phone.actions if action.kind == "verification"]
    assert outcomes == ["failed"] * 3
    (lock,) = [action for action in phone.actions if action.kind == "lock"]
    assert "locked for this caller" in lock.summary
    with pytest.raises(DeskError, match="no call 999"):
        CallHistory(database).detail(999)


def test_statistics_rows_cover_the_range_only(database: Database, seeded: Seeded) -> None:
    rows = CallHistory(database).stats_rows(*day_range(NOW.date(), NOW.date()))
    assert sorted(outcome or "" for _, outcome in rows.calls) == ["handoff", "handoff"]
    assert sorted(success for _, success in rows.verifications) == [False, False, False, True]
    assert len(rows.locks) == 1
    assert [ms for _, ms in rows.first_audio] == [410.0]
    empty = CallHistory(database).stats_rows(*day_range(date(2020, 1, 1), date(2020, 1, 31)))
    assert (empty.calls, empty.verifications, empty.locks, empty.first_audio) == ((), (), (), ())
