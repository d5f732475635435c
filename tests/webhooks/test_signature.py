"""Signatures as a receiver checks them: the right secret over the exact bytes, nothing else."""

from __future__ import annotations

import hashlib
import hmac

from voice_agent.webhooks.signature import sign, verify_signature

SECRET = "a-long-random-string"
BODY = b'{"data":{"reference":"CL-40213"},"event":"claim.opened","id":"e1"}'


def test_the_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY) == f"sha256={digest}"
    assert verify_signature(SECRET, BODY, sign(SECRET, BODY))


def test_a_changed_byte_a_wrong_secret_or_a_bad_header_fails() -> None:
    header = sign(SECRET, BODY)
    tampered = BODY.replace(b"CL-40213", b"CL-40214")
    assert not verify_signature(SECRET, tampered, header)
    assert not verify_signature("another-long-secret", BODY, header)
    assert not verify_signature(SECRET, BODY, None)
    assert not verify_signature(SECRET, BODY, header.removeprefix("sha256="))
    assert not verify_signature(SECRET, BODY, "sha256=" + "0" * 64)
    assert not verify_signature(SECRET, BODY, header.upper())
    assert not verify_signature(SECRET, BODY, "sha256=é")
