"""A call over WAV files: the caller's audio from a source, the agent's audio recorded.

Real time (`Pacing.REALTIME`) runs the call on the wall clock, 20 ms per frame, as a line
would. Stepped time (`Pacing.STEPPED`) advances a FakeClock 20 ms per frame and waits, before
each step, until the session has no work under way: a faster-than-real-time call whose timing
decisions are exactly those of real time with instant inference (deterministic, for tests).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np

from voice_agent.agent.events import CallEvent
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import DtmfInput
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.filters import StreamingFir, band_pass_taps
from voice_agent.audio.frame import Int16Array
from voice_agent.clock import Clock, FakeClock

logger = logging.getLogger(__name__)

FRAME_S = 0.02
FRAME_SAMPLES = round(PIPELINE_RATE * FRAME_S)


class Pacing(Enum):
    REALTIME = "realtime"
    STEPPED = "stepped"


class CallerSource(Protocol):
    """The caller's side of a simulated call: 20 ms of audio at a time, given what they heard."""

    def next_frame(self, at: float, heard: AudioFrame) -> Int16Array: ...

    @property
    def done(self) -> bool: ...


class FileCaller:
    """Plays one recording, then silence."""

    def __init__(self, audio: AudioFrame) -> None:
        if audio.rate != PIPELINE_RATE:
            raise ValueError(f"caller audio must be {PIPELINE_RATE} Hz, got {audio.rate} Hz")
        self._samples = audio.samples
        self._position = 0

    def next_frame(self, at: float, heard: AudioFrame) -> Int16Array:
        chunk = self._samples[self._position : self._position + FRAME_SAMPLES]
        self._position += FRAME_SAMPLES
        return _padded(chunk)

    @property
    def done(self) -> bool:
        return self._position >= len(self._samples)


class LineEcho:
    """The agent's audio coming back as a line without echo cancellation would return it:
    delayed, attenuated and band-limited to the telephone band."""

    def __init__(self, delay_s: float, gain_db: float, band: tuple[float, float] = (300, 3400)):
        self._delay = np.zeros(round(delay_s * PIPELINE_RATE), dtype=np.int16)
        self._gain = 10 ** (gain_db / 20)
        self._filter = StreamingFir(band_pass_taps(band[0], band[1], PIPELINE_RATE))

    def process(self, heard: AudioFrame) -> Int16Array:
        line = np.concatenate([self._delay, heard.samples])
        out, self._delay = line[: len(heard.samples)], line[len(heard.samples) :]
        filtered = self._filter.process(AudioFrame(out, PIPELINE_RATE)).samples
        return np.round(filtered * self._gain).astype(np.int16)


@dataclass(slots=True)
class WavCall:
    """What a simulated call left behind: the agent's audio as heard, and the events."""

    agent_audio: list[Int16Array] = field(default_factory=list)
    caller_audio: list[Int16Array] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    started_at: float = 0.0

    def agent(self) -> AudioFrame:
        return _joined(self.agent_audio, self.started_at)

    def caller(self) -> AudioFrame:
        return _joined(self.caller_audio, self.started_at)


class WavCallTransport:
    def __init__(
        self,
        caller: CallerSource,
        playout: Playout,
        clock: Clock,
        pacing: Pacing = Pacing.REALTIME,
        echo: LineEcho | None = None,
        tail_s: float = 1.5,
        max_s: float = 600.0,
    ) -> None:
        if pacing is Pacing.STEPPED and not isinstance(clock, FakeClock):
            raise ValueError("stepped pacing needs a FakeClock")
        self._caller = caller
        self._playout = playout
        self._clock = clock
        self._pacing = pacing
        self._echo = echo
        self._tail_s = tail_s
        self._max_s = max_s
        self._hung_up = False
        self.settle: Callable[[], Awaitable[None]] | None = None
        self.call = WavCall()

    async def inputs(self) -> AsyncIterator[AudioFrame | DtmfInput]:
        start = self._clock.now()
        self.call.started_at = start
        quiet_since: float | None = None
        tick = 0
        while not self._hung_up and tick * FRAME_S < self._max_s:
            at = start + tick * FRAME_S
            if self._pacing is Pacing.REALTIME:
                await self._clock.sleep(at + FRAME_S - self._clock.now())
            heard = self._playout.read(FRAME_SAMPLES)
            spoken = self._caller.next_frame(at, heard)
            mixed = spoken if self._echo is None else _mix(spoken, self._echo.process(heard))
            self.call.agent_audio.append(heard.samples)
            self.call.caller_audio.append(mixed)
            yield AudioFrame(mixed, PIPELINE_RATE, at)
            if self._pacing is Pacing.STEPPED:
                if self.settle is not None:
                    await self.settle()
                assert isinstance(self._clock, FakeClock)
                self._clock.advance(FRAME_S)
            tick += 1
            if self._caller.done and not self._playout.pending:
                quiet_since = at if quiet_since is None else quiet_since
                if at - quiet_since >= self._tail_s:
                    break
            else:
                quiet_since = None

    def clear(self) -> None:
        """Nothing is queued below the playout here: the line reads it frame by frame."""

    async def hang_up(self) -> None:
        self._hung_up = True

    def publish(self, event: CallEvent) -> None:
        self.call.events.append(event)


def _padded(chunk: Int16Array) -> Int16Array:
    if len(chunk) == FRAME_SAMPLES:
        return chunk
    out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    out[: len(chunk)] = chunk
    return out


def _mix(a: Int16Array, b: Int16Array) -> Int16Array:
    return np.clip(a.astype(np.int32) + b.astype(np.int32), -32768, 32767).astype(np.int16)


def _joined(chunks: list[Int16Array], at: float) -> AudioFrame:
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    return AudioFrame(samples.astype(np.int16), PIPELINE_RATE, at)
