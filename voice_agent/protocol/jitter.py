"""An adaptive jitter buffer for one RTP audio stream: reorder, de-duplicate, report gaps.

The audio side calls ``pop(now)`` at each packet time, and again while it returns
something if it has fallen behind.  Each call that returns something plays one slot
of the stream's timeline: a ``Frame`` (the payload whose turn it is) or a ``Gap``
saying why there is none, so the audio side can conceal (LOST, LATE) or play
silence (SILENCE).  Concealment itself lives in ``voice_agent.audio``.

Timing: a packet's *transit* is ``arrival - timestamp / rate``.  The fastest recent
transit is the reference; the slot for timestamp ``ts`` plays ``lag`` seconds after
that packet could have arrived at the fastest.  The target lag is the spread of
recent transits (their 98th percentile above the fastest), kept within
[min_delay, max_delay].  The lag grows toward the target by holding the timeline
while the next packet is missing (a LATE gap that does not move on), and shrinks
by skipping silence between talkspurts or, when a whole slot too deep, by
dropping one frame every half second at most.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)

_SEQ_BITS = 16
_TS_BITS = 32
_RESTART_JUMP = 3000  # a sequence jump this large is a new stream, not loss
_MIN_SAMPLES = 10  # transits needed before the measured target replaces the initial delay
_LATE_TOLERANCE = 0.02  # fraction of packets the target lets arrive too late
_DROP_SPACING = 25  # slots between drops when the lag is far above target


@dataclass(frozen=True)
class JitterConfig:
    min_delay: float = 0.02
    max_delay: float = 0.12
    initial_delay: float = 0.04
    window: int = 250  # transits remembered (5 s of 20 ms packets)
    # packets held at once (4 s of 20 ms packets, far deeper than max_delay needs): past it a
    # flood of packets that never play (timestamps ahead of the timeline) is refused, where
    # it used to be kept, each push scanning them all
    max_packets: int = 200


class GapReason(Enum):
    LOST = "lost"  # its packet never came, and a later one is here
    LATE = "late"  # nothing is here for this slot yet: conceal and wait
    SILENCE = "silence"  # the sender sent nothing for this slot (between talkspurts)


class PushResult(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    LATE = "late"  # its slot has already been played: dropped
    OVERFLOW = "overflow"  # the buffer already holds max_packets: dropped


@dataclass(frozen=True)
class Frame:
    sequence: int  # extended: keeps counting past 65535
    timestamp: int  # extended: keeps counting past 2**32
    payload: bytes


@dataclass(frozen=True)
class Gap:
    timestamp: int  # extended timestamp of the slot
    samples: int  # its length in clock ticks
    reason: GapReason


@dataclass
class JitterStats:
    received: int = 0
    played: int = 0
    lost: int = 0
    late: int = 0
    duplicates: int = 0
    held: int = 0  # slots the timeline stood still to deepen the buffer
    dropped: int = 0  # frames thrown away to make the buffer shallower
    restarts: int = 0
    overflows: int = 0  # packets refused because the buffer was full


@dataclass
class _Entry:
    sequence: int
    timestamp: int
    payload: bytes


def _extend(value: int, reference: int, bits: int) -> int:
    """The extended number nearest ``reference`` whose low ``bits`` are ``value``."""
    modulus = 1 << bits
    delta = (value - reference) % modulus
    if delta >= modulus // 2:
        delta -= modulus
    return reference + delta


class JitterBuffer:
    def __init__(self, clock_rate: int = 8000, config: JitterConfig | None = None) -> None:
        self.clock_rate = clock_rate
        self.config = config or JitterConfig()
        self.stats = JitterStats()
        self._reset()

    def _reset(self) -> None:
        self._packets: dict[int, _Entry] = {}  # by extended timestamp
        self._timestamps: dict[int, int] = {}  # extended sequence -> timestamp, of _packets
        self._transits: deque[float] = deque(maxlen=self.config.window)
        self._target: float | None = None  # cached; None when it must be recomputed
        self._highest_seq: int | None = None
        self._highest_ts = 0
        self._frame = self.clock_rate // 50  # ticks per packet, learnt from the stream
        self._played: deque[int] = deque(maxlen=64)  # sequence numbers played, for duplicates
        self._started = False
        self._slot_time = 0.0  # when the next slot is due
        self._next_ts = 0  # the timestamp the next slot plays
        self._expected_seq = 0  # the sequence number that would play next
        self._slots_since_drop = 0

    # --- input ---------------------------------------------------------------------------------

    def push(self, sequence: int, timestamp: int, payload: bytes, arrival: float) -> PushResult:
        if (
            self._highest_seq is not None
            and abs(_extend(sequence, self._highest_seq, _SEQ_BITS) - self._highest_seq)
            > _RESTART_JUMP
        ):
            logger.info("RTP sequence jumped to %d: restarting the jitter buffer", sequence)
            self._reset()
            self.stats.restarts += 1
        if self._highest_seq is None:
            self._highest_seq, self._highest_ts = sequence, timestamp
        seq = _extend(sequence, self._highest_seq, _SEQ_BITS)
        ts = _extend(timestamp, self._highest_ts, _TS_BITS)
        self._learn_frame_size(seq, ts)
        self._highest_seq = max(self._highest_seq, seq)
        self._highest_ts = max(self._highest_ts, ts)
        self.stats.received += 1
        self._transits.append(arrival - ts / self.clock_rate)  # late packets count too
        self._target = None
        if seq in self._played or (ts in self._packets and self._packets[ts].sequence == seq):
            self.stats.duplicates += 1
            return PushResult.DUPLICATE
        if self._started and ts < self._next_ts:
            self.stats.late += 1
            self._expected_seq = max(self._expected_seq, seq + 1)
            return PushResult.LATE
        if ts not in self._packets and len(self._packets) >= self.config.max_packets:
            self.stats.overflows += 1
            return PushResult.OVERFLOW
        self._hold(_Entry(seq, ts, payload))
        return PushResult.ACCEPTED

    def _hold(self, entry: _Entry) -> None:
        replaced = self._packets.get(entry.timestamp)
        if replaced is not None:
            self._timestamps.pop(replaced.sequence, None)
        self._packets[entry.timestamp] = entry
        self._timestamps[entry.sequence] = entry.timestamp

    def _release(self, ts: int) -> None:
        entry = self._packets.pop(ts)
        if self._timestamps.get(entry.sequence) == ts:
            del self._timestamps[entry.sequence]

    def _learn_frame_size(self, seq: int, ts: int) -> None:
        # by the sequence index, not a scan of every packet held: a flood costs each push O(1)
        neighbour = self._timestamps.get(seq - 1, self._timestamps.get(seq + 1))
        if neighbour is not None:
            ticks = abs(ts - neighbour)
            if 0 < ticks <= self.clock_rate // 5:  # at most 200 ms per packet
                self._frame = ticks

    # --- delay estimate ------------------------------------------------------------------------

    @property
    def target_delay(self) -> float:
        if self._target is None:
            self._target = self._measure_target()
        return self._target

    def _measure_target(self) -> float:
        config = self.config
        if len(self._transits) < _MIN_SAMPLES:
            wanted = config.initial_delay
        else:
            ordered = sorted(self._transits)
            wanted = ordered[int((1 - _LATE_TOLERANCE) * (len(ordered) - 1))] - ordered[0]
        return min(max(wanted, config.min_delay), config.max_delay)

    @property
    def lag(self) -> float:
        """How long after its fastest possible arrival the next slot plays (0 before start)."""
        if not self._started or not self._transits:
            return 0.0
        return self._slot_time - (self._next_ts / self.clock_rate + min(self._transits))

    @property
    def depth(self) -> int:
        """Packets waiting in the buffer."""
        return len(self._packets)

    # --- output --------------------------------------------------------------------------------

    def pop(self, now: float) -> Frame | Gap | None:
        """The next slot if it is due by ``now``; None before the stream starts or if not due."""
        if not self._started and not self._start(now):
            return None
        if now < self._slot_time:
            return None
        self._drop_late_entries()
        entry = self._entry_for_slot()
        item = self._gap() if entry is None else self._play(entry)
        self._slot_time += self._frame / self.clock_rate
        return item

    def _start(self, now: float) -> bool:
        if not self._packets:
            return False
        first = self._packets[min(self._packets)]
        fastest = min(self._transits)
        if now < first.timestamp / self.clock_rate + fastest + self.target_delay:
            return False
        self._started = True
        self._slot_time = now
        self._next_ts = first.timestamp
        self._expected_seq = first.sequence
        return True

    def _drop_late_entries(self) -> None:
        for ts in [ts for ts in self._packets if ts < self._next_ts]:
            self._release(ts)
            self.stats.late += 1

    def _entry_for_slot(self) -> _Entry | None:
        """The packet for this slot: its timestamp, or one inside the slot (clocks that jump)."""
        inside = [ts for ts in self._packets if ts < self._next_ts + self._frame]
        return self._packets[min(inside)] if inside else None

    def _play(self, entry: _Entry) -> Frame:
        self._slots_since_drop += 1
        too_deep = self._excess_slots() >= 1 and self._slots_since_drop >= _DROP_SPACING
        self._consume(entry)
        following = self._entry_for_slot() if too_deep else None
        if following is not None:
            # a slot deeper than needed: throw this frame away, play the next one in its slot
            self._slots_since_drop = 0
            self.stats.dropped += 1
            self._consume(following)
            entry = following
        self.stats.played += 1
        return Frame(entry.sequence, entry.timestamp, entry.payload)

    def _consume(self, entry: _Entry) -> None:
        self._release(entry.timestamp)
        self._next_ts = entry.timestamp + self._frame
        self._expected_seq = entry.sequence + 1
        self._played.append(entry.sequence)

    def _gap(self) -> Gap:
        slot = self._next_ts
        later = min(self._packets.values(), key=lambda e: e.timestamp, default=None)
        missing = later is None or later.sequence > self._expected_seq
        if missing and self.lag < self.target_delay - self._frame / (2 * self.clock_rate):
            self.stats.held += 1  # hold the timeline: wait one slot longer for the packet
            return Gap(slot, self._frame, GapReason.LATE)
        if later is None:
            self._next_ts += self._frame
            return Gap(slot, self._frame, GapReason.LATE)
        if missing:
            self._expected_seq += 1
            self._next_ts += self._frame
            self.stats.lost += 1
            return Gap(slot, self._frame, GapReason.LOST)
        # the sender paused: skip silence while the buffer is deeper than it needs to be
        skip = self._excess_slots() * self._frame
        self._next_ts = min(later.timestamp, self._next_ts + self._frame + skip)
        return Gap(slot, self._frame, GapReason.SILENCE)

    def _excess_slots(self) -> int:
        """Whole slots the lag could lose and still meet the target (a quarter slot of slack)."""
        excess = (self.lag - self.target_delay) * self.clock_rate / self._frame
        return max(0, int(excess + 0.25))
