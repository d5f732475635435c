"""Numbers written in protocol text (SDP fields, SIP delta-seconds).

`str.isdigit()` also accepts '²' and other digits `int()` refuses, so a bare check lets a
ValueError past the parser's own error path; these read ASCII digits only."""

from __future__ import annotations

MAX_DELTA_SECONDS = 2**32 - 1
"""Delta-seconds beyond this are read as this (RFC 3261 §25.1 asks that 2**32-1 be accepted;
more adds nothing a phone line needs)."""


def is_ascii_number(text: str) -> bool:
    """True for one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()


def delta_seconds(text: str | None) -> int | None:
    """A SIP delta-seconds value (Expires, Min-Expires, an expires parameter), or None when the
    text is not one; huge values are capped rather than refused."""
    if text is None:
        return None
    text = text.strip()
    if not is_ascii_number(text):
        return None
    # A thousand-digit value would cost int() time for nothing: past 12 digits it is capped.
    return MAX_DELTA_SECONDS if len(text) > 12 else min(int(text), MAX_DELTA_SECONDS)
