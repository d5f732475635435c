"""RTP, RTCP demultiplexing and RFC 4733 telephone events, as the media line reads a datagram.

The whole input is one datagram: ``is_rtcp`` (reports are only recognised, the project does
not parse RTCP further), ``RtpPacket.parse`` and its serialise round trip, the payload as a
telephone event.  Then the input is read again as a sequence of datagrams (each one a length
byte and that many bytes) fed to one ``DtmfReceiver``, as a call's event stream.
Expected rejections: RtpParseError, DtmfParseError.
"""

from __future__ import annotations

from voice_agent.protocol.dtmf import EVENT_DIGITS, DtmfParseError, DtmfReceiver, TelephoneEvent
from voice_agent.protocol.rtp import RtpPacket, RtpParseError, is_rtcp

TOKENS = (
    b"\x80\x00",  # version 2, PCMU
    b"\x80\x65",  # version 2, payload type 101
    b"\x80\xe5",  # ... with the marker
    b"\x90",  # with an extension
    b"\xa0",  # with padding
    b"\x8f",  # fifteen CSRCs
    b"\x80\xc8",  # RTCP sender report
    b"\xbe\xde",  # one-byte header extension profile
    b"\x00\x00\xff\xff",
)
MAX_LEN = 2048
_REMEMBERED = 32  # the receiver's memory of event starts (dtmf._RECENT_EVENTS)


def one_input(data: bytes) -> None:
    _datagram(data)
    _event_stream(data)


def _datagram(data: bytes) -> None:
    if is_rtcp(data):
        assert len(data) >= 2 and 192 <= data[1] <= 223
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError:
        return
    written = bytes(packet)
    assert RtpPacket.parse(written) == packet, (data, written)
    if not packet.padding_size:
        assert written == data, (data, written)
    try:
        event = TelephoneEvent.parse(packet.payload)
    except DtmfParseError:
        return
    assert TelephoneEvent.parse(bytes(event)) == event
    assert event.digit is None or event.digit in EVENT_DIGITS


def _event_stream(data: bytes) -> None:
    receiver = DtmfReceiver()
    starts: set[int] = set()
    digits = 0
    for datagram in _split(data):
        try:
            packet = RtpPacket.parse(datagram)
        except RtpParseError:
            continue
        digit = receiver.receive(packet)
        starts.add(packet.timestamp)
        if digit is not None:
            assert len(digit) == 1 and digit in EVENT_DIGITS, digit
            digits += 1
    if len(starts) <= _REMEMBERED:
        # each key press (one timestamp) is reported at most once
        assert digits <= len(starts), (digits, starts)


def _split(data: bytes) -> list[bytes]:
    datagrams = []
    index = 0
    while index < len(data):
        length = data[index]
        datagrams.append(data[index + 1 : index + 1 + length])
        index += 1 + length
    return datagrams
