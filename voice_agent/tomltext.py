"""TOML files from operators (settings, policies), read with one clear error for every failure.

tomllib raises TOMLDecodeError for most bad text, but UnicodeDecodeError for bytes that are
not UTF-8, a bare ValueError for an integer of more than 4300 digits, and RecursionError for
arrays or inline tables nested a few hundred deep: here each is a TomlTextError (a
ValueError) whose message says what is wrong.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class TomlTextError(ValueError):
    """The file is not TOML we accept; the message says where and why."""


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables; FileNotFoundError (and other OSErrors) pass through to the caller."""
    with path.open("rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise TomlTextError(f"not UTF-8 text (line {line}: {error.reason})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TomlTextError(str(error)) from None
    except RecursionError:
        raise TomlTextError("arrays or tables nested too deeply") from None
    except ValueError as error:
        # int() refuses a number of more than 4300 digits (CVE-2020-10735's limit)
        raise TomlTextError(f"a number is too long: {error}") from None
