"""The demo shop: valid, varied, anchored to the day it is loaded, identical for one anchor."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from voice_agent.store.db import Database
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository
from voice_agent.store.shopfile import parse_time, validate
from voice_agent.store.views import STAGES

ANCHOR = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STALLED_DAYS = 9
"""Every demo parcel counted as stalled has had no scan for at least this long."""


def last_events(document: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (order, order["shipment"]["events"][-1])
        for order in document["orders"]
        if order["shipment"] and order["shipment"]["events"]
    ]


def age_days(event: dict[str, Any], anchor: datetime = ANCHOR) -> float:
    return (anchor - parse_time(event["at"])).total_seconds() / 86400


def test_the_demo_is_a_valid_shop_file() -> None:
    assert validate(demo_document(ANCHOR)) == []


def test_the_demo_is_big_and_varied() -> None:
    document = demo_document(ANCHOR)
    orders = document["orders"]
    assert len(orders) >= 25
    assert len(document["products"]) >= 15
    countries = {order["customer"]["country"] for order in orders}
    assert {"DE", "FR", "GB", "US", "ES", "NL", "AU", "SA", "BR"} <= countries
    british = [order["customer"] for order in orders if order["customer"]["country"] == "GB"]
    assert all(any(c.isalpha() for c in customer["postcode"]) for customer in british)
    carriers = {order["shipment"]["carrier"] for order in orders if order["shipment"]}
    last_miles = {order["shipment"]["last_mile"] for order in orders if order["shipment"]}
    assert {"China Post", "YunExpress", "4PX", "Cainiao"} <= carriers
    assert {"DHL", "UPS", "Royal Mail", "La Poste", "USPS", "PostNL"} <= last_miles
    assert {order["incoterm"] for order in orders} >= {"DDP", "DAP"}
    assert {order["insured"] for order in orders} == {True, False}
    assert any(order["shipment"] is None for order in orders)
    assert any(event["text"] == "Delivered" for _order, event in last_events(document))
    for product in document["products"]:
        assert "ship_time.default" in product["attributes"]
        assert "ship_time.GB" in product["attributes"]


def test_every_stage_has_on_time_and_stalled_parcels_insured_and_not() -> None:
    by_stage: dict[str, set[tuple[bool, bool]]] = defaultdict(set)
    for order, event in last_events(demo_document(ANCHOR)):
        if event["text"] == "Delivered":
            continue
        stalled = age_days(event) >= STALLED_DAYS
        if stalled or age_days(event) <= 2:
            by_stage[event["stage"]].add((stalled, order["insured"]))
    for stage in STAGES:
        kinds = by_stage[stage]
        assert (True, True) in kinds, f"{stage}: no insured stalled parcel"
        assert (True, False) in kinds, f"{stage}: no uninsured stalled parcel"
        assert any(not stalled for stalled, _insured in kinds), f"{stage}: none on time"


def test_the_same_anchor_gives_the_same_shop() -> None:
    assert demo_document(ANCHOR) == demo_document(ANCHOR)


def test_times_move_with_the_anchor() -> None:
    later = ANCHOR + timedelta(days=100)
    now_events = last_events(demo_document(ANCHOR))
    later_events = last_events(demo_document(later))
    assert [age_days(event) for _o, event in now_events] == [
        age_days(event, later) for _o, event in later_events
    ]
    for _order, event in now_events:
        assert parse_time(event["at"]) <= ANCHOR


def test_a_naive_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        demo_document(datetime(2025, 6, 1, 12, 0))


def test_the_demo_imports_through_the_one_import_path(
    database: Database, repository: Repository
) -> None:
    summary = import_document(database, demo_document(ANCHOR), "demo")
    assert summary.orders_added >= 25
    lost = repository.find_order("31146")
    assert lost is not None and lost.shipment is not None
    last = lost.shipment.last_event
    assert last is not None
    assert last.stage == "international"
    assert ANCHOR - last.at >= timedelta(days=STALLED_DAYS)
    again = import_document(database, demo_document(ANCHOR + timedelta(days=1)), "demo")
    assert (again.orders_added, again.orders_updated) == (0, summary.orders_added)
    moved = repository.find_order("31146")
    assert moved is not None and moved.shipment is not None and moved.shipment.last_event
    assert moved.shipment.last_event.at == last.at + timedelta(days=1)


SPOKEN = ("de", "es", "fr", "pt")
"""The languages besides English the agent answers in: the demo shop speaks each of them."""


def test_every_demo_product_has_a_name_in_each_language() -> None:
    for product in demo_document(ANCHOR)["products"]:
        assert set(product["names"]) == set(SPOKEN), product["sku"]
        assert all(name.strip() for name in product["names"].values())


def test_every_demo_event_text_is_translated() -> None:
    document = demo_document(ANCHOR)
    texts = {
        event["text"]
        for order in document["orders"]
        if order["shipment"]
        for event in order["shipment"]["events"]
    }
    for language in SPOKEN:
        table = document["translations"][language]
        assert texts - set(table) == set(), language
        # A courier's name stays as it is in every language.
        assert table["Handed over to Royal Mail for delivery"].count("Royal Mail") == 1
