"""RFC 3261 timer base values (§17, table 4); tests and fast networks may shrink them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SipTimers:
    t1: float = 0.5  # round-trip time estimate
    t2: float = 4.0  # longest retransmit interval for non-INVITE requests and INVITE responses
    t4: float = 5.0  # longest time a message stays in the network

    @property
    def timeout(self) -> float:
        """64*T1: timers B, F, H, J (and M, L of RFC 6026)."""
        return 64 * self.t1


DEFAULT_TIMERS = SipTimers()
