"""A call's recording: both sides, aligned on the call's clock, kept in memory until the end.

`CallRecording` is sans-I/O: it is handed the caller's frames as the session reads them and
the line's audio as the transport reads it from the playout (only what went out: a reply cut
short by a barge-in stops in the recording where it stopped), each placed by its Clock
timestamp, and renders one WAV at the end: 16-bit PCM, 16 kHz, stereo, the caller on the left
channel and the agent on the right. When the caller objects it is discarded at once and keeps
nothing more; `save_recording` (blocking, run off the event loop) writes the file.

Memory is bounded: blocks are kept as int16 arrays, silent blocks of the agent's side are not
kept at all, and nothing past ``max_s`` (the call's time limit plus a margin) is kept.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from voice_agent.agent.events import CallEvent
from voice_agent.agent.ports import CallInput, CallTransport
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.resample import resample

logger = logging.getLogger(__name__)

CALLER, AGENT = 0, 1
"""The channels of a recording: the caller left, the agent right."""

_OWNER_ONLY = 0o600


class CallRecording:
    def __init__(self, started: float, max_s: float, rate: int = PIPELINE_RATE) -> None:
        self.started = started
        """Clock time of the recording's first sample."""
        self.rate = rate
        self._max_samples = round(max_s * rate)
        self._blocks: list[tuple[int, int, Int16Array]] = []
        self.refused = False
        self.closed = False

    def hear(self, frame: AudioFrame) -> None:
        """The caller's audio, as received."""
        self._keep(CALLER, frame)

    def play(self, frame: AudioFrame) -> None:
        """The agent's audio, as handed to the line."""
        if frame.samples.any():  # the line is silent most of the time: keep no zeros
            self._keep(AGENT, frame)

    def refuse(self) -> None:
        """The caller objected: drop what was recorded and record nothing more.

        The recorder calls this from a store thread while the event loop may be adding a
        block: ``refused`` is set first, so a block that slips in meanwhile is never rendered
        (a refused recording renders nothing) and none is added after."""
        self.refused = True
        self._blocks = []

    def close(self) -> None:
        """The call is over: whatever the transport still reads is not part of it."""
        self.closed = True

    @property
    def empty(self) -> bool:
        return not self._blocks

    @property
    def duration(self) -> float:
        return self._length() / self.rate

    def render(self) -> Int16Array:
        """The recording as (samples, 2) int16: each block at its time, silence between."""
        if self.refused:
            raise ValueError("the caller objected: this call has no recording")
        out = np.zeros((self._length(), 2), dtype=np.int16)
        for channel, offset, samples in self._blocks:
            out[offset : offset + len(samples), channel] = samples
        return out

    def wav(self) -> bytes:
        """The recording as a WAV file's bytes."""
        buffer = io.BytesIO()
        self.write_wav(buffer)
        return buffer.getvalue()

    def write_wav(self, out: BinaryIO) -> None:
        """The recording as a WAV file (PCM 16-bit, stereo), written without another copy."""
        samples = np.ascontiguousarray(self.render(), dtype="<i2")
        with wave.open(out, "wb") as handle:
            handle.setnchannels(2)
            handle.setsampwidth(2)
            handle.setframerate(self.rate)
            handle.writeframes(samples.data.cast("B"))

    def _keep(self, channel: int, frame: AudioFrame) -> None:
        if self.refused or self.closed:
            return
        if frame.rate != self.rate:
            frame = resample(frame, self.rate)
        offset = round((frame.timestamp - self.started) * self.rate)
        samples = frame.samples
        if offset < 0:  # audio from before the call began (a transport's buffer)
            samples, offset = samples[-offset:], 0
        samples = samples[: max(0, self._max_samples - offset)]
        if len(samples):
            self._blocks.append((channel, offset, samples.copy()))

    def _length(self) -> int:
        return max((offset + len(samples) for _, offset, samples in self._blocks), default=0)


def save_recording(recording: CallRecording, directory: Path) -> str:
    """Write the recording into ``directory`` under an unguessable name, readable by its owner
    only, and return that name (what the conversation stores). Blocking."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{secrets.token_urlsafe(24)}.wav"
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _OWNER_ONLY)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            recording.write_wav(handle)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return name


class RecordedTransport:
    """A call's transport whose caller audio is also handed to the recording."""

    def __init__(self, transport: CallTransport, recording: CallRecording) -> None:
        self.transport = transport
        self._recording = recording

    async def inputs(self) -> AsyncIterator[CallInput]:
        async with contextlib.aclosing(self.transport.inputs()) as items:  # type: ignore[type-var]
            async for item in items:
                if isinstance(item, AudioFrame):
                    self._recording.hear(item)
                yield item

    def clear(self) -> None:
        self.transport.clear()

    async def hang_up(self) -> None:
        await self.transport.hang_up()

    def publish(self, event: CallEvent) -> None:
        self.transport.publish(event)
