"""Signing webhook bodies, and checking a signature: stdlib only, so a receiver can copy it.

A body is signed with HMAC-SHA256 under the shared secret (``webhooks.secret``); the header
``X-Voice-Agent-Signature`` carries ``sha256=<hex digest>``. A receiver checks the bytes it
received, before parsing them::

    from voice_agent.webhooks.signature import verify_signature

    if not verify_signature(secret, request_body, headers["X-Voice-Agent-Signature"]):
        reject(401)
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Voice-Agent-Signature"
SCHEME = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for this body: "sha256=" and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is this body's signature under ``secret`` (compared in constant
    time; a missing or malformed header is simply not valid)."""
    if header is None or not header.startswith(SCHEME):
        return False
    expected = sign(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))
