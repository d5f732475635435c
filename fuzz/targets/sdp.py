"""SDP: parse, serialise round trip, and the offer/answer the SIP line runs on it.

The bytes are an SDP body, read as the line reads an INVITE's offer, answered against our
LocalMedia (as an IPv4 and an IPv6 agent, with and without DTMF), and read as the answer to
our own offer.  Expected rejections: SdpParseError, SdpNegotiationError.  Invariants: the
answer has one stream per offered stream and uses only what was offered and what we support;
every SDP we write parses back; reading our answer to an offer finds the codec we chose.
"""

from __future__ import annotations

import contextlib

from voice_agent.protocol.sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
    create_answer,
    create_offer,
)

TOKENS = (
    b"v=0\r\n",
    b"o=- 1 1 IN IP4 192.0.2.1\r\n",
    b"s=-\r\n",
    b"c=IN IP4 ",
    b"c=IN IP6 ",
    b"t=0 0\r\n",
    b"m=audio ",
    b" RTP/AVP ",
    b"a=rtpmap:",
    b"a=fmtp:101 ",
    b"telephone-event/8000",
    b"PCMU/8000",
    b"PCMA/8000",
    b"a=sendonly",
    b"a=inactive",
    b"a=ptime:",
    b"0.0.0.0",
    b"0-4294967295",
    b"\xc2\xb2",  # a superscript two: str.isdigit() says yes, int() says no
)

_LOCALS = (
    LocalMedia("192.0.2.10", 40000, "1"),
    LocalMedia("2001:db8::10", 40002, "2", codecs=(PCMA,), telephone_event=None),
    LocalMedia("192.0.2.10", 40004, "3", codecs=(PCMA, PCMU), telephone_event=TELEPHONE_EVENT),
)
_OUR_OFFER = create_offer(_LOCALS[0])


def one_input(data: bytes) -> None:
    try:
        description = SessionDescription.parse(data)
    except SdpParseError:
        return
    written = str(description)
    assert str(_reparse(written)) == written, written
    for local in _LOCALS:
        _answer(description, local)
    with contextlib.suppress(SdpNegotiationError):
        accept_answer(_OUR_OFFER, description)


def _reparse(text: str) -> SessionDescription:
    try:
        return SessionDescription.parse(text)
    except SdpParseError as error:
        raise AssertionError(f"we wrote SDP we cannot read ({error}): {text!r}") from None


def _answer(offer: SessionDescription, local: LocalMedia) -> None:
    try:
        answer, chosen = create_answer(offer, local)
    except SdpNegotiationError:
        return
    again = _reparse(str(answer))
    assert len(again.media) == len(offer.media)
    offered = [codec for media in offer.media for codec in media.codecs()]
    assert any(c.payload_type == chosen.codec.payload_type for c in offered), chosen
    assert any(chosen.codec.same_format(ours) for ours in local.codecs), chosen
    if chosen.telephone_event is not None:
        assert local.telephone_event is not None
        events = chosen.telephone_event.fmtp or ""
        assert all(int(n) <= 255 for n in events.replace("-", ",").split(",")), events
    live = [media for media in again.media if media.port != 0]
    assert len(live) == 1 and live[0].port == local.port, str(answer)
    read_back = accept_answer(offer, again)
    assert read_back.codec.same_format(chosen.codec), (read_back, chosen)
    assert read_back.codec.payload_type == chosen.codec.payload_type
