"""Stopping `serve` without cutting callers off: SIGTERM drains, a second signal hurries.

Behind a load balancer or a SIP proxy an instance is stopped for a deploy or a scale-in while
callers talk to it. The first SIGTERM (or SIGINT) makes it refuse new calls (SIP 503 with
Retry-After, /healthz 503 "draining", the web's offers 503) while the calls under way go on
to their end; then it exits. A second signal, or `server.drain_timeout_s`, ends the calls
left (BYE, turns stored) and exits all the same.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from voice_agent.agent.limits import CallLimiter

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """SIGINT and SIGTERM counted: the first asks to stop (`requested`: drain), the next to
    stop now (`urgent`: end the calls under way)."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.urgent = asyncio.Event()

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.received, sig.name)

    def received(self, name: str) -> None:
        if not self.requested.is_set():
            logger.info("%s: draining (a second SIGTERM or SIGINT ends the calls now)", name)
            self.requested.set()
        elif not self.urgent.is_set():
            logger.warning("%s again: ending the calls under way now", name)
            self.urgent.set()


async def drain(
    limiter: CallLimiter,
    finished: Callable[[], Awaitable[None]],
    urgent: asyncio.Event,
    timeout_s: float,
) -> str:
    """Refuse new calls, then wait until the calls under way have `finished`, `urgent` is
    set, or `timeout_s` passes; returns which, in words (for the log)."""
    limiter.drain()
    try:
        async with asyncio.timeout(timeout_s):
            calls_done = await _first_of(finished(), urgent.wait())
    except TimeoutError:
        how = f"the drain's time limit ({timeout_s:g} s, server.drain_timeout_s) passed"
    else:
        how = "every call finished" if calls_done else "asked again to stop"
    logger.info("drained: %s; %d calls under way are ended", how, limiter.active)
    return how


async def _first_of(first: Awaitable[object], second: Awaitable[object]) -> bool:
    """Wait for either; True when `first` was done first. The other is cancelled."""
    tasks = [asyncio.ensure_future(first), asyncio.ensure_future(second)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return tasks[0] in done
