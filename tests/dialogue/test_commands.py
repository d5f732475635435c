"""`voice-agent chat`, end to end: the installed command against a demo database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_ROOT, VOICE_AGENT, run_cli
from tests.dialogue.conftest import ANCHOR
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import open_database
from voice_agent.store.repository import Repository

NOW = ANCHOR.isoformat()


def _config(tmp_path: Path, database: Path, extra: str = "") -> Path:
    config = tmp_path / "chat.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{database}"\n{extra}')
    return config


def _script(tmp_path: Path, *lines: dict[str, Any]) -> Path:
    script = tmp_path / "call.jsonl"
    script.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return script


def _out(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_a_scripted_call_opens_a_claim_in_the_configured_database(
    tmp_path: Path, demo_db_path: Path
) -> None:
    script = _script(
        tmp_path,
        {"caller": "Hi, my parcel never arrived."},
        {"dtmf": "31146#"},
        {"caller": "The postcode is three three one three zero."},
        {"caller": "Yes, please open a claim."},
        {"caller": "No, that's all. Bye!"},
    )
    config = _config(tmp_path, demo_db_path)
    result = run_cli(["chat", "--config", str(config), "--now", NOW, "--script", str(script)])
    assert result.returncode == 0, result.stderr
    turns = _out(result.stdout)
    assert len(turns) == 6  # the greeting, then one per caller line
    assert turns[0]["agent"].startswith("Hello")
    assert turns[0]["actions"] == []
    assert turns[1]["expect"] == "digits"
    assert turns[3]["actions"] == [
        {"type": "verification", "order": "31146", "factor": "postcode", "success": True}
    ]
    assert turns[3]["agent"].endswith("Shall I open a claim?")
    (claim,) = turns[4]["actions"]
    assert claim["type"] == "claim"
    assert claim["order"] == "31146"
    assert claim["stage"] == "international"
    assert claim["responsible_party"] == "international_carrier"
    assert turns[5]["end_call"] is True
    with open_database(StoreSettings(url=f"sqlite:///{demo_db_path}"), PathsSettings()) as db:
        repository = Repository(db)
        stored = repository.claims("31146")
        assert [c.reference for c in stored] == [claim["reference"]]
        (conversation,) = repository.conversations()
        assert conversation.channel == "chat"
        assert conversation.ended_at == ANCHOR
        turns_stored = repository.turns(conversation.id)
        assert [t.speaker for t in turns_stored] == ["agent"] + ["caller", "agent"] * 5
        assert turns_stored[3].text == "(keypad) 31146#"


def test_a_script_states_how_surely_a_line_was_heard(tmp_path: Path, demo_db_path: Path) -> None:
    script = _script(
        tmp_path,
        {"caller": "Where is my order?"},
        {"caller": "4 7 7 0 0", "confidence": 0.4},
        {"caller": "yes"},
        {"caller": "the last four digits are 0 3 2 1", "confidence": 0.9, "rewritten": True},
        {"caller": "no"},
    )
    config = _config(tmp_path, demo_db_path)
    result = run_cli(["chat", "--config", str(config), "--now", NOW, "--script", str(script)])
    assert result.returncode == 0, result.stderr
    turns = _out(result.stdout)
    assert turns[2]["agent"] == "I heard four, seven, seven, zero, zero. Is that right?"
    assert turns[2]["actions"] == []
    assert "To confirm it's you" in turns[3]["agent"]
    assert turns[4]["agent"] == "I heard zero, three, two, one. Is that right?"
    assert turns[5]["actions"] == []  # read back and turned down: no attempt
    assert "To confirm it's you" in turns[5]["agent"]


def test_a_script_line_with_a_bad_confidence_is_refused(
    tmp_path: Path, demo_db_path: Path
) -> None:
    script = _script(tmp_path, {"caller": "hello", "confidence": 7})
    config = _config(tmp_path, demo_db_path)
    result = run_cli(["chat", "--config", str(config), "--now", NOW, "--script", str(script)])
    assert result.returncode != 0
    assert f"{script}:1: confidence must be a number from 0 to 1" in result.stderr


def test_a_bad_script_line_is_named_and_nothing_is_stored(
    tmp_path: Path, demo_db_path: Path
) -> None:
    script = tmp_path / "bad.jsonl"
    script.write_text('{"caller": "Where is my order?"}\n{"caller": 4567}\n')
    config = _config(tmp_path, demo_db_path)
    result = run_cli(["chat", "--config", str(config), "--now", NOW, "--script", str(script)])
    assert result.returncode == 2
    assert f'{script}:2: expected {{"caller": "text"}} or {{"dtmf": "digits"}}' in result.stderr
    assert result.stdout == ""


def test_a_script_line_nested_too_deeply_is_refused_cleanly(
    tmp_path: Path, demo_db_path: Path
) -> None:
    script = tmp_path / "nested.jsonl"
    script.write_text('{"caller": ' + "[" * 20_000 + "]" * 20_000 + "}\n")
    config = _config(tmp_path, demo_db_path)
    result = run_cli(["chat", "--config", str(config), "--now", NOW, "--script", str(script)])
    assert result.returncode == 2
    assert f"{script}:1: not JSON (nested too deeply)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_policy_file_is_refused(tmp_path: Path, demo_db_path: Path) -> None:
    policies = tmp_path / "policies.toml"
    policies.write_text(
        (PROJECT_ROOT / "config" / "policies.toml")
        .read_text()
        .replace('responsible = "international_carrier"', 'responsible = "nobody"')
    )
    config = _config(tmp_path, demo_db_path, f'[dialogue]\npolicies = "{policies}"\n')
    script = _script(tmp_path, {"caller": "hello"})
    result = run_cli(["chat", "--config", str(config), "--script", str(script)])
    assert result.returncode == 2
    assert "stages.international.responsible: 'nobody' is not one of" in result.stderr


def test_interactive_chat(tmp_path: Path, demo_db_path: Path) -> None:
    config = _config(tmp_path, demo_db_path)
    result = subprocess.run(
        [str(VOICE_AGENT), "chat", "--config", str(config), "--now", NOW],
        input="What is the yoga mat made of?\ndtmf: 1#\nbye\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("agent: ")]
    assert len(lines) == 4
    assert "TPE, latex-free" in lines[1]
    assert "Goodbye" in lines[3]
