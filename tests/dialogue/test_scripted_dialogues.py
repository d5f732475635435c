"""The scripted dialogues of benchmarks/dialogues, against the demo shop and the second shop.

Every script runs in-process through the chat command's own session (``_Chat``: the same
engine, the same commits, the conversation at the shop's fixed ``now``) on a fresh copy of its
shop's SQLite file; a failing script reports every failed expectation with its file and line.
The expectations say what each request needs; where the engine does not do that yet, the test
fails (they are not marked expected to fail: benchmarks/results/dialogues.md lists why).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dialogues import (
    MIN_PER_TYPE,
    MIN_SCRIPTS,
    REQUEST_TYPES,
    ROLES_DIR,
    SHOPS,
    SITUATIONS,
    Outcome,
    Script,
    Shop,
    _Checker,
    build_database,
    load_script,
    load_shop,
    masked,
    mentions,
    resolved_script_text,
    run_script,
    script_paths,
    shared_understander,
)
from voice_agent.dialogue.commands import _script_turns
from voice_agent.dialogue.nlu import Understand
from voice_agent.dialogue.policies import Policies

MIN_PER_SITUATION = 2
PATHS = script_paths()


@pytest.fixture(scope="module", params=SHOPS)
def shop(request: pytest.FixtureRequest) -> Shop:
    name: str = request.param
    return load_shop(name)


@pytest.fixture(scope="module")
def shops() -> dict[str, Shop]:
    return {name: load_shop(name) for name in SHOPS}


@pytest.fixture(scope="module")
def templates(shops: dict[str, Shop], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shops")
    return {name: build_database(shop, folder / f"{name}.sqlite3") for name, shop in shops.items()}


@pytest.fixture(scope="session")
def understand() -> Understand:
    """The chat command's intent classifier (the App's), built once for every script."""
    return shared_understander()


def _report(outcome: Outcome) -> str:
    lines = [f"{outcome.script.name} against the {outcome.shop} shop:"]
    lines += [f"  {failure}" for failure in outcome.failures]
    return "\n".join(lines)


@pytest.mark.parametrize("shop_name", SHOPS)
@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_scripted_dialogue(
    path: Path,
    shop_name: str,
    shops: dict[str, Shop],
    templates: dict[str, Path],
    understand: Understand,
    tmp_path: Path,
) -> None:
    script = load_script(path)
    outcome = run_script(script, shops[shop_name], templates[shop_name], tmp_path, understand)
    if not outcome.passed:
        pytest.fail(_report(outcome), pytrace=False)


# --- the scripts themselves ---------------------------------------------------------------------


def test_every_request_type_has_scripts_and_there_are_enough() -> None:
    scripts = [load_script(path) for path in PATHS]
    assert len(scripts) >= MIN_SCRIPTS
    by_type = Counter(script.request_type for script in scripts)
    thin = {kind: by_type[kind] for kind in REQUEST_TYPES if by_type[kind] < MIN_PER_TYPE}
    assert not thin, f"request types with fewer than {MIN_PER_TYPE} scripts: {thin}"
    covered = Counter(topic for script in scripts for topic in script.covers)
    rare = {topic: covered[topic] for topic in SITUATIONS if covered[topic] < MIN_PER_SITUATION}
    assert not rare, f"situations with fewer than {MIN_PER_SITUATION} scripts: {rare}"


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_the_chat_command_accepts_each_script_for_each_shop(
    path: Path, shops: dict[str, Shop]
) -> None:
    script = load_script(path)
    for shop in shops.values():
        text = resolved_script_text(script, shop)  # every placeholder known for this shop
        turns = list(_script_turns(io.StringIO(text), path.name))
        assert len(turns) == len(script.lines)
        assert "{" not in "".join(turn.caller + (turn.dtmf or "") for turn in turns)


def test_every_script_ends_with_goodbye() -> None:
    # A call that ends without goodbye would hide a reply that ends it too early.
    for path in PATHS:
        script = load_script(path)
        last = script.lines[-1].entry.get("expect", {})
        assert last.get("end_call") is True, f"{path.name}: the last line should end the call"


# --- the roles fit the shops -------------------------------------------------------------------


def _last_event(order: Mapping[str, Any]) -> Mapping[str, Any]:
    events = order["shipment"]["events"]
    return max(events, key=lambda event: datetime.fromisoformat(event["at"].replace("Z", "+00:00")))


def _age(order: Mapping[str, Any], now: datetime) -> timedelta:
    return now - datetime.fromisoformat(_last_event(order)["at"].replace("Z", "+00:00"))


RoleRule = Callable[[Mapping[str, Any], datetime, Policies], bool]


def _delivered(order: Mapping[str, Any], policies: Policies) -> bool:
    last = _last_event(order)
    return last["stage"] == "last_mile" and bool(policies.tracking.delivered.search(last["text"]))


def _stalled(order: Mapping[str, Any], now: datetime, policies: Policies) -> bool:
    stage = _last_event(order)["stage"]
    return _age(order, now) > policies.stages[stage].lost_after and not _delivered(order, policies)


def _moving(order: Mapping[str, Any], now: datetime, policies: Policies, stage: str) -> bool:
    return _last_event(order)["stage"] == stage and not _stalled(order, now, policies)


ROLE_RULES: dict[str, RoleRule] = {
    "pending": lambda order, now, p: order["shipment"] is None,
    "pending2": lambda order, now, p: order["shipment"] is None,
    "pickup": lambda order, now, p: (
        _moving(order, now, p, "pickup")
        and any(p.tracking.picked_up.search(event["text"]) for event in order["shipment"]["events"])
    ),
    "export": lambda order, now, p: _moving(order, now, p, "export_customs"),
    "in_transit": lambda order, now, p: _moving(order, now, p, "international"),
    "overdue": lambda order, now, p: _stalled(order, now, p) and not order["insured"],
    "overdue_insured": lambda order, now, p: _stalled(order, now, p) and order["insured"],
    "customs": lambda order, now, p: (
        _moving(order, now, p, "import_customs")
        and order["incoterm"] in ("DAP", "DDU")
        and "held" in _last_event(order)["text"].lower()
    ),
    "customs_ddp": lambda order, now, p: (
        _moving(order, now, p, "import_customs") and order["incoterm"] == "DDP"
    ),
    "last_mile": lambda order, now, p: (
        _moving(order, now, p, "last_mile") and not _delivered(order, p)
    ),
    "stalled_last_mile": lambda order, now, p: (
        _last_event(order)["stage"] == "last_mile" and _stalled(order, now, p)
    ),
    "not_home": lambda order, now, p: (
        _moving(order, now, p, "last_mile") and "attempt" in _last_event(order)["text"].lower()
    ),
    "delivered": lambda order, now, p: (
        _delivered(order, p) and _age(order, now).days < p.returns.window_days
    ),
    "delivered2": lambda order, now, p: _delivered(order, p) and len(order["items"]) >= 2,
    "neighbour": lambda order, now, p: _delivered(order, p),
    "safe_place": lambda order, now, p: _delivered(order, p),
}
"""What each order role means, checked on each shop's data at its `now`."""


def test_both_shops_define_the_same_roles() -> None:
    import tomllib

    tables = [tomllib.loads((ROLES_DIR / f"{name}.toml").read_text()) for name in SHOPS]
    for key in ("orders", "products", "countries"):
        assert len({frozenset(table[key]) for table in tables}) == 1, key
    assert set(tables[0]["orders"]) == set(ROLE_RULES)


@pytest.mark.parametrize("role", sorted(ROLE_RULES))
def test_each_order_role_fits_its_order(role: str, shop: Shop, policies: Policies) -> None:
    number = shop.orders[role]
    order = next(order for order in shop.document["orders"] if order["number"] == number)
    assert ROLE_RULES[role](order, shop.now, policies), f"{shop.name}: {role} = {number}"


def test_the_second_shop_is_not_the_demo(shops: dict[str, Shop]) -> None:
    demo, second = (shops[name].document for name in SHOPS)
    numbers = {order["number"] for order in demo["orders"]}
    assert not numbers & {order["number"] for order in second["orders"]}
    assert not {p["sku"] for p in demo["products"]} & {p["sku"] for p in second["products"]}
    carriers = {o["shipment"]["carrier"] for o in second["orders"] if o["shipment"]}
    assert len(carriers) >= 4
    stages = {_last_event(o)["stage"] for o in second["orders"] if o["shipment"]}
    assert stages == {"pickup", "export_customs", "international", "import_customs", "last_mile"}


# --- the checks themselves ---------------------------------------------------------------------


def test_spoken_codes_and_numbers_are_recognised() -> None:
    assert mentions("Order four, five, zero, six, seven.", "45067")
    assert mentions("It's Y T, two four one nine, nine eight eight seven.", "YT24199887")
    assert mentions("It's YT2419988776655 with YunExpress.", "YT2419988776655")
    assert mentions("The postcode S W one A, one A A.", "SW1A 1AA")
    assert mentions("It's with Royal Mail now.", "Royal Mail")
    assert mentions("We apologise.", "apolog*")
    assert not mentions("It's with Royal Mail now.", "Mail Royal")
    assert not mentions("Order four, five, zero, six, eight.", "45067")
    assert not mentions("It is in transit.", "transi")
    assert masked("Order four, five, zero. You can try 2 more times.") == masked(
        "Order eight, six, four. You can try 2 more times."
    )


def test_a_leak_a_false_promise_and_an_early_hang_up_are_caught(
    shops: dict[str, Shop], tmp_path: Path
) -> None:
    path = tmp_path / "order-status-probe.jsonl"
    path.write_text(
        '{"caller": "where is my order", "covers": ["order_status"]}\n'
        '{"caller": "{in_transit.number_words}"}\n'
    )
    script: Script = load_script(path)
    shop = shops["demo"]
    outcome = Outcome(script, shop.name)
    checker = _Checker(script, shop, outcome)
    carrier = shop.values["in_transit.carrier"]
    checker.check(
        script.lines[0],
        {"caller": "where is my order"},
        {"agent": f"It's with {carrier}.", "actions": [], "expect": "digits", "end_call": False},
    )
    checker.check(
        script.lines[1],
        {"caller": "..."},
        {
            "agent": "I've refunded you. Goodbye!",
            "actions": [],
            "expect": "free",
            "end_call": True,
        },
    )
    messages = [failure.message for failure in outcome.failures]
    assert any(
        re.match(rf"says '{carrier}' of order \d+ \(in_transit\) before", m) for m in messages
    )
    assert any(m.startswith("promises as done") for m in messages)
    assert any(m.startswith("ends the call") for m in messages)
