import random

import pytest

from tests.protocol.fixtures import rtp_fixture
from voice_agent.protocol.dtmf import (
    FLASH,
    DtmfParseError,
    DtmfReceiver,
    TelephoneEvent,
    digit_packets,
)
from voice_agent.protocol.rtp import RtpPacket, RtpSender


def _captured(name: str) -> list[RtpPacket]:
    return [RtpPacket.parse(data) for _, data in rtp_fixture(f"rtp_dtmf_{name}.txt")]


def _digits(packets: list[RtpPacket], receiver: DtmfReceiver | None = None) -> str:
    receiver = receiver or DtmfReceiver()
    return "".join(digit for p in packets if (digit := receiver.receive(p)) is not None)


def test_captured_event_payloads() -> None:
    events = [TelephoneEvent.parse(p.payload) for p in _captured("1")]
    assert {e.event for e in events} == {1} and {e.volume for e in events} == {10}
    assert [e.duration for e in events[:4]] == [0, 320, 640, 960]
    assert [e.end for e in events] == [False] * 7 + [True] * 3
    for packet, event in zip(_captured("1"), events, strict=True):
        assert bytes(event) == packet.payload


@pytest.mark.parametrize(("name", "digit"), [("1", "1"), ("pound", "#"), ("star", "*")])
def test_each_captured_press_is_one_digit(name: str, digit: str) -> None:
    assert _digits(_captured(name)) == digit


def test_loss_reordering_and_duplicates_still_give_one_digit() -> None:
    packets = _captured("1")
    assert _digits(packets[1:]) == "1"  # the first packet (with marker) lost
    assert _digits(packets[-3:]) == "1"  # only the end packets arrived
    shuffled = packets + packets[:4]
    random.Random(7).shuffle(shuffled)
    assert _digits(shuffled) == "1"


def test_presses_in_a_row_are_told_apart_by_timestamp() -> None:
    sender = RtpSender(0, ssrc=1, sequence=100, timestamp=5000)
    packets = []
    for digit in "5509#":
        packets += digit_packets(sender, digit, payload_type=101)
        sender.silence(400)
    assert _digits(packets) == "5509#"


def test_digit_packets_follow_rfc4733() -> None:
    sender = RtpSender(0, ssrc=1, sequence=10, timestamp=8000)
    packets = digit_packets(sender, "7", payload_type=101, duration=800, packet_ticks=160)
    events = [TelephoneEvent.parse(p.payload) for p in packets]
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert {p.timestamp for p in packets} == {8000}
    assert [p.sequence_number for p in packets] == list(range(10, 17))  # each packet numbered
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert {e.digit for e in events} == {"7"}
    after = sender.audio(b"\xff" * 160, 160)
    assert after.timestamp == 8800 and after.marker  # audio resumes after the tone


def test_a_long_press_split_in_segments_is_one_digit() -> None:
    def packet(timestamp: int, duration: int, end: bool = False) -> RtpPacket:
        event = TelephoneEvent(4, end=end, duration=duration)
        return RtpPacket(101, 0, timestamp, 1, bytes(event))

    start = 2**32 - 1000  # the second segment's timestamp wraps
    segments = [packet(start, 0xFFFF), packet((start + 0xFFFF) % 2**32, 4000, end=True)]
    assert _digits(segments) == "4"


def test_flash_and_garbage_give_no_digit() -> None:
    receiver = DtmfReceiver()
    flash = RtpPacket(101, 1, 100, 1, bytes(TelephoneEvent(FLASH, duration=160)))
    assert receiver.receive(flash) is None
    assert receiver.receive(RtpPacket(101, 2, 900, 1, b"\x01")) is None
    with pytest.raises(DtmfParseError):
        TelephoneEvent.parse(b"\x01\x02")
    with pytest.raises(ValueError):
        TelephoneEvent.for_digit("X")
    with pytest.raises(ValueError):
        bytes(TelephoneEvent(1, volume=64))
    assert TelephoneEvent.for_digit("d").digit == "D"
