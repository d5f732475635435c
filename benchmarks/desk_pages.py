"""How fast the desk answers with a shop's worth of history: server time per page.

    python -m benchmarks.desk_pages [--calls N] [--days D] [--requests K]

A fresh SQLite file gets the demo shop and N finished calls spread over D days (8 turns
each with latency marks; one in ten handed off with a contact, one in fifteen opening a
claim), then the real desk server on 127.0.0.1 is asked for each page K times by one
signed-in client, one request at a time. Times are as the client measured them (request
sent to body read, loopback), so they include rendering and every query the page runs.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from voice_agent.app import App
from voice_agent.desk.passwords import hash_password
from voice_agent.server import build_web_app
from voice_agent.settings import load_settings
from voice_agent.store.demo import demo_document
from voice_agent.store.desk import DeskRepository
from voice_agent.store.importer import import_document
from voice_agent.store.repository import Repository
from voice_agent.store.writes import ClaimWrite, HandoffWrite, TurnRecord, TurnWrite, Write

RESULTS = Path(__file__).parent / "results"
PASSWORD = "a long benchmark password"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
TURNS = 8


def _seed(app: App, calls: int, days: int, now: datetime) -> tuple[int, str]:
    """The shop and its history; returns a call's id and an order number to search for."""
    document = demo_document(now)
    import_document(app.database, document, "demo")
    orders = [order["number"] for order in document["orders"]]
    DeskRepository(app.database).add_operator("bench", hash_password(PASSWORD), "admin", now)
    repository = Repository(app.database)
    call_id = 0
    for index in range(calls):
        started = now - timedelta(days=days) + timedelta(seconds=index * days * 86_400 / calls)
        caller = f"sip:+4930555{index:05d}@203.0.113.5" if index % 2 else "web:198.51.100.7"
        call_id = repository.start_conversation("sip" if index % 2 else "webrtc", caller, started)
        writes = _call_writes(call_id, started, index, orders[index % len(orders)])
        repository.apply(writes)
        outcome = "handoff" if index % 10 == 0 else "completed"
        repository.end_conversation(call_id, started + timedelta(minutes=3), outcome)
    return call_id, orders[0]


def _call_writes(call_id: int, started: datetime, index: int, order: str) -> list[Write]:
    writes: list[Write] = []
    for turn in range(TURNS):
        at = started + timedelta(seconds=10 * turn)
        speaker = "caller" if turn % 2 else "agent"
        marks = {"endpoint": 150.0, "asr_final": 210.0, "first_audio_sent": 250.0 + index % 300}
        record = TurnRecord(
            speaker=speaker,
            text=f"turn {turn} of call {index}: where is my order {order}, please?",
            started_at=at,
            ended_at=at + timedelta(seconds=4),
            played_text=None,
            latency_marks=marks if speaker == "agent" and turn else {},
        )
        writes.append(TurnWrite(conversation_id=call_id, record=record))
    if index % 10 == 0:
        writes.append(
            HandoffWrite(
                reference=f"HB-{index:06d}",
                reason="asked for a person",
                transcript="caller: a person please",
                facts={"verified": "no"},
                callback_by=started + timedelta(hours=4),
                created_at=started,
                conversation_id=call_id,
                contact=f"+4930555{index:05d}",
            )
        )
    if index % 15 == 0:
        writes.append(
            ClaimWrite(
                reference=f"CB-{index:06d}",
                order_number=order,
                stage="last_mile",
                responsible_party="the carrier",
                evidence_held=("tracking",),
                evidence_missing=(),
                insured=True,
                outcome="refund or resend",
                promised_by=(started + timedelta(days=5)).date(),
                opened_at=started,
                conversation_id=call_id,
            )
        )
    return writes


async def _sign_in(http: aiohttp.ClientSession, url: str) -> None:
    async with http.get(f"{url}/desk/login") as page:
        found = CSRF_INPUT.search(await page.text())
    if found is None:
        raise RuntimeError("the sign-in page has no CSRF field")
    form = {"username": "bench", "password": PASSWORD, "csrf_token": found.group(1)}
    async with http.post(f"{url}/desk/login", data=form, allow_redirects=False) as response:
        if response.status != 303:
            raise RuntimeError(f"sign-in refused: {response.status}")


async def _measure(app: App, pages: dict[str, str], requests: int) -> dict[str, list[float]]:
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    times: dict[str, list[float]] = {name: [] for name in pages}
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await _sign_in(http, url)
            for _ in range(requests):
                for name, path in pages.items():
                    started = time.perf_counter()
                    async with http.get(f"{url}{path}") as response:
                        await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"{path}: HTTP {response.status}")
                    times[name].append((time.perf_counter() - started) * 1000)
    finally:
        await runner.cleanup()
    return times


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(times: dict[str, list[float]], calls: int, days: int, seed_s: float) -> str:
    lines = [
        "# Desk pages: server time with a shop's history",
        "",
        f"`python -m benchmarks.desk_pages --calls {calls} --days {days}` on this machine "
        f"(2 cores), one run: {calls} finished calls over {days} days ({calls * TURNS} turns), "
        f"seeded in {seed_s:.0f} s; SQLite; one signed-in client on 127.0.0.1, one request at "
        "a time; milliseconds from request to body read.",
        "",
        "| page | requests | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for name, values in times.items():
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | "
            f"{_quantile(values, 0.95):.1f} | {max(values):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS / "desk-pages.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            environ={
                "VOICE_AGENT_PATHS__DATA_DIR": folder,
                "VOICE_AGENT_STORE__URL": f"sqlite:///{Path(folder) / 'desk.sqlite3'}",
            }
        )
        app = App(settings)
        now = datetime.now(UTC).replace(microsecond=0)
        started = time.perf_counter()
        call_id, order = _seed(app, args.calls, args.days, now)
        seed_s = time.perf_counter() - started
        pages = {
            "hand-off queue": "/desk/handoffs",
            "call history, newest": "/desk/calls",
            "call history, by order": f"/desk/calls?order={order}",
            "call history, by phone": "/desk/calls?phone=%2B49%2030%20555%2000001",
            "call detail": f"/desk/calls/{call_id}",
            "claims": "/desk/cases/claim",
            "statistics": "/desk/stats",
        }
        try:
            times = asyncio.run(_measure(app, pages, args.requests))
        finally:
            app.close()
    report = _report(times, args.calls, args.days, seed_s)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
