"""The agent's HTTP server: health, the voice-button page and script, WebRTC signaling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallTransport
from voice_agent.app import App
from voice_agent.transport.sip_udp import start_sip
from voice_agent.transport.webrtc import CallRunner, WebRtcGateway

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "transport" / "web"
GATEWAY: web.AppKey[WebRtcGateway] = web.AppKey("gateway", WebRtcGateway)


def build_web_app(app: App, run_call: CallRunner | None = None) -> web.Application:
    """The server's routes; `run_call` replaces the App's call session (tests)."""
    web_app = web.Application(client_max_size=256 * 1024)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        # Per-turn latency histograms (and anything else registered) for Prometheus.
        body = generate_latest(app.latency_metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def run_web_call(transport: CallTransport, playout: Playout, caller_id: str) -> None:
        await app.run_call(transport, playout, channel="webrtc", caller_id=caller_id)

    gateway = WebRtcGateway(app.settings.webrtc, app.calls, app.clock, run_call or run_web_call)
    gateway.add_routes(web_app)
    web_app[GATEWAY] = gateway
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/", _page("index.html"))
    web_app.router.add_get("/widget.js", _page("widget.js"))
    web_app.router.add_static("/static/", WEB_DIR)
    return web_app


def _page(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    path = WEB_DIR / name

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(path)
        # The widget is loaded by shops' pages on other origins; revalidate so updates show.
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return handler


async def serve(app: App) -> None:
    """Verify and load the models, then serve until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, app.models.verify_all)
    # Load the models and the database up front so the first caller does not wait for them.
    await app.warm_up()
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    settings = app.settings.server
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    logger.info("serving on http://%s:%d", settings.host, settings.port)
    phone_line = await start_sip(app)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if phone_line is not None:
            await phone_line.aclose()
        await runner.cleanup()
