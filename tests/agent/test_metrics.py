"""The agent's Prometheus series: each counter on a fresh registry, names as exported."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prometheus_client import CollectorRegistry

from voice_agent.agent.latency import TurnMarks
from voice_agent.agent.metrics import ASR_FALLBACK_REASONS, AgentMetrics
from voice_agent.store.writes import (
    AddressChange,
    ClaimWrite,
    HandoffWrite,
    OrderLock,
    ReturnRequest,
    ShopRequest,
    VerificationAttempt,
)

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _value(metrics: AgentMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    assert value is not None, f"{name}{labels} not exported"
    return value


def test_latency_histograms_keep_their_names() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    marks = TurnMarks()
    marks.mark("user_speech_end", 10.0)
    marks.mark("first_audio_sent", 10.3)
    metrics.observe(marks)
    assert _value(metrics, "voice_agent_first_audio_sent_seconds_count") == 1
    assert _value(metrics, "voice_agent_first_audio_sent_seconds_bucket", le="0.35") == 1
    assert _value(metrics, "voice_agent_first_audio_sent_seconds_bucket", le="0.25") == 0
    assert _value(metrics, "voice_agent_endpoint_seconds_count") == 0


def test_calls_are_counted_by_transport_and_outcome_and_gauged_while_under_way() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    metrics.call_started("sip")
    metrics.call_started("sip")
    metrics.call_started("webrtc")
    assert _value(metrics, "voice_agent_calls_in_progress", transport="sip") == 2
    metrics.call_ended("sip", "handoff")
    assert _value(metrics, "voice_agent_calls_in_progress", transport="sip") == 1
    assert _value(metrics, "voice_agent_calls_total", transport="sip", outcome="handoff") == 1
    assert _value(metrics, "voice_agent_calls_total", transport="webrtc", outcome="handoff") == 0


def test_series_known_in_advance_exist_at_zero_before_any_call() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    for transport in ("webrtc", "sip"):
        assert _value(metrics, "voice_agent_calls_in_progress", transport=transport) == 0
        assert _value(metrics, "voice_agent_busy_refusals_total", transport=transport) == 0
        for outcome in ("completed", "handoff", "no_speech", "error"):
            assert (
                _value(metrics, "voice_agent_calls_total", transport=transport, outcome=outcome)
                == 0
            )
    for reason in ASR_FALLBACK_REASONS:
        assert _value(metrics, "voice_agent_asr_fallbacks_total", reason=reason) == 0
    assert _value(metrics, "voice_agent_claims_total", kind="damaged_item") == 0


def test_busy_refusals_errors_and_asr_fallbacks() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    metrics.busy_refused("webrtc")
    metrics.error("store")
    metrics.error("store")
    metrics.error("call")
    metrics.asr_fallback("stopped_short")
    assert _value(metrics, "voice_agent_busy_refusals_total", transport="webrtc") == 1
    assert _value(metrics, "voice_agent_busy_refusals_total", transport="sip") == 0
    assert _value(metrics, "voice_agent_errors_total", kind="store") == 2
    assert _value(metrics, "voice_agent_errors_total", kind="call") == 1
    assert _value(metrics, "voice_agent_asr_fallbacks_total", reason="stopped_short") == 1


def test_stored_writes_are_counted_by_type_and_kind() -> None:
    metrics = AgentMetrics(CollectorRegistry())
    metrics.stored(
        [
            VerificationAttempt(order_number="4567", factor="postcode", success=False, at=AT),
            VerificationAttempt(order_number="4567", factor="postcode", success=True, at=AT),
            OrderLock(order_number="4567", until=AT),
            _claim("damaged_item"),
            _claim("lost_parcel"),
            _claim("damaged_item"),
            HandoffWrite(
                reference="H-1",
                reason="angry",
                transcript="",
                facts={},
                callback_by=AT,
                created_at=AT,
            ),
            ReturnRequest(
                reference="R-1", order_number="4567", reason="size", skus=(), requested_at=AT
            ),
            ShopRequest(
                reference="S-1", kind="invoice", order_number=None, details="", requested_at=AT
            ),
            AddressChange(order_number="4567", address="1 Road", postcode=None, requested_at=AT),
        ]
    )
    assert _value(metrics, "voice_agent_verification_failures_total") == 1
    assert _value(metrics, "voice_agent_locks_total") == 1
    assert _value(metrics, "voice_agent_claims_total", kind="damaged_item") == 2
    assert _value(metrics, "voice_agent_claims_total", kind="lost_parcel") == 1
    assert _value(metrics, "voice_agent_handoffs_total") == 1
    assert _value(metrics, "voice_agent_return_requests_total") == 1
    assert _value(metrics, "voice_agent_shop_requests_total", kind="invoice") == 1
    assert _value(metrics, "voice_agent_shop_requests_total", kind="cancellation") == 0
    assert _value(metrics, "voice_agent_address_changes_total") == 1


def test_two_agents_do_not_share_series() -> None:
    first, second = AgentMetrics(), AgentMetrics()
    first.busy_refused("sip")
    assert _value(second, "voice_agent_busy_refusals_total", transport="sip") == 0


def _claim(kind: str) -> ClaimWrite:
    return ClaimWrite(
        reference=f"C-{kind}",
        order_number="4567",
        stage="last_mile",
        responsible_party="carrier",
        evidence_held=(),
        evidence_missing=(),
        insured=True,
        outcome="refund",
        promised_by=date(2026, 12, 9),
        opened_at=AT,
        kind=kind,
    )
