"""The agent's HTTP server (health now; the voice button and signaling come with WebRTC)."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from voice_agent.app import App

logger = logging.getLogger(__name__)


def build_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=256 * 1024)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", healthz)
    return web_app


async def serve(app: App) -> None:
    """Verify and load the models, then serve until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, app.models.verify_all)
    # Load the speech models up front so the first caller does not wait for them.
    await loop.run_in_executor(None, _warm_up, app)
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    settings = app.settings.server
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    logger.info("serving on http://%s:%d", settings.host, settings.port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _warm_up(app: App) -> None:
    app.asr  # noqa: B018  (cached_property: building it loads the model)
    app.tts  # noqa: B018
