"""The impairment relay's bad network, sans I/O: seeded models of loss and delay.

A `Profile` says how much media one direction loses (in bursts, exact over every window of
`LOSS_WINDOW` packets) and how late the rest arrives. The models (`plan_loss_window`,
`BurstLoss`, `SmoothJitter`, `LinkDelay`, `Impairment`) are given arrival times and say which
packets are lost and when the others leave; they do no I/O and read no clock, so the same seed
gives the same fate to the same packets. `voice_agent.bench.relay` is the asyncio shell that
applies them to real UDP datagrams.

Only media is impaired: datagrams whose first byte is 128..191 (RTP and RTCP, RFC 7983
demultiplexing, `is_media`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from voice_agent.protocol.rtp import is_rtcp

LOSS_WINDOW = 100
"""Loss is exact over every this many media packets of one direction."""
MAX_BURST = 4


# --- profiles ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """A network, one way: how much media it loses (in bursts) and how late the rest arrives."""

    name: str
    loss: float
    """Fraction of media packets lost, exact over every window of `LOSS_WINDOW` packets."""
    mean_burst: float
    """Mean number of packets in one loss burst (1..`MAX_BURST`)."""
    delay_ms: float
    """Mean one-way delay."""
    jitter_ms: float
    """How far the one-way delay strays from the mean, either way."""

    def __post_init__(self) -> None:
        if not 0 <= self.loss <= 0.5:
            raise ValueError(f"{self.name}: loss {self.loss} is not a fraction in 0..0.5")
        if not 1 <= self.mean_burst <= MAX_BURST:
            raise ValueError(f"{self.name}: mean burst {self.mean_burst} not in 1..{MAX_BURST}")
        if not 0 <= self.jitter_ms <= self.delay_ms:
            raise ValueError(f"{self.name}: jitter must be within 0..delay (no negative delays)")

    @property
    def added_round_trip_ms(self) -> float:
        """What the profile adds to a round trip: its one-way delay, both ways."""
        return 2 * self.delay_ms


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("clean", loss=0.0, mean_burst=1.0, delay_ms=0.0, jitter_ms=0.0),
        Profile("cross-border", loss=0.03, mean_burst=2.5, delay_ms=150.0, jitter_ms=40.0),
        Profile("bad-mobile", loss=0.08, mean_burst=2.5, delay_ms=250.0, jitter_ms=80.0),
    )
}


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown network profile {name!r} (known: {known})") from None


def is_media(datagram: bytes) -> bool:
    """RTP or RTCP (first byte 128..191, RFC 7983 §7), not STUN (0..3) or DTLS (20..63)."""
    return bool(datagram) and 128 <= datagram[0] <= 191


# --- loss: exact per window, in bursts -----------------------------------------------------------


def plan_loss_window(
    lost: int, mean_burst: float, rng: random.Random, window: int = LOSS_WINDOW
) -> list[bool]:
    """Which packets of one window are lost (True): exactly `lost`, in bursts of 1..MAX_BURST.

    Bursts sit at random positions, never touching: each goes just before a distinct kept
    packet, and the window's last packet is always kept, so bursts never merge, not even
    across windows."""
    if lost == 0:
        return [False] * window
    kept = window - lost
    bursts = _burst_lengths(lost, mean_burst, rng)
    if len(bursts) > kept:
        raise ValueError(f"{lost} losses in bursts do not fit in {window} packets")
    burst_before = dict(zip(sorted(rng.sample(range(kept), len(bursts))), bursts, strict=True))
    plan: list[bool] = []
    for kept_index in range(kept):
        plan.extend([True] * burst_before.get(kept_index, 0))
        plan.append(False)
    return plan


def _burst_lengths(lost: int, mean_burst: float, rng: random.Random) -> list[int]:
    """`lost` split into bursts of 1..MAX_BURST, `lost / mean_burst` of them on average.

    The count is rounded down or up at random so that, over many windows, lost packets per
    burst average `mean_burst` even when one window holds only a few losses."""
    ideal = lost / mean_burst
    count = math.floor(ideal) + (rng.random() < ideal - math.floor(ideal))
    count = min(lost, max(count, -(-lost // MAX_BURST), 1))
    lengths = [1] * count
    for _ in range(lost - count):
        growable = [index for index, length in enumerate(lengths) if length < MAX_BURST]
        lengths[rng.choice(growable)] += 1
    return lengths


class BurstLoss:
    """One stream's losses, window after window (see `plan_loss_window`)."""

    def __init__(self, loss: float, mean_burst: float, rng: random.Random) -> None:
        self._lost_per_window = round(loss * LOSS_WINDOW)
        self._mean_burst = mean_burst
        self._rng = rng
        self._plan: list[bool] = []
        self._position = 0

    def drops_next(self) -> bool:
        """Whether the stream's next packet is lost."""
        if self._position == len(self._plan):
            self._plan = plan_loss_window(self._lost_per_window, self._mean_burst, self._rng)
            self._position = 0
        dropped = self._plan[self._position]
        self._position += 1
        return dropped


# --- delay: smooth in time, first in first out ---------------------------------------------------

JITTER_TIME_CONSTANT_S = 0.2
JITTER_STEP_S = 0.05


class SmoothJitter:
    """How far the delay strays from its mean at a time, in ms: smooth and seeded.

    An Ornstein-Uhlenbeck process (time constant `time_constant_s`, standard deviation half
    the range) sampled every `step_s` of elapsed time, linearly interpolated, clipped to
    ±`jitter_ms`: about 90 % of the time it lies within ±0.8 of the range.

    It depends on elapsed time only, never on how often it is asked, so the packet rate does
    not change the delays (an OU process sampled per packet would be rough at fine spacing,
    and packets queued behind a sudden drop would raise the mean). Interpolation also bounds
    how fast the delay falls, so the first-in-first-out rule of `LinkDelay` seldom binds.

    Queries must not go backwards by more than one step (arrival times of one direction do
    not); earlier ones get the value at the start of the current step."""

    def __init__(
        self,
        jitter_ms: float,
        rng: random.Random,
        time_constant_s: float = JITTER_TIME_CONSTANT_S,
        step_s: float = JITTER_STEP_S,
    ) -> None:
        self._range = jitter_ms
        self._step_s = step_s
        sigma = jitter_ms / 2
        self._keep = math.exp(-step_s / time_constant_s)
        self._kick = sigma * math.sqrt(1 - self._keep**2)
        self._rng = rng
        self._step = 0
        self._left = rng.gauss(0.0, sigma)
        self._right = self._following(self._left)

    def _following(self, value: float) -> float:
        """The process one step later (exact OU transition)."""
        return value * self._keep + self._rng.gauss(0.0, self._kick)

    def at(self, elapsed_s: float) -> float:
        position = max(elapsed_s, 0.0) / self._step_s
        while position >= self._step + 1:
            self._step += 1
            self._left, self._right = self._right, self._following(self._right)
        fraction = max(position - self._step, 0.0)
        value = self._left + (self._right - self._left) * fraction
        return min(max(value, -self._range), self._range)


class LinkDelay:
    """One direction's departures: arrival + mean delay + smooth jitter, in arrival order.

    Real links rarely reorder packets, so a packet never leaves before the one ahead of it:
    departure = max(previous departure, arrival + delay). That keeps every delay within
    delay ± jitter (the packet ahead left within its bound, and arrived no later)."""

    def __init__(self, delay_ms: float, jitter_ms: float, rng: random.Random) -> None:
        self._delay_ms = delay_ms
        self._jitter = SmoothJitter(jitter_ms, rng)
        self._start: float | None = None
        self._last_departure = -math.inf

    def departure(self, arrival: float) -> float:
        """When a packet that arrived at `arrival` (seconds, any clock) leaves, same clock."""
        if self._start is None:
            self._start = arrival
        one_way_s = (self._delay_ms + self._jitter.at(arrival - self._start)) / 1000
        self._last_departure = max(self._last_departure, arrival + one_way_s)
        return self._last_departure


# --- one direction, sans I/O ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectionStats:
    """What the relay did to one direction's datagrams."""

    media_packets: int = 0
    dropped: int = 0
    delay_mean_ms: float | None = None
    """Delays actually applied (scheduled departure - arrival) to the media delivered."""
    delay_p5_ms: float | None = None
    delay_p95_ms: float | None = None
    passed_at_once: int = 0
    """Non-media datagrams (STUN, DTLS) forwarded unimpaired."""
    unroutable: int = 0
    """Datagrams dropped because the relay did not know the agent's address yet."""

    @property
    def loss(self) -> float:
        return self.dropped / self.media_packets if self.media_packets else 0.0

    def as_dict(self) -> dict[str, float]:
        figures: dict[str, float | None] = {
            "media_packets": self.media_packets,
            "dropped": self.dropped,
            "loss": self.loss,
            "delay_mean_ms": self.delay_mean_ms,
            "delay_p5_ms": self.delay_p5_ms,
            "delay_p95_ms": self.delay_p95_ms,
            "passed_at_once": self.passed_at_once,
            "unroutable": self.unroutable,
        }
        return {name: value for name, value in figures.items() if value is not None}


@dataclass(frozen=True, slots=True)
class RelayStats:
    to_agent: DirectionStats
    to_caller: DirectionStats

    def as_dict(self) -> dict[str, float]:
        """Flat (`to_agent_loss`, `to_caller_delay_mean_ms`, ...), for a benchmark series."""
        return {
            f"{direction}_{name}": value
            for direction, stats in (("to_agent", self.to_agent), ("to_caller", self.to_caller))
            for name, value in stats.as_dict().items()
        }


class Impairment:
    """What the profile does to one direction's media: lost, or when it leaves.

    RTP and RTCP are lost from separate windows (so the audio's loss is exactly the profile's
    whatever RTCP is interleaved) and share one first-in-first-out delay. Each model draws
    from its own generator, seeded by (seed, direction, model): one does not shift another."""

    def __init__(self, profile: Profile, seed: int = 0, direction: str = "") -> None:
        def rng(model: str) -> random.Random:
            return random.Random(f"{seed}/{direction}/{model}")

        self._rtp_loss = BurstLoss(profile.loss, profile.mean_burst, rng("rtp-loss"))
        self._rtcp_loss = BurstLoss(profile.loss, profile.mean_burst, rng("rtcp-loss"))
        self._delay = LinkDelay(profile.delay_ms, profile.jitter_ms, rng("delay"))
        self.media_packets = 0
        self.dropped = 0
        self.delays_ms: list[float] = []

    def departure(self, media: bytes, arrival: float) -> float | None:
        """When this media datagram leaves (the clock of `arrival`), or None: it is lost."""
        self.media_packets += 1
        loss = self._rtcp_loss if is_rtcp(media) else self._rtp_loss
        if loss.drops_next():
            self.dropped += 1
            return None
        departure = self._delay.departure(arrival)
        self.delays_ms.append((departure - arrival) * 1000)
        return departure

    def stats(self, passed_at_once: int = 0, unroutable: int = 0) -> DirectionStats:
        delays = np.asarray(self.delays_ms, dtype=np.float64)
        spread: dict[str, float] = {}
        if len(delays):
            spread = {
                "delay_mean_ms": float(delays.mean()),
                "delay_p5_ms": float(np.percentile(delays, 5)),
                "delay_p95_ms": float(np.percentile(delays, 95)),
            }
        return DirectionStats(
            self.media_packets,
            self.dropped,
            passed_at_once=passed_at_once,
            unroutable=unroutable,
            **spread,
        )
