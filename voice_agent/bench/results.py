"""Per-turn figures and the series they add up to (one target, transport, profile, receive mode,
concurrency level and caller language): what the report is written from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TurnKind(Enum):
    REPLY = "reply"
    """The caller speaks after the agent has finished: voice-to-voice is measured."""
    BARGE_IN = "barge_in"
    """The caller speaks over the agent: how fast the agent yields is measured."""


@dataclass(frozen=True, slots=True)
class TurnFigures:
    call: int
    turn: int
    kind: TurnKind
    voice_to_voice_ms: float | None = None
    """End of the caller's speech (sent) -> first agent audio above the threshold (heard)."""
    barge_in_pause_ms: float | None = None
    """Caller's speech onset (sent) -> the agent's audio goes quiet at the caller."""
    barge_in_stop_ms: float | None = None
    """Caller's speech onset (sent) -> the agent's audio goes quiet and stays quiet."""
    cut_off: bool | None = None
    """Agent audio started inside a planned pause of the caller's (None: no pause planned)."""
    overlapped: bool = False
    """The agent was still audible when the caller stopped: no voice-to-voice figure."""
    no_reply: bool = False
    """No agent audio in time after the caller's speech ended."""
    content_ok: bool | None = None
    """The reply's transcript held the expected keywords (None: nothing expected)."""
    transcript: str = ""
    stages_ms: dict[str, float] = field(default_factory=dict)
    """The target's own marks for this turn (ours only): ms after the caller's speech end."""


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float
    p95: float
    p99: float
    max: float
    count: int

    @classmethod
    def of(cls, values: list[float]) -> Percentiles | None:
        if not values:
            return None
        ordered = sorted(values)
        return cls(
            p50=_percentile(ordered, 50),
            p95=_percentile(ordered, 95),
            p99=_percentile(ordered, 99),
            max=ordered[-1],
            count=len(ordered),
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "p50": round(self.p50, 1),
            "p95": round(self.p95, 1),
            "p99": round(self.p99, 1),
            "max": round(self.max, 1),
            "count": self.count,
        }


def _percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(slots=True)
class Series:
    target: str
    transport: str
    """webrtc | sip"""
    profile: str
    receive: str
    """arrival | browser"""
    calls: int
    """Concurrent calls."""
    added_delay_ms: float = 0.0
    """Round-trip delay the impairment profile adds (0 for clean)."""
    turns: list[TurnFigures] = field(default_factory=list)
    target_cpu: float | None = None
    """The target process's CPU use while the series ran, in cores (1.0 = one core busy)."""
    target_rss_mb: float | None = None
    failures: list[str] = field(default_factory=list)
    """Calls that could not be made or broke off, with why."""
    relay: dict[str, float] | None = None
    """What the impairment relay measured: loss and delay per direction."""
    language: str | None = None
    """The language the callers spoke (None: scenarios without one, English)."""
    hinted: bool | None = None
    """True: each call told the agent its language; False: the agent identified it; None: no
    language."""
