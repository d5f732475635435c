"""Desk fixtures: settings over a temp folder, a seeded SQLite file, the real server on
127.0.0.1, and a signed-in HTTP client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.desk.seed import PASSWORD, Seeded, seed_calls, seed_operators
from voice_agent.app import App
from voice_agent.server import build_web_app
from voice_agent.settings import Settings, load_settings

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def desk_settings(folder: Path, **environ: str) -> Settings:
    return load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(folder),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{folder / 'desk.sqlite3'}",
            "VOICE_AGENT_RECORDINGS__DIR": str(folder / "recordings"),
            "VOICE_AGENT_WEBRTC__LOOPBACK_ONLY": "true",
            **environ,
        }
    )


@pytest.fixture
def desk_app(tmp_path: Path) -> Iterator[App]:
    app = App(desk_settings(tmp_path))
    yield app
    app.close()


@pytest.fixture
def seeded(desk_app: App) -> Seeded:
    now = datetime.now(UTC).replace(microsecond=0)
    seed_operators(desk_app.database, now)
    return seed_calls(desk_app.database, now)


@asynccontextmanager
async def desk_server(app: App) -> AsyncIterator[str]:
    """The agent's real web app on 127.0.0.1 (a free port); yields its base URL."""
    runner = web.AppRunner(build_web_app(app), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def client() -> aiohttp.ClientSession:
    # unsafe: keep cookies set by an IP address (127.0.0.1)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(
    http: aiohttp.ClientSession, url: str, username: str = "alice", password: str = PASSWORD
) -> str:
    """Sign in through the form; returns the session's CSRF token (from a desk page)."""
    async with http.get(f"{url}/desk/login") as page:
        form_token = _csrf(await page.text())
    data = {"username": username, "password": password, "csrf_token": form_token}
    async with http.post(f"{url}/desk/login", data=data, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
    async with http.get(f"{url}/desk/handoffs") as page:
        assert page.status == 200
        return _csrf(await page.text())


def _csrf(page: str) -> str:
    found = CSRF_INPUT.search(page)
    assert found is not None, page[:500]
    return found.group(1)
