"""SIP: datagram and stream parsing, serialise round trip, digest headers, and the sans-I/O
transaction and dialog layers fed the parsed message the way the UDP line does.

Expected rejections are the project's own SipParseError, AuthError and TransactionError;
anything else escaping is a bug.  Invariants: a parsed message serialises to bytes that parse
to the same message; stream framing gives the same messages however the bytes are split;
every message we build from the peer's (responses, ACK, BYE, CANCEL) parses back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from voice_agent.protocol.sip.auth import (
    AuthError,
    DigestChallenge,
    DigestClient,
    DigestCredentials,
    DigestServer,
)
from voice_agent.protocol.sip.dialog import AnswerRetransmitter, Dialog, DialogId, build_cancel
from voice_agent.protocol.sip.malformed import bad_request_response
from voice_agent.protocol.sip.message import (
    BadMessage,
    KeepAlive,
    NameAddr,
    SipLimits,
    SipMessage,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    StreamReader,
    build_response,
    is_keepalive,
    parse_message,
)
from voice_agent.protocol.sip.transaction import (
    TransactionError,
    build_failure_ack,
    cancelled_invite_key,
    client_transaction,
    server_transaction,
    transaction_key,
)

M = TypeVar("M", SipRequest, SipResponse)
EXPECTED = (SipParseError, AuthError, TransactionError)
TOKENS = (
    b"SIP/2.0",
    b"INVITE",
    b"ACK",
    b"CANCEL",
    b"BYE",
    b"REGISTER",
    b"sip:",
    b"sips:",
    b"tel:",
    b"Via: SIP/2.0/UDP ",
    b";branch=z9hG4bK",
    b";rport",
    b";received=",
    b";tag=",
    b";lr",
    b"Content-Length: ",
    b"Contact: ",
    b"Record-Route: ",
    b"CSeq: ",
    b"Max-Forwards: ",
    b"Authorization: Digest ",
    b"WWW-Authenticate: Digest ",
    b"Proxy-Authenticate: Digest ",
    b'realm="',
    b'nonce="',
    b"algorithm=SHA-256-sess",
    b'qop="auth"',
    b"nc=",
    b"[::1]",
    b"\xc2\xb2",  # a superscript two: str.isdigit() says yes, int() says no
)

_SERVER = DigestServer("shop.example", b"fuzz secret", algorithms=("SHA-256", "MD5"))
_OUR_CONTACT = NameAddr(SipUri("192.0.2.10", "agent", 5060))
_NOW = 1_000.0
_GENEROUS = SipLimits(max_message_size=1 << 20, max_headers=10_000)


def one_input(data: bytes) -> None:
    _stream(data)
    if is_keepalive(data):
        return
    try:
        message = parse_message(data)
    except SipParseError as error:
        _answer_malformed(data, str(error))
        return
    _check_round_trip(message)
    try:
        if isinstance(message, SipRequest):
            _as_server(message)
        else:
            _as_client(message)
    except EXPECTED:
        pass


def _answer_malformed(data: bytes, error: str) -> None:
    """The 400 the line sends for what it cannot parse must itself be a readable response."""
    response = bad_request_response(data, error, "192.0.2.10")
    if response is not None:
        try:
            parsed = parse_message(response)
        except SipParseError:
            return  # the peer's own headers are copied; if they are unreadable, so is the 400
        assert isinstance(parsed, SipResponse) and parsed.status == 400, response


def _check_round_trip(message: SipMessage) -> None:
    again = parse_message(bytes(message))
    assert type(again) is type(message)
    assert again.body == message.body
    assert _fields(again) == _fields(message), (bytes(message), bytes(again))
    if isinstance(message, SipRequest):
        assert isinstance(again, SipRequest)
        assert (again.method, again.uri) == (message.method, message.uri)
    else:
        assert isinstance(again, SipResponse)
        assert (again.status, again.reason.rstrip()) == (message.status, message.reason.rstrip())


def _fields(message: SipMessage) -> list[tuple[str, str]]:
    skipped = ("l", "content-length")
    return [(name, value) for name, value in message.headers if name.lower() not in skipped]


def _stream(data: bytes) -> None:
    """Framing must not depend on how TCP cuts the bytes: whole vs. in pieces."""
    whole = _frames(data, [len(data)])
    step = 1 + (data[0] % 97 if data else 0)
    pieces = _frames(data, [*range(step, len(data), step), len(data)])
    assert whole == pieces, (whole, pieces)


def _frames(data: bytes, cuts: list[int]) -> list[object]:
    reader = StreamReader()
    frames: list[object] = []
    start = 0
    try:
        for cut in cuts:
            frames += [_describe(item) for item in reader.feed(data[start:cut])]
            start = cut
            if reader.broken is not None:
                break
    except SipParseError:
        pass
    return [*frames, "error"] if reader.broken is not None else frames


def _describe(item: SipMessage | KeepAlive | BadMessage) -> object:
    if isinstance(item, KeepAlive):
        return "ping"
    if isinstance(item, BadMessage):
        return ("bad", item.data)
    return bytes(item)


# --- as the UDP line's server side -------------------------------------------------------------


def _as_server(request: SipRequest) -> None:
    _digest_headers(request)
    _SERVER.verify(request, _NOW, {"alice": "wonderland"}.get)
    key = transaction_key(request)
    if request.method == "ACK":
        DialogId.of_incoming_request(request)
        return
    if request.method == "CANCEL":
        assert cancelled_invite_key(request)[:2] == key[:2]
    transaction = server_transaction(request)
    transaction.start(_NOW)
    transaction.receive(request, _NOW + 0.1)
    in_dialog = request.to_addr.tag is not None
    challenge = _SERVER.challenge(request, _NOW, to_tag="fuzz1")
    _parses(challenge)
    final = build_response(request, 200 if request.method != "INVITE" else 486, to_tag="fuzz2")
    _parses(final)
    if request.method == "INVITE" and not in_dialog and len(request.contacts) == 1:
        try:  # the line rings for this INVITE, then makes its dialog: that must not fail
            _dialog_as_uas(request)
        except SipParseError as error:
            raise AssertionError(f"an INVITE the line rings for makes no dialog: {error}") from None
    transaction.respond(final, _NOW + 0.2)
    transaction.on_timer(_NOW + 100.0)


def _dialog_as_uas(invite: SipRequest) -> None:
    ringing = build_response(invite, 180, to_tag="fuzz3", headers=[("Contact", str(_OUR_CONTACT))])
    _parses(ringing)
    answer = build_response(invite, 200, to_tag="fuzz3", headers=[("Contact", str(_OUR_CONTACT))])
    dialog = Dialog.from_uas(invite, answer, _OUR_CONTACT)
    assert dialog.id == DialogId.of_incoming_request(_parses(_with_to_tag(invite, "fuzz3")))
    retransmitter = AnswerRetransmitter(answer, _NOW)
    retransmitter.on_timer(_NOW + 1.0)
    _parses(dialog.create_bye())
    _parses(dialog.create_ack(dialog.local_seq))
    dialog.receive_request(invite)


def _with_to_tag(request: SipRequest, tag: str) -> SipRequest:
    headers = request.headers.copy()
    headers.set("To", str(request.to_addr.with_tag(tag)))
    return SipRequest(headers=headers, body=request.body, method=request.method, uri=request.uri)


def _digest_headers(message: SipMessage) -> None:
    for name in ("Authorization", "Proxy-Authorization"):
        for value in message.headers.get_all(name):
            credentials = DigestCredentials.parse(value)
            if credentials.qop is None:  # nc means nothing without qop, and is not written
                credentials = replace(credentials, nc=None)
            assert DigestCredentials.parse(str(credentials)) == credentials
    for name in ("WWW-Authenticate", "Proxy-Authenticate"):
        for value in message.headers.get_all(name):
            challenge = DigestChallenge.parse(value)
            again = DigestChallenge.parse(str(challenge))
            assert (again.realm, again.nonce, again.algorithm) == (
                challenge.realm,
                challenge.nonce,
                challenge.algorithm,
            )


# --- as a client that sent the request this response answers -----------------------------------


def _our_request(response: SipResponse) -> SipRequest:
    """The request this response claims to answer, rebuilt from its own headers."""
    method = response.cseq.method
    fields = [
        ("Via", response.headers.values("Via")[0] if response.headers.values("Via") else ""),
        ("From", response.header("From")),
        ("To", str(NameAddr(response.to_addr.uri))),
        ("Call-ID", response.call_id),
        ("CSeq", f"{response.cseq.seq} {method}"),
        ("Contact", str(_OUR_CONTACT)),
        ("Max-Forwards", "70"),
    ]
    return _parses(SipRequest.create(method, str(response.to_addr.uri), fields))


def _as_client(response: SipResponse) -> None:
    _digest_headers(response)
    request = _our_request(response)
    transaction = client_transaction(request)
    transaction.start(_NOW)
    transaction.receive(response, _NOW + 0.1)
    transaction.on_timer(_NOW + 100.0)
    if response.status in (401, 407):
        _parses(DigestClient("alice", "wonderland").authorize(request, response, cnonce="c"))
    if request.method != "INVITE":
        return
    _parses(build_cancel(request))
    if response.status >= 300:
        _parses(build_failure_ack(request, response))
    elif response.status > 100 and response.to_addr.tag and len(response.contacts) == 1:
        dialog = Dialog.from_uac(request, response)
        dialog.receive_response(response)
        if dialog.state.value != "terminated":
            _parses(dialog.create_ack(request.cseq.seq))
            _parses(dialog.create_bye())


def _parses(message: M) -> M:
    """A message we built must be one we can read."""
    try:  # what we send may be longer than what we accept: the peer's limits are its own
        again = parse_message(bytes(message), _GENEROUS)
    except SipParseError as error:
        raise AssertionError(f"we built a message we cannot read ({error}): {message}") from None
    assert type(again) is type(message), bytes(message)
    return message
