import pytest

from tests.protocol.fixtures import all_sip_fixtures, sip_fixture
from voice_agent.protocol.sip.message import (
    BadMessage,
    CSeq,
    Headers,
    KeepAlive,
    NameAddr,
    SipLimits,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    StreamReader,
    Via,
    build_response,
    canonical_name,
    is_keepalive,
    parse_message,
    split_header_list,
)

# Fixtures written without folding or padded Content-Length come back byte for byte.
CANONICAL = [
    "baresip_ack.sip",
    "baresip_invite.sip",
    "baresip_register.sip",
    "baresip_register_auth.sip",
    "sipp_ack.sip",
    "trunk_compact_invite.sip",
]

MINIMAL_OPTIONS = (
    b"OPTIONS sip:agent@198.51.100.20 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKx1\r\n"
    b"From: <sip:monitor@example.net>;tag=1\r\n"
    b"To: <sip:agent@198.51.100.20>\r\n"
    b"Call-ID: abc@192.0.2.4\r\n"
    b"CSeq: 7 OPTIONS\r\n"
    b"Max-Forwards: 70\r\n"
)


def _options(extra: bytes = b"", body: bytes = b"") -> bytes:
    return MINIMAL_OPTIONS + extra + b"\r\n" + body


@pytest.mark.parametrize("name", all_sip_fixtures())
def test_every_fixture_survives_a_round_trip(name: str) -> None:
    message = parse_message(sip_fixture(name))
    again = parse_message(bytes(message))
    assert again == message
    assert bytes(again) == bytes(message)


@pytest.mark.parametrize("name", CANONICAL)
def test_canonical_fixtures_serialize_to_the_captured_bytes(name: str) -> None:
    data = sip_fixture(name)
    assert bytes(parse_message(data)) == data


def test_baresip_invite_fields() -> None:
    invite = SipRequest.parse(sip_fixture("baresip_invite.sip"))
    assert invite.method == "INVITE"
    assert invite.request_uri == SipUri("127.0.0.1", "support", 5099, params={"transport": "udp"})
    assert invite.top_via.branch == "z9hG4bK5616a08598812ded"
    assert invite.top_via.params["rport"] is None
    assert invite.from_addr.tag == "f0da06139a26e5d8"
    assert invite.to_addr.tag is None
    assert invite.cseq == CSeq(54589, "INVITE")
    assert invite.max_forwards == 70
    assert invite.content_type == "application/sdp"
    assert invite.headers.get("Supported") == ""  # an empty header is kept
    assert invite.body.startswith(b"v=0\r\n") and len(invite.body) == 342
    assert invite.headers.values("Allow")[:3] == ["INVITE", "ACK", "BYE"]


def test_compact_forms_are_read_as_their_full_names() -> None:
    invite = SipRequest.parse(sip_fixture("trunk_compact_invite.sip"))
    assert invite.call_id == "4d2c7a1e3b5f6a8c9d0e1f2a3b4c5d6e@192.0.2.77"
    assert invite.content_type == "application/sdp"
    assert invite.headers.get("Content-Length") == str(len(invite.body))
    assert invite.headers.values("Supported") == ["replaces", "timer"]
    assert [via.host for via in invite.vias] == ["192.0.2.50", "192.0.2.77"]
    assert invite.from_addr.display_name == "+4915112345678"
    assert invite.from_addr.uri.params == {"user": "phone"}
    assert invite.contacts[0].uri.port == 5060
    assert invite.record_route[0].uri.params == {"lr": None, "ftag": "as5c2f1e08"}
    # compact names are kept as written on the wire
    assert [name for name, _ in invite.headers][:2] == ["v", "v"]


def test_folded_lines_are_unfolded_and_comma_vias_split() -> None:
    options = SipRequest.parse(sip_fixture("folded_options.sip"))
    assert [via.branch for via in options.vias] == ["z9hG4bK77ef4c2312983.1", "z9hG4bKnashds8"]
    assert options.vias[1].received == "192.0.2.4"
    assert options.from_addr.display_name == "Monitoring"
    assert options.from_addr.tag == "1928301774"
    assert len(options.headers.get_all("Via")) == 1  # one field, two values


def test_header_names_are_case_insensitive() -> None:
    message = parse_message(_options(b"cALL-iNFO: <http://x>;purpose=icon\r\n"))
    assert message.headers.get("call-id") == message.headers.get("CALL-ID") == "abc@192.0.2.4"
    assert message.headers.get("i") == "abc@192.0.2.4"
    assert "Call-Info" in message.headers
    assert canonical_name("cseq") == "CSeq"
    assert canonical_name("v") == "Via"
    assert canonical_name("www-authenticate") == "WWW-Authenticate"
    assert canonical_name("user-agent") == "User-Agent"


def test_multiple_fields_and_quoted_commas() -> None:
    message = parse_message(
        _options(
            b'Contact: "Doe, John" <sip:john@192.0.2.9>;q=0.7, <sip:john@198.51.100.1>\r\n'
            b"Allow: INVITE, ACK\r\nAllow: BYE\r\n"
        )
    )
    contacts = message.contacts
    assert [c.display_name for c in contacts] == ["Doe, John", None]
    assert contacts[0].params == {"q": "0.7"}
    assert message.headers.values("Allow") == ["INVITE", "ACK", "BYE"]
    assert split_header_list('a, "b, c", <d,e>') == ["a", '"b, c"', "<d,e>"]


def test_body_without_content_length_takes_the_rest_of_the_datagram() -> None:
    message = parse_message(_options(body=b"hello"))
    assert message.body == b"hello"
    assert b"Content-Length: 5\r\n" in bytes(message)


def test_bytes_beyond_content_length_are_discarded() -> None:
    message = parse_message(_options(b"Content-Length: 3\r\n", body=b"abcdef"))
    assert message.body == b"abc"


@pytest.mark.parametrize(
    ("extra", "body", "complaint"),
    [
        (b"Content-Length: 30\r\n", b"short", "Content-Length 30 exceeds the 5 body bytes"),
        (b"Content-Length: ten\r\n", b"", "Content-Length 'ten' is not a number"),
        (b"l: 1\r\nContent-Length: 2\r\n", b"ab", "conflicting Content-Length"),
        (b"Bad Header\r\n", b"", "malformed header line"),
        (b"X-Ctl: a\x01b\r\n", b"", "control character"),
    ],
)
def test_broken_headers_are_refused_with_a_reason(
    extra: bytes, body: bytes, complaint: str
) -> None:
    with pytest.raises(SipParseError, match=complaint):
        parse_message(_options(extra, body))


@pytest.mark.parametrize("header", [b"Via", b"From", b"To", b"Call-ID", b"CSeq"])
def test_missing_mandatory_header_is_named(header: bytes) -> None:
    lines = [line for line in MINIMAL_OPTIONS.split(b"\r\n") if not line.startswith(header + b":")]
    with pytest.raises(SipParseError, match=f"missing mandatory {header.decode()}"):
        parse_message(b"\r\n".join(lines) + b"\r\n")


def test_max_forwards_must_be_a_small_number() -> None:
    for value in (b"lots", b"256"):
        with pytest.raises(SipParseError, match="bad Max-Forwards"):
            parse_message(MINIMAL_OPTIONS.replace(b"70", value) + b"\r\n")


def test_cseq_method_must_match_the_request() -> None:
    data = MINIMAL_OPTIONS.replace(b"7 OPTIONS", b"7 INVITE") + b"\r\n"
    with pytest.raises(
        SipParseError, match="CSeq method INVITE does not match request method OPTIONS"
    ):
        parse_message(data)


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"", "empty message"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "not UTF-8|not a SIP request"),
        (bytes(range(256)), "no blank line|not UTF-8|control character"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a SIP request or status line"),
        (b"INVITE sip:a@b SIP/3.0\r\n\r\n", "unsupported version SIP/3.0"),
        (b"SIP/2.0 700 Odd\r\n\r\n", "outside 100-699"),
        (b"INVITE nowhere SIP/2.0\r\n\r\n", "has no scheme"),
        (MINIMAL_OPTIONS, "no blank line ends the header section"),
        (b" folded: first\r\n\r\n", "not a SIP request"),
    ],
)
def test_garbage_is_refused(data: bytes, complaint: str) -> None:
    with pytest.raises(SipParseError, match=complaint):
        parse_message(data)


def test_size_limits() -> None:
    big = _options(b"Content-Length: 70000\r\n", b"x" * 70000)
    with pytest.raises(SipParseError, match="exceeds 65536"):
        parse_message(big)
    many = _options(b"".join(b"X-H%d: v\r\n" % i for i in range(95)))
    with pytest.raises(SipParseError, match="more than 100 header fields"):
        parse_message(many)
    assert parse_message(many, SipLimits(max_headers=200)).headers.get("X-H94") == "v"


def test_leading_crlf_before_the_start_line_is_ignored() -> None:
    assert parse_message(b"\r\n\r\n" + _options()).method == "OPTIONS"  # type: ignore[union-attr]


def test_keepalive_datagrams() -> None:
    assert is_keepalive(b"\r\n\r\n")
    assert is_keepalive(b"\r\n")
    assert not is_keepalive(_options())


def test_request_and_response_parse_check_the_kind() -> None:
    with pytest.raises(SipParseError, match="expected a response"):
        SipResponse.parse(_options())
    response = SipResponse.parse(sip_fixture("register_401_sha256.sip"))
    assert (response.status, response.reason) == (401, "Unauthorized")
    assert len(response.headers.get_all("WWW-Authenticate")) == 2
    with pytest.raises(SipParseError, match="expected a request"):
        SipRequest.parse(sip_fixture("register_401_sha256.sip"))


def test_serialization_keeps_content_length_true() -> None:
    message = parse_message(_options(b"Content-Length: 0\r\n"))
    message.body = b"new body"
    assert parse_message(bytes(message)).body == b"new body"


# --- stream framing ------------------------------------------------------------------------


def test_stream_reader_frames_messages_fed_byte_by_byte() -> None:
    stream = sip_fixture("baresip_invite.sip") + b"\r\n\r\n" + sip_fixture("sipp_ack.sip")
    reader = StreamReader()
    out: list[object] = []
    for index in range(len(stream)):
        out += reader.feed(stream[index : index + 1])
    assert len(out) == 3
    assert out[0] == parse_message(sip_fixture("baresip_invite.sip"))
    assert out[1] == KeepAlive()
    assert out[2] == parse_message(sip_fixture("sipp_ack.sip"))


def test_stream_reader_handles_several_messages_in_one_chunk() -> None:
    first, second = sip_fixture("trunk_compact_invite.sip"), sip_fixture("asterisk_invite.sip")
    reader = StreamReader()
    out = reader.feed(first + second[:100])
    out += reader.feed(second[100:])
    assert [m.call_id for m in out if isinstance(m, SipRequest)] == [
        "4d2c7a1e3b5f6a8c9d0e1f2a3b4c5d6e@192.0.2.77",
        "7c9e2b4a-1f3d-4e5c-8a6b-0d2e4f6a8c1e",
    ]
    assert reader.feed(b"\r\n") == []  # a pong is skipped


def test_stream_reader_requires_content_length_and_stays_broken() -> None:
    reader = StreamReader()
    with pytest.raises(SipParseError, match="Content-Length is required"):
        reader.feed(_options())
    with pytest.raises(SipParseError, match="Content-Length is required"):
        reader.feed(sip_fixture("sipp_ack.sip"))


def test_stream_reader_reports_an_invalid_but_framed_message_and_goes_on() -> None:
    no_to = b"\r\n".join(
        line for line in MINIMAL_OPTIONS.split(b"\r\n") if not line.startswith(b"To:")
    )
    reader = StreamReader()
    out = reader.feed(no_to + b"Content-Length: 0\r\n\r\n" + sip_fixture("sipp_ack.sip"))
    assert isinstance(out[0], BadMessage) and "To" in out[0].error
    assert isinstance(out[1], SipRequest) and out[1].method == "ACK"


def test_stream_reader_limits_unterminated_heads() -> None:
    reader = StreamReader(SipLimits(max_message_size=1024))
    with pytest.raises(SipParseError, match="no end of headers within 1024 bytes"):
        reader.feed(b"INVITE sip:a@b SIP/2.0\r\n" + b"X-Filler: aaaaaaaa\r\n" * 80)


# --- header values ---------------------------------------------------------------------------


def test_via_fields_rport_and_response_address() -> None:
    via = Via.parse("SIP / 2.0 / udp [2001:db8::1]:5070 ;branch=z9hG4bKabc ; rport")
    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0",
        "UDP",
        "[2001:db8::1]",
        5070,
    )
    assert via.branch == "z9hG4bKabc" and via.rport is None
    stamped = via.stamped("2001:db8::99", 40000)
    assert stamped.received == "2001:db8::99" and stamped.rport == 40000
    assert stamped.response_address() == ("2001:db8::99", 40000)
    plain = Via.parse("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx")
    assert plain.stamped("192.0.2.1", 5060).received is None  # same host, no rport: unchanged
    assert plain.stamped("203.0.113.5", 5060).response_address() == ("203.0.113.5", 5060)
    assert str(Via.parse(str(stamped))) == str(stamped)
    with pytest.raises(SipParseError):
        Via.parse("garbage")


def test_uri_parsing() -> None:
    uri = SipUri.parse("sips:alice:secret@Example.COM:5061;transport=tcp;lr?subject=hi")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips",
        "alice",
        "secret",
        "Example.COM",
        5061,
    )
    assert uri.params == {"transport": "tcp", "lr": None} and uri.headers == "subject=hi"
    assert uri.transport == "TCP"
    assert SipUri.parse(str(uri)) == uri
    assert SipUri.parse("sip:[::1]").host == "[::1]"
    assert SipUri.parse("sip:+4930123;npdi@gw.example;user=phone").user == "+4930123;npdi"
    tel = SipUri.parse("tel:+4930123456;phone-context=example.com")
    assert tel.user == "+4930123456" and str(tel) == "tel:+4930123456;phone-context=example.com"
    for bad in ("http://x", "sip:host:99999", "sip:", "sip:a@[::1"):
        with pytest.raises(SipParseError):
            SipUri.parse(bad)


def test_name_addr_forms() -> None:
    quoted = NameAddr.parse(r'"Say \"hi\", Bob" <sip:bob@x;transport=udp>;tag=9;expires=60')
    assert quoted.display_name == 'Say "hi", Bob'
    assert quoted.uri.params == {"transport": "udp"}
    assert quoted.tag == "9" and quoted.params["expires"] == "60"
    assert NameAddr.parse(str(quoted)) == quoted
    bare = NameAddr.parse("sip:bob@x;tag=5")  # without <>, the parameters belong to the header
    assert bare.tag == "5" and bare.uri.params == {}
    token = NameAddr.parse("service <sip:service@127.0.0.1:5099>")
    assert token.display_name == "service"
    assert token.with_tag("t1").tag == "t1"
    for bad in ('"unterminated <sip:x>', "<sip:x", '"a" sip:x'):
        with pytest.raises(SipParseError):
            NameAddr.parse(bad)


def test_cseq_values() -> None:
    assert CSeq.parse(" 314159 INVITE ") == CSeq(314159, "INVITE")
    assert bytes(CSeq(1, "BYE")) == b"1 BYE"
    for bad in ("INVITE", "1", "x INVITE", "2147483648 INVITE"):
        with pytest.raises(SipParseError):
            CSeq.parse(bad)


def test_headers_editing() -> None:
    headers = Headers([("v", "a"), ("Via", "b"), ("To", "c")])
    headers.set("VIA", "z")
    assert headers.fields == [("v", "z"), ("To", "c")]
    headers.prepend("Via", "top")
    headers.remove("to")
    assert headers.values("Via") == ["top", "z"] and len(headers) == 2


def test_build_response_copies_the_transaction_headers() -> None:
    invite = SipRequest.parse(sip_fixture("trunk_compact_invite.sip"))
    ringing = build_response(invite, 180, to_tag="agent1")
    assert (ringing.status, ringing.reason) == (180, "Ringing")
    assert ringing.headers.values("Via") == invite.headers.values("Via")
    assert ringing.headers.values("Record-Route") == invite.headers.values("Record-Route")
    assert ringing.to_addr.tag == "agent1"
    assert ringing.from_addr == invite.from_addr
    assert (ringing.call_id, ringing.cseq) == (invite.call_id, invite.cseq)
    trying = build_response(invite, 100)
    assert trying.to_addr.tag is None and "Record-Route" not in trying.headers
    assert SipResponse.parse(bytes(ringing)) == ringing


# --- found by fuzzing (fuzz/regressions/sip) ----------------------------------------------------


def test_stream_reader_returns_what_it_framed_before_a_framing_error() -> None:
    good = _options(b"Content-Length: 0\r\n")
    reader = StreamReader()
    out = reader.feed(good + b"junk that is no start line\r\n\r\n")
    assert len(out) == 1 and isinstance(out[0], SipRequest)
    assert reader.broken is not None and "not a SIP request" in str(reader.broken)
    with pytest.raises(SipParseError, match="not a SIP request"):
        reader.feed(good)


@pytest.mark.parametrize(
    ("header", "complaint"),
    [
        (b"Contact: <sip:agent@192.0.2.4 Test>\r\n", "white space inside URI"),
        (b"Contact: <mailto:agent@192.0.2.4>\r\n", "not a sip:"),
        (b"Record-Route: <.2.50;lr>\r\n", "not a sip:"),
        (b"Contact: sip:agent@203.0.113.10>\r\n", "bad host '203.0.113.10>'"),
    ],
)
def test_contact_and_record_route_are_checked_when_the_message_is_read(
    header: bytes, complaint: str
) -> None:
    # a dialog is made of them after the INVITE was accepted and rung for: too late to refuse
    with pytest.raises(SipParseError, match=complaint):
        parse_message(_options(header))


def test_a_wildcard_contact_is_still_accepted() -> None:
    assert parse_message(_options(b"Contact: *\r\n")).contacts == []


def test_rport_in_other_digits_is_not_a_port() -> None:
    via = Via.parse("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKx;rport=\u00b2")
    assert via.rport is None
