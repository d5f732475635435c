"""Delivery against a real HTTP receiver on 127.0.0.1 and a real SQLite store: retried with
the same bytes until a 2xx, failures recorded, the loop started and stopped with the server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from tests.conftest import free_port
from tests.store.test_repository import NOW, claim, handoff
from tests.store.test_shopfile import example
from tests.webhooks.receiver import Receiver
from voice_agent.clock import FakeClock, RealClock
from voice_agent.settings import PathsSettings, StoreSettings, WebhookSettings
from voice_agent.store.db import Database, open_database
from voice_agent.store.desk import DeskRepository
from voice_agent.store.importer import import_document
from voice_agent.store.outbox import Outbox
from voice_agent.store.repository import Repository
from voice_agent.webhooks.delivery import WebhookDelivery, delivering

SECRET = "test-secret-of-the-shop"


class Now:
    """The wall clock of the delivery, moved by the test."""

    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    settings = StoreSettings(url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with open_database(settings, PathsSettings(data_dir=tmp_path)) as opened:
        import_document(opened, example(), "example")
        Repository(opened).apply([claim(), handoff()])
        yield opened


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(SECRET) as running:
        yield running


def settings(url: str, **changes: float) -> WebhookSettings:
    return WebhookSettings(url=url, secret=SecretStr(SECRET), backoff_initial_s=2, **changes)


async def _pass(delivery: WebhookDelivery) -> int:
    async with aiohttp.ClientSession() as http:
        return await delivery.deliver_due(http)


def test_a_refused_event_is_sent_again_with_the_same_bytes_once_due(
    database: Database, receiver: Receiver
) -> None:
    receiver.answers.extend([503])
    now = Now()
    outbox = Outbox(database)
    delivery = WebhookDelivery(
        settings(receiver.url), outbox, FakeClock(), utc_now=now, random=lambda: 0.0
    )
    assert asyncio.run(_pass(delivery)) == 2
    refused, taken = outbox.entries()
    assert (refused.attempts, refused.delivered_at) == (1, None)
    assert refused.last_error == "HTTP 503 Service Unavailable"
    assert refused.next_attempt_at == NOW + timedelta(seconds=2)
    assert (taken.attempts, taken.delivered_at) == (1, NOW)

    now.at = NOW + timedelta(seconds=1)
    assert asyncio.run(_pass(delivery)) == 0  # not due yet
    now.at = NOW + timedelta(seconds=2)
    assert asyncio.run(_pass(delivery)) == 1
    (delivered, _) = outbox.entries()
    assert (delivered.attempts, delivered.delivered_at) == (2, now.at)

    first, second, retry = receiver.received
    assert first.key == retry.key == refused.event_id
    assert first.body == retry.body
    assert all(got.signature_valid for got in receiver.received)
    assert [got.event for got in receiver.received] == [
        "claim.opened",
        "handoff.created",
        "claim.opened",
    ]
    assert {got.content_type for got in receiver.received} == {"application/json"}
    sent = json.loads(first.body)
    assert sent == {
        "id": refused.event_id,
        "event": "claim.opened",
        "created_at": "2025-03-20T14:00:00Z",
        "data": refused.payload,
    }
    assert second.key == taken.event_id


def test_what_the_team_does_at_the_desk_reaches_the_shop_signed(
    database: Database, receiver: Receiver
) -> None:
    desk = DeskRepository(database)
    (handoff_case,) = desk.handoff_queue()
    (claim_case,) = desk.cases("claim")
    later = NOW + timedelta(minutes=5)
    desk.take_handoff(handoff_case.id, "sam", later)
    desk.set_status("claim", claim_case.id, "in_review", "sam", later, "carrier asked", seen="open")
    now = Now()
    now.at = later
    delivery = WebhookDelivery(settings(receiver.url), Outbox(database), FakeClock(), utc_now=now)
    assert asyncio.run(_pass(delivery)) == 4  # the call's two events, then the desk's two
    assert all(got.signature_valid for got in receiver.received)
    taken, reviewed = (json.loads(got.body) for got in receiver.received[2:])
    assert (taken["event"], taken["data"]["reference"]) == ("handoff.taken", "HO-77120")
    assert reviewed["event"] == "claim.status_changed"
    assert reviewed["created_at"] == "2025-03-20T14:05:00Z"
    assert {key: reviewed["data"][key] for key in ("from_status", "status", "note")} == {
        "from_status": "open",
        "status": "in_review",
        "note": "carrier asked",
    }


def test_no_answer_and_no_server_are_failed_attempts_never_drops(
    database: Database, receiver: Receiver
) -> None:
    outbox = Outbox(database)
    closed = f"http://127.0.0.1:{free_port()}/hook"
    nobody = WebhookDelivery(settings(closed), outbox, FakeClock(), utc_now=Now())
    assert asyncio.run(_pass(nobody)) == 2
    errors = [entry.last_error or "" for entry in outbox.entries()]
    assert all(error.startswith("ClientConnectorError") for error in errors), errors

    receiver.hold_requests()  # the shop takes the request and never answers
    later = Now()
    later.at = NOW + timedelta(hours=1)
    silent = WebhookDelivery(
        settings(receiver.url, timeout_s=0.2), outbox, FakeClock(), utc_now=later
    )
    assert asyncio.run(_pass(silent)) == 2
    entries = outbox.entries()
    assert [entry.last_error for entry in entries] == ["no answer within 0.2 s"] * 2
    assert [(entry.attempts, entry.delivered_at) for entry in entries] == [(2, None)] * 2
    # The second failure waits twice as long as the first (random part aside).
    assert all(entry.next_attempt_at > later.at + timedelta(seconds=2) for entry in entries)


async def _eventually(condition: Callable[[], bool]) -> None:
    """Poll (the store cannot notify) until ``condition`` holds; a bound, not a measure."""
    async with asyncio.timeout(30):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


def test_the_loop_delivers_while_it_runs_and_stops_with_its_block(
    database: Database, receiver: Receiver
) -> None:
    outbox = Outbox(database)
    delivery = WebhookDelivery(settings(receiver.url, poll_s=0.05), outbox, RealClock())

    async def serve_a_while() -> None:
        async with delivering(delivery):
            await _eventually(lambda: all(entry.delivered_at for entry in outbox.entries()))
            # an event stored while the server runs goes out too
            Repository(database).apply([claim(reference="CL-2")])
            await _eventually(lambda: len(receiver.received) == 3)

    asyncio.run(serve_a_while())
    assert len(receiver.by_key()) == 3
    assert all(got.signature_valid for got in receiver.received)


def test_without_a_url_the_events_wait_and_a_line_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def serve_a_moment() -> None:
        async with delivering(None):
            await asyncio.sleep(0)

    with caplog.at_level(logging.INFO, logger="voice_agent.webhooks.delivery"):
        asyncio.run(serve_a_moment())
    assert "actions for the shop wait in the outbox" in caplog.text


def test_a_delivery_needs_a_url_and_a_secret(database: Database) -> None:
    with pytest.raises(ValueError, match=r"needs webhooks\.url and webhooks\.secret"):
        WebhookDelivery(WebhookSettings(), Outbox(database), FakeClock())
