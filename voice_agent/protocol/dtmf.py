"""RFC 4733 telephone events (DTMF over RTP): payload, sender and receiver.

One key press is sent as several packets sharing one RTP timestamp (the event
start) with a growing duration, the last three repeated with the end bit.  The
receiver reports each press once, as soon as its first packet arrives, and
ignores the rest of its packets (updates, end, retransmitted ends, reordering).
"""

from __future__ import annotations

import logging
import struct
from collections import deque
from dataclasses import dataclass
from typing import Self

from voice_agent.protocol.rtp import RtpPacket, RtpSender

logger = logging.getLogger(__name__)

EVENT_DIGITS = "0123456789*#ABCD"  # events 0-15; 16 is flash
FLASH = 16
_PAYLOAD = struct.Struct("!BBH")
_RECENT_EVENTS = 32  # remembered event starts, far more than can be in flight at once


class DtmfParseError(ValueError):
    """Not a telephone-event payload."""


@dataclass(frozen=True)
class TelephoneEvent:
    event: int
    end: bool = False
    volume: int = 10  # dBm0 below 0, 0-63
    duration: int = 0  # clock ticks since the event started

    @classmethod
    def parse(cls, data: bytes) -> Self:
        if len(data) < _PAYLOAD.size:
            raise DtmfParseError(f"{len(data)} bytes is shorter than a telephone event")
        event, flags, duration = _PAYLOAD.unpack_from(data)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)

    def __bytes__(self) -> bytes:
        if not (0 <= self.event <= 255 and 0 <= self.volume <= 63 and 0 <= self.duration <= 0xFFFF):
            raise ValueError(f"telephone event field out of range: {self}")
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)

    @property
    def digit(self) -> str | None:
        return EVENT_DIGITS[self.event] if self.event < len(EVENT_DIGITS) else None

    @classmethod
    def for_digit(
        cls, digit: str, *, end: bool = False, volume: int = 10, duration: int = 0
    ) -> TelephoneEvent:
        index = EVENT_DIGITS.find(digit.upper())
        if index < 0 or len(digit) != 1:
            raise ValueError(f"{digit!r} is not a DTMF digit")
        return TelephoneEvent(index, end, volume, duration)


def digit_packets(
    sender: RtpSender,
    digit: str,
    *,
    payload_type: int,
    duration: int = 800,
    packet_ticks: int = 160,
    end_repeats: int = 3,
) -> list[RtpPacket]:
    """The packets of one key press starting at the sender's current timestamp (§2.5.1).

    The sender's clock moves on by ``duration`` so the audio after the digit stays in time.
    """
    start = sender.timestamp
    updates = range(packet_ticks, duration, packet_ticks)
    events = [TelephoneEvent.for_digit(digit, duration=d) for d in updates]
    events += [TelephoneEvent.for_digit(digit, duration=duration, end=True)] * end_repeats
    packets = [
        sender.event(bytes(event), payload_type=payload_type, timestamp=start, marker=index == 0)
        for index, event in enumerate(events)
    ]
    sender.silence(duration)
    return packets


@dataclass
class _Event:
    timestamp: int
    code: int
    duration: int
    ended: bool


class DtmfReceiver:
    """Turns telephone-event packets into digits, each key press exactly once."""

    def __init__(self) -> None:
        self._recent: deque[_Event] = deque(maxlen=_RECENT_EVENTS)

    def receive(self, packet: RtpPacket) -> str | None:
        """The digit this packet starts, or None (a later packet of a known press, or flash)."""
        try:
            event = TelephoneEvent.parse(packet.payload)
        except DtmfParseError as error:
            logger.debug("ignoring telephone-event packet: %s", error)
            return None
        known = next((e for e in self._recent if e.timestamp == packet.timestamp), None)
        if known is not None:
            known.duration = max(known.duration, event.duration)
            known.ended = known.ended or event.end
            return None
        if self._continues_long_event(packet.timestamp, event):
            return None
        self._recent.append(_Event(packet.timestamp, event.event, event.duration, event.end))
        return event.digit

    def _continues_long_event(self, timestamp: int, event: TelephoneEvent) -> bool:
        """A press longer than 0xFFFF ticks goes on in a new segment whose timestamp is the
        previous segment's plus 0xFFFF (§2.5.1.3); it is the same press."""
        if not self._recent:
            return False
        last = self._recent[-1]
        follows = (timestamp - last.timestamp) & 0xFFFFFFFF == 0xFFFF
        if follows and not last.ended and last.code == event.event:
            self._recent.append(_Event(timestamp, event.event, event.duration, event.end))
            return True
        return False
