"""Random ids for calls, safe to log."""

from __future__ import annotations

import secrets


def random_hex_id(nbytes: int) -> str:
    """`nbytes` random bytes in hex, never all digits: an all-digit id reads as a phone number
    to the logs' redaction (voice_agent/logs.py), which masks it, and the call can then not be
    found by its id in the logs (the soak lost a WebRTC call "9880747824520650" that way)."""
    while True:
        token = secrets.token_hex(nbytes)
        if not token.isdigit():
            return token
