"""The shop data file (format ``voice-agent-shop/1``): parse, validate, turn into records.

Validation never stops at the first problem: it reports every bad record with its JSON path
(``$.orders[3].items[0].sku``) and the reason, so an operator fixes a file in one pass.
The structure comes from ``shop.schema.json`` (the published contract); the checks a schema
cannot express (times, duplicates, unknown SKUs) follow here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from voice_agent.jsontext import JsonTextError, parse_json_text
from voice_agent.store.db import StoreError
from voice_agent.store.views import Incoterm, RefundStatus, Stage, text_key

logger = logging.getLogger(__name__)

FORMAT = "voice-agent-shop/1"
SCHEMA_PATH = Path(__file__).resolve().parent / "shop.schema.json"

JsonPath = tuple[str | int, ...]
MONEY_PLACES = 4
"""Decimal places of a price or amount: the store's column is NUMERIC(14, 4)."""


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    """A JSON path into the file, ``$`` being the whole document."""
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class ShopDataError(StoreError):
    """The shop file was refused; ``problems`` lists every reason, in file order."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = [f"{source}: {count} problem{'s' if count != 1 else ''}, nothing imported"]
        lines.extend(f"{source}: {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))


# --- typed records, built only from a valid document -------------------------------------


@dataclass(frozen=True, slots=True)
class ProductRecord:
    sku: str
    name: str
    attributes: Mapping[str, str]
    names: Mapping[str, str] | None = None
    """The name per language code; None when the file leaves them out (the stored ones stay)."""
    attributes_i18n: Mapping[str, Mapping[str, str]] | None = None
    """Attribute values per language code; None when left out (the stored ones stay)."""


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    name: str
    email: str
    phone: str
    postcode: str | None
    country: str
    address: str | None


@dataclass(frozen=True, slots=True)
class ItemRecord:
    sku: str
    qty: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class EventRecord:
    at: datetime
    stage: Stage
    place: str
    text: str


@dataclass(frozen=True, slots=True)
class ShipmentRecord:
    carrier: str
    last_mile: str | None
    tracking: str
    compensation: bool
    expected_delivery: date | None
    events: tuple[EventRecord, ...]


@dataclass(frozen=True, slots=True)
class ReturnRecordData:
    requested_at: datetime
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefundRecord:
    amount: Decimal
    status: RefundStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderRecord:
    number: str
    placed_at: datetime
    currency: str
    insured: bool
    incoterm: Incoterm
    customer: CustomerRecord
    items: tuple[ItemRecord, ...]
    shipment: ShipmentRecord | None
    returns: tuple[ReturnRecordData, ...] | None = None
    """The shop's return records; None when the file leaves them out (the stored ones stay)."""
    refunds: tuple[RefundRecord, ...] | None = None


@dataclass(frozen=True, slots=True)
class ShopData:
    products: tuple[ProductRecord, ...]
    orders: tuple[OrderRecord, ...]
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Language code -> {text as stored: translation}; only the languages the file gives."""


# --- parsing -----------------------------------------------------------------------------------


def parse_json(raw: bytes | str, source: str) -> Any:
    """The JSON document in ``raw``; numbers with a fraction become exact ``Decimal``."""
    text = raw if isinstance(raw, str) else _decode(raw, source)
    try:
        return parse_json_text(text, parse_float=Decimal)
    except JsonTextError as error:
        raise ShopDataError(source, [Problem("$", f"broken JSON {error}")]) from None


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        where = f"line {line}, byte {error.start}"
        problem = Problem("$", f"not UTF-8 text ({where}: {error.reason})")
        raise ShopDataError(source, [problem]) from None


def read_shop_file(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise StoreError(f"{path}: cannot read: {error.strerror}") from None
    return parse_json(raw, str(path))


def validate(document: Any, known_skus: Collection[str] = ()) -> list[Problem]:
    """Every problem in the document, in file order; ``known_skus`` are already stored."""
    found: dict[tuple[JsonPath, str], None] = {}
    for path, reason in _schema_problems(document):
        found.setdefault((path, reason), None)
    if isinstance(document, dict):
        for path, reason in _content_problems(document, known_skus):
            found.setdefault((path, reason), None)
    ordered = sorted(found, key=lambda entry: (_sort_key(entry[0]), entry[1]))
    return [Problem(_render(path), reason) for path, reason in ordered]


def shop_data(document: Any, source: str, known_skus: Collection[str] = ()) -> ShopData:
    """Validate and convert; raises ShopDataError listing every problem."""
    problems = validate(document, known_skus)
    if problems:
        raise ShopDataError(source, problems)
    translations = document.get("translations", {})
    return ShopData(
        products=tuple(_product(raw) for raw in document.get("products", [])),
        orders=tuple(_order(raw) for raw in document.get("orders", [])),
        translations={language: dict(table) for language, table in translations.items()},
    )


# --- schema checks -----------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> Draft202012Validator:
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_check_time)
    checker.checks("date", raises=ValueError)(_check_date)
    return Draft202012Validator(schema(), format_checker=checker)


def _check_time(value: object) -> bool:
    if isinstance(value, str):
        parse_time(value)
    return True


def _check_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


def parse_time(text: str) -> datetime:
    """An ISO 8601 time that names its UTC offset (a time without one is ambiguous)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 time (e.g. 2025-03-14T09:30:00Z)") from None
    if moment.tzinfo is None:
        raise ValueError("the time has no UTC offset (add Z or e.g. +02:00)")
    try:
        moment.astimezone(UTC)  # the store keeps UTC: 9999-12-31T23:00-02:00 has none
    except OverflowError:
        raise ValueError("the time is out of range once in UTC (years 1 to 9999)") from None
    return moment


def _schema_problems(document: Any) -> Iterator[tuple[JsonPath, str]]:
    for error in _validator().iter_errors(document):
        yield from _explain(error)


def _explain(error: ValidationError) -> Iterator[tuple[JsonPath, str]]:
    path: JsonPath = tuple(error.absolute_path)
    instance: Any = error.instance
    expected: Any = error.validator_value
    subschema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.schema_path:
        # A bad key: its own path names it (the validator reports the object's).
        yield from _explain_key((*path, str(instance)), error, subschema)
        return
    match error.validator:
        case "required":
            for name in cast(list[str], expected):
                if isinstance(instance, dict) and name not in instance:
                    yield (*path, name), "missing"
        case "additionalProperties":
            known = subschema.get("properties", {})
            for name in sorted(set(instance) - set(known)):
                yield (*path, name), f"unknown field (expected one of {', '.join(known)})"
        case "type":
            yield path, f"expected {_type_words(expected)}, got {_describe(instance)}"
        case "enum":
            choices = ", ".join(str(choice) for choice in cast(list[Any], expected))
            what = "stage" if path and path[-1] == "stage" else "value"
            yield path, f"unknown {what} {_shown(instance)} (expected one of {choices})"
        case "const":
            yield path, f"unsupported value {_shown(instance)} (expected {expected!r})"
        case "format":
            what = "date" if expected == "date" else "time"
            yield path, f"bad {what} {instance!r}: {error.cause or error.message}"
        case "pattern":
            wanted = subschema.get("x-expected", f"text matching {expected}")
            yield path, f"{instance!r} is not {wanted}"
        case "minLength" if expected == 1:
            yield path, "must not be empty"
        case "minItems":
            yield path, f"needs at least {expected} entry"
        case "minimum":
            yield path, f"must be at least {expected}, got {instance}"
        case "maximum":
            yield path, f"must be at most {expected}, got {instance}"
        case "maxLength":
            yield path, f"too long ({len(instance)} characters; at most {expected})"
        case _:
            yield path, error.message


def _explain_key(
    path: JsonPath, error: ValidationError, subschema: dict[str, Any]
) -> Iterator[tuple[JsonPath, str]]:
    if error.validator == "pattern":
        yield path, f"{error.instance!r} is not {subschema.get('x-expected', 'a valid name')}"
    elif error.validator == "minLength":
        yield path, "an empty text has nothing to translate"
    elif error.validator == "maxLength":
        yield path, f"too long (at most {error.validator_value} characters)"
    else:
        yield path, error.message


_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _type_words(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else expected
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else _describe(value)


def _describe(value: Any) -> str:
    match value:
        case bool():
            return f"{str(value).lower()} (true/false)"
        case None:
            return "null"
        case str():
            return f"the string {value!r}"
        case int():
            return f"the integer {value}"
        case Decimal() | float():
            return f"the number {value}"
        case list():
            return "a list"
        case dict():
            return "an object"
    return repr(value)


# --- content checks (what a schema cannot say) ---------------------------------------------


def _content_problems(
    document: dict[str, Any], known_skus: Collection[str]
) -> Iterator[tuple[JsonPath, str]]:
    products = _list(document.get("products"))
    orders = _list(document.get("orders"))
    yield from _duplicates(products, "sku", "products", "SKU")
    yield from _duplicates(orders, "number", "orders", "order number")
    # A catalogue that is not even a list is reported once; its SKUs are then unknowable.
    skus: set[str] | None = None
    if isinstance(document.get("products", []), list):
        skus = set(known_skus) | {
            product["sku"] for product in products if isinstance(product.get("sku"), str)
        }
    for index, order in enumerate(orders):
        yield from _order_problems(("orders", index), order, skus)
    for index, product in enumerate(products):
        yield from _translated_attribute_problems(("products", index), product)
    yield from _translation_problems(document.get("translations"))


def _translated_attribute_problems(
    path: JsonPath, product: dict[str, Any]
) -> Iterator[tuple[JsonPath, str]]:
    """A translated value needs the attribute it translates (a misspelt name is never said)."""
    attributes = product.get("attributes")
    by_language = product.get("attributes_i18n")
    if not isinstance(attributes, dict) or not isinstance(by_language, dict):
        return
    known = ", ".join(attributes) or "none"
    for language, values in by_language.items():
        if not isinstance(values, dict):
            continue
        for name in values:
            if name not in attributes:
                yield (
                    (*path, "attributes_i18n", language, name),
                    f"unknown attribute {name!r} (the product's attributes: {known})",
                )


def _translation_problems(translations: Any) -> Iterator[tuple[JsonPath, str]]:
    """Two entries for what is looked up as one text (case, spacing, a final full stop)."""
    if not isinstance(translations, dict):
        return
    for language, table in translations.items():
        if not isinstance(table, dict):
            continue
        first: dict[str, str] = {}
        for text in table:
            key = text_key(text)
            if key in first:
                yield (
                    ("translations", language, text),
                    (
                        f"the same text as {first[key]!r} (case, spacing and a final full stop "
                        "do not count): give it once"
                    ),
                )
            else:
                first[key] = text


def _list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [entry if isinstance(entry, dict) else {} for entry in value]


def _duplicates(
    entries: list[dict[str, Any]], key: str, where: str, what: str
) -> Iterator[tuple[JsonPath, str]]:
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        value = entry.get(key)
        if not isinstance(value, str):
            continue
        if value in first:
            yield (
                (where, index, key),
                (f"duplicate {what} {value!r} (first at {_render((where, first[value]))})"),
            )
        else:
            first[value] = index


def _order_problems(
    path: JsonPath, order: dict[str, Any], skus: set[str] | None
) -> Iterator[tuple[JsonPath, str]]:
    for index, item in enumerate(_list(order.get("items"))):
        yield from _money_problems((*path, "items", index, "price"), item.get("price"))
        sku = item.get("sku")
        if skus is not None and isinstance(sku, str) and sku and sku not in skus:
            yield (
                (*path, "items", index, "sku"),
                (f"unknown SKU {sku!r} (not in this file's products nor already imported)"),
            )
    placed_at = _time_or_none(order.get("placed_at"))
    for index, entry in enumerate(_list(order.get("returns"))):
        requested = _time_or_none(entry.get("requested_at"))
        received = _time_or_none(entry.get("received_at"))
        if requested is not None and received is not None and received < requested:
            yield (
                (*path, "returns", index, "received_at"),
                (
                    f"received at {entry['received_at']}, before the return was requested "
                    f"({entry['requested_at']})"
                ),
            )
        if placed_at is not None and requested is not None and requested < placed_at:
            yield (
                (*path, "returns", index, "requested_at"),
                (
                    f"return requested at {entry['requested_at']}, before the order was placed "
                    f"({order['placed_at']})"
                ),
            )
    for index, entry in enumerate(_list(order.get("refunds"))):
        yield from _money_problems((*path, "refunds", index, "amount"), entry.get("amount"))
        at = _time_or_none(entry.get("at"))
        if placed_at is not None and at is not None and at < placed_at:
            yield (
                (*path, "refunds", index, "at"),
                (f"refund at {entry['at']} is before the order was placed ({order['placed_at']})"),
            )
    shipment = order.get("shipment")
    if placed_at is None or not isinstance(shipment, dict):
        return
    for index, event in enumerate(_list(shipment.get("events"))):
        at = _time_or_none(event.get("at"))
        if at is not None and at < placed_at:
            yield (
                (*path, "shipment", "events", index, "at"),
                (f"event at {event['at']} is before the order was placed ({order['placed_at']})"),
            )


def _money_problems(path: JsonPath, value: Any) -> Iterator[tuple[JsonPath, str]]:
    """An amount the store keeps exactly: NUMERIC(14, 4) has 4 decimal places."""
    if not isinstance(value, Decimal) or not value.is_finite() or value.adjusted() >= 10:
        return  # beyond the schema's maximum, which says so (and too large to normalize)
    exponent = value.normalize().as_tuple().exponent  # 1.50000 has one decimal place
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        yield path, f"{value} has more than {MONEY_PLACES} decimal places (the store keeps 4)"


def _time_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _sort_key(path: JsonPath) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def _render(path: Iterable[str | int]) -> str:
    text = "$"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _NAME.fullmatch(part):
            text += f".{part}"
        else:  # a key with spaces or punctuation, e.g. a text to translate: quoted
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
"""A key written plainly in a path (``ship_time.GB`` included); others are quoted."""


# --- conversion of a valid document --------------------------------------------------------


def _product(raw: dict[str, Any]) -> ProductRecord:
    names = raw.get("names")
    by_language = raw.get("attributes_i18n")
    return ProductRecord(
        raw["sku"],
        raw["name"],
        dict(raw["attributes"]),
        names=None if names is None else dict(names),
        attributes_i18n=None
        if by_language is None
        else {language: dict(values) for language, values in by_language.items()},
    )


def _order(raw: dict[str, Any]) -> OrderRecord:
    customer = raw["customer"]
    shipment = raw["shipment"]
    return OrderRecord(
        number=raw["number"],
        placed_at=parse_time(raw["placed_at"]),
        currency=raw["currency"],
        insured=raw["insured"],
        incoterm=raw["incoterm"],
        customer=CustomerRecord(
            name=customer["name"],
            email=customer["email"],
            phone=customer["phone"],
            postcode=customer["postcode"],
            country=customer["country"],
            address=customer.get("address"),
        ),
        items=tuple(
            ItemRecord(item["sku"], item["qty"], Decimal(item["price"])) for item in raw["items"]
        ),
        shipment=None if shipment is None else _shipment(shipment),
        returns=None if "returns" not in raw else tuple(_return(entry) for entry in raw["returns"]),
        refunds=None if "refunds" not in raw else tuple(_refund(entry) for entry in raw["refunds"]),
    )


def _shipment(raw: dict[str, Any]) -> ShipmentRecord:
    expected = raw.get("expected_delivery")
    return ShipmentRecord(
        carrier=raw["carrier"],
        last_mile=raw["last_mile"],
        tracking=raw["tracking"],
        compensation=raw["compensation"],
        expected_delivery=None if expected is None else date.fromisoformat(expected),
        events=tuple(
            EventRecord(parse_time(event["at"]), event["stage"], event["place"], event["text"])
            for event in raw["events"]
        ),
    )


def _return(raw: dict[str, Any]) -> ReturnRecordData:
    received = raw.get("received_at")
    return ReturnRecordData(
        requested_at=parse_time(raw["requested_at"]),
        received_at=None if received is None else parse_time(received),
    )


def _refund(raw: dict[str, Any]) -> RefundRecord:
    return RefundRecord(Decimal(raw["amount"]), raw["status"], parse_time(raw["at"]))
