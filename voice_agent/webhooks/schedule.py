"""What to send and when to try again: the sans-I/O half of webhook delivery.

No sockets, no asyncio, no clock: the body and headers of one event's POST, and the wait
before the next attempt after a failure (exponential, with jitter from an injected random).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from voice_agent.clock import iso_time
from voice_agent.settings import WebhookSettings
from voice_agent.store.outbox import OutboxEntry
from voice_agent.webhooks.signature import SIGNATURE_HEADER, sign

EVENT_HEADER = "X-Voice-Agent-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    body: bytes
    headers: Mapping[str, str]


def webhook_body(entry: OutboxEntry) -> bytes:
    """The canonical JSON of one event (sorted keys, no spaces, UTF-8): built from the stored
    row alone, so every retry sends the same bytes."""
    envelope = {
        "id": entry.event_id,
        "event": entry.event,
        "created_at": iso_time(entry.created_at),
        "data": entry.payload,
    }
    text = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def webhook_request(entry: OutboxEntry, secret: str) -> WebhookRequest:
    body = webhook_body(entry)
    return WebhookRequest(
        body=body,
        headers={
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: entry.event_id,
            EVENT_HEADER: entry.event,
            SIGNATURE_HEADER: sign(secret, body),
        },
    )


def backoff_s(attempts: int, settings: WebhookSettings, random: Callable[[], float]) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 for the first): the
    initial backoff doubled per earlier failure, capped at the maximum, then a random part of
    its second half taken off, so that many failed events do not all come back at once."""
    if attempts < 1:
        raise ValueError(f"attempts is counted from 1, not {attempts}")
    # min() before the power grows past a float: 2**2000 seconds is still "the maximum".
    doublings = min(attempts - 1, 64)
    ceiling = min(settings.backoff_initial_s * 2.0**doublings, settings.backoff_max_s)
    return ceiling * (1.0 - random() / 2.0)
