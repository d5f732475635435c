"""What one benchmark call sent and heard, on one monotonic clock.

Every caller (WebRTC, SIP) fills a `CallRecording` the same way:

- `Microphone` paces the caller's speech onto the line in 20 ms frames, in real time, and
  records each frame with the time it was handed to the network (the time of its first
  sample) and which part of which utterance it carried;
- each packet of the agent's audio is decoded as it arrives (`HeardPacket`: arrival time, the
  sender's media time from the RTP timestamp, the decoded samples).

The figures (`voice_agent.bench.measures`) are read from these records after the call, never
while it runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voice_agent.audio import AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.resample import resample

FRAME_S = 0.02
BROWSER_BUFFER_S = 0.06
"""The `browser` receive mode: a fixed playout buffer close to a browser's on a clean link."""
DRAIN_ABOVE_S = 0.04
"""Audio held beyond the buffer's delay by more than this is played out faster (dropped)."""


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of one utterance carried by one sent frame (offsets in line-rate samples)."""

    utterance: int
    frame_offset: int
    utterance_offset: int
    length: int


@dataclass(frozen=True, slots=True)
class SentFrame:
    at: float
    """When it was handed to the network: the time of its first sample."""
    samples: Int16Array
    rate: int
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class HeardPacket:
    at: float
    """When it arrived (decoded at once): the time its first sample is heard in `arrival` mode."""
    media_s: float
    """The sender's media time: the packet's RTP timestamp, unwrapped, in seconds."""
    samples: Int16Array
    rate: int


@dataclass(frozen=True, slots=True)
class StageMarks:
    """The target's own marks for one reply (ms after the caller's speech end, as it saw it)."""

    arrived_at: float
    marks_ms: dict[str, float]


@dataclass(slots=True)
class CallRecording:
    sent: list[SentFrame] = field(default_factory=list)
    heard: list[HeardPacket] = field(default_factory=list)
    stage_marks: list[StageMarks] = field(default_factory=list)
    """The target's own per-reply marks, where it sends them (ours, over WebRTC)."""
    ended_at: float | None = None

    def utterance_time(self, utterance: int, sample: int) -> float | None:
        """When sample `sample` (line rate) of utterance `utterance` went out, if it did."""
        for frame in self.sent:
            for span in frame.spans:
                offset = sample - span.utterance_offset
                if span.utterance == utterance and 0 <= offset < span.length:
                    return frame.at + (span.frame_offset + offset) / frame.rate
        return None


class Microphone:
    """The caller's voice onto the line: queued utterances, then silence, 20 ms at a time.

    `next_frame()` waits until the frame is due (start + n x 20 ms) and returns it; the frame is
    recorded as sent at that moment. A late event loop sends late and the record says so."""

    def __init__(self, rate: int, recording: CallRecording, now: Callable[[], float]) -> None:
        self.rate = rate
        self._recording = recording
        self._now = now
        self._frame = round(rate * FRAME_S)
        self._queue: list[tuple[int, Int16Array, int]] = []  # utterance, samples, next offset
        self._started: float | None = None
        self._count = 0

    @classmethod
    def real_time(cls, rate: int, recording: CallRecording) -> Microphone:
        return cls(rate, recording, time.monotonic)

    def say(self, audio: AudioFrame, utterance: int) -> float:
        """Queue an utterance; returns its length in seconds at the line rate."""
        samples = resample(audio, self.rate).samples
        self._queue.append((utterance, samples, 0))
        return len(samples) / self.rate

    @property
    def speaking(self) -> bool:
        return bool(self._queue)

    async def next_frame(self) -> Int16Array:
        if self._started is None:
            self._started = self._now()
        else:
            due = self._started + self._count * FRAME_S
            await asyncio.sleep(max(0.0, due - self._now()))
        return self.take_frame(self._now())

    def take_frame(self, at: float) -> Int16Array:
        """The next 20 ms, recorded as handed to the network at `at` (no waiting)."""
        out = np.zeros(self._frame, dtype=np.int16)
        spans: list[Span] = []
        filled = 0
        while self._queue and filled < self._frame:
            utterance, samples, offset = self._queue[0]
            take = min(self._frame - filled, len(samples) - offset)
            out[filled : filled + take] = samples[offset : offset + take]
            spans.append(Span(utterance, filled, offset, take))
            filled += take
            if offset + take >= len(samples):
                self._queue.pop(0)
            else:
                self._queue[0] = (utterance, samples, offset + take)
        self._recording.sent.append(SentFrame(at, out, self.rate, tuple(spans)))
        self._count += 1
        return out


def browser_playout(
    heard: list[HeardPacket], buffer_s: float = BROWSER_BUFFER_S
) -> list[HeardPacket]:
    """The same packets as a fixed playout buffer would play them.

    Each packet plays `buffer_s` after the anchor packet's arrival, plus its media-time
    distance from the anchor. A packet that arrives after its slot (the buffer ran dry)
    becomes the new anchor: it plays `buffer_s` after it arrived, as a browser re-buffers. So
    does a packet that would wait more than `buffer_s + DRAIN_ABOVE_S` (a burst after a
    sender's stall, or a jump in its timestamps): a browser plays such a backlog faster until
    it is back to its target delay; a buffer that never drained would carry every stall of a
    call into all the rest of it."""
    played: list[HeardPacket] = []
    anchor: HeardPacket | None = None
    for packet in sorted(heard, key=lambda p: p.at):
        slot = packet.at + buffer_s
        if anchor is not None:
            anchored_slot = anchor.at + buffer_s + (packet.media_s - anchor.media_s)
            if packet.at <= anchored_slot <= packet.at + buffer_s + DRAIN_ABOVE_S:
                slot = anchored_slot
            else:
                anchor = None
        if anchor is None:
            anchor = packet
        played.append(HeardPacket(slot, packet.media_s, packet.samples, packet.rate))
    return played
