"""Fuzz target: the shop import file (``voice-agent-shop/1``), read as ``voice-agent import``
reads it.

The first byte picks how the rest is used:
- even: the bytes are the file (UTF-8 or not, JSON or not);
- odd: the bytes steer edits of a valid seed document (a value swapped for a hostile one, a
  key dropped, an entry doubled), so validation and import see well-formed JSON that is
  wrong in one place or a few.

Expected refusals are ShopDataError listing problems, each with a JSON path and a reason. A
document accepted and small enough is imported into an in-memory SQLite database holding the
seed's shop, restored before each import (no state from one input to the next).
"""

from __future__ import annotations

import copy
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from voice_agent import PROJECT_ROOT
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import Database, open_database
from voice_agent.store.importer import import_document
from voice_agent.store.shopfile import ShopDataError, parse_json, shop_data

SOURCE = "fuzz.json"
SEED = PROJECT_ROOT / "examples" / "shop.example.json"
MAX_EDITS = 16
"""Edits per input: more only spends the time cap on this target's own walking."""
IMPORTED_AT = datetime(2026, 3, 31, tzinfo=UTC)
MAX_LEN = 16_384
"""Inputs up to this many bytes (the harness's option): the larger seed files fit."""
IMPORT_AT_MOST = (1, 4)
"""Orders and products: a larger accepted document is only validated. Importing the seed's
two orders took 13 ms of CPU, and 129 ms under atheris's instrumentation: past the cap."""

HOSTILE: tuple[Any, ...] = (  # what a parsed file can hold (NaN and Infinity it cannot)
    None,
    True,
    0,
    -1,
    10**30,
    2**31,
    Decimal("1e999999"),
    Decimal("1E+30"),
    Decimal("-0.000000001"),
    Decimal("0.00001"),
    Decimal("9999999999.9999"),
    "",
    " ",
    "x" * 500,
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-03-01T10:00:00",
    "2026-02-30T10:00:00Z",
    "0001-01-01",
    "9999-12-31",
    "ÄÖÜ\u0000\ud7ff",
    [],
    {},
    [{}],
    {"": ""},
)


@cache
def _seed() -> dict[str, Any]:
    document: dict[str, Any] = parse_json(Path(SEED).read_bytes(), str(SEED))
    return document


@cache
def _databases() -> tuple[Database, sqlite3.Connection]:
    """The database imports go to, and a copy of it holding the seed's shop."""
    database = open_database(StoreSettings(url="sqlite://"), PathsSettings())
    # also compiles the schema and SQLAlchemy's first queries before the first timed input
    import_document(database, _seed(), str(SEED), IMPORTED_AT)
    pristine = sqlite3.connect(":memory:")
    _copy(database, into=None, pristine=pristine)
    return database, pristine


def _fresh_database() -> Database:
    database, pristine = _databases()
    _copy(database, into=database, pristine=pristine)
    return database


def _copy(database: Database, into: Database | None, pristine: sqlite3.Connection) -> None:
    """Back the (one, shared) in-memory connection up to `pristine`, or restore it from it."""
    proxy = database.engine.raw_connection()
    try:
        live = proxy.driver_connection
        assert isinstance(live, sqlite3.Connection)
        if into is None:
            live.backup(pristine)
        else:
            pristine.backup(live)
    finally:
        proxy.close()


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in the document, depth first."""
    found: list[tuple[Any, Any]] = []
    keys = node.keys() if isinstance(node, dict) else range(len(node))
    for key in list(keys):
        found.append((node, key))
        if isinstance(node[key], dict | list):
            found.extend(_slots(node[key]))
    return found


def _edited(steer: bytes) -> dict[str, Any]:
    document = copy.deepcopy(_seed())
    if steer[:1] and steer[0] % 2:  # the seed's lighter order only: small enough to import
        document["orders"] = document["orders"][1:]
    for at in range(0, min(len(steer) - 2, 3 * MAX_EDITS), 3):
        where, how, what = steer[at], steer[at + 1], steer[at + 2]
        slots = _slots(document)
        if not slots:
            break
        container, key = slots[(where * 7 + what) % len(slots)]
        _edit(container, key, how % 4, copy.deepcopy(HOSTILE[what % len(HOSTILE)]))
    return document


def _edit(container: Any, key: Any, how: int, value: Any) -> None:
    if how == 0:
        container[key] = value
    elif how == 1:
        del container[key]
    elif how == 2 and isinstance(container, list):
        container.insert(key, copy.deepcopy(container[key]))
    elif how == 2:
        container[f"{key}_"] = value
    elif isinstance(value, str) and isinstance(container, dict):
        container[value] = container.pop(key)


def _refused(error: ShopDataError) -> None:
    if not error.problems or not all(
        problem.path.startswith("$") and problem.reason.strip() for problem in error.problems
    ):
        raise AssertionError(f"a refusal that does not say what is wrong: {error}")


def one_input(data: bytes) -> None:
    if not data:
        return
    structured, rest = data[0] % 2 == 1, data[1:]
    try:
        document = _edited(rest) if structured else parse_json(rest, SOURCE)
        shop_data(document, SOURCE)
    except ShopDataError as error:
        _refused(error)
        return
    orders, products = len(document.get("orders", [])), len(document.get("products", []))
    if orders > IMPORT_AT_MOST[0] or products > IMPORT_AT_MOST[1]:
        return
    try:
        import_document(_fresh_database(), document, SOURCE, IMPORTED_AT)
    except ShopDataError as error:  # the seed's SKUs are stored, so the refusal may differ
        _refused(error)


_databases()  # migrated and warmed once, before the harness times the first input
