"""Voice activity detection: per frame, stateful, events carry the boundary's audio time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from voice_agent.audio import AudioFrame


class VadEventKind(Enum):
    SPEECH_START = "speech_start"
    SPEECH_END = "speech_end"
    PAUSE = "pause"
    """Tentative: the sound stopped a moment ago; SPEECH_END (same boundary) or RESUME follows.
    Work that waits for the caller to finish (the final recognition pass) may begin here."""
    RESUME = "resume"
    """The sound came back after a PAUSE, before any SPEECH_END: the speech goes on."""


@dataclass(frozen=True, slots=True)
class VadEvent:
    kind: VadEventKind
    timestamp: float
    """Time of the boundary in the audio (frame timestamps), not the time of emission."""


class Vad(Protocol):
    def process(self, frame: AudioFrame) -> VadEvent | None: ...

    def reset(self) -> None: ...
