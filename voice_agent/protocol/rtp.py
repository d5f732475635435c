"""RTP packets (RFC 3550 §5.1, §5.3.1) and a sender that numbers them."""

from __future__ import annotations

import logging
import secrets
import struct
from dataclasses import dataclass, field
from typing import Self

logger = logging.getLogger(__name__)

RTP_VERSION = 2
HEADER_SIZE = 12
_HEADER = struct.Struct("!BBHII")
_EXTENSION = struct.Struct("!HH")


class RtpParseError(ValueError):
    """The bytes are not an RTP packet."""


def is_rtcp(data: bytes) -> bool:
    """RTCP shares the port under rtcp-mux: its packet types 192-223 (RFC 5761 §4)."""
    return len(data) >= 2 and 192 <= data[1] <= 223


@dataclass(frozen=True)
class RtpExtension:
    """The one header extension an RTP packet may carry (RFC 3550 §5.3.1)."""

    profile: int
    data: bytes = b""  # a whole number of 32-bit words


@dataclass
class RtpPacket:
    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: list[int] = field(default_factory=list)
    extension: RtpExtension | None = None
    padding_size: int = 0  # padding bytes at the end, counting the length byte itself

    @classmethod
    def parse(cls, data: bytes) -> Self:
        if len(data) < HEADER_SIZE:
            raise RtpParseError(f"{len(data)} bytes is shorter than the RTP header")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpParseError(f"RTP version {first >> 6}, expected {RTP_VERSION}")
        offset = HEADER_SIZE
        csrc_count = first & 0x0F
        if len(data) < offset + 4 * csrc_count:
            raise RtpParseError(f"{csrc_count} CSRCs do not fit in {len(data)} bytes")
        csrc = list(struct.unpack_from(f"!{csrc_count}I", data, offset))
        offset += 4 * csrc_count
        extension = None
        if first & 0x10:
            if len(data) < offset + 4:
                raise RtpParseError("truncated extension header")
            profile, words = _EXTENSION.unpack_from(data, offset)
            end = offset + 4 + 4 * words
            if len(data) < end:
                raise RtpParseError(f"extension of {words} words does not fit")
            extension = RtpExtension(profile, data[offset + 4 : end])
            offset = end
        padding = 0
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or offset + padding > len(data):
                raise RtpParseError(f"bad padding length {padding}")
        return cls(
            payload_type=second & 0x7F,
            sequence_number=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=data[offset : len(data) - padding],
            marker=bool(second & 0x80),
            csrc=csrc,
            extension=extension,
            padding_size=padding,
        )

    def __bytes__(self) -> bytes:
        self._check()
        first = RTP_VERSION << 6 | len(self.csrc)
        first |= 0x20 if self.padding_size else 0
        first |= 0x10 if self.extension is not None else 0
        second = self.payload_type | (0x80 if self.marker else 0)
        parts = [
            _HEADER.pack(first, second, self.sequence_number, self.timestamp, self.ssrc),
            struct.pack(f"!{len(self.csrc)}I", *self.csrc),
        ]
        if self.extension is not None:
            words = len(self.extension.data) // 4
            parts += [_EXTENSION.pack(self.extension.profile, words), self.extension.data]
        parts.append(self.payload)
        if self.padding_size:
            parts.append(bytes(self.padding_size - 1) + bytes([self.padding_size]))
        return b"".join(parts)

    def _check(self) -> None:
        limits = {
            "payload_type": (self.payload_type, 0x7F),
            "sequence_number": (self.sequence_number, 0xFFFF),
            "timestamp": (self.timestamp, 0xFFFFFFFF),
            "ssrc": (self.ssrc, 0xFFFFFFFF),
            "padding_size": (self.padding_size, 0xFF),
        }
        for name, (value, top) in limits.items():
            if not 0 <= value <= top:
                raise ValueError(f"{name} {value} outside 0..{top}")
        if len(self.csrc) > 15:
            raise ValueError(f"{len(self.csrc)} CSRCs, at most 15")
        if self.extension is not None and len(self.extension.data) % 4:
            raise ValueError("extension data must be a whole number of 32-bit words")


class RtpSender:
    """Numbers the packets of one outgoing stream (one SSRC, one sequence space).

    The marker bit is set on the first packet of each talkspurt: the first packet, and the
    first after ``silence()`` (RFC 3551 §4.1).  Telephone events share the sequence space.
    """

    def __init__(
        self,
        payload_type: int,
        *,
        ssrc: int | None = None,
        sequence: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        # random starting points (RFC 3550 §5.1) unless a test pins them
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.sequence = secrets.randbits(16) if sequence is None else sequence
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp
        self._talkspurt_start = True

    def audio(self, payload: bytes, samples: int) -> RtpPacket:
        """The next audio packet; ``samples`` is its duration in clock ticks."""
        packet = self._packet(payload, self.payload_type, self.timestamp, self._talkspurt_start)
        self._talkspurt_start = False
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        return packet

    def silence(self, samples: int) -> None:
        """Time passes without packets (DTX): the next audio packet starts a talkspurt."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        self._talkspurt_start = True

    def event(
        self, payload: bytes, *, payload_type: int, timestamp: int, marker: bool
    ) -> RtpPacket:
        """A packet with its own timestamp (telephone events): only the sequence advances."""
        return self._packet(payload, payload_type, timestamp, marker)

    def _packet(self, payload: bytes, payload_type: int, timestamp: int, marker: bool) -> RtpPacket:
        packet = RtpPacket(payload_type, self.sequence, timestamp, self.ssrc, payload, marker)
        self.sequence = (self.sequence + 1) & 0xFFFF
        return packet
