"""The agent's HTTP server: health, the voice-button page and script, WebRTC signaling."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr

from voice_agent.agent.gc_watch import GcWatch, freeze_start_up_heap
from voice_agent.agent.limits import CallLimiter
from voice_agent.agent.loop_watch import LoopWatch, StackSampler, cpu_clocks
from voice_agent.agent.playout import Playout
from voice_agent.agent.ports import CallTransport
from voice_agent.app import App
from voice_agent.errors import CliError
from voice_agent.phone_line import start_sip
from voice_agent.shutdown import StopSignals, drain
from voice_agent.transport.forwarded import forwarded_middleware, proxy_networks
from voice_agent.transport.sip import SipEndpoint
from voice_agent.transport.webrtc import CallRunner, WebRtcGateway
from voice_agent.webhooks.delivery import delivering

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "transport" / "web"
GATEWAY: web.AppKey[WebRtcGateway] = web.AppKey("gateway", WebRtcGateway)


def build_web_app(app: App, run_call: CallRunner | None = None) -> web.Application:
    """The server's routes; `run_call` replaces the App's call session (tests)."""
    # behind a trusted proxy: the caller's address and scheme, for every route below
    proxies = proxy_networks(app.settings.server.trusted_proxies)
    web_app = web.Application(
        client_max_size=256 * 1024, middlewares=[forwarded_middleware(proxies)]
    )

    async def healthz(request: web.Request) -> web.Response:
        # a load balancer's HTTP check takes a full or draining instance out (503)
        limiter = app.calls
        return web.json_response(health_report(limiter), status=200 if limiter.accepting else 503)

    async def metrics(request: web.Request) -> web.Response:
        # The agent's series (docs/operations.md lists them) for Prometheus.
        refusal = _metrics_refusal(request, app.settings.server.metrics_token)
        if refusal is not None:
            return refusal
        body = generate_latest(app.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def run_web_call(transport: CallTransport, playout: Playout, caller_id: str) -> None:
        await app.answer_call(transport, playout, channel="webrtc", caller_id=caller_id)

    gateway = WebRtcGateway(app.settings.webrtc, app.calls, app.clock, run_call or run_web_call)
    gateway.add_routes(web_app)
    web_app[GATEWAY] = gateway
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/", _page("index.html"))
    web_app.router.add_get("/widget.js", _page("widget.js", any_origin=True))
    web_app.router.add_static("/static/", WEB_DIR)
    if app.settings.desk.enabled:
        from voice_agent.desk.web import add_desk

        add_desk(web_app, app.settings, lambda: app.database, app.live_calls, clock=app.clock)
    return web_app


def health_report(limiter: CallLimiter) -> dict[str, object]:
    """/healthz's body: whether this instance takes calls, and how loaded it is."""
    if limiter.draining:
        status = "draining"
    elif limiter.accepting:
        status = "ok"
    else:
        status = "full"
    return {
        "status": status,
        "calls": limiter.active,
        "capacity": limiter.limit,
        "load": round(limiter.load, 3),
    }


@dataclass(frozen=True, slots=True)
class _Listener:
    what: str
    host: str
    port: int
    kind: socket.SocketKind
    setting: str


def _listeners(app: App) -> tuple[_Listener, _Listener | None]:
    """The HTTP listener, and the SIP one when the phone line is on."""
    server, sip = app.settings.server, app.settings.sip
    http = _Listener("HTTP", server.host, server.port, socket.SOCK_STREAM, "server.port")
    if not sip.enabled:
        return http, None
    return http, _Listener(
        "SIP", sip.listen_host, sip.listen_port, socket.SOCK_DGRAM, "sip.listen_port"
    )


def _check_free(listener: _Listener) -> None:
    """Bind and release the listener's address, so a taken port fails before the models load."""
    if listener.port == 0:
        return
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    with _binding(listener), socket.socket(family, listener.kind) as probe:
        if listener.kind is socket.SOCK_STREAM:
            # as the server will bind: a port in TIME_WAIT after a restart is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((listener.host, listener.port))


@contextlib.contextmanager
def _binding(listener: _Listener) -> Iterator[None]:
    """Turns a failure to bind into a CliError that says which port and what to do."""
    try:
        yield
    except OSError as error:
        where = f"{listener.what} on {listener.host}:{listener.port}"
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                f"cannot listen for {where}: the port is already in use (is another "
                f"voice-agent running?); stop that program or set {listener.setting}"
            ) from None
        reason = error.strerror or str(error)
        raise CliError(f"cannot listen for {where}: {reason}; check {listener.setting}") from None


def _metrics_refusal(request: web.Request, token: SecretStr | None) -> web.Response | None:
    """Why /metrics is not served to this request, or None to serve it."""
    if token is None:
        return web.json_response(
            {"error": "/metrics is off: set server.metrics_token to turn it on"}, status=404
        )
    expected = f"Bearer {token.get_secret_value()}".encode()
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        return web.json_response(
            {"error": "/metrics needs the header 'Authorization: Bearer <server.metrics_token>'"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return None


def _loop_watch(app: App) -> LoopWatch:
    """The event loop's watchdog: a stall names the calls under way, the loop's stack and the
    garbage collections during it."""

    def busy() -> str:
        calls = app.live_calls.calls()
        if not calls:
            return ""
        return "calls under way: " + ", ".join(
            f"{call.channel} conversation {call.conversation_id}" for call in calls
        )

    clock, stall_ms = app.clock, app.settings.server.loop_stall_ms
    sampler = StackSampler(clock.now, stall_ms)
    gc_watch = GcWatch(clock.now)
    return LoopWatch(
        clock, stall_ms, app.metrics, busy, sampler=sampler, gc_watch=gc_watch, cpu=cpu_clocks
    )


def _page(
    name: str, any_origin: bool = False
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    path = WEB_DIR / name

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(path)
        # Revalidate so updates show. The widget's script is loaded by shops' pages (the
        # calls it places are checked against webrtc.allowed_origins); the page is ours only.
        response.headers["Cache-Control"] = "no-cache"
        if any_origin:
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return handler


async def _calls_finished(app: App, phone_line: SipEndpoint | None, gateway: WebRtcGateway) -> None:
    """Wait until no call holds a line and every call has wound down (its turns stored)."""
    await app.calls.idle()
    if phone_line is not None:
        await phone_line.settled()
    await gateway.idle()


async def serve(app: App) -> None:
    """Verify and load the models, then serve until SIGINT or SIGTERM: the first drains
    (voice_agent/shutdown.py), the second ends the calls left.

    Raises CliError when a port is taken: checked before the models load (seconds), and again
    when binding, for a program that took it meanwhile."""
    http, sip = _listeners(app)
    for listener in (http, sip):
        if listener is not None:
            _check_free(listener)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, app.models.verify_all)
    # Load the models and the database up front so the first caller does not wait for them.
    await app.warm_up()
    await asyncio.to_thread(app.close_abandoned_conversations)
    frozen = freeze_start_up_heap()  # before any call: the collector's full passes stay short
    logger.info("garbage collector: %d objects of the start-up frozen (never walked again)", frozen)
    web_app = build_web_app(app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    settings = app.settings.server
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        with _binding(http):
            await site.start()
        logger.info("serving on http://%s:%d", settings.host, settings.port)
        phone_line = None
        if sip is not None:
            with _binding(sip):
                phone_line = await start_sip(app)
    except BaseException:
        await runner.cleanup()
        raise
    signals = StopSignals()
    signals.install(loop)
    gateway = web_app[GATEWAY]
    try:
        # The outbox's events go to the shop while the server runs (docs/webhooks.md).
        async with delivering(app.webhook_delivery), asyncio.TaskGroup() as tasks:
            watchdog = tasks.create_task(_loop_watch(app).run(), name="loop-watch")
            await signals.requested.wait()
            await drain(
                app.calls,
                lambda: _calls_finished(app, phone_line, gateway),
                signals.urgent,
                settings.drain_timeout_s,
            )
            watchdog.cancel()
    finally:
        if phone_line is not None:
            await phone_line.aclose()
        await runner.cleanup()
