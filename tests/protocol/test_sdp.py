import re
from dataclasses import replace

import pytest

from tests.protocol.fixtures import sip_fixture
from voice_agent.protocol.sdp import (
    PCMA,
    PCMU,
    AudioParameters,
    Codec,
    Direction,
    LocalMedia,
    SdpNegotiationError,
    SdpParseError,
    SessionDescription,
    accept_answer,
    create_answer,
    create_offer,
)
from voice_agent.protocol.sip.message import parse_message

SDP_FIXTURES = [
    "baresip_invite.sip",
    "sipp_invite.sip",
    "asterisk_invite.sip",
    "asterisk_reinvite_hold.sip",
    "trunk_compact_invite.sip",
    "asterisk_200_ok.sip",
]
AGENT = LocalMedia(address="198.51.100.20", port=40000, session_id="7001")


def _sdp(fixture: str) -> bytes:
    return parse_message(sip_fixture(fixture)).body


def _offer(media_lines: str, session_extra: str = "") -> SessionDescription:
    text = (
        "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
        + session_extra
        + media_lines
    )
    return SessionDescription.parse(text)


@pytest.mark.parametrize("fixture", SDP_FIXTURES)
def test_captured_sdp_round_trips_exactly(fixture: str) -> None:
    body = _sdp(fixture)
    assert bytes(SessionDescription.parse(body)) == body


def test_parsed_fields() -> None:
    sdp = SessionDescription.parse(_sdp("trunk_compact_invite.sip"))
    assert sdp.origin.username == "Sonus_UAC" and sdp.origin.session_version == 8765
    assert sdp.session_name == "SIP Media Capabilities"
    (audio,) = sdp.media
    assert (audio.media, audio.port, audio.protocol) == ("audio", 30000, "RTP/AVP")
    assert [c.name for c in audio.codecs()] == ["G729", "PCMA", "PCMU", "telephone-event"]
    assert audio.codecs()[0].fmtp == "annexb=no"
    assert audio.ptime == 20 and audio.direction is Direction.SENDRECV
    assert sdp.connection_of(audio) is not None


@pytest.mark.parametrize(
    ("fixture", "codec", "events", "address", "port"),
    [
        ("baresip_invite.sip", PCMU, "0-15", "192.0.2.2", 10018),
        ("asterisk_invite.sip", PCMA, "0-16", "203.0.113.10", 12086),  # the offer lists PCMA first
        ("trunk_compact_invite.sip", PCMA, "0-15", "192.0.2.78", 30000),  # G.729 skipped
    ],
)
def test_answer_picks_the_first_common_codec_in_offer_order(
    fixture: str, codec: Codec, events: str, address: str, port: int
) -> None:
    answer, audio = create_answer(SessionDescription.parse(_sdp(fixture)), AGENT)
    assert audio.codec.same_format(codec) and audio.codec.payload_type == codec.payload_type
    assert audio.telephone_event is not None
    assert (audio.telephone_event.payload_type, audio.telephone_event.fmtp) == (101, events)
    assert (audio.remote_address, audio.remote_port) == (address, port)
    assert (audio.ptime, audio.direction, audio.on_hold) == (20, Direction.SENDRECV, False)
    text = str(answer)
    assert f"m=audio 40000 RTP/AVP {codec.payload_type} 101\r\n" in text
    assert f"a=rtpmap:{codec.payload_type} {codec.name}/8000\r\n" in text
    assert f"a=fmtp:101 {events}\r\n" in text
    assert "c=IN IP4 198.51.100.20\r\n" in text and "a=sendrecv\r\n" in text
    assert SessionDescription.parse(bytes(answer)) == answer


def test_static_payload_type_without_rtpmap_and_no_dtmf() -> None:
    offer = _offer("m=audio 6000 RTP/AVP 8\r\n")
    _, audio = create_answer(offer, AGENT)
    assert audio.codec == PCMA and audio.telephone_event is None


def test_our_codec_preference_only_filters_the_offer_order() -> None:
    pcma_only = LocalMedia(address="198.51.100.20", port=40000, session_id="1", codecs=(PCMA,))
    _, audio = create_answer(SessionDescription.parse(_sdp("baresip_invite.sip")), pcma_only)
    assert audio.codec == PCMA


def test_dynamic_payload_type_of_the_offer_is_kept() -> None:
    offer = _offer(
        "m=audio 6000 RTP/AVP 96 97\r\n"
        "a=rtpmap:96 pcmu/8000\r\na=rtpmap:97 telephone-event/8000\r\n"
    )
    answer, audio = create_answer(offer, AGENT)
    assert audio.codec.payload_type == 96 and audio.codec.same_format(PCMU)
    assert audio.telephone_event is not None and audio.telephone_event.fmtp == "0-15"
    assert answer.media[0].formats == ["96", "97"]


@pytest.mark.parametrize(
    ("media", "complaint"),
    [
        (
            "m=audio 6000 RTP/AVP 18 9\r\na=rtpmap:18 G729/8000\r\n",
            "no common audio codec: offered G729, G722",
        ),
        ("m=audio 6000 RTP/SAVP 0\r\n", "RTP/SAVP is not supported"),
        ("m=video 6002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n", "no audio stream"),
        ("m=audio 0 RTP/AVP 0\r\n", "no audio stream"),
        (
            "m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
            "a=rtpmap:0 opus/48000/2\r\na=rtpmap:8 G7221/16000\r\n",
            "no common audio codec",
        ),
    ],
)
def test_unacceptable_offers_are_refused_with_a_reason(media: str, complaint: str) -> None:
    with pytest.raises(SdpNegotiationError, match=complaint):
        create_answer(_offer(media), AGENT)


def test_other_streams_are_rejected_with_port_zero() -> None:
    offer = _offer(
        "m=video 6002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
        "m=audio 6000 RTP/AVP 0\r\n"
        "m=audio 6004 RTP/AVP 8\r\n"
    )
    answer, audio = create_answer(offer, AGENT)
    assert [(m.media, m.port) for m in answer.media] == [
        ("video", 0),
        ("audio", 40000),
        ("audio", 0),
    ]
    assert answer.media[0].formats == ["96"]
    assert audio.remote_port == 6000


@pytest.mark.parametrize(
    ("offered", "answered", "on_hold"),
    [
        ("a=sendonly\r\n", Direction.RECVONLY, True),
        ("a=recvonly\r\n", Direction.SENDONLY, False),
        ("a=inactive\r\n", Direction.INACTIVE, True),
        ("", Direction.SENDRECV, False),
    ],
)
def test_direction_is_mirrored(offered: str, answered: Direction, on_hold: bool) -> None:
    answer, audio = create_answer(_offer("m=audio 6000 RTP/AVP 0\r\n" + offered), AGENT)
    assert audio.direction is answered and audio.on_hold is on_hold
    assert answer.media[0].direction is answered


def test_hold_from_the_captured_reinvite_and_session_level_direction() -> None:
    _, audio = create_answer(SessionDescription.parse(_sdp("asterisk_reinvite_hold.sip")), AGENT)
    assert audio.on_hold and audio.direction is Direction.RECVONLY
    session_level = _offer("m=audio 6000 RTP/AVP 0\r\n", session_extra="a=inactive\r\n")
    assert create_answer(session_level, AGENT)[1].direction is Direction.INACTIVE


def test_old_style_hold_with_a_null_address() -> None:
    offer = SessionDescription.parse(
        "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 0.0.0.0\r\n"
        "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
    )
    _, audio = create_answer(offer, AGENT)
    assert audio.on_hold and audio.direction is Direction.RECVONLY


def test_offered_ptime_is_honoured() -> None:
    _, audio = create_answer(_offer("m=audio 6000 RTP/AVP 0\r\na=ptime:30\r\n"), AGENT)
    assert audio.ptime == 30


def test_our_offer_and_the_captured_answer() -> None:
    offer = create_offer(AGENT)
    text = str(offer)
    assert "m=audio 40000 RTP/AVP 0 8 101\r\n" in text
    assert "a=fmtp:101 0-16\r\n" in text and "o=- 7001 1 IN IP4 198.51.100.20\r\n" in text
    answer = SessionDescription.parse(_sdp("asterisk_200_ok.sip"))
    audio = accept_answer(offer, answer)
    assert audio == AudioParameters(
        remote_address="203.0.113.10",
        remote_port=14310,
        codec=PCMU,
        telephone_event=Codec("telephone-event", 8000, 101, fmtp="0-16"),
        ptime=20,
        direction=Direction.SENDRECV,
    )


def test_offer_answer_between_two_of_our_sides() -> None:
    caller = LocalMedia(address="2001:db8::1", port=5004, session_id="9", codecs=(PCMA, PCMU))
    offer = create_offer(caller)
    assert offer.connection is not None and offer.connection.address_type == "IP6"
    answer, answered = create_answer(SessionDescription.parse(bytes(offer)), AGENT)
    accepted = accept_answer(offer, SessionDescription.parse(bytes(answer)))
    assert answered.codec == accepted.codec == PCMA
    assert (accepted.remote_address, accepted.remote_port) == ("198.51.100.20", 40000)
    assert answered.remote_address == "2001:db8::1"


def test_answers_that_do_not_fit_the_offer() -> None:
    offer = create_offer(AGENT)
    foreign = _offer("m=audio 6000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
    with pytest.raises(SdpNegotiationError, match="no codec we offered"):
        accept_answer(offer, foreign)
    rejected = _offer("m=audio 0 RTP/AVP 0\r\n")
    with pytest.raises(SdpNegotiationError, match="accepted no audio stream"):
        accept_answer(offer, rejected)
    two = _offer("m=audio 6000 RTP/AVP 0\r\nm=audio 6002 RTP/AVP 0\r\n")
    with pytest.raises(SdpNegotiationError, match="different number of streams"):
        accept_answer(offer, two)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("o=- 1 1 IN IP4 x\r\n", "must start with v="),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\n", "lacks its t= line"),
        ("v=1\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n", "unsupported SDP version"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", "bad port"),
        ("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nmedia stuff\r\n", "bad SDP line"),
        ("v=0\r\no=- x IN IP4\r\ns=-\r\nt=0 0\r\n", "bad o= line"),
        (b"v=0\r\n\xff\xfe", "not UTF-8"),
    ],
)
def test_parse_errors(text: str | bytes, complaint: str) -> None:
    with pytest.raises(SdpParseError, match=complaint):
        SessionDescription.parse(text)


def test_unknown_lines_are_kept_in_place() -> None:
    text = (
        "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\ni=support line\r\nc=IN IP4 192.0.2.9\r\n"
        "b=AS:64\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\ni=voice\r\nb=TIAS:64000\r\na=rtcp-mux\r\n"
    )
    assert str(SessionDescription.parse(text)) == text


ALL_EVENTS = replace(AGENT, telephone_event=Codec("telephone-event", 8000, 101, fmtp="0-255"))


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("0-99999999", "0-255"),  # once expanded into a hundred million events: 14.6 s, GBs
        ("0-" + "9" * 5000, "0-255"),  # too long for int() (Python's 4,300-digit limit)
        ("250-300,1000-2000", "250-255"),
        ("00003-0007,x,9-,12-11,7-\u00b2", "3-7"),  # malformed parts are ignored
    ],
)
def test_telephone_event_ranges_are_read_within_rfc_4733s_0_to_255(
    offered: str, answered: str
) -> None:
    offer = _offer(
        "m=audio 6000 RTP/AVP 0 101\r\n"
        f"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 {offered}\r\n"
    )
    _, audio = create_answer(offer, ALL_EVENTS)
    assert audio.telephone_event is not None and audio.telephone_event.fmtp == answered


@pytest.mark.parametrize(
    ("connection", "complaint"),
    [
        (
            "IN IP4 pbx.example.com",
            "c= must carry an IP address, got a host name 'pbx.example.com'",
        ),
        ("IN IP6 pbx.example.com", "c= must carry an IP address, got a host name"),
        ("IN IP4 2001:db8::1", "not an IP4 address"),
        ("IN IP6 192.0.2.9", "not an IP6 address"),
        ("IN IP4 192.0.2.256", "c= must carry an IP address"),
        ("IN ATM 192.0.2.9", "address type ATM"),
    ],
)
def test_a_connection_must_carry_an_ip_address_of_its_type(connection: str, complaint: str) -> None:
    session_level = f"v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nc={connection}\r\nt=0 0\r\n"
    with pytest.raises(SdpParseError, match=re.escape(complaint)):
        SessionDescription.parse(session_level)
    media_level = (
        f"v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\nc={connection}\r\n"
    )
    with pytest.raises(SdpParseError, match=re.escape(complaint)):
        SessionDescription.parse(media_level)


@pytest.mark.parametrize(
    "connection", ["IN IP4 0.0.0.0", "IN IP6 ::", "IN IP6 2001:DB8::1", "IN IP4 224.2.1.1/127/3"]
)
def test_connections_with_ip_addresses_are_read(connection: str) -> None:
    sdp = SessionDescription.parse(f"v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nc={connection}\r\nt=0 0\r\n")
    assert str(sdp.connection) == connection


# --- found by fuzzing (fuzz/regressions/sdp) ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "v=0\r\no=- 1 \u00b2 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\nm=audio 600\u00b2 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\nm=audio 6000/\u00b2 RTP/AVP 0\r\n",
    ],
)
def test_digits_that_int_refuses_are_a_parse_error(text: str) -> None:
    # str.isdigit() accepts '²'; int() does not (it used to raise a bare ValueError)
    with pytest.raises(SdpParseError):
        SessionDescription.parse(text)


def test_a_format_in_other_digits_is_no_static_codec() -> None:
    offer = _offer("m=audio 6000 RTP/AVP \u00b2 0\r\n")
    assert [codec.name for codec in offer.media[0].codecs()] == ["PCMU"]


@pytest.mark.parametrize("ptime", ["inf", "-inf", "nan", "-20", "0", "1e300", "x"])
def test_a_ptime_that_is_no_sensible_number_is_ignored(ptime: str) -> None:
    offer = _offer(f"m=audio 6000 RTP/AVP 0\r\na=ptime:{ptime}\r\n")
    assert offer.media[0].ptime is None
    _, audio = create_answer(offer, AGENT)
    assert audio.ptime == AGENT.ptime
