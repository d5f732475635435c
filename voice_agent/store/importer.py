"""Importing shop data: validate everything, then upsert it all in one transaction.

Products are matched by SKU and orders by number, so importing the same file twice updates
instead of duplicating; an order's items and its shipment's tracking events are replaced by the
file's. Orders absent from the file are left alone. On any problem nothing changes.

A product's names and attribute values per language, and the shop's translations of its
texts, are replaced where the file gives them and kept where it leaves them out.

An address an agent changed stays until the shop's file carries it (store/address_changes.py):
the summary lists the changes kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session, selectinload

from voice_agent.store.address_changes import (
    KeptAddressChange,
    settle_imported_address,
    unconfirmed_by_order,
)
from voice_agent.store.db import Database
from voice_agent.store.models import (
    CatalogueVersion,
    Customer,
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnRecord,
    Shipment,
    ShopTranslation,
    TrackingEvent,
    phone_key,
)
from voice_agent.store.shopfile import (
    CustomerRecord,
    OrderRecord,
    ProductRecord,
    ShipmentRecord,
    shop_data,
)

logger = logging.getLogger(__name__)

_CHUNK = 500
"""Keys per IN (...) query: well under every backend's limit on bound parameters."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    products_added: int
    products_updated: int
    orders_added: int
    orders_updated: int
    events: int
    kept_address_changes: tuple[KeptAddressChange, ...] = ()
    """Orders whose agent-made address change the file does not carry yet: kept."""
    confirmed_address_changes: int = 0
    """Agent-made address changes the file carries: now confirmed."""
    translations: int = 0
    """The shop's translated texts stored (all languages the file gives)."""

    def __str__(self) -> str:
        text = (
            f"products: {self.products_added} added, {self.products_updated} updated; "
            f"orders: {self.orders_added} added, {self.orders_updated} updated; "
            f"{self.events} tracking events"
        )
        if self.translations:
            text += f"; {self.translations} translated texts"
        if self.confirmed_address_changes:
            text += f"; confirmed {self.confirmed_address_changes} address changes"
        if self.kept_address_changes:
            kept = ", ".join(str(change) for change in self.kept_address_changes)
            count = len(self.kept_address_changes)
            text += f"; kept {count} address changes the shop has not confirmed: {kept}"
        return text


@dataclass(slots=True)
class _OrderCounts:
    added: int = 0
    updated: int = 0
    confirmed: int = 0
    kept: tuple[KeptAddressChange, ...] = ()


def import_document(
    database: Database, document: Any, source: str, imported_at: datetime | None = None
) -> ImportSummary:
    """Validate ``document`` (a parsed shop file) and store it, all or nothing.

    ``imported_at`` (the caller reads the clock) is when the address changes the file
    confirms are marked confirmed; None leaves that time unknown.
    Raises ShopDataError with every problem found; the database is then unchanged.
    """
    with database.transaction(write=True) as session:
        known_skus = set(session.scalars(select(Product.sku)))
        shop = shop_data(document, source, known_skus)
        products_added, products_updated = _upsert_products(session, shop.products)
        orders = _upsert_orders(session, shop.orders, imported_at)
        _replace_translations(session, shop.translations)
        _bump_catalogue_version(session)
        session.flush()
    summary = ImportSummary(
        products_added=products_added,
        products_updated=products_updated,
        orders_added=orders.added,
        orders_updated=orders.updated,
        events=sum(len(order.shipment.events) for order in shop.orders if order.shipment),
        kept_address_changes=orders.kept,
        confirmed_address_changes=orders.confirmed,
        translations=sum(len(table) for table in shop.translations.values()),
    )
    logger.info("imported %s: %s", source, summary)
    return summary


def _bump_catalogue_version(session: Session) -> None:
    """Tell every instance on this database to read the catalogue again (in one statement:
    two imports at once each count)."""
    bumped = session.execute(
        update(CatalogueVersion)
        .where(CatalogueVersion.id == 1)
        .values(version=CatalogueVersion.version + 1)
    )
    if cast(CursorResult[Any], bumped).rowcount == 0:
        session.add(CatalogueVersion(id=1, version=1))


def _chunks(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def _products_by_sku(session: Session, skus: Iterable[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in _chunks(sorted(set(skus))):
        for product in session.scalars(select(Product).where(Product.sku.in_(chunk))):
            found[product.sku] = product
    return found


def _upsert_products(session: Session, records: tuple[ProductRecord, ...]) -> tuple[int, int]:
    existing = _products_by_sku(session, (record.sku for record in records))
    added = 0
    for record in records:
        product = existing.get(record.sku)
        if product is None:
            added += 1
            product = Product(sku=record.sku)
            session.add(product)
            existing[record.sku] = product
        product.name = record.name
        product.attributes = dict(record.attributes)
        # Left out of the file: the stored translations stay (files written before them).
        if record.names is not None:
            product.names = dict(record.names)
        elif product.names is None:
            product.names = {}
        if record.attributes_i18n is not None:
            product.attributes_i18n = {
                language: dict(values) for language, values in record.attributes_i18n.items()
            }
        elif product.attributes_i18n is None:
            product.attributes_i18n = {}
    return added, len(records) - added


def _replace_translations(session: Session, translations: Mapping[str, Mapping[str, str]]) -> None:
    """Each language the file gives replaces that language's table; the others stay."""
    if not translations:
        return
    session.execute(
        delete(ShopTranslation).where(ShopTranslation.language.in_(sorted(translations)))
    )
    session.add_all(
        ShopTranslation(language=language, text=text, translation=translation)
        for language, table in translations.items()
        for text, translation in table.items()
    )


def _upsert_orders(
    session: Session, records: tuple[OrderRecord, ...], imported_at: datetime | None
) -> _OrderCounts:
    orders = _orders_by_number(session, [record.number for record in records])
    customers = _customers_by_email(session, [record.customer.email for record in records])
    products = _products_by_sku(session, (item.sku for record in records for item in record.items))
    changes = unconfirmed_by_order(session, (order.id for order in orders.values()))
    counts = _OrderCounts()
    for record in records:
        order = orders.get(record.number)
        if order is None:
            counts.added += 1
            order = Order(number=record.number)
            session.add(order)
        order.customer = _customer(session, customers, record.customer)
        _fill_order(order, record)
        pending = changes.get(order.id, []) if order.id is not None else []
        kept = settle_imported_address(order, pending, imported_at)
        if kept is not None:
            counts.kept += (kept,)
        elif pending:
            counts.confirmed += len(pending)
        # Old rows go first: the new ones reuse their (order, line) keys.
        order.items.clear()
        session.flush()
        order.items.extend(
            OrderItem(line=line, product=products[item.sku], qty=item.qty, price=item.price)
            for line, item in enumerate(record.items, start=1)
        )
        _set_shipment(order, record.shipment)
        # Left out of the file: the stored records stay (files written before they existed).
        if record.returns is not None:
            order.return_records = [
                ReturnRecord(requested_at=entry.requested_at, received_at=entry.received_at)
                for entry in record.returns
            ]
        if record.refunds is not None:
            order.refunds = [
                Refund(amount=entry.amount, status=entry.status, at=entry.at)
                for entry in record.refunds
            ]
    counts.updated = len(records) - counts.added
    return counts


def _orders_by_number(session: Session, numbers: list[str]) -> dict[str, Order]:
    found: dict[str, Order] = {}
    for chunk in _chunks(sorted(set(numbers))):
        query = (
            select(Order)
            .where(Order.number.in_(chunk))
            .options(
                selectinload(Order.items),
                selectinload(Order.shipment).selectinload(Shipment.events),
                selectinload(Order.return_records),
                selectinload(Order.refunds),
            )
        )
        for order in session.scalars(query):
            found[order.number] = order
    return found


def _customers_by_email(session: Session, emails: list[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    for chunk in _chunks(sorted({email.lower() for email in emails})):
        for customer in session.scalars(select(Customer).where(Customer.email.in_(chunk))):
            found[customer.email] = customer
    return found


def _customer(session: Session, customers: dict[str, Customer], record: CustomerRecord) -> Customer:
    email = record.email.lower()
    customer = customers.get(email)
    if customer is None:
        customer = Customer(email=email)
        session.add(customer)
        customers[email] = customer
    customer.name = record.name
    return customer


def _fill_order(order: Order, record: OrderRecord) -> None:
    order.placed_at = record.placed_at
    order.currency = record.currency
    order.insured = record.insured
    order.incoterm = record.incoterm
    order.phone = record.customer.phone
    order.phone_tail = phone_key(record.customer.phone)
    order.postcode = record.customer.postcode
    order.country = record.customer.country
    order.address = record.customer.address


def _set_shipment(order: Order, record: ShipmentRecord | None) -> None:
    if record is None:
        order.shipment = None
        return
    shipment = order.shipment
    if shipment is None:
        shipment = Shipment()
        order.shipment = shipment
    shipment.carrier = record.carrier
    shipment.last_mile = record.last_mile
    shipment.tracking = record.tracking
    shipment.compensation = record.compensation
    shipment.expected_delivery = record.expected_delivery
    shipment.events = [
        TrackingEvent(at=event.at, stage=event.stage, place=event.place, text=event.text)
        for event in record.events
    ]
