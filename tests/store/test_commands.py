"""`voice-agent data import`, `demo`, `unlock` and `export`, run as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import run_cli
from tests.store.postgres import PostgresServer
from tests.store.test_shopfile import EXAMPLE
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import open_database
from voice_agent.store.demo import ORDERS
from voice_agent.store.repository import Repository
from voice_agent.store.writes import AddressChange, ClaimWrite, OrderLock, VerificationAttempt


def orders_in(url: str, numbers: list[str]) -> dict[str, bool]:
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        repository = Repository(database)
        return {number: repository.find_order(number) is not None for number in numbers}


def test_check_then_import_then_reimport(isolated_data_dir: dict[str, str]) -> None:
    url = isolated_data_dir["VOICE_AGENT_STORE__URL"]
    checked = run_cli(["data", "import", "--check", str(EXAMPLE)], env=isolated_data_dir)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == f"{EXAMPLE}: valid (2 products, 2 orders)\n"
    assert orders_in(url, ["4567"]) == {"4567": False}
    first = run_cli(["data", "import", str(EXAMPLE)], env=isolated_data_dir)
    assert first.returncode == 0, first.stderr
    assert "orders: 2 added, 0 updated" in first.stdout
    second = run_cli(["data", "import", str(EXAMPLE)], env=isolated_data_dir)
    assert second.returncode == 0, second.stderr
    assert "orders: 0 added, 2 updated" in second.stdout
    assert orders_in(url, ["4567", "4568"]) == {"4567": True, "4568": True}


def test_a_bad_file_fails_with_every_problem_on_stderr(
    isolated_data_dir: dict[str, str], tmp_path: Path
) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["orders"][0]["number"] = "7000"
    document["orders"][0]["items"][0]["qty"] = "two"
    document["orders"][1]["shipment"] = {
        "carrier": "4PX", "last_mile": None, "tracking": "4PX1", "compensation": False,
        "events": [{"at": "2025-03-10T08:00:00Z", "stage": "lost", "place": "?", "text": "?"}],
    }
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    result = run_cli(["data", "import", str(bad)], env=isolated_data_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{bad}: 2 problems, nothing imported" in result.stderr
    assert f"{bad}: $.orders[0].items[0].qty: expected an integer, got the string 'two'" in (
        result.stderr
    )
    assert f"{bad}: $.orders[1].shipment.events[0].stage: unknown stage 'lost'" in result.stderr
    url = isolated_data_dir["VOICE_AGENT_STORE__URL"]
    assert orders_in(url, ["7000", "4568"]) == {"7000": False, "4568": False}


def test_a_bad_language_code_is_refused_with_its_field(
    isolated_data_dir: dict[str, str], tmp_path: Path
) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["products"][0]["names"] = {"German": "Flache Powerbank"}
    bad = tmp_path / "names.json"
    bad.write_text(json.dumps(document))
    result = run_cli(["data", "import", str(bad)], env=isolated_data_dir)
    assert result.returncode == 1
    assert f"{bad}: $.products[0].names.German: 'German' is not a language code" in result.stderr
    url = isolated_data_dir["VOICE_AGENT_STORE__URL"]
    assert orders_in(url, ["4567"]) == {"4567": False}


def test_broken_json_names_line_and_column(
    isolated_data_dir: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "voice-agent-shop/1",\n  "orders": [}\n')
    result = run_cli(["data", "import", str(broken)], env=isolated_data_dir)
    assert result.returncode == 1
    assert f"{broken}: $: broken JSON at line 2, column 14: Expecting value" in result.stderr


def test_demo_written_to_a_file_imports_as_an_update(
    isolated_data_dir: dict[str, str], tmp_path: Path
) -> None:
    anchor = "2025-06-01T12:00:00Z"
    loaded = run_cli(["data", "demo", "--anchor", anchor], env=isolated_data_dir)
    assert loaded.returncode == 0, loaded.stderr
    assert f"orders: {len(ORDERS)} added" in loaded.stdout
    written = tmp_path / "demo.json"
    wrote = run_cli(["data", "demo", "--anchor", anchor, "--write", str(written)])
    assert wrote.returncode == 0, wrote.stderr
    assert json.loads(written.read_text())["format"] == "voice-agent-shop/1"
    imported = run_cli(["data", "import", str(written)], env=isolated_data_dir)
    assert imported.returncode == 0, imported.stderr
    assert f"orders: 0 added, {len(ORDERS)} updated" in imported.stdout


def test_the_url_setting_points_a_command_at_postgresql(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    config = tmp_path / "postgres.toml"
    config.write_text(f'[store]\nurl = "{url}"\n')
    result = run_cli(["data", "demo", "--config", str(config)])
    assert result.returncode == 0, result.stderr
    assert f"127.0.0.1:{postgres_server.port}" in result.stdout
    assert orders_in(url, ["10231", "58815"]) == {"10231": True, "58815": True}


def test_unlock_lifts_an_orders_locks_and_says_which(isolated_data_dir: dict[str, str]) -> None:
    url = isolated_data_dir["VOICE_AGENT_STORE__URL"]
    at = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
    caller = "sip:+447700900123@203.0.113.5"
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        Repository(database).apply(
            [
                VerificationAttempt(
                    order_number="45069", factor="postcode", success=False, at=at, caller=caller
                ),
                OrderLock(order_number="45069", until=at + timedelta(minutes=30), caller=caller),
                OrderLock(order_number="45069", until=at + timedelta(hours=24)),
                OrderLock(order_number="45070", until=at + timedelta(hours=24)),
            ]
        )
    later = (at + timedelta(minutes=5)).isoformat()
    result = run_cli(["data", "unlock", "45069", "--now", later], env=isolated_data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "order 45069: lifted 2 lock(s); earlier failed attempts count no more",
        f"  caller {caller}, locked until 2025-03-20T14:30:00Z",
        "  every caller, locked until 2025-03-21T14:00:00Z",
    ]
    again = run_cli(["data", "unlock", "45069", "--now", later], env=isolated_data_dir)
    assert again.stdout == "order 45069: no lock running; nothing lifted\n"
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        repository = Repository(database)
        now = at + timedelta(minutes=6)
        assert repository.locks("45069", now) == []
        assert repository.recent_failures("45069", at - timedelta(hours=1)) == []
        assert [lock.order_number for lock in repository.locks("45070", now)] == ["45070"]


def _claim(reference: str, at: datetime) -> ClaimWrite:
    return ClaimWrite(
        reference=reference,
        order_number="4567",
        stage="last_mile",
        responsible_party="Royal Mail",
        evidence_held=(),
        evidence_missing=("proof of delivery",),
        insured=True,
        outcome="reship or refund",
        promised_by=at.date() + timedelta(days=7),
        opened_at=at,
    )


def test_a_reimport_names_the_address_changes_it_kept(isolated_data_dir: dict[str, str]) -> None:
    url = isolated_data_dir["VOICE_AGENT_STORE__URL"]
    assert run_cli(["data", "import", str(EXAMPLE)], env=isolated_data_dir).returncode == 0
    at = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        change = AddressChange(
            order_number="4567",
            address="2 Harbour Street, Whitby",
            postcode="YO21 3PT",
            requested_at=at,
        )
        Repository(database).apply([change])
    again = run_cli(["data", "import", str(EXAMPLE)], env=isolated_data_dir)
    assert again.returncode == 0, again.stderr
    assert (
        "kept 1 address changes the shop has not confirmed: "
        "order 4567 (kept '2 Harbour Street, Whitby, YO21 3PT')"
    ) in again.stdout


def test_export_writes_the_events_created_in_the_span(
    isolated_data_dir: dict[str, str], tmp_path: Path
) -> None:
    url = isolated_data_dir["VOICE_AGENT_STORE__URL"]
    assert run_cli(["data", "import", str(EXAMPLE)], env=isolated_data_dir).returncode == 0
    at = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
    with open_database(StoreSettings(url=url), PathsSettings()) as database:
        Repository(database).apply([_claim("CL-1", at), _claim("CL-2", at + timedelta(days=1))])
    both = run_cli(["data", "export", "--since", "2025-03-20"], env=isolated_data_dir)
    assert both.returncode == 0, both.stderr
    events = json.loads(both.stdout)["events"]
    assert [event["data"]["reference"] for event in events] == ["CL-1", "CL-2"]
    assert set(events[0]) == {"id", "event", "created_at", "delivered_at", "data"}
    assert (events[0]["event"], events[0]["created_at"]) == ("claim.opened", "2025-03-20T14:00:00Z")
    assert events[0]["delivered_at"] is None
    out = tmp_path / "events.json"
    span = ["--since", "2025-03-20T15:00:00+01:00", "--until", "2025-03-21", "--out", str(out)]
    first_day = run_cli(["data", "export", *span], env=isolated_data_dir)
    assert first_day.returncode == 0, first_day.stderr
    assert first_day.stdout == ""
    assert [event["data"]["reference"] for event in json.loads(out.read_text())["events"]] == [
        "CL-1"
    ]


def test_export_refuses_a_time_it_cannot_read(isolated_data_dir: dict[str, str]) -> None:
    bad_day = run_cli(["data", "export", "--since", "2025-13-01"], env=isolated_data_dir)
    assert bad_day.returncode == 2
    assert "argument --since: '2025-13-01' is not an ISO 8601 date" in bad_day.stderr
    naive = run_cli(["data", "export", "--since", "2025-03-20T10:00"], env=isolated_data_dir)
    assert naive.returncode == 2
    assert "has no UTC offset" in naive.stderr
    backwards = ["data", "export", "--since", "2025-03-21", "--until", "2025-03-20"]
    refused = run_cli(backwards, env=isolated_data_dir)
    assert refused.returncode == 2
    assert "--until must be later than --since" in refused.stderr
    assert refused.stdout == ""
