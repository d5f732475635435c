"""JSON from outside (signaling bodies, data-channel messages, shop files, chat scripts).

The standard parser recurses once per nesting level, so a few kilobytes of ``[[[[...`` raise
RecursionError, an integer of more than 4300 digits a bare ValueError, and Decimal an exponent
beyond its range InvalidOperation; no caller expects these: here every failure is one
JsonTextError (a ValueError) with a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class JsonTextError(ValueError):
    """The text is not JSON we accept; the message says where and why."""


def parse_json_text(text: str, parse_float: Callable[[str], Any] | None = None) -> Any:
    try:
        return json.loads(text, parse_float=parse_float, parse_constant=_not_a_number)
    except JsonTextError:
        raise
    except json.JSONDecodeError as error:
        raise JsonTextError(f"at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise JsonTextError("nested too deeply") from None
    except ValueError as error:
        # int() refuses a number of more than 4300 digits (CVE-2020-10735's limit)
        raise JsonTextError(f"a number is too long: {error}") from None
    except ArithmeticError:
        # Decimal (a caller's parse_float) refuses an exponent beyond 10**18
        raise JsonTextError("a number is out of range (its exponent is too large)") from None


def _not_a_number(name: str) -> Any:
    # Python's json reads NaN, Infinity and -Infinity, which JSON does not have
    raise JsonTextError(f"{name} is not a JSON number")
