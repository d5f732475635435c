"""Speech synthesis: text in, a stream of audio frames out; cancel with aclose()."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from voice_agent.audio import AudioFrame


class Tts(Protocol):
    def synthesize(self, text: str, language: str = "en") -> AsyncIterator[AudioFrame]: ...
