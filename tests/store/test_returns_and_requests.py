"""The shop's return and refund records (an optional part of the import format), requests
recorded for the shop, claims of every kind, and orders found by phone number or e-mail."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.store.test_repository import NOW, claim
from tests.store.test_shopfile import example, first_order
from voice_agent.store.db import Database
from voice_agent.store.importer import import_document
from voice_agent.store.models import phone_key
from voice_agent.store.repository import Repository
from voice_agent.store.shopfile import Problem, validate
from voice_agent.store.views import RefundView, ReturnRecordView
from voice_agent.store.writes import ShopRequest


def _with_records() -> dict[str, object]:
    document = example()
    order = first_order(document)
    order["returns"] = [
        {"requested_at": "2025-03-10T09:00:00Z", "received_at": "2025-03-14T16:30:00Z"}
    ]
    order["refunds"] = [
        {"amount": Decimal("59.98"), "status": "paid", "at": "2025-03-17T08:00:00Z"}
    ]
    return document


def test_returns_and_refunds_are_imported_and_read(
    database: Database, repository: Repository
) -> None:
    import_document(database, _with_records(), "with records")
    order = repository.find_order("4567")
    assert order is not None
    assert order.returns == (
        ReturnRecordView(
            datetime(2025, 3, 10, 9, tzinfo=UTC), datetime(2025, 3, 14, 16, 30, tzinfo=UTC)
        ),
    )
    assert order.refunds == (
        RefundView(Decimal("59.98"), "paid", datetime(2025, 3, 17, 8, tzinfo=UTC)),
    )
    other = repository.find_order("4568")
    assert other is not None
    assert (other.returns, other.refunds) == ((), ())


def test_a_file_without_records_keeps_the_stored_ones(
    database: Database, repository: Repository
) -> None:
    import_document(database, _with_records(), "with records")
    import_document(database, example(), "older file")  # no returns, no refunds: kept
    order = repository.find_order("4567")
    assert order is not None
    assert len(order.returns) == 1
    assert len(order.refunds) == 1
    emptied = example()
    first_order(emptied)["refunds"] = []
    import_document(database, emptied, "refunds cleared")
    order = repository.find_order("4567")
    assert order is not None
    assert order.refunds == ()
    assert len(order.returns) == 1


@pytest.mark.parametrize(
    ("field", "value", "path", "reason"),
    [
        (
            "refunds",
            [{"amount": 5, "status": "sent", "at": "2025-03-17T08:00:00Z"}],
            "$.orders[0].refunds[0].status",
            "unknown value 'sent' (expected one of pending, approved, paid, refused)",
        ),
        (
            "refunds",
            [{"amount": 5, "status": "paid"}],
            "$.orders[0].refunds[0].at",
            "missing",
        ),
        (
            "returns",
            [{"requested_at": "2025-03-10T09:00:00Z", "received_at": "2025-03-09T09:00:00Z"}],
            "$.orders[0].returns[0].received_at",
            "received at 2025-03-09T09:00:00Z, before the return was requested "
            "(2025-03-10T09:00:00Z)",
        ),
        (
            "returns",
            [{"requested_at": "2025-03-10 09:00"}],
            "$.orders[0].returns[0].requested_at",
            "bad time '2025-03-10 09:00': the time has no UTC offset (add Z or e.g. +02:00)",
        ),
    ],
)
def test_bad_records_are_reported_with_their_path(
    field: str, value: object, path: str, reason: str
) -> None:
    document = example()
    first_order(document)[field] = value
    assert validate(document) == [Problem(path, reason)]


def test_orders_are_found_by_phone_however_it_is_written(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    assert repository.orders_by_phone("+44 20 7946 0321") == ["4567"]
    assert repository.orders_by_phone("sip:+442079460321@trunk.example") == ["4567"]
    assert repository.orders_by_phone("020 7946 0321") == ["4567"]
    assert repository.orders_by_phone("+44 20 7946 0000") == []
    assert repository.orders_by_phone("12") == []
    assert phone_key("+49 30 5550 1234") == phone_key("030 55501234")


def test_orders_are_found_by_email(database: Database, repository: Repository) -> None:
    import_document(database, example(), "example")
    assert repository.orders_by_email(" Anna.Schmidt@example.com") == ["4568"]
    assert repository.orders_by_email("nobody@example.com") == []


def test_requests_for_the_shop_and_claims_of_every_kind_are_stored(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    conversation = repository.start_conversation("chat", None, NOW)
    repository.apply(
        [
            ShopRequest(
                reference="51234567",
                kind="cancellation",
                order_number="4567",
                details="caller: please cancel it",
                requested_at=NOW,
                reply_by=date(2025, 3, 22),
                conversation_id=conversation,
            ),
            ShopRequest(
                reference="51234568",
                kind="complaint",
                order_number=None,
                details="caller: nobody answers my e-mails",
                requested_at=NOW,
            ),
            claim("61234567", kind="damaged_item", photos_needed=True),
        ]
    )
    requests = repository.shop_requests()
    assert [(r.reference, r.kind, r.order_number, r.status) for r in requests] == [
        ("51234567", "cancellation", "4567", "open"),
        ("51234568", "complaint", None, "open"),
    ]
    assert requests[0].reply_by == date(2025, 3, 22)
    assert [r.reference for r in repository.shop_requests("4567")] == ["51234567"]
    assert repository.reference_taken("51234568")
    stored = repository.claims("4567")[0]
    assert (stored.kind, stored.photos_needed) == ("damaged_item", True)
    assert repository.claims("4567")[0].reference == "61234567"
