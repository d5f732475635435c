"""SDES keys for SRTP in SDP (RFC 4568): reading and writing `a=crypto`, and which media
protocol a policy accepts. Sans-I/O: sdp.py calls it while it answers or reads an answer;
the RTP shell protects the packets with the keys agreed here.

`a=crypto:<tag> <suite> inline:<base64 of the 16-byte master key and 14-byte salt>[|lifetime]`
Lines with a master key index (MKI), several keys or session parameters are skipped: the
peer offers others, or the offer is refused with 488.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

SrtpPolicy = Literal["off", "optional", "required"]
"""Whether plain RTP/AVP, RTP/SAVP with SDES, or both are accepted ("optional")."""

SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")
"""The crypto suites we accept, in our order of preference (RFC 4568 §6.2)."""
MASTER_KEY_LENGTH = 30  # 16 bytes of key, 14 of salt
PLAIN = "RTP/AVP"
SECURE = "RTP/SAVP"


@dataclass(frozen=True)
class CryptoAttribute:
    """One `a=crypto` line: its tag, suite and master key (key and salt together)."""

    tag: int
    suite: str
    key: bytes

    @classmethod
    def parse(cls, value: str) -> CryptoAttribute | None:
        """The attribute's value after `crypto:`; None when malformed or not one we use."""
        parts = value.split()
        if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit():
            return None  # session parameters (UNENCRYPTED_SRTP, KDR...) are not supported
        tag_text, suite, key_params = parts
        if len(tag_text) > 9 or suite.upper() not in SUITES:
            return None
        method, _, info = key_params.partition(":")
        if method.lower() != "inline" or ";" in info:  # one key only
            return None
        key_text, *rest = info.split("|")
        if any(":" in part for part in rest):  # a master key index
            return None
        try:
            key = base64.b64decode(key_text, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(key) != MASTER_KEY_LENGTH:
            return None
        return cls(int(tag_text), suite.upper(), key)

    def __str__(self) -> str:
        return f"{self.tag} {self.suite} inline:{base64.b64encode(self.key).decode()}"


@dataclass(frozen=True)
class SrtpKeys:
    """The SRTP agreed for a stream: the suite, the key we send with, the key they send with."""

    suite: str
    local_key: bytes
    remote_key: bytes


def new_master_key() -> bytes:
    return secrets.token_bytes(MASTER_KEY_LENGTH)


def offered_crypto(values: Iterable[str]) -> CryptoAttribute | None:
    """The offer's first usable `a=crypto` in our order of suites, None when none is."""
    usable = [c for c in (CryptoAttribute.parse(v) for v in values) if c is not None]
    for suite in SUITES:
        chosen = next((c for c in usable if c.suite == suite), None)
        if chosen is not None:
            return chosen
    return None


def protocol_refusal(
    protocol: str, policy: SrtpPolicy, crypto_values: Iterable[str], have_key: bool
) -> str | None:
    """Why an audio stream over `protocol` cannot be accepted under `policy`; None if it can."""
    upper = protocol.upper()
    if upper == PLAIN:
        if policy == "required":
            return "plain RTP/AVP is refused: SRTP is required (RTP/SAVP with a=crypto)"
        return None
    if upper == SECURE:
        if policy == "off" or not have_key:
            return "audio over RTP/SAVP is not supported with srtp off"
        if offered_crypto(crypto_values) is None:
            return f"RTP/SAVP without a usable a=crypto (we accept {', '.join(SUITES)})"
        return None
    return f"audio over {protocol} is not supported (RTP/AVP or RTP/SAVP only)"


def answer_crypto(
    protocol: str, crypto_values: Iterable[str], master_key: bytes | None
) -> tuple[CryptoAttribute, CryptoAttribute] | None:
    """For an RTP/SAVP offer: the offer's crypto line we take, and our answer to it (its tag
    and suite, our key); None for plain RTP."""
    if protocol.upper() != SECURE or master_key is None:
        return None
    theirs = offered_crypto(crypto_values)
    if theirs is None:
        return None
    return theirs, CryptoAttribute(theirs.tag, theirs.suite, master_key)


def answered_keys(offered: tuple[str, list[str]], answer: tuple[str, list[str]]) -> SrtpKeys | None:
    """The keys an answer to our offer agreed, given each side's (protocol, a=crypto values);
    None for plain RTP. ValueError when the answer does not match the offer."""
    if answer[0].upper() != offered[0].upper():
        raise ValueError(f"the answer uses {answer[0]}, we offered {offered[0]}")
    if offered[0].upper() != SECURE:
        return None
    ours = offered_crypto(offered[1])
    theirs = offered_crypto(answer[1])
    if ours is None or theirs is None or (theirs.tag, theirs.suite) != (ours.tag, ours.suite):
        raise ValueError("the answer has no a=crypto matching the one we offered")
    return SrtpKeys(ours.suite, ours.key, theirs.key)
