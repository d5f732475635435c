"""Importing shop files into a real database (SQLite and PostgreSQL): all or nothing, upserts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.store.conftest import snapshot
from tests.store.test_shopfile import (
    BAD_LANGUAGES,
    BAD_RECORDS,
    Document,
    example,
    with_languages,
)
from voice_agent.store import importer
from voice_agent.store.db import Database
from voice_agent.store.importer import import_document
from voice_agent.store.models import Base, Customer, Order, Product, TrackingEvent
from voice_agent.store.repository import Repository
from voice_agent.store.shopfile import ShopDataError
from voice_agent.store.views import CustomerView, EventView, ItemView


def count(database: Database, model: type[Base]) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_round_trip_of_the_example(database: Database, repository: Repository) -> None:
    summary = import_document(database, example(), "example")
    assert (summary.products_added, summary.orders_added, summary.events) == (2, 2, 6)

    order = repository.find_order("4567")
    assert order is not None
    assert order.placed_at == datetime(2025, 3, 2, 9, 15, tzinfo=UTC)
    assert (order.currency, order.insured, order.incoterm) == ("GBP", True, "DDP")
    assert order.customer == CustomerView(
        name="Oliver Bennett",
        email="oliver.bennett@example.co.uk",
        phone="+44 20 7946 0321",
        postcode="SW1A 1AA",
        country="GB",
        address="14 Whitehall Place, London",
    )
    assert order.items == (
        ItemView("PB-10K", "Slim power bank 10000 mAh", 1, Decimal("21.99")),
        ItemView("CASE-IP15", "Clear case for iPhone 15", 2, Decimal("7.99")),
    )
    assert order.total == Decimal("37.97")
    shipment = order.shipment
    assert shipment is not None
    assert (shipment.carrier, shipment.last_mile, shipment.tracking) == (
        "YunExpress", "Royal Mail", "YT2419988776655",
    )
    assert shipment.compensation is True
    assert shipment.expected_delivery is not None
    assert shipment.expected_delivery.isoformat() == "2025-03-15"
    # Offsets in the file become UTC; events come out in time order.
    assert shipment.events[0] == EventView(
        datetime(2025, 3, 3, 1, 40, tzinfo=UTC), "pickup", "Shenzhen, CN",
        "Picked up from the seller's warehouse",
    )
    assert [event.stage for event in shipment.events] == [
        "pickup", "export_customs", "international", "international", "import_customs",
        "last_mile",
    ]
    assert shipment.last_event == EventView(
        datetime(2025, 3, 10, 7, 45, tzinfo=UTC), "last_mile", "London, GB", "Out for delivery"
    )

    unshipped = repository.find_order("4568")
    assert unshipped is not None
    assert unshipped.shipment is None
    assert unshipped.customer.address is None
    assert repository.find_order("4569") is None

    products = repository.products()
    assert [product.sku for product in products] == ["CASE-IP15", "PB-10K"]
    assert products[1].attributes["ship_time.GB"] == "8 to 13 days"


def test_reimport_updates_rather_than_duplicates(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    before = repository.find_order("4567")
    again = import_document(database, example(), "example")
    assert (again.products_added, again.products_updated) == (0, 2)
    assert (again.orders_added, again.orders_updated) == (0, 2)
    assert repository.find_order("4567") == before
    assert count(database, Order) == 2
    assert count(database, Product) == 2
    assert count(database, Customer) == 2
    assert count(database, TrackingEvent) == 6


def test_each_import_bumps_the_catalogue_version_every_instance_looks_at(
    database: Database, repository: Repository
) -> None:
    assert repository.catalogue_version() == 0
    import_document(database, example(), "example")
    assert repository.catalogue_version() == 1
    import_document(database, example(), "example")
    assert repository.catalogue_version() == 2


def test_reimport_replaces_items_and_events_and_updates_fields(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    changed = example()
    order = changed["orders"][0]
    order["customer"]["postcode"] = "SW1A 2AA"
    order["items"] = [{"sku": "CASE-IP15", "qty": 3, "price": Decimal("6.50")}]
    transit = {
        "at": "2025-03-06T08:00:00Z", "stage": "international", "place": "Dubai, AE",
        "text": "Arrived at the transit hub",
    }
    order["shipment"]["events"] = [*order["shipment"]["events"][:2], transit]
    changed["orders"][1]["shipment"] = {
        "carrier": "4PX", "last_mile": None, "tracking": "4PX1", "compensation": False,
        "events": [],
    }
    changed["products"][0]["attributes"] = {"capacity": "20000 mAh"}
    import_document(database, changed, "changed")

    updated = repository.find_order("4567")
    assert updated is not None
    assert updated.customer.postcode == "SW1A 2AA"
    assert updated.items == (ItemView("CASE-IP15", "Clear case for iPhone 15", 3, Decimal("6.5")),)
    assert updated.shipment is not None
    assert [event.place for event in updated.shipment.events] == [
        "Shenzhen, CN", "Shenzhen, CN", "Dubai, AE",
    ]
    shipped = repository.find_order("4568")
    assert shipped is not None and shipped.shipment is not None
    assert (shipped.shipment.carrier, shipped.shipment.events) == ("4PX", ())
    assert {p.sku: dict(p.attributes) for p in repository.products()}["PB-10K"] == {
        "capacity": "20000 mAh"
    }
    assert count(database, TrackingEvent) == 3
    assert count(database, Order) == 2


def test_an_order_file_may_use_skus_imported_before(
    database: Database, repository: Repository
) -> None:
    import_document(database, example(), "example")
    orders_only: Document = {"format": "voice-agent-shop/1", "orders": [example()["orders"][1]]}
    orders_only["orders"][0]["number"] = "4570"
    import_document(database, orders_only, "orders only")
    assert repository.find_order("4570") is not None


DB_CASES = {
    "qty as text", "unknown stage", "missing email", "duplicate order number", "unknown SKU",
    "time without offset", "unknown field", "wrong format",
}


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        pytest.param(mutate, path, id=case)
        for case, mutate, path, _reason in BAD_RECORDS
        if case in DB_CASES
    ],
)
def test_a_bad_file_changes_nothing(
    database: Database, mutate: Callable[[Document], None], path: str
) -> None:
    import_document(database, example(), "example")
    before = snapshot(database)
    bad = example()
    bad["orders"][0]["customer"]["name"] = "Somebody Else"  # a valid change that must not land
    bad["products"].append({"sku": "NEW-1", "name": "New", "attributes": {}})
    mutate(bad)
    with pytest.raises(ShopDataError) as raised:
        import_document(database, bad, "bad.json")
    assert [problem.path for problem in raised.value.problems] == [path]
    assert snapshot(database) == before


def test_a_failure_while_writing_rolls_everything_back(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_document(database, example(), "example")
    before = snapshot(database)
    document = example()
    document["orders"][0]["customer"]["name"] = "Somebody Else"
    document["orders"].append(copy.deepcopy(document["orders"][0]) | {"number": "4599"})
    real = importer._set_shipment
    calls = 0

    def failing(order: Any, record: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the last order, after two were written
            raise RuntimeError("disk full")
        real(order, record)

    monkeypatch.setattr(importer, "_set_shipment", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        import_document(database, document, "example")
    assert calls == 3
    assert snapshot(database) == before


# --- the shop's data per language -------------------------------------------------------------


def test_names_values_and_translations_are_stored_and_read(
    database: Database, repository: Repository
) -> None:
    summary = import_document(database, with_languages(), "languages")
    assert summary.translations == 2
    assert "2 translated texts" in str(summary)
    products = {product.sku: product for product in repository.products()}
    bank = products["PB-10K"]
    assert dict(bank.names) == {"de": "Flache Powerbank", "es": "Batería externa delgada"}
    assert bank.name_in("de") == "Flache Powerbank"
    assert bank.name_in("fr") == "Slim power bank 10000 mAh"  # none given: as written
    assert bank.attribute_in("material", "de") == "Aluminiumgehäuse"
    assert bank.attribute_in("material", "es") == "aluminium shell"
    assert dict(products["CASE-IP15"].names) == {}
    texts = repository.shop_texts()
    # Looked up whatever the case, spacing or final full stop of the stored event text.
    assert texts.text("de", "Out for delivery.") == "In Zustellung"
    assert texts.text("pt", "out for  delivery") == "Saiu para entrega"
    assert texts.text("es", "Out for delivery") == "Out for delivery"
    assert texts.text("de", "Delivered") == "Delivered"


def test_a_file_without_languages_keeps_those_stored(
    database: Database, repository: Repository
) -> None:
    import_document(database, with_languages(), "languages")
    before = {product.sku: product for product in repository.products()}
    import_document(database, example(), "a file written before languages")
    after = {product.sku: product for product in repository.products()}
    assert after == before
    assert repository.shop_texts().text("de", "Out for delivery") == "In Zustellung"


def test_given_names_and_languages_replace_the_stored_ones(
    database: Database, repository: Repository
) -> None:
    import_document(database, with_languages(), "languages")
    changed = with_languages()
    changed["products"][0]["names"] = {"fr": "Batterie externe fine"}
    changed["products"][0]["attributes_i18n"] = {}
    changed["translations"] = {"de": {"Delivered": "Zugestellt"}}
    import_document(database, changed, "changed")
    bank = {product.sku: product for product in repository.products()}["PB-10K"]
    assert dict(bank.names) == {"fr": "Batterie externe fine"}
    assert dict(bank.attributes_i18n) == {}
    texts = repository.shop_texts()
    # German given again: its table is the file's; Portuguese left out: kept.
    assert texts.text("de", "Delivered") == "Zugestellt"
    assert texts.text("de", "Out for delivery") == "Out for delivery"
    assert texts.text("pt", "Out for delivery") == "Saiu para entrega"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        pytest.param(mutate, path, id=case)
        for case, mutate, path, _reason in BAD_LANGUAGES
        if case in {"upper-case code", "value of no attribute", "the same text twice"}
    ],
)
def test_a_bad_language_field_changes_nothing(
    database: Database, mutate: Callable[[Document], None], path: str
) -> None:
    import_document(database, with_languages(), "languages")
    before = snapshot(database)
    bad = with_languages()
    bad["products"][0]["names"]["es"] = "Otra batería"  # a valid change that must not land
    bad["translations"]["pt"] = {"Delivered": "Entregue"}
    mutate(bad)
    with pytest.raises(ShopDataError) as raised:
        import_document(database, bad, "bad.json")
    assert [problem.path for problem in raised.value.problems] == [path]
    assert snapshot(database) == before
