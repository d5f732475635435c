"""A shop's webhook receiver for tests: an HTTP server on 127.0.0.1, in its own thread, that
records every POST (its key, event, bytes and whether the signature holds) and answers as told.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from voice_agent.webhooks.signature import verify_signature


@dataclass(frozen=True, slots=True)
class Received:
    key: str | None
    event: str | None
    content_type: str | None
    body: bytes
    signature_valid: bool


class Receiver:
    """``answers``: the statuses of the next requests, in order (then 200). Between
    ``hold_requests()`` and ``answer_requests()`` each request is recorded, then left waiting."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.answers: deque[int] = deque()
        self._answering = threading.Event()
        self._answering.set()
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="webhook receiver", daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the receiver did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.answer_requests()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def hold_requests(self) -> None:
        self._answering.clear()

    def answer_requests(self) -> None:
        self._answering.set()

    def by_key(self) -> dict[str, set[bytes]]:
        """What a receiver that dedupes by Idempotency-Key keeps: each key's distinct bodies."""
        kept: dict[str, set[bytes]] = {}
        for request in list(self.received):
            kept.setdefault(request.key or "", set()).add(request.body)
        return kept

    def wait_until(self, condition: Callable[[], bool], limit_s: float, what: str) -> None:
        deadline = time.monotonic() + limit_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {limit_s} s ({len(self.received)} got)")
            time.sleep(0.05)

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hook"
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Voice-Agent-Signature")
        self.received.append(
            Received(
                key=request.headers.get("Idempotency-Key"),
                event=request.headers.get("X-Voice-Agent-Event"),
                content_type=request.headers.get("Content-Type"),
                body=body,
                signature_valid=verify_signature(self.secret, body, signature),
            )
        )
        if not self._answering.is_set():
            await asyncio.to_thread(self._answering.wait)
        status = self.answers.popleft() if self.answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "not now")
