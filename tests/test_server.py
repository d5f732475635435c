"""The HTTP server's own routes: /healthz's load, /metrics behind its token, the pages'
cross-origin headers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from pydantic import SecretStr

from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import FakeAgent, agent_server
from voice_agent.settings import ServerSettings, SessionSettings, Settings, WebRtcSettings

TOKEN = "0123456789abcdef-metrics"


def _with_server(settings: Settings, check: Callable[[str], Awaitable[None]]) -> None:
    async def scenario() -> None:
        async with agent_server(FakeAgent(ScriptedAsr({})), settings) as (url, _):
            await check(url)

    asyncio.run(scenario())


def _settings(token: str | None) -> Settings:
    return Settings(
        server=ServerSettings(metrics_token=SecretStr(token) if token else None),
        webrtc=WebRtcSettings(loopback_only=True),
    )


def test_healthz_reports_the_load_and_turns_503_when_full_or_draining() -> None:
    async def scenario() -> None:
        settings = _settings(None).model_copy(
            update={"session": SessionSettings(max_concurrent_calls=2)}
        )
        agent = FakeAgent(ScriptedAsr({}))
        async with agent_server(agent, settings) as (url, gateway), aiohttp.ClientSession() as http:

            async def health() -> tuple[int, dict[str, object]]:
                async with http.get(f"{url}/healthz") as response:
                    return response.status, await response.json()

            limiter = gateway.limiter
            assert await health() == (
                200,
                {"status": "ok", "calls": 0, "capacity": 2, "load": 0.0},
            )
            first = limiter.try_acquire("sip")
            assert await health() == (
                200,
                {"status": "ok", "calls": 1, "capacity": 2, "load": 0.5},
            )
            second = limiter.try_acquire("webrtc")
            assert await health() == (
                503,
                {"status": "full", "calls": 2, "capacity": 2, "load": 1.0},
            )
            assert first is not None and second is not None
            second.release()
            limiter.drain()
            assert await health() == (
                503,
                {"status": "draining", "calls": 1, "capacity": 2, "load": 0.5},
            )

    asyncio.run(scenario())


def test_metrics_need_the_configured_bearer_token() -> None:
    async def check(url: str) -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/metrics") as anonymous:
                assert anonymous.status == 401
                assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
                assert "voice_agent_" not in await anonymous.text()
            wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
            async with http.get(f"{url}/metrics", headers=wrong) as refused:
                assert refused.status == 401
            right = {"Authorization": f"Bearer {TOKEN}"}
            async with http.get(f"{url}/metrics", headers=right) as served:
                assert served.status == 200
                exported = await served.text()
                assert "voice_agent_first_audio_sent_seconds_bucket" in exported
                assert 'voice_agent_calls_in_progress{transport="webrtc"} 0.0' in exported
                assert "voice_agent_handoffs_total 0.0" in exported

    _with_server(_settings(TOKEN), check)


def test_metrics_are_off_without_a_token() -> None:
    async def check(url: str) -> None:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
            assert response.status == 404
            assert "server.metrics_token" in (await response.json())["error"]

    _with_server(_settings(None), check)


def test_only_the_widget_script_is_open_to_every_origin() -> None:
    async def check(url: str) -> None:
        headers = {"Origin": "https://shop.example"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/widget.js", headers=headers) as script:
                assert script.headers["Access-Control-Allow-Origin"] == "*"
            async with http.get(f"{url}/", headers=headers) as page:
                assert "Access-Control-Allow-Origin" not in page.headers

    _with_server(_settings(None), check)
