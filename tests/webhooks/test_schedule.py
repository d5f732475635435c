"""The sans-I/O half of delivery: the exact request of an event, and the backoff."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from voice_agent.settings import WebhookSettings
from voice_agent.store.outbox import OutboxEntry
from voice_agent.webhooks.schedule import backoff_s, webhook_body, webhook_request
from voice_agent.webhooks.signature import verify_signature

AT = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
SETTINGS = WebhookSettings(
    url="http://127.0.0.1:9/hook",
    secret=SecretStr("s" * 16),
    backoff_initial_s=2,
    backoff_max_s=60,
)


def entry(**payload: object) -> OutboxEntry:
    return OutboxEntry(
        event_id="6f1c2a9e-0d4b-4e8f-9a51-3c7d2b1e0f42",
        event="claim.opened",
        payload={"reference": "CL-40213", "order_number": "4567", **payload},
        created_at=AT,
        attempts=0,
        next_attempt_at=AT,
        delivered_at=None,
        last_error=None,
        order_number="4567",
        conversation_id=None,
    )


def test_the_body_is_canonical_json_of_the_stored_event() -> None:
    body = webhook_body(entry(note="Straße"))
    assert body == (
        b'{"created_at":"2025-03-20T14:00:00Z","data":{"note":"Stra\xc3\x9fe",'
        b'"order_number":"4567","reference":"CL-40213"},"event":"claim.opened",'
        b'"id":"6f1c2a9e-0d4b-4e8f-9a51-3c7d2b1e0f42"}'
    )
    assert json.loads(body)["data"]["note"] == "Straße"


def test_the_request_carries_the_key_the_event_and_a_valid_signature() -> None:
    request = webhook_request(entry(), "s" * 16)
    assert request.body == webhook_body(entry())
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "6f1c2a9e-0d4b-4e8f-9a51-3c7d2b1e0f42"
    assert request.headers["X-Voice-Agent-Event"] == "claim.opened"
    assert verify_signature("s" * 16, request.body, request.headers["X-Voice-Agent-Signature"])


def test_the_backoff_doubles_up_to_the_maximum_and_jitter_only_shortens_it() -> None:
    no_jitter = [backoff_s(attempts, SETTINGS, lambda: 0.0) for attempts in range(1, 9)]
    assert no_jitter == [2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff_s(3, SETTINGS, lambda: 0.5) == 6.0
    assert backoff_s(3, SETTINGS, lambda: 0.999) == pytest.approx(4.004)
    assert backoff_s(10_000, SETTINGS, lambda: 0.0) == 60


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="counted from 1"):
        backoff_s(0, SETTINGS, lambda: 0.0)
