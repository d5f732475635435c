"""X-Forwarded-For and X-Forwarded-Proto, believed from trusted proxies only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from pydantic import ValidationError

from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import FakeAgent, agent_server
from voice_agent.settings import ServerSettings, Settings, WebRtcSettings
from voice_agent.transport.forwarded import (
    client_address,
    forwarded_middleware,
    forwarded_scheme,
    host_address,
    proxy_networks,
)

PROXIES = proxy_networks(["10.0.0.5", "10.1.0.0/16", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7:5060 ", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("unknown", None),
        ("shop.example", None),
    ],
)
def test_a_hop_is_an_ip_address_with_or_without_its_port(text: str, address: str | None) -> None:
    parsed = host_address(text)
    assert (str(parsed) if parsed else None) == address


def test_a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_forwards() -> None:
    assert client_address("198.51.100.4", ["1.2.3.4"], PROXIES) == "198.51.100.4"


def test_the_client_is_the_rightmost_hop_that_is_not_a_trusted_proxy() -> None:
    # the client wrote "1.2.3.4" itself to dodge a throttle; the proxies appended the rest
    forwarded = ["1.2.3.4, 203.0.113.9", "10.1.2.3"]
    assert client_address("10.0.0.5", forwarded, PROXIES) == "203.0.113.9"


def test_every_hop_trusted_gives_the_leftmost_and_no_hop_the_proxy() -> None:
    assert client_address("10.0.0.5", ["10.1.0.7, 10.1.0.8"], PROXIES) == "10.1.0.7"
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"


def test_a_hop_that_is_no_address_ends_the_walk_at_the_last_trusted_one() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9, garbage, 10.1.0.7"], PROXIES) == "10.1.0.7"
    assert client_address("10.0.0.5", ["garbage"], PROXIES) == "10.0.0.5"


def test_the_scheme_comes_from_a_trusted_proxy_only_and_only_http_or_https() -> None:
    assert forwarded_scheme("10.0.0.5", "https", PROXIES) == "https"
    assert forwarded_scheme("10.0.0.5", "http, HTTPS", PROXIES) == "https"  # the nearest
    assert forwarded_scheme("10.0.0.5", "gopher", PROXIES) is None
    assert forwarded_scheme("198.51.100.4", "https", PROXIES) is None
    assert forwarded_scheme("10.0.0.5", None, PROXIES) is None


def test_a_setting_that_is_no_address_or_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300' is not an IP address or network"):
        proxy_networks(["10.0.0.300"])
    with pytest.raises(ValidationError, match=r"trusted_proxies(.|\n)*'eleven' is not an IP"):
        ServerSettings(trusted_proxies=("10.0.0.5", "eleven"))


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"remote": request.remote, "scheme": request.scheme})


def _served(proxies: list[str], check: Callable[[str], Awaitable[None]]) -> None:
    async def scenario() -> None:
        web_app = web.Application(middlewares=[forwarded_middleware(proxy_networks(proxies))])
        web_app.router.add_get("/", _echo)
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            await check(f"http://127.0.0.1:{port}")
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


HEADERS = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize(
    ("proxies", "seen"),
    [
        (["127.0.0.1"], {"remote": "203.0.113.9", "scheme": "https"}),
        ([], {"remote": "127.0.0.1", "scheme": "http"}),
        (["10.0.0.0/8"], {"remote": "127.0.0.1", "scheme": "http"}),
    ],
)
def test_handlers_see_the_client_behind_a_trusted_proxy_only(
    proxies: list[str], seen: dict[str, str]
) -> None:
    async def check(url: str) -> None:
        async with aiohttp.ClientSession() as http, http.get(url, headers=HEADERS) as response:
            assert await response.json() == seen

    _served(proxies, check)


@pytest.mark.parametrize(("proxies", "status"), [(("127.0.0.1",), 400), ((), 403)])
def test_the_web_calls_own_origin_check_counts_the_tls_proxys_https(
    proxies: tuple[str, ...], status: int
) -> None:
    """The page at https://host calls from that origin; the agent, behind the TLS proxy,
    receives http: its own origin matches only when the proxy is trusted (then the offer
    gets as far as its validation: 400 for an empty one)."""
    settings = Settings(
        server=ServerSettings(trusted_proxies=proxies),
        webrtc=WebRtcSettings(loopback_only=True, allowed_origins=()),
    )

    async def scenario() -> None:
        async with agent_server(FakeAgent(ScriptedAsr({})), settings) as (url, _):
            host = url.removeprefix("http://")
            headers = {"Origin": f"https://{host}", "X-Forwarded-Proto": "https"}
            offer = f"{url}/webrtc/offer"
            async with (
                aiohttp.ClientSession() as http,
                http.post(offer, json={}, headers=headers) as answer,
            ):
                assert answer.status == status, await answer.text()

    asyncio.run(scenario())
