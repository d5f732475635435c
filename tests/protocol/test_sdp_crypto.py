"""SDES keys in SDP (RFC 4568): a=crypto read and written, and the answers and refusals each
`srtp` policy gives to RTP/SAVP and RTP/AVP offers."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from voice_agent.protocol.sdp import (
    PCMU,
    LocalMedia,
    SdpNegotiationError,
    SessionDescription,
    accept_answer,
    create_answer,
    create_offer,
)
from voice_agent.protocol.sdp_crypto import CryptoAttribute, SrtpPolicy

THEIR_KEY = bytes(range(30))
OUR_KEY = bytes(range(100, 130))
INLINE = base64.b64encode(THEIR_KEY).decode()


def _local(srtp: SrtpPolicy) -> LocalMedia:
    key = None if srtp == "off" else OUR_KEY
    return LocalMedia("127.0.0.1", 20_000, "1", codecs=(PCMU,), srtp=srtp, master_key=key)


def _offer(protocol: str = "RTP/SAVP", *cryptos: str) -> SessionDescription:
    lines = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio 10000 {protocol} 0",
        "a=rtpmap:0 PCMU/8000",
        *(f"a=crypto:{crypto}" for crypto in cryptos),
    ]
    return SessionDescription.parse("\r\n".join(lines) + "\r\n")


def test_a_crypto_line_is_read_and_written_back_the_same() -> None:
    text = f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}"
    crypto = CryptoAttribute.parse(text)
    assert crypto == CryptoAttribute(1, "AES_CM_128_HMAC_SHA1_80", THEIR_KEY)
    assert str(crypto) == text
    with_lifetime = CryptoAttribute.parse(f"2 AES_CM_128_HMAC_SHA1_32 inline:{INLINE}|2^31")
    assert with_lifetime == CryptoAttribute(2, "AES_CM_128_HMAC_SHA1_32", THEIR_KEY)


@pytest.mark.parametrize(
    "text",
    [
        f"1 AES_256_CM_HMAC_SHA1_80 inline:{INLINE}",  # a suite we do not do
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}|2^20|1:4",  # a master key index
        f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE} UNENCRYPTED_SRTP",  # session parameters
        "1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=",  # a key of 5 bytes
        "1 AES_CM_128_HMAC_SHA1_80 inline:not*base64",
        f"x AES_CM_128_HMAC_SHA1_80 inline:{INLINE}",
        "",
    ],
)
def test_crypto_lines_we_cannot_use_are_skipped(text: str) -> None:
    assert CryptoAttribute.parse(text) is None


def test_an_savp_offer_is_answered_with_our_key_under_its_tag_and_suite() -> None:
    offer = _offer(
        "RTP/SAVP",
        "1 AES_256_CM_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(46)).decode(),
        f"2 AES_CM_128_HMAC_SHA1_32 inline:{INLINE}",
        f"3 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}",
    )
    answer, params = create_answer(offer, _local("optional"))
    [media] = answer.media
    assert media.protocol == "RTP/SAVP"
    ours = base64.b64encode(OUR_KEY).decode()
    assert media.attribute("crypto") == f"3 AES_CM_128_HMAC_SHA1_80 inline:{ours}"
    assert params.srtp is not None
    assert (params.srtp.suite, params.srtp.local_key, params.srtp.remote_key) == (
        "AES_CM_128_HMAC_SHA1_80",
        OUR_KEY,
        THEIR_KEY,
    )


def test_a_plain_offer_gets_a_plain_answer_when_srtp_is_optional() -> None:
    answer, params = create_answer(_offer("RTP/AVP"), _local("optional"))
    assert answer.media[0].protocol == "RTP/AVP"
    assert answer.media[0].attribute("crypto") is None
    assert params.srtp is None


@pytest.mark.parametrize(
    ("srtp", "offer", "reason"),
    [
        ("required", _offer("RTP/AVP"), "SRTP is required"),
        ("off", _offer("RTP/SAVP", f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}"), "srtp off"),
        ("optional", _offer("RTP/SAVP"), "without a usable a=crypto"),
        ("required", _offer("RTP/SAVPF", f"1 AES_CM_128_HMAC_SHA1_80 inline:{INLINE}"), "only"),
    ],
)
def test_offers_the_policy_refuses_say_why(
    srtp: SrtpPolicy, offer: SessionDescription, reason: str
) -> None:
    with pytest.raises(SdpNegotiationError, match=reason):
        create_answer(offer, _local(srtp))


def test_required_srtp_offers_savp_and_reads_the_keys_of_the_answer() -> None:
    local = _local("required")
    offer = create_offer(local)
    assert offer.media[0].protocol == "RTP/SAVP"
    callee = replace(_local("optional"), master_key=THEIR_KEY)
    answer, callee_params = create_answer(SessionDescription.parse(bytes(offer)), callee)
    params = accept_answer(offer, SessionDescription.parse(bytes(answer)))
    assert params.srtp is not None and callee_params.srtp is not None
    assert (params.srtp.local_key, params.srtp.remote_key) == (OUR_KEY, THEIR_KEY)
    assert (callee_params.srtp.local_key, callee_params.srtp.remote_key) == (THEIR_KEY, OUR_KEY)


def test_an_answer_that_drops_srtp_is_refused() -> None:
    offer = create_offer(_local("required"))
    plain, _ = create_answer(_offer("RTP/AVP"), _local("optional"))
    with pytest.raises(SdpNegotiationError, match="uses RTP/AVP, we offered RTP/SAVP"):
        accept_answer(offer, plain)
