"""SRTP and SRTCP of one call's media (transport/srtp.py) with libsrtp: each side decrypts what
the other protected; a tampered or wrongly keyed packet is refused."""

from __future__ import annotations

import pytest

from voice_agent.protocol.rtp import RtpPacket, RtpSender
from voice_agent.protocol.sdp_crypto import SrtpKeys
from voice_agent.transport.srtp import SrtpContext, SrtpError

A_KEY = bytes(range(30))
B_KEY = bytes(range(50, 80))
# an RTCP receiver report with no report blocks (RFC 3550 §6.4.2): V=2, PT=201, SSRC
RTCP_RR = bytes([0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78])


@pytest.mark.parametrize("suite", ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
def test_rtp_and_rtcp_protected_by_one_side_are_read_by_the_other(suite: str) -> None:
    alice = SrtpContext(SrtpKeys(suite, A_KEY, B_KEY))
    bob = SrtpContext(SrtpKeys(suite, B_KEY, A_KEY))
    plain = bytes(RtpSender(0).audio(b"\x55" * 160, 160))
    protected = alice.protect(plain)
    assert protected != plain and len(protected) > len(plain)  # encrypted, with its tag
    assert protected[12:172] != plain[12:]
    assert bob.unprotect(protected) == plain
    assert RtpPacket.parse(plain).payload_type == 0
    report = bob.protect(RTCP_RR)
    assert report != RTCP_RR
    assert alice.unprotect(report) == RTCP_RR


def test_a_tampered_packet_a_replay_and_a_wrong_key_are_refused() -> None:
    suite = "AES_CM_128_HMAC_SHA1_80"
    alice = SrtpContext(SrtpKeys(suite, A_KEY, B_KEY))
    bob = SrtpContext(SrtpKeys(suite, B_KEY, A_KEY))
    sender = RtpSender(0)
    protected = alice.protect(bytes(sender.audio(b"\x55" * 160, 160)))
    tampered = protected[:20] + bytes([protected[20] ^ 1]) + protected[21:]
    with pytest.raises(SrtpError):
        bob.unprotect(tampered)
    bob.unprotect(protected)
    with pytest.raises(SrtpError):
        bob.unprotect(protected)  # the same packet again
    stranger = SrtpContext(SrtpKeys(suite, A_KEY, bytes(30)))  # expects another key
    with pytest.raises(SrtpError):
        stranger.unprotect(alice.protect(bytes(sender.audio(b"\x55" * 160, 160))))


def test_an_unknown_suite_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported SRTP suite"):
        SrtpContext(SrtpKeys("AES_256_CM_HMAC_SHA1_80", A_KEY, B_KEY))
