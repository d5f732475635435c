"""The desk's store on SQLite and PostgreSQL: operators, sessions, the hand-off queue, case
workflows, call history search and detail, and the rows of the statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

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
from voice_agent.store.db import Database
from voice_agent.store.desk import DeskError, DeskRepository
from voice_agent.store.desk_calls import CallHistory, day_range
from voice_agent.store.desk_views import CallQuery
from voice_agent.store.repository import Repository
from voice_agent.store.writes import HandoffWrite

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
    desk.set_status("claim", seeded.claim, "in_review", "bob", NOW, "asked for photos")
    (claim,) = desk.cases("claim")
    assert claim.status == "in_review"
    assert [(e.action, e.status, e.text) for e in claim.events] == [
        ("status", "in_review", "asked for photos")
    ]
    before = snapshot(database)
    with pytest.raises(DeskError, match="'refunded' is not a status of a claim; one of open,"):
        desk.set_status("claim", seeded.claim, "refunded", "bob", NOW)
    with pytest.raises(DeskError, match="no claim 999"):
        desk.set_status("claim", 999, "open", "bob", NOW)
    with pytest.raises(DeskError, match="the note is empty"):
        desk.add_note("claim", seeded.claim, "bob", "   ", NOW)
    assert snapshot(database) == before


def test_confirming_an_address_change_stamps_it(desk: DeskRepository, seeded: Seeded) -> None:
    (change,) = desk.cases("address_change")
    assert desk.unconfirmed_address_changes() == 1
    desk.set_status("address_change", change.id, "confirmed", "alice", NOW)
    assert desk.unconfirmed_address_changes() == 0
    (confirmed,) = desk.cases("address_change")
    assert confirmed.status == "confirmed"
    assert ("confirmed at", NOW.isoformat(timespec="minutes")) in confirmed.details


def test_a_status_change_of_a_hand_off_keeps_taken_by_and_closed_at_true(
    desk: DeskRepository, seeded: Seeded
) -> None:
    desk.set_status("handoff", seeded.later_handoff, "closed", "bob", NOW)
    closed = desk.handoff(seeded.later_handoff)
    assert (closed.taken_by, closed.closed_at) == ("bob", NOW)
    desk.set_status("handoff", seeded.later_handoff, "open", "bob", NOW, "reopened")
    reopened = desk.handoff(seeded.later_handoff)
    assert (reopened.status, reopened.taken_by, reopened.closed_at) == ("open", None, None)


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
