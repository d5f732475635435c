"""docs/deploy.md's nginx example, run as written in front of a real agent server.

The example's server blocks are taken from the page; only what must differ on a test machine
is replaced: the listen addresses and ports (127.0.0.1, free ports), the certificate (a
self-signed one made here) and the agent's port. nginx runs in the foreground as one process
with every path in a temporary folder, and is stopped when the test ends.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import PROJECT_ROOT, free_port
from tests.fakes.stages import ScriptedAsr
from tests.transport.webrtc_support import AiortcCaller, FakeAgent, agent_server
from voice_agent.settings import Settings, WebRtcSettings

HOST = "agent.example.com"
START_TIMEOUT_S = 10.0


def documented_nginx_config() -> str:
    text = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    blocks = re.findall(r"^```nginx\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "docs/deploy.md should hold one nginx example"
    return str(blocks[0])


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the nginx example no longer has {old!r}: update this test"
    return text.replace(old, new)


def nginx_conf(folder: Path, http_port: int, https_port: int, agent_port: int) -> str:
    """The documented server blocks inside a minimal nginx.conf whose paths are all in folder."""
    site = documented_nginx_config()
    site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = _replace(site, f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(folder / "cert.pem"))
    site = _replace(site, f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(folder / "key.pem"))
    site = _replace(site, "http://127.0.0.1:8080", f"http://127.0.0.1:{agent_port}")
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{site}
}}
"""


def self_signed_certificate(folder: Path) -> None:
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={HOST}",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def nginx_binary() -> str:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise RuntimeError("Debian's nginx is not installed (scripts/system-deps.sh installs it)")
    return binary


@contextmanager
def running_nginx(config: str, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    path = folder / "nginx.conf"
    path.write_text(config)
    command = [nginx_binary(), "-p", str(folder), "-c", str(path), "-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx -t refused the documented config:\n{checked.stderr}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _listening(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if process.poll() is not None or loop.time() > deadline:
                log = (folder / "error.log").read_text(errors="replace")[-2000:]
                raise AssertionError(f"nginx did not start:\n{log}") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return


@asynccontextmanager
async def agent_behind_nginx(folder: Path, settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The agent's web app on fake stages, nginx in front: (https URL, http URL)."""
    self_signed_certificate(folder)
    http_port, https_port = free_port(), free_port()
    async with agent_server(FakeAgent(ScriptedAsr({0.0: "hello"})), settings) as (url, _):
        agent_port = int(url.rsplit(":", 1)[1])
        config = nginx_conf(folder, http_port, https_port, agent_port)
        with running_nginx(config, folder) as process:
            await _listening(https_port, process, folder)
            yield f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}"


async def _browser_offer() -> dict[str, Any]:
    caller = AiortcCaller()
    try:
        return {"type": "offer", "sdp": (await caller.offer())["sdp"]}
    finally:
        await caller.close()


def test_the_documented_nginx_config_serves_the_page_and_carries_offers(tmp_path: Path) -> None:
    # As docs/deploy.md says: behind the proxy the agent's own https origin is listed.
    settings = Settings(
        webrtc=WebRtcSettings(loopback_only=True, allowed_origins=(f"https://{HOST}",))
    )

    async def scenario() -> None:
        async with (
            agent_behind_nginx(tmp_path, settings) as (https, http_url),
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as client,
        ):
            host = {"Host": HOST}
            async with client.get(f"{https}/", headers=host) as page:
                assert page.status == 200
                assert "<title>Voice support" in await page.text()
            async with client.get(f"{https}/widget.js", headers=host) as script:
                assert script.status == 200
            async with client.get(f"{http_url}/desk", headers=host, allow_redirects=False) as plain:
                assert plain.status == 301
                assert plain.headers["Location"] == f"https://{HOST}/desk"

            own_page = {**host, "Origin": f"https://{HOST}"}
            offer = await _browser_offer()
            async with client.post(
                f"{https}/webrtc/offer", json=offer, headers=own_page
            ) as answered:
                answer = await answered.json()
                assert answered.status == 200, answer
                assert answer["type"] == "answer" and "m=audio" in answer["sdp"]

            foreign = {**host, "Origin": "https://elsewhere.example"}
            async with client.post(f"{https}/webrtc/offer", json=offer, headers=foreign) as refused:
                assert refused.status == 403

            # the desk's event stream has its own location: it reaches the agent's sign-in gate
            async with client.get(f"{https}/desk/live/events", headers=host) as events:
                assert events.status == 401

    asyncio.run(scenario())
