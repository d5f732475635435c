import pytest

from tests.protocol.fixtures import rtp_fixture
from voice_agent.protocol.rtp import RtpExtension, RtpPacket, RtpParseError, RtpSender, is_rtcp

CAPTURES = ["rtp_g711a.txt", "rtp_dtmf_1.txt", "rtp_dtmf_pound.txt", "rtp_dtmf_star.txt"]


@pytest.mark.parametrize("capture", CAPTURES)
def test_captured_packets_round_trip(capture: str) -> None:
    for _, data in rtp_fixture(capture):
        assert bytes(RtpPacket.parse(data)) == data


def test_captured_g711a_fields() -> None:
    packets = [RtpPacket.parse(data) for _, data in rtp_fixture("rtp_g711a.txt")]
    first = packets[0]
    assert (first.payload_type, first.sequence_number, first.timestamp) == (8, 59133, 240)
    assert first.marker and not any(p.marker for p in packets[1:])  # one talkspurt
    assert len(first.payload) == 240 and first.csrc == [] and first.extension is None
    assert {p.ssrc for p in packets} == {first.ssrc}
    assert [p.timestamp for p in packets[:3]] == [240, 480, 720]


def test_csrc_extension_and_padding() -> None:
    packet = RtpPacket(
        payload_type=0,
        sequence_number=0xFFFF,
        timestamp=0xFFFFFFFF,
        ssrc=0x01020304,
        payload=b"\xff" * 160,
        marker=True,
        csrc=[0xAABBCCDD, 7],
        extension=RtpExtension(0xBEDE, b"\x10\x01\x00\x00"),
        padding_size=4,
    )
    data = bytes(packet)
    assert data[0] == 0b1011_0010  # V=2, P, X, CC=2
    assert data[1] == 0x80  # marker, PT 0
    assert data[12:20] == bytes.fromhex("aabbccdd00000007")
    assert data[20:28] == bytes.fromhex("bede000110010000")
    assert data[-4:] == b"\x00\x00\x00\x04"
    assert len(data) == 12 + 8 + 8 + 160 + 4
    assert RtpPacket.parse(data) == packet


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"\x80\x00\x00", "shorter than the RTP header"),
        (bytes.fromhex("400000010000000000000001"), "RTP version 1"),
        (bytes.fromhex("830000010000000000000001") + b"\x00" * 8, "3 CSRCs do not fit"),
        (bytes.fromhex("900000010000000000000001") + b"\xbe\xde", "truncated extension"),
        (bytes.fromhex("900000010000000000000001bede0002") + b"\x00" * 4, "2 words does not fit"),
        (bytes.fromhex("a00000010000000000000001") + b"\x01\x00", "bad padding length 0"),
        (bytes.fromhex("a00000010000000000000001") + b"\x09", "bad padding length 9"),
    ],
)
def test_malformed_packets_are_refused(data: bytes, complaint: str) -> None:
    with pytest.raises(RtpParseError, match=complaint):
        RtpPacket.parse(data)


@pytest.mark.parametrize(
    "packet",
    [
        RtpPacket(128, 0, 0, 0),
        RtpPacket(0, 65536, 0, 0),
        RtpPacket(0, 0, 2**32, 0),
        RtpPacket(0, 0, 0, 0, csrc=list(range(16))),
        RtpPacket(0, 0, 0, 0, extension=RtpExtension(1, b"abc")),
        RtpPacket(0, 0, 0, 0, padding_size=256),
    ],
)
def test_out_of_range_fields_are_not_serialized(packet: RtpPacket) -> None:
    with pytest.raises(ValueError):
        bytes(packet)


def test_rtcp_is_told_apart() -> None:
    sender_report = bytes.fromhex("80c8000601020304")
    assert is_rtcp(sender_report)
    assert not is_rtcp(rtp_fixture("rtp_g711a.txt")[0][1])
    assert not is_rtcp(rtp_fixture("rtp_dtmf_1.txt")[0][1])  # PT 101 with marker is 0xe5


def test_sender_numbers_packets_and_marks_talkspurts() -> None:
    sender = RtpSender(0, ssrc=42, sequence=65534, timestamp=2**32 - 160)
    first, second, third = (sender.audio(b"\xff" * 160, 160) for _ in range(3))
    assert [p.sequence_number for p in (first, second, third)] == [65534, 65535, 0]
    assert [p.timestamp for p in (first, second, third)] == [2**32 - 160, 0, 160]
    assert [p.marker for p in (first, second, third)] == [True, False, False]
    sender.silence(1600)
    resumed = sender.audio(b"\xff" * 160, 160)
    assert resumed.marker and resumed.timestamp == 160 + 160 + 1600
    event = sender.event(b"\x01\x0a\x00\xa0", payload_type=101, timestamp=999, marker=True)
    assert (event.sequence_number, event.timestamp, event.payload_type) == (2, 999, 101)
    assert sender.audio(b"", 160).sequence_number == 3
    assert {p.ssrc for p in (first, resumed, event)} == {42}


def test_sender_starts_at_random_points() -> None:
    senders = [RtpSender(0) for _ in range(4)]
    assert len({(s.ssrc, s.sequence, s.timestamp) for s in senders}) == 4
