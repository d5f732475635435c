"""The demo shop: a seller in southern China shipping to shoppers around the world.

``demo_document(anchor)`` builds a shop file (format voice-agent-shop/1) whose tracking events
are placed relative to ``anchor``, so that on any day the demo has parcels moving on time and
parcels stalled long enough to count as lost in every one of the five stages. The same document
goes through the same validation and import as an operator's file. It is deterministic: the
same anchor gives the same document.

The shop itself (catalogue, route, customers, orders, translations) is data:
``demo_shop.json`` beside this module; here is only how its times and prices are worked out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, cast

from voice_agent.store.shopfile import FORMAT
from voice_agent.store.views import Incoterm, Stage

DATA_PATH = Path(__file__).resolve().parent / "demo_shop.json"

_DATA: dict[str, Any] = json.loads(DATA_PATH.read_text(encoding="utf-8"))

# --- catalogue ---------------------------------------------------------------------------------

_SHIP_TIMES: dict[str, str] = _DATA["ship_times"]
_EU_WAREHOUSE_TIMES: dict[str, str] = _DATA["eu_warehouse_times"]


@dataclass(frozen=True, slots=True)
class _Product:
    sku: str
    name: str
    usd: str
    attributes: dict[str, str]
    eu_warehouse: bool = False
    names: Mapping[str, str] | None = None
    """The product's name per language code."""

    def document(self) -> dict[str, Any]:
        times = {**_SHIP_TIMES, **(_EU_WAREHOUSE_TIMES if self.eu_warehouse else {})}
        ship = {f"ship_time.{country}": days for country, days in times.items()}
        document = {"sku": self.sku, "name": self.name, "attributes": {**self.attributes, **ship}}
        if self.names is not None:
            document["names"] = dict(self.names)
        return document


PRODUCTS: tuple[_Product, ...] = tuple(_Product(**entry) for entry in _DATA["products"])

_USD = {product.sku: Decimal(product.usd) for product in PRODUCTS}
_RATES: dict[str, str] = _DATA["usd_rates"]


def _price(sku: str, currency: str) -> Decimal:
    # Shop prices end in .99 (or .00 when under 1 in the currency's unit): simple and stable.
    raw = _USD[sku] * Decimal(_RATES[currency])
    return raw.quantize(Decimal(1), rounding=ROUND_HALF_UP) - Decimal("0.01")


# --- the route of a parcel -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    stage: Stage
    text: str
    place: str
    """A key into the route's places (``origin``, ``export``, ...)."""
    gap_days: float
    """Typical time since the step before."""


STEPS: tuple[_Step, ...] = tuple(_Step(**entry) for entry in _DATA["route"])
_STEP_INDEX = {step.key: index for index, step in enumerate(STEPS)}


@dataclass(frozen=True, slots=True)
class _Destination:
    currency: str
    arrival: str
    customs: str
    hub: str


DESTINATIONS = {
    country: _Destination(**entry) for country, entry in _DATA["destinations"].items()
}


@dataclass(frozen=True, slots=True)
class _Customer:
    name: str
    email: str
    phone: str
    postcode: str | None
    country: str
    street: str
    city: str


@dataclass(frozen=True, slots=True)
class _Parcel:
    carrier: str
    last_mile: str | None
    tracking: str
    compensation: bool
    reached: str
    """The key of the last step that happened."""
    age_days: float
    """How long ago that last step happened, before the anchor."""
    last_text: str | None = None
    """What the last event said instead of the usual text (a hold, a failed delivery)."""


@dataclass(frozen=True, slots=True)
class _Order:
    number: str
    customer: _Customer
    items: tuple[tuple[str, int], ...]
    insured: bool
    incoterm: Incoterm
    parcel: _Parcel | None
    placed_days_ago: float = 0.0
    """For orders not yet shipped: when they were placed."""
    returned: tuple[float, float | None] | None = None
    """The shop's return record: (requested, received) in days before the anchor."""
    refund: tuple[str, float] | None = None
    """The shop's refund record for the whole order: (status, days before the anchor)."""


_CUSTOMERS = {key: _Customer(**entry) for key, entry in _DATA["customers"].items()}


def _order(entry: dict[str, Any]) -> _Order:
    parcel = entry["parcel"]
    returned = entry.get("returned")
    refund = entry.get("refund")
    return _Order(
        number=entry["number"],
        customer=_CUSTOMERS[entry["customer"]],
        items=tuple((item["sku"], item["qty"]) for item in entry["items"]),
        insured=entry["insured"],
        incoterm=cast(Incoterm, entry["incoterm"]),
        parcel=None if parcel is None else _Parcel(**parcel),
        placed_days_ago=entry.get("placed_days_ago", 0.0),
        returned=None
        if returned is None
        else (returned["requested_days_ago"], returned["received_days_ago"]),
        refund=None if refund is None else (refund["status"], refund["days_ago"]),
    )


# Every stage has orders moving on time and orders stalled for long (insured and not);
# plus delivered orders, orders not yet shipped, DDP and DAP, and eleven destinations.
ORDERS: tuple[_Order, ...] = tuple(_order(entry) for entry in _DATA["orders"])

_ORIGINS: tuple[tuple[str, str, str], ...] = tuple(
    (entry["origin"], entry["export"], entry["airport"]) for entry in _DATA["origins"]
)


# --- building the document --------------------------------------------------------------------


def demo_document(anchor: datetime) -> dict[str, Any]:
    """The demo shop as a voice-agent-shop/1 document, its times relative to ``anchor``."""
    if anchor.tzinfo is None:
        raise ValueError("the demo anchor needs a time zone")
    return {
        "format": FORMAT,
        "products": [product.document() for product in PRODUCTS],
        "orders": [_order_document(order, anchor) for order in ORDERS],
        "translations": _translations(),
    }


def _translations() -> dict[str, dict[str, str]]:
    """The shop's translations, a route text naming the courier once for each courier."""
    couriers = sorted(
        {order.parcel.last_mile or order.parcel.carrier for order in ORDERS if order.parcel}
    )
    tables: dict[str, dict[str, str]] = {}
    for language, table in _DATA["translations"].items():
        tables[language] = {}
        for text, said in table.items():
            if "{last_mile}" not in text:
                tables[language][text] = said
                continue
            for courier in couriers:
                tables[language][text.format(last_mile=courier)] = said.format(last_mile=courier)
    return tables


def _time(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _order_document(order: _Order, anchor: datetime) -> dict[str, Any]:
    customer = order.customer
    destination = DESTINATIONS[customer.country]
    events = [] if order.parcel is None else _events(order, anchor)
    if events:
        placed_at = events[0][0] - timedelta(days=1.3)
    else:
        placed_at = anchor - timedelta(days=order.placed_days_ago)
    document: dict[str, Any] = {
        "number": order.number,
        "placed_at": _time(placed_at),
        "currency": destination.currency,
        "insured": order.insured,
        "incoterm": order.incoterm,
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "postcode": customer.postcode,
            "country": customer.country,
            "address": f"{customer.street}, {customer.city}",
        },
        "items": [
            {"sku": sku, "qty": qty, "price": _price(sku, destination.currency)}
            for sku, qty in order.items
        ],
        "shipment": None,
    }
    if order.parcel is not None:
        parcel = order.parcel
        expected = placed_at + timedelta(days=_promised_days(customer.country))
        document["shipment"] = {
            "carrier": parcel.carrier,
            "last_mile": parcel.last_mile,
            "tracking": parcel.tracking,
            "compensation": parcel.compensation,
            "expected_delivery": expected.date().isoformat(),
            "events": [
                {"at": _time(at), "stage": stage, "place": place, "text": text}
                for at, stage, place, text in events
            ],
        }
    if order.returned is not None:
        requested, received = order.returned
        document["returns"] = [
            {
                "requested_at": _time(anchor - timedelta(days=requested)),
                "received_at": None
                if received is None
                else _time(anchor - timedelta(days=received)),
            }
        ]
    if order.refund is not None:
        status, days = order.refund
        total = sum(
            (_price(sku, destination.currency) * qty for sku, qty in order.items), Decimal(0)
        )
        document["refunds"] = [
            {"amount": total, "status": status, "at": _time(anchor - timedelta(days=days))}
        ]
    return document


def _promised_days(country: str) -> int:
    window = _SHIP_TIMES.get(country, _SHIP_TIMES["default"])
    return int(window.split()[2])


def _events(order: _Order, anchor: datetime) -> list[tuple[datetime, Stage, str, str]]:
    parcel = order.parcel
    assert parcel is not None
    last = _STEP_INDEX[parcel.reached]
    places = _places(order)
    # A small per-order offset keeps the demo's timestamps from all sharing one clock time.
    wobble = (int(order.number) % 7) * 0.04
    at = anchor - timedelta(days=parcel.age_days)
    events: list[tuple[datetime, Stage, str, str]] = []
    for index in range(last, -1, -1):
        step = STEPS[index]
        text = step.text.format(last_mile=parcel.last_mile or parcel.carrier)
        if index == last and parcel.last_text is not None:
            text = parcel.last_text
        events.append((at, step.stage, places[step.place], text))
        at -= timedelta(days=step.gap_days + wobble)
    events.reverse()
    return events


def _places(order: _Order) -> dict[str, str]:
    origin, export, airport = _ORIGINS[int(order.number) % len(_ORIGINS)]
    destination = DESTINATIONS[order.customer.country]
    return {
        "origin": origin,
        "export": export,
        "airport": airport,
        "hub": destination.hub,
        "arrival": destination.arrival,
        "customs": destination.customs,
        "city": f"{order.customer.city}, {order.customer.country}",
    }
