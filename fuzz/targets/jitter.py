"""The jitter buffer driven by a stream of pushes and pops decoded from the bytes.

Each operation is one byte and its arguments:
  0-127   push: the low bits step the sequence number (-4..+11) and the timestamp
          (0..7 packets of 160 ticks), then one byte of arrival step (0-63 ms) and one of
          payload length; the payload carries the (sequence, timestamp) it was pushed with
  128-191 time passes (op & 63 ms); the audio side pops at every 20 ms tick, again while
          the buffer returns something, as the media line does
  192-223 jump: two bytes of new sequence number, four of timestamp (restarts, wraps)
  224-255 burst: one byte n, then 8*n pushes one packet apart (a flood; 1000 pushes in all)
Invariants: frames come out in timestamp order (within one stream), each one carries the
payload pushed for it, slots never move the timeline backwards, one tick never yields more
than 200 slots, and the buffer never holds more than it was given or max_packets.
"""

from __future__ import annotations

import struct

from voice_agent.protocol.jitter import Frame, JitterBuffer

MAX_LEN = 8192
_MAX_PUSHES = 1000  # per input: a flood, well past the buffer's max_packets
_MAX_TICKS = 1000  # 20 s of the audio side's 20 ms ticks per input
_TICK = 0.02
_MAX_SLOTS_PER_TICK = 200  # one tick's pops: 20 ms of audio, even in 1-tick packets
_FRAME = 160


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._index = 0

    def __bool__(self) -> bool:
        return self._index < len(self._data)

    def take(self, count: int) -> int:
        chunk = self._data[self._index : self._index + count].ljust(count, b"\0")
        self._index += count
        return int.from_bytes(chunk, "big")


class _Player:
    """Drives one buffer as the media line does, and checks what comes out."""

    def __init__(self) -> None:
        self.buffer = JitterBuffer(8000)
        self.now = 0.0
        self.seq = 1000
        self.ts = 160_000
        self.pushed = 0
        self._next_tick = _TICK
        self._ticks = 0
        self._last_frame: Frame | None = None
        self._last_slot: int | None = None
        self._restarts = 0

    def push(self, payload_length: int) -> None:
        if self.pushed >= _MAX_PUSHES:
            return
        payload = struct.pack("!HI", self.seq, self.ts) + bytes(payload_length)
        self.buffer.push(self.seq, self.ts, payload, self.now)
        self.pushed += 1
        assert self.buffer.depth <= min(self.pushed, self.buffer.config.max_packets)

    def advance(self, seconds: float) -> None:
        """Time passes; the audio side pops at each of its ticks on the way."""
        self.now += seconds
        while self._next_tick <= self.now and self._ticks < _MAX_TICKS:
            self._pop(self._next_tick)
            self._next_tick += _TICK
            self._ticks += 1

    def _pop(self, now: float) -> None:
        for _ in range(_MAX_SLOTS_PER_TICK):
            item = self.buffer.pop(now)
            if item is None:
                return
            if self.buffer.stats.restarts != self._restarts:
                self._restarts = self.buffer.stats.restarts
                self._last_frame, self._last_slot = None, None
            slot = item.timestamp
            assert self._last_slot is None or slot >= self._last_slot, (slot, self._last_slot)
            self._last_slot = slot
            if isinstance(item, Frame):
                self._check_frame(item)
        raise AssertionError(f"pop({now}) returned {_MAX_SLOTS_PER_TICK} slots in one tick")

    def _check_frame(self, frame: Frame) -> None:
        seq, ts = struct.unpack_from("!HI", frame.payload)
        assert (seq, ts) == (frame.sequence & 0xFFFF, frame.timestamp & 0xFFFFFFFF), frame
        last = self._last_frame
        if last is not None:  # in timestamp order (the sequence may disagree: the sender's)
            assert frame.timestamp > last.timestamp, (last, frame)
        self._last_frame = frame


def one_input(data: bytes) -> None:
    reader = _Reader(data)
    player = _Player()
    while reader:
        op = reader.take(1)
        if op < 128:
            player.seq = (player.seq + (op & 15) - 4) & 0xFFFF
            player.ts = (player.ts + (op >> 4) * _FRAME) & 0xFFFFFFFF
            player.advance((reader.take(1) & 63) / 1000)
            player.push(reader.take(1))
        elif op < 192:
            player.advance((op & 63) / 1000)
        elif op < 224:
            player.seq, player.ts = reader.take(2), reader.take(4)
        else:
            for _ in range(min(8 * reader.take(1), _MAX_PUSHES - player.pushed)):
                player.seq = (player.seq + 1) & 0xFFFF
                player.ts = (player.ts + _FRAME) & 0xFFFFFFFF
                player.push(0)
    player.advance(1.0)
