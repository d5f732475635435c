"""A scripted caller for simulated calls: speaks its lines in reaction to the agent.

Each line waits for its cue: the agent's reply to finish (and a pause), or the agent to have
been speaking for a while (to talk over it). The caller knows exactly when each line's speech
began and ended (its audio is trimmed), which is the caller-side truth the benchmark measures
from, independent of the agent's own VAD.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.audio.frame import Int16Array
from voice_agent.audio.levels import rms_dbfs
from voice_agent.transport.wavfile import FRAME_SAMPLES

_AGENT_AUDIBLE_DBFS = -50.0


class Cue(Enum):
    AFTER_REPLY = "after_reply"
    """When the agent has spoken since the last line and then been quiet for `gap_s`."""
    DURING_REPLY = "during_reply"
    """When the agent has been speaking for `into_reply_s` (talking over it)."""


@dataclass(frozen=True, slots=True)
class Line:
    audio: AudioFrame
    text: str = ""
    cue: Cue = Cue.AFTER_REPLY
    gap_s: float = 0.7
    into_reply_s: float = 1.0


@dataclass(slots=True)
class Spoken:
    line: Line
    started_at: float
    ended_at: float


class ScriptedCaller:
    def __init__(self, lines: list[Line], noise_dbfs: float | None = None, seed: int = 7) -> None:
        for line in lines:
            if line.audio.rate != PIPELINE_RATE:
                raise ValueError(f"caller lines must be {PIPELINE_RATE} Hz")
        self._lines = list(lines)
        self._index = 0
        self._position: int | None = None  # sample position within the current line
        self._agent_spoke = False
        self._agent_quiet_since: float | None = None
        self._agent_speaking_since: float | None = None
        self._rng = np.random.default_rng(seed)
        self._noise = None if noise_dbfs is None else 32768 * 10 ** (noise_dbfs / 20)
        self.spoken: list[Spoken] = []

    @property
    def done(self) -> bool:
        return self._index >= len(self._lines)

    def next_frame(self, at: float, heard: AudioFrame) -> Int16Array:
        self._follow_agent(at, heard)
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        if not self.done:
            line = self._lines[self._index]
            if self._position is None and self._cued(line, at):
                self._position = 0
                self.spoken.append(Spoken(line, at, at + line.audio.duration))
            if self._position is not None:
                chunk = line.audio.samples[self._position : self._position + FRAME_SAMPLES]
                out[: len(chunk)] = chunk
                self._position += FRAME_SAMPLES
                if self._position >= len(line.audio.samples):
                    self._next_line()
        if self._noise is not None:
            noise = self._rng.normal(0, self._noise, FRAME_SAMPLES)
            out = np.clip(out + noise, -32768, 32767).astype(np.int16)
        return out

    def _next_line(self) -> None:
        self._index += 1
        self._position = None
        self._agent_spoke = False

    def _cued(self, line: Line, at: float) -> bool:
        if line.cue is Cue.AFTER_REPLY:
            quiet = self._agent_quiet_since
            return self._agent_spoke and quiet is not None and at - quiet >= line.gap_s
        speaking = self._agent_speaking_since
        return speaking is not None and at - speaking >= line.into_reply_s

    def _follow_agent(self, at: float, heard: AudioFrame) -> None:
        if rms_dbfs(heard.samples) > _AGENT_AUDIBLE_DBFS:
            self._agent_spoke = True
            self._agent_quiet_since = None
            if self._agent_speaking_since is None:
                self._agent_speaking_since = at
        else:
            if self._agent_quiet_since is None:
                self._agent_quiet_since = at
            if at - self._agent_quiet_since >= 0.5:
                self._agent_speaking_since = None  # a pause between clauses is not the end
