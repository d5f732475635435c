"""Per-turn latency marks from one clock (their histograms are in `metrics`)."""

from __future__ import annotations

from dataclasses import dataclass, field

MARKS = (
    "user_speech_end",
    "endpoint",
    "asr_final",
    "reply_first_text",
    "tts_first_audio",
    "first_audio_sent",
)
"""In pipeline order; each is a Clock time (seconds)."""


@dataclass(slots=True)
class TurnMarks:
    times: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, at: float) -> None:
        if name not in MARKS:
            raise ValueError(f"unknown latency mark {name!r}; known: {', '.join(MARKS)}")
        self.times.setdefault(name, at)  # the first time counts

    def since_speech_end(self) -> dict[str, float]:
        """Milliseconds from the end of the caller's speech to each later mark."""
        start = self.times.get("user_speech_end")
        if start is None:
            return {}
        return {
            name: round((at - start) * 1000, 1)
            for name, at in self.times.items()
            if name != "user_speech_end"
        }
