"""SIP messages (RFC 3261 §7, §18.3, §20, §25): parse and serialize, datagram and stream framing.

Header fields are kept as written (name spelling, order, repeats) so a message
serializes back to what was received; lookups are case-insensitive and treat
compact forms (``v``, ``f``, ``t``...) as their full names.  Typed views of the
header values (``Via``, ``NameAddr``, ``SipUri``, ``CSeq``) parse on demand.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Self

from voice_agent.protocol.ids import random_hex_id

logger = logging.getLogger(__name__)

SIP_VERSION = "SIP/2.0"
BRANCH_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7: marks branches that are unique per transaction

COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

# Spellings that title-casing would get wrong.
_SPECIAL_NAMES = {
    name.lower(): name
    for name in (
        "Call-ID CSeq WWW-Authenticate MIME-Version RAck RSeq SIP-ETag SIP-If-Match "
        "P-Asserted-Identity P-Preferred-Identity Min-SE"
    ).split()
}

# Headers whose values are comma-separated lists (RFC 3261 §7.3.1); the rest are kept whole
# (WWW-Authenticate, Date and friends contain commas that are not separators).
LIST_HEADERS = frozenset(
    (
        "via contact route record-route path service-route allow supported require "
        "proxy-require unsupported accept accept-encoding accept-language content-encoding "
        "allow-events in-reply-to alert-info call-info error-info reply-to warning"
    ).split()
)

REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_REQUEST_LINE = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+) (\S+) ([Ss][Ii][Pp]/\d+\.\d+)")
_STATUS_LINE = re.compile(r"([Ss][Ii][Pp]/\d+\.\d+) (\d{3})(?: (.*))?")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_BREAK = re.compile(r"\r?\n")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DIGITS = re.compile(r"\d+")
_NOT_IN_URI = re.compile(r'[\s<>"]')  # never unescaped in a URI (RFC 3261 §25.1)
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")  # a name, IPv4, or [IPv6] (§25.1)


class SipParseError(ValueError):
    """The bytes are not a SIP message we accept; the text says what is wrong."""


@dataclass(frozen=True)
class SipLimits:
    max_message_size: int = 64 * 1024
    max_headers: int = 100


DEFAULT_LIMITS = SipLimits()


def canonical_name(name: str) -> str:
    """The full, conventional header name: ``v`` -> ``Via``, ``call-id`` -> ``Call-ID``."""
    lower = name.lower()
    if lower in COMPACT_FORMS:
        return COMPACT_FORMS[lower]
    if lower in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[lower]
    return "-".join(part.capitalize() for part in lower.split("-"))


def _key(name: str) -> str:
    lower = name.lower()
    return COMPACT_FORMS[lower].lower() if lower in COMPACT_FORMS else lower


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header value, leaving commas inside quotes and <...> alone."""
    items: list[str] = []
    current: list[str] = []
    in_quotes = in_angle = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"' and not in_angle:
            in_quotes = not in_quotes
        elif char == "<" and not in_quotes:
            in_angle = True
        elif char == ">" and not in_quotes:
            in_angle = False
        elif char == "," and not in_quotes and not in_angle:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


@dataclass
class Headers:
    """Header fields in wire order; names as written, looked up case-insensitively."""

    fields: list[tuple[str, str]] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(_key(n) == _key(name) for n, _ in self.fields)

    def get(self, name: str) -> str | None:
        key = _key(name)
        return next((value for n, value in self.fields if _key(n) == key), None)

    def get_all(self, name: str) -> list[str]:
        """Every field value of this header, as written (not split at commas)."""
        key = _key(name)
        return [value for n, value in self.fields if _key(n) == key]

    def values(self, name: str) -> list[str]:
        """Every value, comma lists split for list headers (Via, Contact, Route, Allow...)."""
        raw = self.get_all(name)
        if _key(name) not in LIST_HEADERS:
            return raw
        return [item for value in raw for item in split_header_list(value)]

    def add(self, name: str, value: str) -> None:
        self.fields.append((name, value))

    def prepend(self, name: str, value: str) -> None:
        self.fields.insert(0, (name, value))

    def set(self, name: str, value: str) -> None:
        """Replace the first field of this header in place (dropping the others) or append one."""
        key = _key(name)
        index = next((i for i, (n, _) in enumerate(self.fields) if _key(n) == key), None)
        if index is None:
            self.fields.append((name, value))
            return
        self.fields[index] = (self.fields[index][0], value)
        self.fields[index + 1 :] = [(n, v) for n, v in self.fields[index + 1 :] if _key(n) != key]

    def remove(self, name: str) -> None:
        key = _key(name)
        self.fields = [(n, v) for n, v in self.fields if _key(n) != key]

    def copy(self) -> Headers:
        return Headers(list(self.fields))


# --- typed header values ---------------------------------------------------------------------


def _split_params(text: str) -> list[str]:
    """Split ``;a=1;b="x;y"`` at semicolons outside quotes (leading empty part dropped)."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif char == ";" and not in_quotes:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if in_quotes:
        raise SipParseError(f"unterminated quoted string in parameters {text!r}")
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_params(text: str) -> dict[str, str | None]:
    """``;tag=x;lr`` -> ``{"tag": "x", "lr": None}``; names lower-cased, values as written."""
    params: dict[str, str | None] = {}
    for part in _split_params(text):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not _TOKEN.fullmatch(name):
            raise SipParseError(f"bad parameter name {name!r} in {text!r}")
        params[name] = value.strip() if sep else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(
        f";{name}" if value is None else f";{name}={value}" for name, value in params.items()
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class SipUri:
    """``sip:user:password@host:port;params?headers`` (RFC 3261 §19.1); also sips: and tel:."""

    host: str
    user: str | None = None
    port: int | None = None
    scheme: str = "sip"
    password: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: str | None = None

    @classmethod
    def parse(cls, text: str) -> Self:
        text = text.strip()
        if _NOT_IN_URI.search(text):  # written back into a request line or <...>, it breaks it
            raise SipParseError(f"white space, quote or angle bracket inside URI {text!r}")
        scheme, sep, rest = text.partition(":")
        scheme = scheme.lower()
        if not sep or scheme not in ("sip", "sips", "tel"):
            raise SipParseError(f"not a sip:, sips: or tel: URI: {text!r}")
        rest, _, headers = rest.partition("?")
        if scheme == "tel":
            number, _, params = rest.partition(";")
            return cls(host="", user=number, scheme="tel", params=parse_params(params))
        user = password = None
        if "@" in rest:
            userinfo, _, rest = rest.rpartition("@")
            if "@" in userinfo:
                raise SipParseError(f"more than one '@' in URI {text!r}")
            user, colon, pw = userinfo.partition(":")
            password = pw if colon else None
        hostport, _, params = rest.partition(";")
        host, port = _parse_hostport(hostport, text)
        return cls(
            host=host,
            user=user,
            port=port,
            scheme=scheme,
            password=password,
            params=parse_params(params),
            headers=headers or None,
        )

    def __str__(self) -> str:
        if self.scheme == "tel":
            return f"tel:{self.user}{format_params(self.params)}"
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + (f":{self.password}" if self.password is not None else "") + "@"
        port = f":{self.port}" if self.port is not None else ""
        headers = f"?{self.headers}" if self.headers else ""
        return f"{self.scheme}:{userinfo}{self.host}{port}{format_params(self.params)}{headers}"

    def __bytes__(self) -> bytes:
        return str(self).encode()

    @property
    def transport(self) -> str:
        """The transport parameter, upper-cased; UDP unless given (TLS for sips:)."""
        value = self.params.get("transport")
        if value:
            return value.upper()
        return "TLS" if self.scheme == "sips" else "UDP"


def _parse_hostport(hostport: str, context: str) -> tuple[str, int | None]:
    hostport = hostport.strip()
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise SipParseError(f"unterminated IPv6 reference in {context!r}")
        host, tail = hostport[: end + 1], hostport[end + 1 :]
        port_text = tail[1:] if tail.startswith(":") else None
        if tail and port_text is None:
            raise SipParseError(f"junk after IPv6 reference in {context!r}")
    else:
        host, colon, port_text_ = hostport.partition(":")
        port_text = port_text_ if colon else None
    if not host:
        raise SipParseError(f"no host in {context!r}")
    if not _HOST.fullmatch(host):  # written back into <...> and Via, junk would break them
        raise SipParseError(f"bad host {host!r} in {context!r}")
    if port_text is None:
        return host, None
    if not _DIGITS.fullmatch(port_text) or not 0 < int(port_text) < 65536:
        raise SipParseError(f"bad port {port_text!r} in {context!r}")
    return host, int(port_text)


@dataclass(frozen=True)
class NameAddr:
    """From, To, Contact, Route and Record-Route values: ``"Name" <uri>;tag=x``."""

    uri: SipUri
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Self:
        text = text.strip()
        display: str | None = None
        if text.startswith('"'):
            display, text = _read_quoted(text)
            text = text.lstrip()
            if not text.startswith("<"):
                raise SipParseError(f"display name not followed by <uri> in {text!r}")
        lt = text.find("<")
        if lt >= 0:
            if display is None:
                display = text[:lt].strip() or None
            gt = text.find(">", lt)
            if gt < 0:
                raise SipParseError(f"unterminated <uri> in {text!r}")
            uri_text, param_text = text[lt + 1 : gt], text[gt + 1 :]
            if param_text.strip() and not param_text.lstrip().startswith(";"):
                raise SipParseError(f"junk after <uri> in {text!r}")
        else:
            # addr-spec without brackets: parameters after ';' belong to the header, not the URI
            uri_text, _, param_text = text.partition(";")
        params = parse_params(param_text)
        return cls(uri=SipUri.parse(uri_text), display_name=display, params=params)

    def __str__(self) -> str:
        display = f"{_quote(self.display_name)} " if self.display_name else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"

    def __bytes__(self) -> bytes:
        return str(self).encode()

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri, self.display_name, {**self.params, "tag": tag})


def _read_quoted(text: str) -> tuple[str, str]:
    """Read a leading quoted-string; return its unescaped content and the rest of the text."""
    chars: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(chars), text[index + 1 :]
        chars.append(char)
        index += 1
    raise SipParseError(f"unterminated quoted string in {text!r}")


@dataclass(frozen=True)
class Via:
    """One Via value: ``SIP/2.0/UDP host:port;branch=z9hG4bK...;rport`` (RFC 3261 §20.42, 3581)."""

    host: str
    port: int | None = None
    transport: str = "UDP"
    params: dict[str, str | None] = field(default_factory=dict)
    protocol: str = SIP_VERSION

    @classmethod
    def parse(cls, text: str) -> Self:
        sent_protocol, _, rest = text.strip().partition(" ")
        parts = [part.strip() for part in sent_protocol.split("/")]
        if len(parts) != 3 or not all(parts) or not rest.strip():
            # tolerate "SIP / 2.0 / UDP host" with spaces around the slashes
            match = re.match(r"\s*([^/\s]+)\s*/\s*([^/\s]+)\s*/\s*(\S+)\s+(.*)", text)
            if match is None:
                raise SipParseError(f"bad Via {text!r}")
            parts, rest = [match[1], match[2], match[3]], match[4]
        hostport, _, params = rest.strip().partition(";")
        host, port = _parse_hostport(hostport, text)
        return cls(
            host=host,
            port=port,
            transport=parts[2].upper(),
            params=parse_params(params),
            protocol=f"{parts[0]}/{parts[1]}".upper(),
        )

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.protocol}/{self.transport} {self.host}{port}{format_params(self.params)}"

    def __bytes__(self) -> bytes:
        return str(self).encode()

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | None:
        """The rport value a server filled in; None when absent or only requested."""
        value = self.params.get("rport")
        return int(value) if value is not None and _DIGITS.fullmatch(value) else None

    @property
    def sent_by(self) -> str:
        return f"{self.host}:{self.port}" if self.port is not None else self.host

    def stamped(self, source_host: str, source_port: int) -> Via:
        """The Via a server keeps after receiving from (host, port): RFC 3261 §18.2.1, RFC 3581."""
        params = dict(self.params)
        if "rport" in params:
            params["rport"] = str(source_port)
            params["received"] = source_host
        elif source_host != self.host:
            params["received"] = source_host
        return Via(self.host, self.port, self.transport, params, self.protocol)

    def response_address(self) -> tuple[str, int]:
        """Where an unreliable transport sends responses to this hop (RFC 3261 §18.2.2)."""
        host = self.received or self.host
        port = self.rport or self.port or (5061 if self.transport == "TLS" else 5060)
        return host.strip("[]"), port


@dataclass(frozen=True)
class CSeq:
    seq: int
    method: str

    @classmethod
    def parse(cls, text: str) -> Self:
        number, _, method = text.strip().partition(" ")
        method = method.strip()
        if not _DIGITS.fullmatch(number) or not _TOKEN.fullmatch(method):
            raise SipParseError(f"bad CSeq {text!r}")
        seq = int(number)
        if seq >= 2**31:
            raise SipParseError(f"CSeq number {seq} is not below 2**31")
        return cls(seq, method)

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"

    def __bytes__(self) -> bytes:
        return str(self).encode()


# --- messages --------------------------------------------------------------------------------


@dataclass
class _MessageBase:
    headers: Headers
    body: bytes

    _mandatory: ClassVar[tuple[str, ...]] = ("Via", "From", "To", "Call-ID", "CSeq")

    def header(self, name: str) -> str:
        """The first value of a header that must be present."""
        value = self.headers.get(name)
        if value is None:
            raise SipParseError(f"missing {canonical_name(name)} header")
        return value

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(value) for value in self.headers.values("Via")]

    @property
    def top_via(self) -> Via:
        values = self.headers.values("Via")
        if not values:
            raise SipParseError("missing Via header")
        return Via.parse(values[0])

    @property
    def from_addr(self) -> NameAddr:
        return NameAddr.parse(self.header("From"))

    @property
    def to_addr(self) -> NameAddr:
        return NameAddr.parse(self.header("To"))

    @property
    def call_id(self) -> str:
        return self.header("Call-ID")

    @property
    def cseq(self) -> CSeq:
        return CSeq.parse(self.header("CSeq"))

    @property
    def contacts(self) -> list[NameAddr]:
        """Contact values; the REGISTER wildcard ``*`` yields none."""
        return [NameAddr.parse(v) for v in self.headers.values("Contact") if v.strip() != "*"]

    @property
    def record_route(self) -> list[NameAddr]:
        return [NameAddr.parse(value) for value in self.headers.values("Record-Route")]

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return value.split(";")[0].strip().lower() if value else None

    @property
    def max_forwards(self) -> int | None:
        value = self.headers.get("Max-Forwards")
        if value is None:
            return None
        if not _DIGITS.fullmatch(value) or int(value) > 255:
            raise SipParseError(f"bad Max-Forwards {value!r}")
        return int(value)

    def _head_lines(self) -> list[str]:
        lines: list[str] = []
        length_written = False
        for name, value in self.headers:
            if _key(name) == "content-length":
                if not length_written:
                    # always tell the truth about the body
                    lines.append(f"{name}: {len(self.body)}")
                    length_written = True
                continue
            lines.append(f"{name}: {value}" if value else f"{name}:")
        if not length_written:
            lines.append(f"Content-Length: {len(self.body)}")
        return lines

    def _serialize(self, start_line: str) -> bytes:
        head = "\r\n".join([start_line, *self._head_lines()])
        return head.encode() + b"\r\n\r\n" + self.body

    def _validate(self) -> None:
        for name in self._mandatory:
            if name not in self.headers:
                raise SipParseError(f"missing mandatory {name} header")
        # parsing each typed value is the check; Contact and Record-Route too, since dialogs
        # are made of them after the request has been accepted (and rung for)
        _ = (self.top_via, self.from_addr, self.to_addr, self.cseq, self.max_forwards)
        _ = (self.contacts, self.record_route)


@dataclass
class SipRequest(_MessageBase):
    method: str = "OPTIONS"
    uri: str = ""
    version: str = SIP_VERSION

    @classmethod
    def create(
        cls, method: str, uri: str, headers: Iterable[tuple[str, str]], body: bytes = b""
    ) -> SipRequest:
        return cls(headers=_with_length(headers, body), body=body, method=method, uri=uri)

    @classmethod
    def parse(cls, data: bytes, limits: SipLimits = DEFAULT_LIMITS) -> SipRequest:
        message = parse_message(data, limits)
        if not isinstance(message, SipRequest):
            raise SipParseError("expected a request, got a response")
        return message

    def __bytes__(self) -> bytes:
        return self._serialize(f"{self.method} {self.uri} {self.version}")

    @property
    def request_uri(self) -> SipUri:
        return SipUri.parse(self.uri)

    def _validate(self) -> None:
        super()._validate()
        cseq = self.cseq
        if cseq.method != self.method:
            raise SipParseError(
                f"CSeq method {cseq.method} does not match request method {self.method}"
            )


@dataclass
class SipResponse(_MessageBase):
    status: int = 200
    reason: str = "OK"
    version: str = SIP_VERSION

    @classmethod
    def create(
        cls,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        reason: str | None = None,
    ) -> SipResponse:
        reason = REASON_PHRASES.get(status, "") if reason is None else reason
        return cls(headers=_with_length(headers, body), body=body, status=status, reason=reason)

    @classmethod
    def parse(cls, data: bytes, limits: SipLimits = DEFAULT_LIMITS) -> SipResponse:
        message = parse_message(data, limits)
        if not isinstance(message, SipResponse):
            raise SipParseError("expected a response, got a request")
        return message

    def __bytes__(self) -> bytes:
        return self._serialize(f"{self.version} {self.status} {self.reason}".rstrip(" "))

    @property
    def is_provisional(self) -> bool:
        return self.status < 200

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


SipMessage = SipRequest | SipResponse


def _with_length(fields: Iterable[tuple[str, str]], body: bytes) -> Headers:
    """Headers for a new message, Content-Length last (so it equals its own parse)."""
    headers = Headers([(n, v) for n, v in fields if _key(n) != "content-length"])
    headers.add("Content-Length", str(len(body)))
    return headers


@dataclass(frozen=True)
class KeepAlive:
    """A CRLFCRLF ping on a stream (RFC 5626 §3.5.1): answer with a single CRLF."""


@dataclass(frozen=True)
class BadMessage:
    """A message framed correctly on a stream but invalid (missing To, bad CSeq...)."""

    error: str
    data: bytes


# --- framing ---------------------------------------------------------------------------------


def is_keepalive(datagram: bytes) -> bool:
    """Datagrams of only CR/LF (or the four NULs some phones send) are NAT keep-alives."""
    return not datagram.strip(b"\r\n") or datagram == b"\x00\x00\x00\x00"


def parse_message(data: bytes, limits: SipLimits = DEFAULT_LIMITS) -> SipMessage:
    """Parse one datagram (RFC 3261 §18.3): the body is Content-Length bytes, or the rest."""
    if len(data) > limits.max_message_size:
        raise SipParseError(f"message of {len(data)} bytes exceeds {limits.max_message_size}")
    data = data.lstrip(b"\r\n")  # §7.5: ignore CRLFs before the start line
    if not data:
        raise SipParseError("empty message")
    end = _HEAD_END.search(data)
    if end is None:
        raise SipParseError("no blank line ends the header section")
    message = _parse_head(data[: end.start()], limits)
    rest = data[end.end() :]
    length = _content_length(message.headers)
    if length is None:
        message.body = rest
    elif length > len(rest):
        raise SipParseError(f"Content-Length {length} exceeds the {len(rest)} body bytes received")
    else:
        message.body = rest[:length]  # extra bytes in a datagram are discarded (§18.3)
    message._validate()
    return message


def _parse_head(head: bytes, limits: SipLimits) -> SipMessage:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SipParseError(f"header section is not UTF-8 (byte {error.start})") from None
    lines = _LINE_BREAK.split(text)
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if _CONTROL.search(line):
            raise SipParseError(f"control character in header line {line[:60]!r}")
        if line[:1] in (" ", "\t"):  # folded continuation of the previous field (§7.3.1)
            if not fields:
                raise SipParseError("continuation line before the first header")
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not _TOKEN.fullmatch(name):
            raise SipParseError(f"malformed header line {line[:60]!r}")
        fields.append((name, value.strip()))
        if len(fields) > limits.max_headers:
            raise SipParseError(f"more than {limits.max_headers} header fields")
    return _start_line(lines[0], Headers(fields))


def _start_line(line: str, headers: Headers) -> SipMessage:
    if _CONTROL.search(line):
        raise SipParseError(f"control character in start line {line[:60]!r}")
    if request := _REQUEST_LINE.fullmatch(line):
        _check_version(request[3])
        if ":" not in request[2]:
            raise SipParseError(f"Request-URI {request[2]!r} has no scheme")
        return SipRequest(headers=headers, body=b"", method=request[1], uri=request[2])
    if status := _STATUS_LINE.fullmatch(line):
        _check_version(status[1])
        code = int(status[2])
        if not 100 <= code <= 699:
            raise SipParseError(f"status code {code} outside 100-699")
        return SipResponse(headers=headers, body=b"", status=code, reason=status[3] or "")
    raise SipParseError(f"not a SIP request or status line: {line[:60]!r}")


def _check_version(version: str) -> None:
    if version.upper() != SIP_VERSION:
        raise SipParseError(f"unsupported version {version}")


def _content_length(headers: Headers) -> int | None:
    values = set(headers.get_all("Content-Length"))
    if not values:
        return None
    if len(values) > 1:
        raise SipParseError(f"conflicting Content-Length values {sorted(values)}")
    value = values.pop()
    if not _DIGITS.fullmatch(value):
        raise SipParseError(f"Content-Length {value!r} is not a number")
    return int(value)


class StreamReader:
    """Incremental framing for stream transports (TCP, TLS): bytes in, messages out.

    Content-Length is mandatory on streams (RFC 3261 §18.3).  After a framing error the
    stream cannot be resynchronised, so the reader stays broken and the caller closes it;
    a well-framed but invalid message comes out as ``BadMessage`` and the stream goes on.
    """

    def __init__(self, limits: SipLimits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._buffer = bytearray()
        self._scan_from = 0  # where to resume looking for the blank line
        self._error: SipParseError | None = None

    def feed(self, data: bytes) -> list[SipMessage | KeepAlive | BadMessage]:
        """The messages these bytes complete.  Those framed before a framing error are still
        returned, and ``broken`` is set; the next call raises the error."""
        if self._error is not None:
            raise self._error
        self._buffer += data
        framed: list[SipMessage | KeepAlive | BadMessage] = []
        try:
            framed.extend(self._drain())
        except SipParseError as error:
            self._error = error
            if not framed:
                raise
        return framed

    @property
    def broken(self) -> SipParseError | None:
        """The framing error that ended the stream, if any: the caller closes it."""
        return self._error

    def _drain(self) -> Iterator[SipMessage | KeepAlive | BadMessage]:
        while self._buffer:
            if self._buffer.startswith(b"\r\n\r\n"):
                del self._buffer[:4]
                yield KeepAlive()
                continue
            if b"\r\n\r\n".startswith(self._buffer):
                return  # maybe the start of a ping: wait for more
            if self._buffer.startswith(b"\r\n"):
                del self._buffer[:2]  # a pong, or a stray CRLF before a start line
                continue
            message = self._next_message()
            if message is None:
                return
            yield message

    def _next_message(self) -> SipMessage | BadMessage | None:
        end = _HEAD_END.search(self._buffer, max(self._scan_from - 3, 0))
        if end is None:
            self._scan_from = len(self._buffer)
            if len(self._buffer) > self._limits.max_message_size:
                raise SipParseError(
                    f"no end of headers within {self._limits.max_message_size} bytes"
                )
            return None
        message = _parse_head(bytes(self._buffer[: end.start()]), self._limits)
        length = _content_length(message.headers)
        if length is None:
            raise SipParseError("Content-Length is required on stream transports")
        total = end.end() + length
        if total > self._limits.max_message_size:
            raise SipParseError(f"message of {total} bytes exceeds {self._limits.max_message_size}")
        if len(self._buffer) < total:
            self._scan_from = end.start()  # the head is known; only the body is missing
            return None
        raw = bytes(self._buffer[:total])
        message.body = raw[end.end() :]
        del self._buffer[:total]
        self._scan_from = 0
        try:
            message._validate()
        except SipParseError as error:  # framing held, so the stream goes on
            return BadMessage(str(error), raw)
        return message


# --- building ---------------------------------------------------------------------------------


def build_response(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """A response to ``request`` (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq copied.

    ``to_tag`` is added to To unless the request already carries one (in-dialog requests);
    dialog-creating responses to INVITE also copy Record-Route (§12.1.1).
    """
    fields = [("Via", value) for value in request.headers.values("Via")]
    if 100 < status < 300 and request.method == "INVITE":
        fields += [("Record-Route", value) for value in request.headers.values("Record-Route")]
    to_value = request.header("To")
    if to_tag is not None and NameAddr.parse(to_value).tag is None:
        to_value = f"{to_value};tag={to_tag}"
    fields += [
        ("From", request.header("From")),
        ("To", to_value),
        ("Call-ID", request.call_id),
        ("CSeq", request.header("CSeq")),
        *headers,
    ]
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    return SipResponse.create(status, fields, body, reason)


# --- identifiers -----------------------------------------------------------------------------


def new_branch() -> str:
    return BRANCH_COOKIE + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{random_hex_id(12)}@{host}"
