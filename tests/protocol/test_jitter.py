import random
from dataclasses import dataclass

import pytest

from tests.protocol.fixtures import rtp_fixture
from voice_agent.protocol.jitter import (
    Frame,
    Gap,
    GapReason,
    JitterBuffer,
    JitterConfig,
    PushResult,
)
from voice_agent.protocol.rtp import RtpPacket


@dataclass(frozen=True)
class Arrival:
    time: float
    sequence: int
    timestamp: int
    payload: bytes


def _captured() -> list[Arrival]:
    arrivals = []
    for time, data in rtp_fixture("rtp_g711a.txt"):
        packet = RtpPacket.parse(data)
        arrivals.append(Arrival(time, packet.sequence_number, packet.timestamp, packet.payload))
    return arrivals


def _synthetic(
    count: int,
    *,
    first_seq: int = 0,
    first_ts: int = 0,
    frame: int = 160,
    jitter: float = 0.0,
    seed: int = 1,
    start: float = 0.0,
) -> list[Arrival]:
    """20 ms packets (at 8 kHz) sent on time, each delayed by up to ``jitter`` seconds."""
    rng = random.Random(seed)
    return [
        Arrival(
            start + k * frame / 8000 + rng.uniform(0, jitter),
            (first_seq + k) % 65536,
            (first_ts + k * frame) % 2**32,
            k.to_bytes(4, "big"),
        )
        for k in range(count)
    ]


def _play(
    buffer: JitterBuffer, arrivals: list[Arrival], *, tick: float, until: float, start: float = 0.0
) -> list[Frame | Gap]:
    """The audio side: one pop per tick, pushing whatever arrived before each tick."""
    pending = sorted(arrivals, key=lambda a: a.time)
    out: list[Frame | Gap] = []
    now = start
    while now <= until:
        while pending and pending[0].time <= now:
            a = pending.pop(0)
            buffer.push(a.sequence, a.timestamp, a.payload, a.time)
        item = buffer.pop(now)
        if item is not None:
            out.append(item)
        now = round(now + tick, 9)
    return out


def _payloads(items: list[Frame | Gap]) -> list[bytes]:
    return [item.payload for item in items if isinstance(item, Frame)]


def _gaps(items: list[Frame | Gap]) -> list[tuple[int, GapReason]]:
    return [(item.timestamp, item.reason) for item in items if isinstance(item, Gap)]


SHALLOW = JitterConfig(initial_delay=0.02)  # start at the minimum: nothing to shrink later


def test_captured_stream_plays_in_order_without_gaps() -> None:
    arrivals = _captured()
    buffer = JitterBuffer(config=SHALLOW)
    items = _play(buffer, arrivals, tick=0.03, until=arrivals[-1].time + 0.2)
    frames = [item for item in items if isinstance(item, Frame)]
    assert [f.payload for f in frames] == [a.payload for a in arrivals]
    assert [f.sequence for f in frames] == list(range(59133, 59133 + 80))
    assert {item.reason for item in items if isinstance(item, Gap)} <= {GapReason.LATE}
    assert items.index(frames[-1]) == len(frames) - 1  # no gap before the stream ended
    assert buffer.stats.lost == buffer.stats.late == buffer.stats.dropped == 0
    assert 0.02 <= buffer.target_delay <= 0.12


def test_a_clean_stream_shrinks_from_the_initial_delay_by_one_frame() -> None:
    arrivals = _synthetic(100)
    buffer = JitterBuffer()  # starts 40 ms deep; a clean stream needs 20
    assert buffer.target_delay == pytest.approx(0.04)
    items = _play(buffer, arrivals, tick=0.02, until=2.5)
    played = _payloads(items)
    assert buffer.stats.dropped == 1 and len(played) == 99
    assert played == [a.payload for a in arrivals if a.payload in played]  # in order
    assert buffer.target_delay == pytest.approx(0.02)
    assert buffer.lag == pytest.approx(0.02)
    assert buffer.stats.lost == 0


def test_scripted_loss_is_reported_at_the_lost_slots() -> None:
    arrivals = _captured()
    lost = {10, 11, 30}
    kept = [a for index, a in enumerate(arrivals) if index not in lost]
    buffer = JitterBuffer(config=SHALLOW)
    items = _play(buffer, kept, tick=0.03, until=arrivals[-1].time + 0.2)
    assert _payloads(items) == [a.payload for a in kept]
    expected = [(arrivals[i].timestamp, GapReason.LOST) for i in sorted(lost)]
    assert [gap for gap in _gaps(items) if gap[1] is GapReason.LOST] == expected
    assert items.index(next(i for i in items if isinstance(i, Gap))) == 10  # in its place
    assert all(isinstance(i, Gap) and i.samples == 240 for i in items[10:12])
    assert buffer.stats.lost == 3


def test_reordered_packets_play_in_order() -> None:
    arrivals = _synthetic(100)
    reordered = [
        # every seventh packet is held up 25 ms: it arrives after the one sent after it
        Arrival(a.time + 0.025, a.sequence, a.timestamp, a.payload) if a.sequence % 7 == 3 else a
        for a in arrivals
    ]
    assert sorted(reordered, key=lambda a: a.time) != reordered
    buffer = JitterBuffer(config=JitterConfig(min_delay=0.04, initial_delay=0.04))
    items = _play(buffer, reordered, tick=0.02, until=2.2)
    assert _payloads(items) == [a.payload for a in arrivals]
    trailing = [(arrivals[-1].timestamp + 160 * k, GapReason.LATE) for k in range(1, 10)]
    assert _gaps(items) == trailing[: len(_gaps(items))]  # only after the stream ended
    assert buffer.stats.lost == buffer.stats.late == 0


def test_duplicates_are_refused_and_played_once() -> None:
    buffer = JitterBuffer()
    assert buffer.push(1, 160, b"a", 0.0) is PushResult.ACCEPTED
    assert buffer.push(1, 160, b"a", 0.001) is PushResult.DUPLICATE
    assert buffer.push(2, 320, b"b", 0.02) is PushResult.ACCEPTED
    first = buffer.pop(0.04)
    assert isinstance(first, Frame) and first.payload == b"a"
    assert buffer.push(1, 160, b"a", 0.05) is PushResult.DUPLICATE  # already played
    second = buffer.pop(0.06)
    assert isinstance(second, Frame) and second.payload == b"b"
    assert buffer.stats.duplicates == 2 and buffer.stats.played == 2


def test_a_packet_after_its_slot_is_late() -> None:
    arrivals = _synthetic(30)
    delayed = [
        Arrival(a.time + 0.3, a.sequence, a.timestamp, a.payload) if a.sequence == 12 else a
        for a in arrivals
    ]
    buffer = JitterBuffer()
    items = _play(buffer, delayed, tick=0.02, until=0.58)
    assert (arrivals[12].timestamp, GapReason.LOST) in _gaps(items)
    assert arrivals[12].payload not in _payloads(items)
    assert buffer.stats.late == 1 and buffer.stats.lost == 1
    assert buffer.push(5, 5 * 160, b"old", 0.6) is PushResult.DUPLICATE


@pytest.mark.parametrize(
    ("first_seq", "first_ts"), [(65500, 0), (0, 2**32 - 3200), (65530, 2**32 - 800)]
)
def test_sequence_and_timestamp_wrap_around(first_seq: int, first_ts: int) -> None:
    arrivals = _synthetic(100, first_seq=first_seq, first_ts=first_ts, jitter=0.03, seed=3)
    buffer = JitterBuffer()
    items = _play(buffer, arrivals, tick=0.02, until=2.3)
    frames = [item for item in items if isinstance(item, Frame)]
    sent = [a.payload for a in arrivals]
    assert [f.payload for f in frames] == [p for p in sent if p in _payloads(items)]
    assert len(frames) + buffer.stats.dropped == 100 and buffer.stats.lost == 0
    first = frames[0]
    assert first.sequence == first_seq and first.timestamp == first_ts
    for frame in frames:  # extended numbers keep counting across the wrap
        index = int.from_bytes(frame.payload, "big")
        assert frame.sequence == first_seq + index
        assert frame.timestamp == first_ts + 160 * index


def test_target_delay_follows_the_measured_jitter_within_bounds() -> None:
    buffer = JitterBuffer()
    calm = _synthetic(100)
    jittery = _synthetic(300, first_seq=100, first_ts=100 * 160, jitter=0.08, seed=5, start=2.0)
    items = _play(buffer, calm + jittery, tick=0.02, until=8.0)
    assert 0.06 <= buffer.target_delay <= 0.12
    assert buffer.stats.held > 0  # the timeline waited to deepen the buffer
    assert len(_payloads(items)) >= 0.95 * 400  # instead of losing packets
    deep = buffer.lag

    calm_again = _synthetic(400, first_seq=400, first_ts=400 * 160, start=8.0)
    _play(buffer, calm_again, tick=0.02, until=16.0, start=8.02)
    assert buffer.target_delay == pytest.approx(0.02)
    assert buffer.stats.dropped > 0  # it got shallower while the speech went on
    assert buffer.lag < min(deep, 0.02 + 0.02)


def test_target_delay_is_capped() -> None:
    buffer = JitterBuffer(config=JitterConfig(min_delay=0.02, max_delay=0.12))
    _play(buffer, _synthetic(200, jitter=0.5, seed=2), tick=0.02, until=5.0)
    assert buffer.target_delay == 0.12


def test_silence_between_talkspurts_is_not_concealed_as_loss() -> None:
    first = _synthetic(10)
    # the sender stops for one second, then goes on with the next sequence number
    second = _synthetic(10, first_seq=10, first_ts=10 * 160 + 8000, start=10 * 0.02 + 1.0)
    buffer = JitterBuffer()
    items = _play(buffer, first + second, tick=0.02, until=1.6)
    assert _payloads(items) == [a.payload for a in first + second]
    reasons = [g[1] for g in _gaps(items)]
    assert GapReason.LOST not in reasons
    assert reasons[0] is GapReason.LATE  # nothing known yet: it could be loss
    assert GapReason.SILENCE in reasons  # the next talkspurt showed nothing was sent
    assert buffer.stats.lost == 0


def test_silence_is_skipped_when_the_buffer_is_too_deep() -> None:
    config = JitterConfig(initial_delay=0.1, min_delay=0.02)
    buffer = JitterBuffer(config=config)
    first = _synthetic(20)
    second = _synthetic(20, first_seq=20, first_ts=20 * 160 + 8000, start=20 * 0.02 + 1.0)
    _play(buffer, first, tick=0.02, until=0.5)
    lag_before = buffer.lag
    _play(buffer, second, tick=0.02, until=2.0, start=0.52)
    assert buffer.target_delay == pytest.approx(0.02)
    assert buffer.lag < lag_before - 0.04


def test_nothing_plays_before_the_first_packet_is_due() -> None:
    buffer = JitterBuffer()
    assert buffer.pop(0.0) is None
    buffer.push(7, 1000, b"x", 1.0)
    assert buffer.pop(1.0) is None  # the initial 40 ms have not passed
    assert buffer.depth == 1
    frame = buffer.pop(1.04)
    assert isinstance(frame, Frame) and frame.sequence == 7
    assert buffer.pop(1.05) is None  # the next slot is due at 1.06
    gap = buffer.pop(1.06)
    assert isinstance(gap, Gap) and gap.reason is GapReason.LATE and gap.timestamp == 1160


def test_a_new_stream_restarts_the_buffer() -> None:
    buffer = JitterBuffer()
    _play(buffer, _synthetic(20), tick=0.02, until=0.5)
    restarted = _synthetic(20, first_seq=30000, first_ts=999_000, start=0.52)
    items = _play(buffer, restarted, tick=0.02, until=1.2, start=0.52)
    assert buffer.stats.restarts == 1
    assert _payloads(items) == [a.payload for a in restarted]


def test_a_flood_of_packets_that_never_play_is_refused_past_max_packets() -> None:
    # one sequence number, timestamps ever further ahead: each used to be kept (and each push
    # scanned them all: 20,000 took 5.8 s of CPU); found by fuzz/targets/jitter.py
    buffer = JitterBuffer(8000, JitterConfig(max_packets=50))
    results = [buffer.push(1000, 10**6 + 160 * i, b"x", 0.0) for i in range(2000)]
    assert results.count(PushResult.ACCEPTED) == 50
    assert buffer.depth == 50 and buffer.stats.overflows == 1950
    # a packet that replaces one already held is still taken
    assert buffer.push(1001, 10**6 + 160, b"y", 0.0) is PushResult.ACCEPTED
