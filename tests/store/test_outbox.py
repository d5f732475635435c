"""The outbox on SQLite and PostgreSQL: each action's event stored with it, or neither."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.store.test_repository import NOW, attempt, claim, handoff, shop
from voice_agent.store.db import Database
from voice_agent.store.models import Claim, OutboxRow
from voice_agent.store.outbox import EVENTS, SHOP_REQUEST_EVENTS, Outbox, export_document
from voice_agent.store.repository import Repository, WriteError
from voice_agent.store.writes import (
    SHOP_REQUEST_KINDS,
    AddressChange,
    ReturnRequest,
    ShopRequest,
    TurnRecord,
    TurnWrite,
)

pytestmark = pytest.mark.usefixtures(shop.__name__)


def _rows(database: Database) -> list[OutboxRow]:
    with database.transaction() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def _count(database: Database, model: type[Claim] | type[OutboxRow]) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_action_stores_its_event_in_the_same_apply(
    repository: Repository, database: Database
) -> None:
    conversation = repository.start_conversation("sip", "+44 20 7946 0321", NOW)
    turn = TurnRecord(speaker="caller", text="my parcel is lost", started_at=NOW, ended_at=NOW)
    repository.apply(
        [
            attempt(True, NOW),
            claim(conversation_id=conversation),
            ReturnRequest(
                reference="RT-1",
                order_number="4567",
                reason="too small",
                skus=("PB-10K",),
                requested_at=NOW,
                conversation_id=conversation,
            ),
            ShopRequest(
                reference="SR-1",
                kind="cancellation",
                order_number="4567",
                details="changed mind",
                requested_at=NOW,
                reply_by=date(2025, 3, 21),
                conversation_id=conversation,
            ),
            AddressChange(
                order_number="4567",
                address="1 New Road, Leeds",
                postcode="LS1 1AA",
                requested_at=NOW,
                conversation_id=conversation,
            ),
            handoff(),
            TurnWrite(conversation_id=conversation, record=turn),
        ]
    )
    rows = _rows(database)
    assert [row.event for row in rows] == [
        "claim.opened",
        "return.requested",
        "cancellation.requested",
        "address.changed",
        "handoff.created",
    ]
    for row in rows:
        assert str(uuid.UUID(row.event_id, version=4)) == row.event_id
        assert (row.created_at, row.next_attempt_at, row.attempts) == (NOW, NOW, 0)
        assert row.delivered_at is None
        assert row.order_number == "4567"
        assert json.loads(json.dumps(row.payload)) == row.payload  # JSON as it is
    assert len({row.event_id for row in rows}) == len(rows)
    claimed, returned, cancelled, moved, handed = (row.payload for row in rows)
    assert claimed["reference"] == "CL-40213"
    assert claimed["promised_by"] == "2025-03-27"
    assert claimed["opened_at"] == "2025-03-20T14:00:00Z"
    assert claimed["conversation_id"] == conversation
    assert returned["skus"] == ["PB-10K"]
    assert (cancelled["kind"], cancelled["reply_by"]) == ("cancellation", "2025-03-21")
    assert (moved["address"], moved["postcode"]) == ("1 New Road, Leeds", "LS1 1AA")
    assert handed["facts"] == {"order": "4567", "verified": "yes"}
    assert handed["callback_by"] == "2025-03-20T18:00:00Z"
    assert "transcript" not in handed  # what the caller said to be verified stays here
    assert rows[4].conversation_id is None and handed["conversation_id"] is None


def test_a_batch_whose_later_write_fails_stores_no_action_and_no_event(
    repository: Repository, database: Database
) -> None:
    with pytest.raises(WriteError, match="no such order"):
        repository.apply(
            [
                claim(),
                ShopRequest(
                    reference="SR-2",
                    kind="invoice",
                    order_number="0000",
                    details="",
                    requested_at=NOW,
                ),
            ]
        )
    assert _count(database, Claim) == 0
    assert _count(database, OutboxRow) == 0


def test_a_shop_request_of_no_known_kind_is_refused_with_nothing_stored(
    repository: Repository, database: Database
) -> None:
    with pytest.raises(WriteError, match="no such kind 'refund_now'"):
        repository.apply(
            [
                claim(),
                ShopRequest(
                    reference="SR-3",
                    kind="refund_now",
                    order_number="4567",
                    details="",
                    requested_at=NOW,
                ),
            ]
        )
    assert _count(database, OutboxRow) == 0


def test_every_shop_request_kind_has_its_event() -> None:
    assert set(SHOP_REQUEST_EVENTS) == set(SHOP_REQUEST_KINDS)
    assert len(set(EVENTS)) == len(EVENTS)


def test_every_event_is_documented_for_the_shop() -> None:
    documented = (Path(__file__).parents[2] / "docs" / "webhooks.md").read_text()
    assert [event for event in EVENTS if f"| `{event}` |" not in documented] == []


def test_due_events_are_marked_failed_then_delivered(
    repository: Repository, database: Database
) -> None:
    repository.apply([claim(), claim(reference="CL-2", opened_at=NOW + timedelta(minutes=1))])
    outbox = Outbox(database)
    assert outbox.due(NOW - timedelta(seconds=1), 10) == []
    first, second = outbox.due(NOW + timedelta(minutes=1), 10)
    assert first.payload["reference"] == "CL-40213"
    outbox.mark_failed(first.event_id, "HTTP 503 Service Unavailable", NOW + timedelta(hours=1))
    (due,) = outbox.due(NOW + timedelta(minutes=5), 10)
    assert due.event_id == second.event_id
    outbox.mark_delivered(second.event_id, NOW + timedelta(minutes=5))
    assert outbox.due(NOW + timedelta(minutes=30), 10) == []
    (retried,) = outbox.due(NOW + timedelta(hours=1), 10)
    assert (retried.attempts, retried.last_error) == (1, "HTTP 503 Service Unavailable")
    outbox.mark_delivered(retried.event_id, NOW + timedelta(hours=1))
    outbox.mark_failed(retried.event_id, "late", NOW + timedelta(hours=2))  # delivered: kept
    entries = outbox.entries()
    assert [(entry.attempts, entry.delivered_at) for entry in entries] == [
        (2, NOW + timedelta(hours=1)),
        (1, NOW + timedelta(minutes=5)),
    ]
    assert entries[0].last_error is None


def test_entries_and_their_export_are_bounded_by_creation_time(
    repository: Repository, database: Database
) -> None:
    repository.apply([claim(), claim(reference="CL-2", opened_at=NOW + timedelta(days=1))])
    outbox = Outbox(database)
    later = outbox.entries(since=NOW + timedelta(hours=1))
    assert [entry.payload["reference"] for entry in later] == ["CL-2"]
    earlier = outbox.entries(since=NOW, until=NOW + timedelta(hours=1))
    (exported,) = export_document(earlier)["events"]
    assert exported == {
        "id": earlier[0].event_id,
        "event": "claim.opened",
        "created_at": "2025-03-20T14:00:00Z",
        "delivered_at": None,
        "data": earlier[0].payload,
    }
