"""The agent's Prometheus metrics, in one registry: per-turn latency, calls and what they did.

One `AgentMetrics` per process (the App's), handed to what counts: the call runner, the call
limiter, the recorder of each call and the streaming recognizer. Nothing here is module-level:
a test makes its own, on a fresh registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from voice_agent.agent.latency import MARKS, TurnMarks
from voice_agent.agent.outcome import CallOutcome
from voice_agent.store.writes import (
    CLAIM_KINDS,
    SHOP_REQUEST_KINDS,
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    OrderLock,
    ReturnRequest,
    ShopRequest,
    VerificationAttempt,
)

PREFIX = "voice_agent_"

TRANSPORTS = ("webrtc", "sip")
"""The transports whose series exist (at zero) before their first call."""
ERROR_KINDS = ("call", "store")
"""A call ended by an exception; a turn or a reply's writes the store refused."""
ASR_FALLBACK_REASONS = (
    "stopped_short",
    "partial_failed",
    "fast_empty",
    "fast_budget",
    "fast_loop",
    "fast_short",
    "stream_short",
)
"""Streaming (stages/asr/live.py): the final pass stopped short of its audio, so the whole
utterance is decoded again; a partial pass failed, so the next one hears its audio. Whole
passes (stages/asr/whisper.py): the guards rejected the short window's output (empty, over its
token budget, looping, or a long number the stock path heard more digits of), so the stock
path answers; a streamed transcript held a long number the stock path, decoding the whole
utterance, heard more digits of (stream_short), so that transcript answers."""

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


class AgentMetrics:
    """Every series the agent exports (prefix ``voice_agent_``), on `registry`.

    The labels known in advance are created at zero, so a rate is defined from the first
    scrape and an idle agent still exports `voice_agent_calls_in_progress`."""

    def __init__(
        self, registry: CollectorRegistry | None = None, transports: Sequence[str] = TRANSPORTS
    ) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self._latency = {
            name: Histogram(
                f"{PREFIX}{name}_seconds",
                f"Seconds from the end of the caller's speech to {name.replace('_', ' ')}",
                registry=r,
                buckets=_BUCKETS,
            )
            for name in MARKS
            if name != "user_speech_end"
        }
        self.calls = Counter(
            f"{PREFIX}calls",
            "Calls ended, by transport and outcome",
            ["transport", "outcome"],
            registry=r,
        )
        self.calls_in_progress = Gauge(
            f"{PREFIX}calls_in_progress", "Calls under way, by transport", ["transport"], registry=r
        )
        self.busy_refusals = Counter(
            f"{PREFIX}busy_refusals",
            "Calls refused because session.max_concurrent_calls were under way",
            ["transport"],
            registry=r,
        )
        self.errors = Counter(
            f"{PREFIX}errors",
            "Failures: a call ended by an exception (call), a turn or writes not stored (store)",
            ["kind"],
            registry=r,
        )
        self.handoffs = Counter(f"{PREFIX}handoffs", "Hand-offs to a person stored", registry=r)
        self.claims = Counter(f"{PREFIX}claims", "Claims opened, by kind", ["kind"], registry=r)
        self.return_requests = Counter(
            f"{PREFIX}return_requests", "Return requests stored", registry=r
        )
        self.shop_requests = Counter(
            f"{PREFIX}shop_requests", "Requests for the shop's team, by kind", ["kind"], registry=r
        )
        self.address_changes = Counter(
            f"{PREFIX}address_changes", "Shipping addresses changed", registry=r
        )
        self.verification_failures = Counter(
            f"{PREFIX}verification_failures", "Identity checks that failed", registry=r
        )
        self.locks = Counter(
            f"{PREFIX}locks", "Verification locks set on an order number", registry=r
        )
        self.asr_fallbacks = Counter(
            f"{PREFIX}asr_fallbacks",
            "Recognition passes redone another way, by reason",
            ["reason"],
            registry=r,
        )
        self.loop_stalls = Counter(
            f"{PREFIX}loop_stalls",
            "Times the event loop was blocked longer than server.loop_stall_ms",
            registry=r,
        )
        self.loop_lag_max = Gauge(
            f"{PREFIX}loop_lag_max_seconds",
            "The longest the event loop was blocked since the process started",
            registry=r,
        )
        self._zeroes(transports)

    def _zeroes(self, transports: Sequence[str]) -> None:
        for transport in transports:
            self.calls_in_progress.labels(transport)
            self.busy_refusals.labels(transport)
            for outcome in CallOutcome:
                self.calls.labels(transport, outcome)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for kind in CLAIM_KINDS:
            self.claims.labels(kind)
        for kind in SHOP_REQUEST_KINDS:
            self.shop_requests.labels(kind)
        for reason in ASR_FALLBACK_REASONS:
            self.asr_fallbacks.labels(reason)

    # --- per turn ----------------------------------------------------------------------------

    def observe(self, marks: TurnMarks) -> None:
        """A turn's latency marks, each as seconds after the caller's speech ended."""
        for name, ms in marks.since_speech_end().items():
            self._latency[name].observe(max(0.0, ms / 1000))

    # --- per call ----------------------------------------------------------------------------

    def call_started(self, transport: str) -> None:
        self.calls_in_progress.labels(transport).inc()

    def call_ended(self, transport: str, outcome: str) -> None:
        self.calls_in_progress.labels(transport).dec()
        self.calls.labels(transport, outcome).inc()

    def busy_refused(self, transport: str) -> None:
        self.busy_refusals.labels(transport).inc()

    def error(self, kind: str) -> None:
        """`kind`: "call" (a session raised) or "store" (a turn or writes were not stored)."""
        self.errors.labels(kind).inc()

    def asr_fallback(self, reason: str) -> None:
        self.asr_fallbacks.labels(reason).inc()

    def stored(self, writes: Sequence[object]) -> None:
        """A committed reply's writes, once the store has them."""
        for write in writes:
            match write:
                case HandoffWrite():
                    self.handoffs.inc()
                case ClaimWrite():
                    self.claims.labels(write.kind).inc()
                case ReturnRequest():
                    self.return_requests.inc()
                case ShopRequest():
                    self.shop_requests.labels(write.kind).inc()
                case AddressChange():
                    self.address_changes.inc()
                case VerificationAttempt(success=False):
                    self.verification_failures.inc()
                case OrderLock():
                    self.locks.inc()
