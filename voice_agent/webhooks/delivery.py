"""Delivering the outbox: the asyncio loop `voice-agent serve` runs while it serves.

It looks for due events every ``poll_s`` and POSTs each to ``webhooks.url``, one at a time,
oldest first (schedule.py builds the request). A 2xx answer marks the event delivered; any
other answer, a network error or a timeout counts a failed attempt and schedules the next
one by the backoff. Nothing is ever dropped: an event not marked delivered (the agent was
killed mid-POST, say) is sent again, so receivers dedupe by the Idempotency-Key header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as randomness
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
from yarl import URL

from voice_agent.clock import Clock
from voice_agent.settings import WebhookSettings
from voice_agent.store.outbox import Outbox, OutboxEntry
from voice_agent.webhooks.schedule import backoff_s, webhook_request

logger = logging.getLogger(__name__)

BATCH = 50
"""Due events read per look; a full batch is followed by the next at once."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookDelivery:
    """Delivers due outbox events to the configured url until cancelled."""

    def __init__(
        self,
        settings: WebhookSettings,
        outbox: Outbox,
        clock: Clock,
        utc_now: Callable[[], datetime] = _utc_now,
        random: Callable[[], float] = randomness.random,
    ) -> None:
        if settings.url is None or settings.secret is None:
            raise ValueError("webhook delivery needs webhooks.url and webhooks.secret")
        self.settings = settings
        self.url = settings.url
        self.secret = settings.secret.get_secret_value()
        self.outbox = outbox
        self.clock = clock
        self.utc_now = utc_now
        self.random = random

    async def run(self) -> None:
        """Deliver until cancelled; a failing database pass is logged and tried again."""
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    looked = await self.deliver_due(http)
                except Exception:
                    # The loop outlives a locked or unreachable database: events wait.
                    logger.exception("webhook delivery pass failed; trying again")
                    looked = 0
                if looked < BATCH:
                    await self.clock.sleep(self.settings.poll_s)

    async def deliver_due(self, http: aiohttp.ClientSession) -> int:
        """One pass: attempt every due event once; returns how many were due."""
        due = await asyncio.to_thread(self.outbox.due, self.utc_now(), BATCH)
        for entry in due:
            await self.attempt(http, entry)
        return len(due)

    async def attempt(self, http: aiohttp.ClientSession, entry: OutboxEntry) -> bool:
        """POST one event and record the outcome; True when it was delivered."""
        error = await self._post(http, entry)
        if error is None:
            await asyncio.to_thread(self.outbox.mark_delivered, entry.event_id, self.utc_now())
            logger.info("webhook %s %s delivered", entry.event, entry.event_id)
            return True
        wait = backoff_s(entry.attempts + 1, self.settings, self.random)
        next_at = self.utc_now() + timedelta(seconds=wait)
        await asyncio.to_thread(self.outbox.mark_failed, entry.event_id, error, next_at)
        logger.warning(
            "webhook %s %s not delivered (attempt %d: %s); next try in %.1f s",
            entry.event,
            entry.event_id,
            entry.attempts + 1,
            error,
            wait,
        )
        return False

    async def _post(self, http: aiohttp.ClientSession, entry: OutboxEntry) -> str | None:
        """None when the receiver took the event (2xx), or what went wrong."""
        request = webhook_request(entry, self.secret)
        try:
            async with (
                asyncio.timeout(self.settings.timeout_s),
                http.post(self.url, data=request.body, headers=dict(request.headers)) as answer,
            ):
                await answer.read()
                if 200 <= answer.status < 300:
                    return None
                return f"HTTP {answer.status} {answer.reason or ''}".strip()
        except TimeoutError:
            return f"no answer within {self.settings.timeout_s:g} s"
        except aiohttp.ClientError as error:
            return f"{type(error).__name__}: {error}"


@contextlib.asynccontextmanager
async def delivering(delivery: WebhookDelivery | None) -> AsyncIterator[None]:
    """Run ``delivery`` in the background for the body of the ``async with``; stop it after
    (an event cut off mid-POST is sent again on the next start)."""
    if delivery is None:
        logger.info(
            "webhooks.url is not set: actions for the shop wait in the outbox "
            "(voice-agent data export lists them)"
        )
        yield
        return
    logger.info("delivering webhooks to %s", _shown(delivery.url))
    async with asyncio.TaskGroup() as group:
        task = group.create_task(delivery.run(), name="webhook delivery")
        try:
            yield
        finally:
            task.cancel()


def _shown(url: str) -> str:
    """The url for a log line: no user, password or query (they may hold a token)."""
    return str(URL(url).with_user(None).with_query(None).with_fragment(None))
