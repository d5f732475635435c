"""Per-turn latency marks from one clock, and their Prometheus histograms."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Histogram

MARKS = (
    "user_speech_end",
    "endpoint",
    "asr_final",
    "reply_first_text",
    "tts_first_audio",
    "first_audio_sent",
)
"""In pipeline order; each is a Clock time (seconds)."""

_BUCKETS = (
    0.02,
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.5,
    0.6,
    0.8,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
)


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


class LatencyMetrics:
    """Histograms of each mark's delay after the caller's speech ended (seconds)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._histograms = {
            name: Histogram(
                f"voice_agent_{name}_seconds",
                f"Seconds from the end of the caller's speech to {name.replace('_', ' ')}",
                registry=self.registry,
                buckets=_BUCKETS,
            )
            for name in MARKS
            if name != "user_speech_end"
        }

    def observe(self, marks: TurnMarks) -> None:
        for name, ms in marks.since_speech_end().items():
            self._histograms[name].observe(max(0.0, ms / 1000))
