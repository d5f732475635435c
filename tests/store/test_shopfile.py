"""Validation of shop files: every problem, with its JSON path and a precise reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from voice_agent import PROJECT_ROOT
from voice_agent.store.shopfile import (
    Problem,
    ShopDataError,
    parse_json,
    schema,
    shop_data,
    validate,
)
from voice_agent.store.views import INCOTERMS, STAGES

EXAMPLE = PROJECT_ROOT / "examples" / "shop.example.json"

Document = dict[str, Any]


def example() -> Document:
    document: Document = parse_json(EXAMPLE.read_bytes(), str(EXAMPLE))
    return document


def first_order(document: Document) -> Document:
    order: Document = document["orders"][0]
    return order


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(schema())


def test_the_example_file_is_valid_and_converts() -> None:
    shop = shop_data(example(), "example")
    assert [product.sku for product in shop.products] == ["PB-10K", "CASE-IP15"]
    order = shop.orders[0]
    assert order.number == "4567"
    assert order.placed_at == datetime(2025, 3, 2, 9, 15, tzinfo=UTC)
    assert order.items[0].price == Decimal("21.99")
    assert order.shipment is not None
    assert order.shipment.events[0].stage == "pickup"
    assert shop.orders[1].shipment is None


def _set(path: str, value: Any) -> Callable[[Document], None]:
    """A mutation that sets the value at a dotted path (``orders.0.items.1.qty``)."""

    def mutate(document: Document) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            index = int(last)
            node[index:index + 1] = [value]  # replaces, or appends one past the end
        else:
            node[last] = value

    return mutate


def _drop(path: str) -> Callable[[Document], None]:
    def mutate(document: Document) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]

    return mutate


BAD_RECORDS: list[tuple[str, Callable[[Document], None], str, str]] = [
    # (case, mutation, JSON path, reason)
    ("wrong format", _set("format", "voice-agent-shop/2"), "$.format",
     "unsupported value 'voice-agent-shop/2' (expected 'voice-agent-shop/1')"),
    ("no format", _drop("format"), "$.format", "missing"),
    ("qty as text", _set("orders.0.items.0.qty", "2"), "$.orders[0].items[0].qty",
     "expected an integer, got the string '2'"),
    ("fractional qty", _set("orders.0.items.0.qty", Decimal("1.5")), "$.orders[0].items[0].qty",
     "expected an integer, got the number 1.5"),
    ("zero qty", _set("orders.0.items.0.qty", 0), "$.orders[0].items[0].qty",
     "must be at least 1, got 0"),
    ("price as text", _set("orders.0.items.1.price", "7.99"), "$.orders[0].items[1].price",
     "expected a number, got the string '7.99'"),
    ("negative price", _set("orders.0.items.1.price", Decimal("-1")),
     "$.orders[0].items[1].price", "must be at least 0, got -1"),
    # found by fuzzing: these passed validation, then broke the import or the stored order
    ("huge qty", _set("orders.0.items.0.qty", 10**30), "$.orders[0].items[0].qty",
     "must be at most 1000000, got 1000000000000000000000000000000"),
    ("huge price", _set("orders.0.items.1.price", Decimal("1E+30")),
     "$.orders[0].items[1].price", "must be at most 9999999999.9999, got 1E+30"),
    ("price of 5 decimals", _set("orders.0.items.1.price", Decimal("7.99001")),
     "$.orders[0].items[1].price", "7.99001 has more than 4 decimal places (the store keeps 4)"),
    ("insured as text", _set("orders.0.insured", "yes"), "$.orders[0].insured",
     "expected true or false, got the string 'yes'"),
    ("number as integer", _set("orders.1.number", 4568), "$.orders[1].number",
     "expected a string, got the integer 4568"),
    ("attribute as number", _set("products.0.attributes.capacity", 10000),
     "$.products[0].attributes.capacity", "expected a string, got the integer 10000"),
    ("shipment as text", _set("orders.0.shipment", "shipped"), "$.orders[0].shipment",
     "expected an object or null, got the string 'shipped'"),
    ("products not a list", _set("products", {"sku": "A"}), "$.products",
     "expected a list, got an object"),
    ("unknown stage", _set("orders.0.shipment.events.1.stage", "customs"),
     "$.orders[0].shipment.events[1].stage",
     "unknown stage 'customs' (expected one of pickup, export_customs, international, "
     "import_customs, last_mile)"),
    ("unknown incoterm", _set("orders.0.incoterm", "FOB"), "$.orders[0].incoterm",
     "unknown value 'FOB' (expected one of DDP, DAP, DDU)"),
    ("missing email", _drop("orders.0.customer.email"), "$.orders[0].customer.email", "missing"),
    ("missing events", _drop("orders.0.shipment.events"), "$.orders[0].shipment.events",
     "missing"),
    ("missing items", _drop("orders.1.items"), "$.orders[1].items", "missing"),
    ("missing attributes", _drop("products.1.attributes"), "$.products[1].attributes",
     "missing"),
    ("no items", _set("orders.1.items", []), "$.orders[1].items", "needs at least 1 entry"),
    ("empty name", _set("products.0.name", ""), "$.products[0].name", "must not be empty"),
    ("unknown field", _set("orders.0.notes", "gift"), "$.orders[0].notes",
     "unknown field (expected one of number, placed_at, currency, insured, incoterm, customer, "
     "items, shipment, returns, refunds)"),
    ("duplicate order number", _set("orders.1.number", "4567"), "$.orders[1].number",
     "duplicate order number '4567' (first at $.orders[0])"),
    ("duplicate SKU", _set("products.2", {"sku": "PB-10K", "name": "Again", "attributes": {}}),
     "$.products[2].sku", "duplicate SKU 'PB-10K' (first at $.products[0])"),
    ("unknown SKU", _set("orders.1.items.0.sku", "CASE-IP16"), "$.orders[1].items[0].sku",
     "unknown SKU 'CASE-IP16' (not in this file's products nor already imported)"),
    ("time without offset", _set("orders.0.placed_at", "2025-03-02T10:15:00"),
     "$.orders[0].placed_at",
     "bad time '2025-03-02T10:15:00': the time has no UTC offset (add Z or e.g. +02:00)"),
    ("time in words", _set("orders.0.shipment.events.2.at", "yesterday"),
     "$.orders[0].shipment.events[2].at",
     "bad time 'yesterday': not an ISO 8601 time (e.g. 2025-03-14T09:30:00Z)"),
    ("impossible day", _set("orders.1.placed_at", "2025-02-30T10:00:00Z"),
     "$.orders[1].placed_at",
     "bad time '2025-02-30T10:00:00Z': not an ISO 8601 time (e.g. 2025-03-14T09:30:00Z)"),
    # found by fuzzing: valid ISO times that have no UTC equivalent broke the import
    ("time beyond year 9999 in UTC", _set("orders.0.shipment.events.2.at",
                                          "9999-12-31T23:59:59-01:00"),
     "$.orders[0].shipment.events[2].at",
     "bad time '9999-12-31T23:59:59-01:00': the time is out of range once in UTC "
     "(years 1 to 9999)"),
    ("time before year 1 in UTC", _set("orders.1.placed_at", "0001-01-01T00:00:00+01:00"),
     "$.orders[1].placed_at",
     "bad time '0001-01-01T00:00:00+01:00': the time is out of range once in UTC "
     "(years 1 to 9999)"),
    ("price beyond the maximum with decimals", _set("orders.0.items.1.price", Decimal("1E+999999")),
     "$.orders[0].items[1].price", "must be at most 9999999999.9999, got 1E+999999"),
    ("bad delivery date", _set("orders.0.shipment.expected_delivery", "15/03/2025"),
     "$.orders[0].shipment.expected_delivery",
     "bad date '15/03/2025': Invalid isoformat string: '15/03/2025'"),
    ("event before the order", _set("orders.0.shipment.events.0.at", "2025-03-01T00:00:00Z"),
     "$.orders[0].shipment.events[0].at",
     "event at 2025-03-01T00:00:00Z is before the order was placed (2025-03-02T10:15:00+01:00)"),
    ("currency in words", _set("orders.1.currency", "euro"), "$.orders[1].currency",
     "'euro' is not a three-letter ISO 4217 currency code such as EUR"),
    ("country in words", _set("orders.1.customer.country", "Germany"),
     "$.orders[1].customer.country",
     "'Germany' is not a two-letter ISO 3166-1 country code such as DE"),
    ("email without @", _set("orders.1.customer.email", "anna.example.com"),
     "$.orders[1].customer.email", "'anna.example.com' is not an e-mail address"),
]


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [pytest.param(mutate, path, reason, id=case) for case, mutate, path, reason in BAD_RECORDS],
)
def test_a_bad_record_is_reported_with_path_and_reason(
    mutate: Callable[[Document], None], path: str, reason: str
) -> None:
    document = example()
    mutate(document)
    assert validate(document) == [Problem(path, reason)]


def test_every_bad_record_in_one_file_is_reported_in_file_order() -> None:
    document = example()
    wanted = {
        "qty as text", "unknown stage", "missing email", "unknown SKU", "time in words",
        "duplicate SKU", "insured as text",
    }
    chosen = [case for case in BAD_RECORDS if case[0] in wanted]
    for _case, mutate, _path, _reason in chosen:
        mutate(document)
    problems = validate(document)
    assert sorted(problems, key=str) == sorted(
        (Problem(path, reason) for _case, _m, path, reason in chosen), key=str
    )
    paths = [problem.path for problem in problems]
    assert paths == [
        "$.orders[0].customer.email",
        "$.orders[0].insured",
        "$.orders[0].items[0].qty",
        "$.orders[0].shipment.events[1].stage",
        "$.orders[0].shipment.events[2].at",
        "$.orders[1].items[0].sku",
        "$.products[2].sku",
    ]


def test_shop_data_raises_with_every_problem() -> None:
    document = example()
    _set("orders.0.items.0.qty", "2")(document)
    _set("orders.1.currency", "euro")(document)
    with pytest.raises(ShopDataError) as raised:
        shop_data(document, "shop.json")
    assert len(raised.value.problems) == 2
    lines = str(raised.value).splitlines()
    assert lines[0] == "shop.json: 2 problems, nothing imported"
    assert lines[1] == (
        "shop.json: $.orders[0].items[0].qty: expected an integer, got the string '2'"
    )


def test_skus_already_stored_count_as_known() -> None:
    document = example()
    _set("orders.1.items.0.sku", "LAMP-MOON")(document)
    assert validate(document, known_skus={"LAMP-MOON"}) == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(
            b'{"format": "voice-agent-shop/1",\n "orders": [\n  {"number": "1",}\n ]\n}',
            "broken JSON at line 3, column 18: Expecting property name enclosed in double quotes",
            id="trailing comma",
        ),
        pytest.param(
            b'{"format": "voice-agent-shop/1", "orders": [',
            "broken JSON at line 1, column 45: Expecting value",
            id="cut short",
        ),
        pytest.param(b"", "broken JSON at line 1, column 1: Expecting value", id="empty"),
        pytest.param(
            b'{"orders": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
            "broken JSON nested too deeply",
            id="nested too deeply",
        ),
        pytest.param(
            b'{"format": "voice-agent-shop/1", "products": [{"name": "Caf\xe9"}]}',
            "not UTF-8 text (line 1, byte 59: invalid continuation byte)",
            id="latin-1",
        ),
        pytest.param(  # found by fuzzing: Decimal's InvalidOperation escaped
            b'{"orders": [{"items": [{"price": 1.5e1000000000000000000}]}]}',
            "broken JSON a number is out of range (its exponent is too large)",
            id="exponent out of range",
        ),
        pytest.param(  # found by fuzzing: Python reads NaN, which then passed "minimum"
            b'{"orders": [{"items": [{"price": NaN}]}]}',
            "broken JSON NaN is not a JSON number",
            id="NaN",
        ),
        pytest.param(  # found by fuzzing: int()'s ValueError escaped
            b'{"orders": [{"items": [{"qty": ' + b"9" * 5000 + b"}]}]}",
            "broken JSON a number is too long: Exceeds the limit (4300 digits) for integer "
            "string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to "
            "increase the limit",
            id="integer too long",
        ),
    ],
)
def test_broken_json_is_reported_with_line_and_column(raw: bytes, reason: str) -> None:
    with pytest.raises(ShopDataError) as raised:
        parse_json(raw, "shop.json")
    assert raised.value.problems == (Problem("$", reason),)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    assert validate(json.loads("[1, 2]")) == [Problem("$", "expected an object, got a list")]


def test_the_schema_names_the_same_stages_and_incoterms_as_the_store() -> None:
    definitions = schema()["$defs"]
    assert tuple(definitions["event"]["properties"]["stage"]["enum"]) == STAGES
    assert tuple(definitions["order"]["properties"]["incoterm"]["enum"]) == INCOTERMS


# --- the shop's data per language -------------------------------------------------------------


def with_languages() -> Document:
    """The example with a product named in German and Spanish, a translated material and
    the shop's translations of an event text."""
    document = example()
    product = document["products"][0]
    product["names"] = {"de": "Flache Powerbank", "es": "Batería externa delgada"}
    product["attributes_i18n"] = {"de": {"material": "Aluminiumgehäuse"}}
    document["translations"] = {
        "de": {"Out for delivery": "In Zustellung"},
        "pt": {"Out for delivery": "Saiu para entrega"},
    }
    return document


def test_a_file_without_languages_is_valid_and_gives_none() -> None:
    shop = shop_data(example(), "example")
    assert all(product.names is None for product in shop.products)
    assert all(product.attributes_i18n is None for product in shop.products)
    assert shop.translations == {}


def test_names_attribute_values_and_translations_convert() -> None:
    shop = shop_data(with_languages(), "example")
    product = shop.products[0]
    assert product.names == {"de": "Flache Powerbank", "es": "Batería externa delgada"}
    assert product.attributes_i18n == {"de": {"material": "Aluminiumgehäuse"}}
    assert shop.products[1].names is None
    assert shop.translations == {
        "de": {"Out for delivery": "In Zustellung"},
        "pt": {"Out for delivery": "Saiu para entrega"},
    }


def test_the_shipped_shops_are_valid() -> None:
    second = PROJECT_ROOT / "examples" / "shop-second.json"
    assert validate(parse_json(second.read_bytes(), str(second))) == []


def _put(keys: tuple[str, ...], value: Any) -> Callable[[Document], None]:
    """A mutation that sets ``value`` under ``keys`` (which may hold dots and spaces)."""

    def mutate(document: Document) -> None:
        node: Any = document
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


BAD_LANGUAGES: list[tuple[str, Callable[[Document], None], str, str]] = [
    # (case, mutation, JSON path, reason)
    ("upper-case code", _set("products.0.names.DE", "Powerbank"), "$.products[0].names.DE",
     "'DE' is not a language code: two lower-case letters (ISO 639-1) such as de"),
    ("language as a word", _set("translations.german", {}), "$.translations.german",
     "'german' is not a language code: two lower-case letters (ISO 639-1) such as de"),
    ("three-letter code", _set("products.0.attributes_i18n.deu", {}),
     "$.products[0].attributes_i18n.deu",
     "'deu' is not a language code: two lower-case letters (ISO 639-1) such as de"),
    ("region in the code", _set("translations.pt-BR", {}), '$.translations["pt-BR"]',
     "'pt-BR' is not a language code: two lower-case letters (ISO 639-1) such as de"),
    ("names as a list", _set("products.0.names", ["Powerbank"]), "$.products[0].names",
     "expected an object, got a list"),
    ("name as a number", _set("products.0.names.fr", 3), "$.products[0].names.fr",
     "expected a string, got the integer 3"),
    ("empty name", _set("products.0.names.fr", ""), "$.products[0].names.fr",
     "must not be empty"),
    ("value as a number", _set("products.0.attributes_i18n.de.material", 1),
     "$.products[0].attributes_i18n.de.material", "expected a string, got the integer 1"),
    ("values as text", _set("products.0.attributes_i18n.es", "aluminio"),
     "$.products[0].attributes_i18n.es", "expected an object, got the string 'aluminio'"),
    ("value of no attribute", _set("products.0.attributes_i18n.de.colour", "silber"),
     "$.products[0].attributes_i18n.de.colour",
     "unknown attribute 'colour' (the product's attributes: capacity, compatibility, material, "
     "ship_time.GB, ship_time.DE, ship_time.default)"),
    ("translations as a list", _set("translations", []), "$.translations",
     "expected an object, got a list"),
    ("a language's table as text", _set("translations.fr", "En cours de livraison"),
     "$.translations.fr", "expected an object, got the string 'En cours de livraison'"),
    ("translation as a number", _set("translations.de.Delivered", 7),
     "$.translations.de.Delivered", "expected a string, got the integer 7"),
    ("empty translation", _set("translations.de.Delivered", ""), "$.translations.de.Delivered",
     "must not be empty"),
    ("empty text", _put(("translations", "de", ""), "Zugestellt"), '$.translations.de[""]',
     "an empty text has nothing to translate"),
    ("the same text twice", _put(("translations", "de", "out for delivery."), "Wird zugestellt"),
     '$.translations.de["out for delivery."]',
     "the same text as 'Out for delivery' (case, spacing and a final full stop do not count): "
     "give it once"),
]


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [pytest.param(mutate, path, reason, id=case) for case, mutate, path, reason in BAD_LANGUAGES],
)
def test_a_bad_language_field_is_reported_with_its_path(
    mutate: Callable[[Document], None], path: str, reason: str
) -> None:
    document = with_languages()
    mutate(document)
    assert validate(document) == [Problem(path, reason)]
