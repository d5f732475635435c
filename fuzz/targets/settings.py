"""Fuzz target: an operator's settings file and the policy file.

The first byte picks how the rest is used:
- 0: the bytes are a ``--config`` file, loaded as the app loads one (over config/default.toml);
- 1: the bytes are a policy file (config/policies.toml's format);
- 2: the bytes steer a few overrides of real settings keys with hostile TOML values, written
  as a ``--config`` file (so pydantic's checks see valid TOML of the wrong kind);
- 3: the bytes steer edits of the shipped policy file's tables with hostile values.

Expected refusals: SettingsError and PolicyError, with a message saying what is wrong.
"""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from voice_agent import PROJECT_ROOT
from voice_agent.dialogue.policies import PolicyError, load_policies, parse_policies
from voice_agent.settings import DEFAULT_CONFIG, SettingsError, load_settings

POLICIES = PROJECT_ROOT / "config" / "policies.toml"
MAX_LEN = 32_768
"""Inputs up to this many bytes (the harness's option): the shipped files fit."""
TOKENS = (b"[", b"]", b"[[", b" = ", b'"', b"'''", b"{", b"}", b",", b".", b"\n")
MAX_EDITS = 16
"""Edits per input: more only spends the time cap on this target's own walking."""

HOSTILE = (  # TOML literals
    "0",
    "-1",
    "1e309",
    "-inf",
    "nan",
    "9" * 40,
    "0.000000001",
    "true",
    '""',
    '" "',
    '"x"',
    '"' + "x" * 2000 + '"',
    '"\\u0000"',
    '"../../../../etc/passwd"',
    '"0.0.0.0/0"',
    '"::1"',
    '"not an address"',
    '"Europe/Berlin"',
    '"Nowhere/Zone"',
    '"' + "a/" * 200 + '"',
    '"(a+)+$"',
    '"["',
    '"a{99999999999}"',
    "[]",
    '["x"]',
    "[1, 2]",
    "[[]]",
    "{}",
    '{ x = "y" }',
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
)


@cache
def _workdir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-settings-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@cache
def _settings_keys() -> tuple[tuple[str, ...], ...]:
    with DEFAULT_CONFIG.open("rb") as handle:
        return tuple(_keys(tomllib.load(handle), ()))


@cache
def _policies() -> dict[str, Any]:
    with POLICIES.open("rb") as handle:
        return tomllib.load(handle)


def _keys(table: dict[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for key, value in table.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _keys(value, (*prefix, key))


def _overrides(steer: bytes) -> bytes:
    keys = _settings_keys()
    lines = []
    for at in range(0, min(len(steer) - 1, 2 * MAX_EDITS), 2):
        key = keys[(steer[at] * 256 + steer[at + 1]) % len(keys)]
        dotted = ".".join(f'"{part}"' for part in key)
        lines.append(f"{dotted} = {HOSTILE[(steer[at] ^ steer[at + 1]) % len(HOSTILE)]}")
    return "\n".join(lines).encode()


def _edited_policies(steer: bytes) -> dict[str, Any]:
    document = copy.deepcopy(_policies())
    for at in range(0, min(len(steer) - 1, 2 * MAX_EDITS), 2):
        slots = [
            (table, key)
            for path in _keys(document, ())
            for table in [_at(document, path[:-1])]
            for key in [path[-1]]
        ]
        table, key = slots[(steer[at] * 256 + steer[at + 1]) % len(slots)]
        literal = HOSTILE[(steer[at] ^ steer[at + 1]) % len(HOSTILE)]
        table[key] = tomllib.loads(f"v = {literal}")["v"]
    return document


def _at(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        document = document[key]
    return document


def _file(content: bytes) -> Path:
    path = _workdir() / "fuzz.toml"
    path.write_bytes(content)
    return path


def _said_what(error: Exception) -> None:
    if not str(error).strip():
        raise AssertionError(f"{type(error).__name__} without a message")


def one_input(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 4, data[1:]
    try:
        if mode == 0:
            load_settings(_file(rest), environ={})
        elif mode == 1:
            load_policies(_file(rest))
        elif mode == 2:
            load_settings(_file(_overrides(rest)), environ={})
        else:
            parse_policies(_edited_policies(rest), "fuzz policies")
    except (SettingsError, PolicyError) as error:
        _said_what(error)
