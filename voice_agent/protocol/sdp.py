"""SDP (RFC 8866) and the audio offer/answer of RFC 3264 for G.711 and telephone-event.

The phone line speaks PCMU/PCMA at 8 kHz with RFC 4733 DTMF.  The answer picks
the first codec of the offer (in the offer's order) that we support, keeps the
offer's payload type numbers, mirrors the direction (hold), and rejects every
other stream with port 0.  No common codec raises ``SdpNegotiationError``, which
the SIP transport answers with 488 Not Acceptable Here.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Self

from voice_agent.protocol.numbers import is_ascii_number
from voice_agent.protocol.sdp_crypto import (
    PLAIN,
    SECURE,
    SUITES,
    CryptoAttribute,
    SrtpKeys,
    SrtpPolicy,
    answer_crypto,
    answered_keys,
    protocol_refusal,
)

logger = logging.getLogger(__name__)

# Grammar order of the lines (RFC 8866 §5); other line types are kept and written in place.
_SESSION_ORDER = "vosiuepcbtrzka"
_MEDIA_ORDER = "micbka"
_LINE = re.compile(r"([a-z])=(.*)")
_MAX_PTIME_MS = 1000


class SdpParseError(ValueError):
    """The text is not an SDP session description we can read."""


class SdpNegotiationError(ValueError):
    """No acceptable audio stream in an offer or answer (SIP: 488 Not Acceptable Here)."""


class Direction(Enum):
    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def reversed(self) -> Direction:
        """The same stream seen from the other end."""
        return Direction.of(sends=self.receives, receives=self.sends)


@dataclass(frozen=True)
class Codec:
    name: str
    clock_rate: int
    payload_type: int
    channels: int = 1
    fmtp: str | None = None

    def same_format(self, other: Codec) -> bool:
        return (
            self.name.lower() == other.name.lower()
            and self.clock_rate == other.clock_rate
            and self.channels == other.channels
        )

    @property
    def rtpmap(self) -> str:
        channels = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.payload_type} {self.name}/{self.clock_rate}{channels}"


PCMU = Codec("PCMU", 8000, 0)
PCMA = Codec("PCMA", 8000, 8)
TELEPHONE_EVENT = Codec("telephone-event", 8000, 101, fmtp="0-16")

# RFC 3551 static payload types a peer may list without an rtpmap.
STATIC_CODECS = {
    codec.payload_type: codec
    for codec in (
        PCMU,
        Codec("GSM", 8000, 3),
        Codec("G723", 8000, 4),
        PCMA,
        Codec("G722", 8000, 9),
        Codec("G729", 8000, 18),
    )
}


@dataclass(frozen=True)
class Origin:
    username: str
    session_id: str
    session_version: int
    address: str
    address_type: str = "IP4"
    network_type: str = "IN"

    @classmethod
    def parse(cls, text: str) -> Self:
        parts = text.split()
        if len(parts) != 6 or not is_ascii_number(parts[2]):
            raise SdpParseError(f"bad o= line {text!r}")
        return cls(parts[0], parts[1], int(parts[2]), parts[5], parts[4], parts[3])

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.network_type} {self.address_type} {self.address}"
        )


_IP_VERSIONS = {"IP4": 4, "IP6": 6}


@dataclass(frozen=True)
class Connection:
    address: str  # may carry /ttl or /count for multicast, kept as written
    address_type: str = "IP4"
    network_type: str = "IN"

    @classmethod
    def parse(cls, text: str) -> Self:
        parts = text.split()
        if len(parts) != 3:
            raise SdpParseError(f"bad c= line {text!r}")
        connection = cls(parts[2], parts[1], parts[0])
        connection._check_address()
        return connection

    def _check_address(self) -> None:
        """An IP address of the stated type: the media path never resolves names (a lookup
        blocks, and would send the caller's audio wherever DNS says)."""
        version = _IP_VERSIONS.get(self.address_type)
        if version is None:
            raise SdpParseError(f"c= address type {self.address_type} is not IP4 or IP6")
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            raise SdpParseError(
                f"c= must carry an IP address, got a host name {self.host!r}"
            ) from None
        if address.version != version:
            raise SdpParseError(f"c= carries {self.host!r}, not an {self.address_type} address")

    def __str__(self) -> str:
        return f"{self.network_type} {self.address_type} {self.address}"

    @property
    def host(self) -> str:
        return self.address.split("/")[0]

    @property
    def is_null(self) -> bool:
        """c=IN IP4 0.0.0.0: the RFC 2543 way to put a call on hold."""
        return self.host in ("0.0.0.0", "::")


Attribute = tuple[str, str | None]  # a=name:value, or a=name (value None)
_DIRECTIONS = {direction.value: direction for direction in Direction}


def _attribute_values(attributes: list[Attribute], name: str) -> list[str]:
    return [value or "" for key, value in attributes if key == name]


def _direction_of(attributes: list[Attribute]) -> Direction | None:
    return next((_DIRECTIONS[key] for key, _ in attributes if key in _DIRECTIONS), None)


@dataclass
class MediaDescription:
    media: str
    port: int
    protocol: str
    formats: list[str]
    port_count: int | None = None
    connection: Connection | None = None
    attributes: list[Attribute] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)  # i=, b=, k= lines

    @classmethod
    def parse_m_line(cls, text: str) -> Self:
        parts = text.split()
        if len(parts) < 3:
            raise SdpParseError(f"bad m= line {text!r}")
        port_text, _, count_text = parts[1].partition("/")
        if (
            not is_ascii_number(port_text)
            or int(port_text) > 65535
            or (count_text and not is_ascii_number(count_text))
        ):
            raise SdpParseError(f"bad port in m= line {text!r}")
        return cls(
            media=parts[0],
            port=int(port_text),
            protocol=parts[2],
            formats=parts[3:],
            port_count=int(count_text) if count_text else None,
        )

    def lines(self) -> list[str]:
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        typed = {
            "m": [" ".join([self.media, port, self.protocol, *self.formats])],
            "c": [str(self.connection)] if self.connection else [],
            "a": [name if value is None else f"{name}:{value}" for name, value in self.attributes],
        }
        return _ordered(_MEDIA_ORDER, typed, self.extra)

    def attribute(self, name: str) -> str | None:
        values = _attribute_values(self.attributes, name)
        return values[0] if values else None

    @property
    def direction(self) -> Direction | None:
        return _direction_of(self.attributes)

    @property
    def ptime(self) -> int | None:
        """Milliseconds per packet; None when absent or not a sensible number (inf, -1, 1e300)."""
        value = self.attribute("ptime")
        try:
            number = float(value) if value is not None else math.nan
        except ValueError:
            return None
        return round(number) if 0 < number <= _MAX_PTIME_MS else None

    def codecs(self) -> list[Codec]:
        """The formats as codecs, in the order listed; formats we cannot name are left out."""
        maps: dict[str, Codec] = {}
        for value in _attribute_values(self.attributes, "rtpmap"):
            codec = _parse_rtpmap(value)
            if codec is not None:
                maps[str(codec.payload_type)] = codec
        fmtps: dict[str, str] = {}
        for value in _attribute_values(self.attributes, "fmtp"):
            payload_type, _, parameters = value.partition(" ")
            fmtps[payload_type] = parameters.strip()
        codecs = []
        for fmt in self.formats:
            codec = maps.get(fmt) or (STATIC_CODECS.get(int(fmt)) if is_ascii_number(fmt) else None)
            if codec is not None:
                codecs.append(replace(codec, fmtp=fmtps.get(fmt) or None))
        return codecs


def _parse_rtpmap(value: str) -> Codec | None:
    match = re.fullmatch(r"\s*(\d+)\s+([^/\s]+)/(\d+)(?:/(\d+))?\s*", value)
    if match is None:
        return None
    channels = int(match[4]) if match[4] else 1
    return Codec(match[2], int(match[3]), int(match[1]), channels)


def _ordered(order: str, typed: dict[str, list[str]], extra: list[tuple[str, str]]) -> list[str]:
    lines = []
    for kind in order:
        values = typed.get(kind, []) + [value for k, value in extra if k == kind]
        lines += [f"{kind}={value}" for value in values]
    lines += [f"{k}={value}" for k, value in extra if k not in order]
    return lines


@dataclass
class SessionDescription:
    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    times: list[str] = field(default_factory=lambda: ["0 0"])
    attributes: list[Attribute] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)  # i= u= e= p= b= r= z= k= lines
    version: int = 0

    @classmethod
    def parse(cls, data: bytes | str) -> Self:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise SdpParseError("SDP is not UTF-8") from None
        lines = [line.rstrip() for line in re.split(r"\r?\n", text) if line.strip()]
        if not lines or not lines[0].startswith("v="):
            raise SdpParseError("SDP must start with v=")
        fields: dict[str, list[str]] = {}
        extra: list[tuple[str, str]] = []
        attributes: list[Attribute] = []
        media: list[MediaDescription] = []
        for line in lines:
            match = _LINE.fullmatch(line)
            if match is None:
                raise SdpParseError(f"bad SDP line {line[:60]!r}")
            kind, value = match[1], match[2]
            if kind == "m":
                media.append(MediaDescription.parse_m_line(value))
            elif media:
                _add_media_line(media[-1], kind, value)
            elif kind == "a":
                attributes.append(_parse_attribute(value))
            elif kind in "vosct":
                fields.setdefault(kind, []).append(value)
            else:
                extra.append((kind, value))
        for required in "vost":
            if required not in fields:
                raise SdpParseError(f"SDP lacks its {required}= line")
        if fields["v"] != ["0"]:
            raise SdpParseError(f"unsupported SDP version {fields['v']}")
        return cls(
            origin=Origin.parse(fields["o"][0]),
            session_name=fields["s"][0],
            connection=Connection.parse(fields["c"][0]) if "c" in fields else None,
            times=fields["t"],
            attributes=attributes,
            media=media,
            extra=extra,
        )

    def __str__(self) -> str:
        typed = {
            "v": [str(self.version)],
            "o": [str(self.origin)],
            "s": [self.session_name],
            "c": [str(self.connection)] if self.connection else [],
            "t": self.times,
            "a": [name if value is None else f"{name}:{value}" for name, value in self.attributes],
        }
        lines = _ordered(_SESSION_ORDER, typed, self.extra)
        for media in self.media:
            lines += media.lines()
        return "\r\n".join(lines) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode()

    def direction_of(self, media: MediaDescription) -> Direction:
        """A stream's direction: its own attribute, else the session's, else sendrecv."""
        return media.direction or _direction_of(self.attributes) or Direction.SENDRECV

    def connection_of(self, media: MediaDescription) -> Connection | None:
        return media.connection or self.connection


def _parse_attribute(value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    return (name, rest if colon else None)


def _add_media_line(media: MediaDescription, kind: str, value: str) -> None:
    if kind == "a":
        media.attributes.append(_parse_attribute(value))
    elif kind == "c":
        media.connection = Connection.parse(value)
    else:
        media.extra.append((kind, value))


# --- offer / answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalMedia:
    """What our side offers or accepts for the one audio stream."""

    address: str
    port: int
    session_id: str
    session_version: int = 1
    codecs: tuple[Codec, ...] = (PCMU, PCMA)
    telephone_event: Codec | None = TELEPHONE_EVENT
    ptime: int = 20
    direction: Direction = Direction.SENDRECV
    srtp: SrtpPolicy = "off"
    """SDES-keyed SRTP (sdp_crypto.py): offers RTP/SAVP when "required"."""
    master_key: bytes | None = None
    """Our SRTP master key and salt (30 bytes), needed unless srtp is "off"."""

    @property
    def address_type(self) -> str:
        return "IP6" if ":" in self.address else "IP4"


@dataclass(frozen=True)
class AudioParameters:
    """The negotiated audio stream, from our side."""

    remote_address: str
    remote_port: int
    codec: Codec
    telephone_event: Codec | None
    ptime: int
    direction: Direction  # what we may do: send only if direction.sends
    srtp: SrtpKeys | None = None  # the SDES keys when the stream is RTP/SAVP

    @property
    def on_hold(self) -> bool:
        """The peer does not want our audio (a=sendonly/inactive from them, or c=0.0.0.0)."""
        return not self.direction.sends


def create_offer(local: LocalMedia) -> SessionDescription:
    codecs = list(local.codecs) + ([local.telephone_event] if local.telephone_event else [])
    crypto = None
    if local.srtp == "required" and local.master_key is not None:
        crypto = CryptoAttribute(1, SUITES[0], local.master_key)
    return _session(local, [_audio_media(local, codecs, local.ptime, local.direction, crypto)])


def create_answer(
    offer: SessionDescription, local: LocalMedia
) -> tuple[SessionDescription, AudioParameters]:
    """Answer an offer (RFC 3264 §6): the first acceptable audio stream, the rest at port 0."""
    chosen: AudioParameters | None = None
    answered: list[MediaDescription] = []
    refusals: list[str] = []
    for media in offer.media:
        if chosen is None and _usable_audio(media, local, refusals):
            chosen = _negotiate(offer, media, local, refusals)
            if chosen is not None:
                codecs = [chosen.codec] + (
                    [chosen.telephone_event] if chosen.telephone_event else []
                )
                cryptos = _attribute_values(media.attributes, "crypto")
                crypto = answer_crypto(media.protocol, cryptos, local.master_key)
                if crypto is not None:
                    keys = SrtpKeys(crypto[0].suite, crypto[1].key, crypto[0].key)
                    chosen = replace(chosen, srtp=keys)
                our_line = crypto[1] if crypto else None
                answered.append(
                    _audio_media(local, codecs, chosen.ptime, chosen.direction, our_line)
                )
                continue
        answered.append(MediaDescription(media.media, 0, media.protocol, list(media.formats)))
    if chosen is None:
        raise SdpNegotiationError("; ".join(refusals) or "the offer has no audio stream")
    return _session(local, answered), chosen


def accept_answer(offer: SessionDescription, answer: SessionDescription) -> AudioParameters:
    """Read the answer to our offer: the codec it chose (its first one we offered)."""
    if len(answer.media) != len(offer.media):
        raise SdpNegotiationError("the answer has a different number of streams than the offer")
    for offered, media in zip(offer.media, answer.media, strict=True):
        if media.media != "audio" or media.port == 0:
            continue
        ours = offered.codecs()
        theirs = media.codecs()
        codec = next(
            (c for c in theirs if any(c.same_format(o) for o in ours) and not _is_event(c)), None
        )
        if codec is None:
            raise SdpNegotiationError("the answer chose no codec we offered")
        connection = answer.connection_of(media)
        if connection is None:
            raise SdpNegotiationError("the answer has no c= line for its audio stream")
        try:
            srtp = answered_keys(
                (offered.protocol, _attribute_values(offered.attributes, "crypto")),
                (media.protocol, _attribute_values(media.attributes, "crypto")),
            )
        except ValueError as error:
            raise SdpNegotiationError(str(error)) from None
        remote = answer.direction_of(media)
        ours_direction = offer.direction_of(offered)
        direction = Direction.of(
            sends=ours_direction.sends and remote.receives and not connection.is_null,
            receives=ours_direction.receives and remote.sends,
        )
        return AudioParameters(
            remote_address=connection.host,
            remote_port=media.port,
            codec=codec,
            telephone_event=next((c for c in theirs if _is_event(c)), None),
            ptime=media.ptime or offered.ptime or 20,
            direction=direction,
            srtp=srtp,
        )
    raise SdpNegotiationError("the answer accepted no audio stream")


def _usable_audio(media: MediaDescription, local: LocalMedia, refusals: list[str]) -> bool:
    if media.media != "audio" or media.port == 0:
        return False
    cryptos = _attribute_values(media.attributes, "crypto")
    refusal = protocol_refusal(media.protocol, local.srtp, cryptos, local.master_key is not None)
    if refusal is not None:
        refusals.append(refusal)
        return False
    return True


def _negotiate(
    offer: SessionDescription, media: MediaDescription, local: LocalMedia, refusals: list[str]
) -> AudioParameters | None:
    offered = media.codecs()
    codec = next((c for c in offered if any(c.same_format(o) for o in local.codecs)), None)
    if codec is None:
        names = ", ".join(c.name for c in offered if not _is_event(c)) or "nothing we can name"
        ours = ", ".join(c.name for c in local.codecs)
        refusals.append(f"no common audio codec: offered {names}; we support {ours}")
        return None
    connection = offer.connection_of(media)
    if connection is None:
        refusals.append("the audio stream has no c= line")
        return None
    remote = offer.direction_of(media)
    direction = Direction.of(
        sends=local.direction.sends and remote.receives and not connection.is_null,
        receives=local.direction.receives and remote.sends,
    )
    return AudioParameters(
        remote_address=connection.host,
        remote_port=media.port,
        codec=codec,
        telephone_event=_answer_events(offered, codec.clock_rate, local.telephone_event),
        ptime=media.ptime or local.ptime,
        direction=direction,
    )


_MAX_EVENT = 255  # RFC 4733 §2.3: an event is one octet
_EVENT_RANGE = re.compile(r"([0-9]+)(?:-([0-9]+))?")


def _is_event(codec: Codec) -> bool:
    return codec.name.lower() == "telephone-event"


def _answer_events(offered: list[Codec], clock_rate: int, ours: Codec | None) -> Codec | None:
    """Offered telephone-event at the codec's rate, with the events both sides know."""
    if ours is None:
        return None
    theirs = next((c for c in offered if _is_event(c) and c.clock_rate == clock_rate), None)
    if theirs is None:
        return None
    # RFC 4733 §2.4.1: no fmtp means events 0-15
    common = _event_set(theirs.fmtp or "0-15") & _event_set(ours.fmtp or "0-15")
    if not common:
        return None
    return replace(theirs, fmtp=_event_ranges(common))


def _event_set(fmtp: str) -> set[int]:
    """The events an fmtp lists (`0-15,66`) within RFC 4733's 0-255; malformed parts ignored.

    Each range is clipped before it is expanded, and the ranges are merged as bits: an offer
    may claim `0-99999999`, or list thousands of ranges, and still costs 256 values."""
    listed = 0
    for part in fmtp.replace(" ", "").split(","):
        match = _EVENT_RANGE.fullmatch(part)
        if match is None:
            continue
        low = _event_number(match[1])
        high = min(_event_number(match[2] or match[1]), _MAX_EVENT)
        if low <= high:
            listed |= ((1 << (high - low + 1)) - 1) << low
    return {event for event in range(_MAX_EVENT + 1) if listed >> event & 1}


def _event_number(digits: str) -> int:
    """The number, or just past the last event when it is larger (int() of thousands of
    digits is slow, and refused past 4,300)."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= 3 else _MAX_EVENT + 1


def _event_ranges(events: set[int]) -> str:
    ordered = sorted(events)
    ranges: list[str] = []
    start = previous = ordered[0]
    for event in [*ordered[1:], None]:
        if event is not None and event == previous + 1:
            previous = event
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if event is not None:
            start = previous = event
    return ",".join(ranges)


def _audio_media(
    local: LocalMedia,
    codecs: list[Codec],
    ptime: int,
    direction: Direction,
    crypto: CryptoAttribute | None = None,
) -> MediaDescription:
    attributes: list[Attribute] = [("rtpmap", codec.rtpmap) for codec in codecs]
    attributes += [("fmtp", f"{c.payload_type} {c.fmtp}") for c in codecs if c.fmtp]
    attributes += [("ptime", str(ptime)), (direction.value, None)]
    if crypto is not None:
        attributes.append(("crypto", str(crypto)))
    formats = [str(codec.payload_type) for codec in codecs]
    protocol = PLAIN if crypto is None else SECURE
    return MediaDescription("audio", local.port, protocol, formats, attributes=attributes)


def _session(local: LocalMedia, media: list[MediaDescription]) -> SessionDescription:
    address_type = local.address_type
    return SessionDescription(
        origin=Origin("-", local.session_id, local.session_version, local.address, address_type),
        session_name="voice_agent",
        connection=Connection(local.address, address_type),
        media=media,
    )
