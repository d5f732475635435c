"""Fuzz target: the shop import file (``voice-agent-shop/1``), read as ``voice-agent import``
reads it.

The first byte picks how the rest is used:
- even: the bytes are the file (UTF-8 or not, JSON or not);
- odd: the bytes steer edits of a valid seed document (a value swapped for a hostile one, a
  key dropped, an entry doubled), so validation and import see well-formed JSON that is
  wrong in one place or a few.

Expected refusals are ShopDataError listing problems, each with a JSON path and a reason. A
document accepted and small enough is imported into an in-memory SQLite database (one per
process: imports of earlier inputs stay, as in a shop's real database).
"""

from __future__ import annotations

import copy
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
IMPORT_AT_MOST = 8_000
"""Bytes of JSON: a larger accepted document is only validated (importing it takes longer
than the fuzzer's time cap allows one input)."""

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
def _database() -> Database:
    return open_database(StoreSettings(url="sqlite://"), PathsSettings())


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
    size = len(rest)
    try:
        document = _edited(rest) if structured else parse_json(rest, SOURCE)
        shop_data(document, SOURCE)
    except ShopDataError as error:
        _refused(error)
        return
    if size > IMPORT_AT_MOST:
        return
    try:
        import_document(_database(), document, SOURCE, datetime(2026, 3, 31, tzinfo=UTC))
    except ShopDataError as error:  # SKUs stored earlier change what is valid
        _refused(error)


def _warm_up() -> None:
    """Open the database and import the seed once, so that the first input is not charged
    with compiling the schema, migrating the database and SQLAlchemy's first queries."""
    import_document(_database(), _seed(), str(SEED), datetime(2026, 3, 31, tzinfo=UTC))


_warm_up()
