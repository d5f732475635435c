"""Three agents on one PostgreSQL server behind Kamailio and HAProxy, all on this machine.

deploy/kamailio/kamailio.cfg and deploy/haproxy/haproxy.cfg run as they ship, given this
test's addresses. The agents are real `voice-agent serve` processes (models, dialogue, the demo
shop) on 127.0.0.2, .3 and .4; sipp places SIP calls through Kamailio, headless Chromium places
a web call through HAProxy. The figures (calls per instance, fail-over seconds, turns stored)
are printed, and written as Markdown to $CLUSTER_REPORT when it is set
(benchmarks/results/cluster.md); times are reported, never asserted.

Two to four minutes: the three agents load their models at once (a minute on two cores), then
a handful of short calls. Last, one instance is drained with SIGTERM during a call through
Kamailio; their 503 at capacity is not exercised here (docs/scale-out.md says what is tested).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import PROJECT_ROOT, free_port
from tests.deploy.support import (
    START_LIMIT_S,
    Instance,
    Kamailio,
    Store,
    haproxy,
    instance_env,
    kamailio,
    new_instance,
    sip_status,
    until,
)
from tests.store.postgres import PostgresError, PostgresServer
from tests.transport.browser_support import chromium, microphone_file
from tests.transport.sip.support import SIPP_SCENARIOS, PeerRun, run_sipp
from voice_agent.audio import AudioFrame
from voice_agent.audio.wav import write_wav
from voice_agent.bench.target import prepare_local_agent
from voice_agent.bench.voices import EspeakVoice

pytestmark = pytest.mark.slow

POLICIES = PROJECT_ROOT / "config" / "policies.toml"
SCENARIO = SIPP_SCENARIOS / "proxied_speech.xml"
INSTANCES = (("agent-1", "127.0.0.2"), ("agent-2", "127.0.0.3"), ("agent-3", "127.0.0.4"))
BEHIND_HAPROXY = ("agent-1", "agent-2")
VICTIM = "agent-3"
"""Killed in the fail-over test; HAProxy's two instances are the others, so the tests do not
depend on their order."""
MAX_CALLS = 6
GREETING_S = 5.0
"""The caller waits this long before speaking: the agent greets first."""
QUESTION = "Where is my order?"
DRAINED_CALL_S = 25.0
"""The call on the drained instance: long enough that the caller's question and the reply
come after the SIGTERM, and that new calls are placed while it goes on."""
REPORT_ENV = "CLUSTER_REPORT"
QUIET_CALLERS = {
    # sipp sends RTP only while its file plays, and a caller on hold says one thing in 30 s:
    # the agents must not end those calls for silence before the caller's BYE
    "VOICE_AGENT_SIP__RTP_TIMEOUT_S": "120",
    "VOICE_AGENT_SESSION__REPROMPT_AFTER_S": "60",
}


@dataclass
class Cluster:
    work: Path
    instances: list[Instance]
    store: Store
    https_port: int
    http_port: int
    report: dict[str, list[str]] = field(default_factory=dict)

    def named(self, name: str) -> Instance:
        return next(instance for instance in self.instances if instance.name == name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The three agents, up and answering /healthz, on a fresh database with the demo shop."""
    work = tmp_path_factory.mktemp("cluster")
    try:
        server = PostgresServer.start()
    except PostgresError as error:
        pytest.fail(f"PostgreSQL could not start, so the cluster cannot:\n{error}")
    instances: list[Instance] = []
    try:
        url = server.create_database("cluster")
        https_port, http_port = free_port(), free_port()
        launch = asyncio.run(  # `voice-agent data demo` into the shared database
            prepare_local_agent(
                work, MAX_CALLS, POLICIES, extra_env={"VOICE_AGENT_STORE__URL": url}
            )
        )
        # HAProxy terminates TLS: the agents see http, so the page's https origin is listed
        origins = {
            "VOICE_AGENT_WEBRTC__ALLOWED_ORIGINS": json.dumps([f"https://127.0.0.1:{https_port}"])
        }
        instances = [new_instance(name, host, work) for name, host in INSTANCES]
        for instance in instances:
            data = work / instance.name
            data.mkdir()
            own = {**origins, **QUIET_CALLERS, "VOICE_AGENT_PATHS__DATA_DIR": str(data)}
            instance.start(launch.command, instance_env(launch.env, instance, own))
        deadline = time.monotonic() + START_LIMIT_S
        for instance in instances:
            instance.wait_healthy(deadline)
        cluster = Cluster(work, instances, Store(server, "cluster"), https_port, http_port)
        yield cluster
        _write_report(cluster.report)
    finally:
        for instance in instances:
            instance.stop()
        server.stop()


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What every SIP caller says, after waiting for the greeting: G.711 mu-law, as sipp
    streams a file as it is."""
    folder = tmp_path_factory.mktemp("speech")
    said = EspeakVoice("en-us").speak(QUESTION, 8000)
    write_wav(
        folder / "speech8k.wav", AudioFrame.concat([AudioFrame.silence(GREETING_S, 8000), said])
    )
    subprocess.run(
        ["sox", "speech8k.wav", "-e", "u-law", "speech.wav"], cwd=folder, check=True, timeout=30
    )
    return folder / "speech.wav"


async def _call(
    proxy: tuple[str, int], speech: Path, work: Path, caller: str, talk_s: float
) -> PeerRun:
    """One sipp call through the proxy as `caller`: speech, then BYE `talk_s` after it began."""
    folder = work / "calls" / caller
    folder.mkdir(parents=True)
    shutil.copy(speech, folder / "speech.wav")
    pause_ms = str(round(talk_s * 1000))
    return await run_sipp(
        proxy, folder, "-sf", str(SCENARIO), "-s", caller, "-d", pause_ms, limit_s=talk_s + 40
    )


def _epoch(moment: dt.datetime) -> float:
    """A stored time as epoch seconds (stored times are UTC; the column may drop the zone)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


# --- HAProxy: the web voice button across two instances -------------------------------------


def test_a_browser_call_through_haproxy_is_answered_by_one_of_its_instances(
    cluster: Cluster, tmp_path: Path
) -> None:
    backends = [cluster.named(name) for name in BEHIND_HAPROXY]
    question = EspeakVoice("en-us").speak(QUESTION)
    microphone = microphone_file(tmp_path / "caller.wav", [7.0, question, 10.0])

    with haproxy(tmp_path, cluster.https_port, cluster.http_port, backends) as proxy:
        status, location = _redirect(proxy.http_url)
        assert (status, location.split(":")[0]) == (301, "https"), (status, location)

        async def scenario() -> None:
            async with chromium(
                tmp_path / "profile", microphone, ignore_https_errors=True
            ) as browser:
                page = await browser.new_page()
                await page.goto(f"{proxy.https_url}/")
                await page.get_by_role("button", name="Call support by voice").click()
                captions = page.get_by_role("log", name="Live captions")
                await expect(captions.locator("li.agent").first).not_to_be_empty(timeout=20_000)
                await expect(captions.locator("li.caller").first).not_to_be_empty(timeout=30_000)
                await expect(captions.locator("li.agent").nth(1)).not_to_be_empty(timeout=20_000)
                await page.get_by_role("button", name="Hang up").click()
                await expect(page.get_by_role("status")).to_contain_text("Call ended")

        asyncio.run(asyncio.wait_for(scenario(), 120))
        routed = re.findall(
            r'agents/(\S+) \S+ (\d{3}) .*"POST /webrtc/offer', proxy.log.read_text()
        )

    ended = until(
        lambda: _all_ended(cluster.store, "web:", 1), 20, "the web call's conversation ended"
    )
    _, instance, _, _, turns = ended[0]
    assert instance in BEHIND_HAPROXY
    assert routed == [(instance, "200")], f"HAProxy's log: offers {routed}, stored on {instance}"
    assert turns >= 3  # the greeting, the caller's question, the reply
    cluster.report["haproxy"] = [
        f"One headless Chromium call to https://127.0.0.1:PORT/ (HAProxy, TLS terminated, two "
        f"servers): the offer went to {instance} (HAProxy's log and the conversations table "
        f"agree), {turns} turns stored."
    ]


def _redirect(url: str) -> tuple[int, str]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


# --- Kamailio: SIP calls spread over three instances, one killed -------------------------------


def test_kamailio_spreads_calls_and_moves_new_ones_off_a_killed_instance(
    cluster: Cluster, speech: Path
) -> None:
    with kamailio(cluster.work, cluster.instances, trunks=["127.0.0.1"]) as proxy:
        # the trunk allowlist: a keepalive from the trunk is answered, anyone else is refused
        assert sip_status(proxy.address, "127.0.0.1") == 200
        assert sip_status(proxy.address, "127.0.0.9") == 403
        asyncio.run(asyncio.wait_for(_spread(cluster, proxy, speech), 150))
        asyncio.run(asyncio.wait_for(_fail_over(cluster, proxy, speech), 200))


async def _spread(cluster: Cluster, proxy: Kamailio, speech: Path) -> None:
    callers = [f"spread-{n}" for n in range(1, 7)]
    runs = await asyncio.gather(
        *(_call(proxy.address, speech, cluster.work, caller, talk_s=14) for caller in callers)
    )
    for caller, run in zip(callers, runs, strict=True):
        assert run.returncode == 0, f"{caller}: {run.output[-2000:]}"
    rows = await asyncio.to_thread(
        until, lambda: _all_ended(cluster.store, "spread-", 6), 20, "six ended conversations"
    )
    per_instance = Counter(row[1] for row in rows)
    assert len(per_instance) > 1, f"every call went to one instance: {per_instance}"
    assert all(row[4] >= 1 for row in rows), f"a call stored no turn: {rows}"
    connections = await asyncio.to_thread(cluster.store.connections)
    cluster.report["spread"] = [
        "Six concurrent sipp calls through Kamailio (round-robin): "
        + ", ".join(f"{name} {per_instance[name]}" for name, _ in INSTANCES)
        + f"; {sum(row[4] for row in rows)} turns stored.",
        f"Connections to the database afterwards: {connections - 1} (three agents; the "
        "test's own query connection not counted).",
    ]


async def _fail_over(cluster: Cluster, proxy: Kamailio, speech: Path) -> None:
    victim = cluster.named(VICTIM)
    holding = []
    for n in range(1, 4):  # round-robin: one long call on each instance
        caller = f"hold-{n}"
        call = _call(proxy.address, speech, cluster.work, caller, 30)
        holding.append((caller, asyncio.create_task(call)))
        await asyncio.sleep(0.3)
    # killed during its call, once the call has committed a turn
    victims_call = await asyncio.to_thread(
        until,
        lambda: [r for r in cluster.store.conversations("hold-") if r[1] == VICTIM and r[4] > 0],
        60,
        f"a call on {VICTIM} with a turn committed",
    )
    kept_before = await asyncio.to_thread(_kept_rows, cluster.store)
    killed_at = time.time()
    await asyncio.to_thread(victim.kill)

    placed: list[tuple[str, float, asyncio.Task[PeerRun]]] = []
    down_at = None
    for n in range(1, 9):  # a new call every second until one is placed after the probe's verdict
        caller = f"after-{n}"
        call = _call(proxy.address, speech, cluster.work, caller, 10)
        task = asyncio.create_task(call)
        placed.append((caller, time.time(), task))
        await asyncio.sleep(1.0)
        down_at = proxy.down_events().get(victim.sip_uri)
        if down_at is not None and placed[-1][1] > down_at:
            break
    assert down_at is not None, (
        f"Kamailio never took {victim.sip_uri} out: {proxy.log.read_text()[-3000:]}"
    )
    after_runs = await asyncio.gather(*(task for _, _, task in placed))
    hold_runs = await asyncio.gather(*(task for _, task in holding))

    holds = {
        row[0].split("@")[0]: row
        for row in await asyncio.to_thread(cluster.store.conversations, "hold-")
    }
    for (caller, _), run in zip(holding, hold_runs, strict=True):
        on_victim = holds[caller][1] == VICTIM
        # the killed instance's call is cut (its BYE finds nobody); the others' go on
        assert (run.returncode != 0) == on_victim, (
            f"{caller} on {holds[caller][1]}: {run.output[-2000:]}"
        )
    for (caller, _, _), run in zip(placed, after_runs, strict=True):
        assert run.returncode == 0, f"{caller}, placed after the kill: {run.output[-2000:]}"
    after = {
        row[0].split("@")[0]: row
        for row in await asyncio.to_thread(cluster.store.conversations, "after-")
    }
    assert sorted(after) == sorted(caller for caller, _, _ in placed)
    assert all(row[1] != VICTIM for row in after.values()), after

    kept_after = await asyncio.to_thread(_kept_rows, cluster.store)
    for table, rows in kept_before.items():
        lost = rows - kept_after[table]
        assert not lost, f"{len(lost)} rows of {table} committed before the kill are gone: {lost}"
    victim_turns = victims_call[0][4]
    stored_turns = await asyncio.to_thread(_victims_turns, cluster.store)
    assert stored_turns >= victim_turns

    lines = _fail_over_lines(
        killed_at, down_at, placed, after, holds, victim_turns, stored_turns, kept_before
    )
    found_dead = proxy.calls_that_found_dead(victim.sip_uri)
    lines.insert(
        1,
        f"Taken out by: {proxy.down_cause(victim.sip_uri)}. Calls Kamailio sent to the dead "
        f"instance, then after 2 s without an answer to the next one: {found_dead}.",
    )
    cluster.report["fail_over"] = lines


# --- Kamailio: one instance drained on SIGTERM during a call --------------------------------------


def test_a_draining_instance_finishes_its_call_leaves_kamailios_rotation_and_exits_0(
    cluster: Cluster, speech: Path
) -> None:
    """Last in this module: the drained instance is gone afterwards. Its own Kamailio, over the
    instances still running (the fail-over test killed one)."""
    running = [i for i in cluster.instances if i.process and i.process.poll() is None]
    assert len(running) >= 2, f"a drain needs another instance to take the calls: {running}"
    work = cluster.work / "drain"
    work.mkdir()
    with kamailio(work, running, trunks=["127.0.0.1"]) as proxy:
        asyncio.run(asyncio.wait_for(_drain(cluster, proxy, speech), 150))


@dataclass
class Placed:
    caller: str
    at: float
    """Epoch seconds."""
    run: asyncio.Task[PeerRun]


async def _drain(cluster: Cluster, proxy: Kamailio, speech: Path) -> None:
    drained_call = asyncio.create_task(
        _call(proxy.address, speech, cluster.work, "drained-call", DRAINED_CALL_S)
    )
    # Kamailio chose the instance: whichever took the call is drained, once it has a turn
    before = await asyncio.to_thread(
        until,
        lambda: [r for r in cluster.store.conversations("drained-call") if r[4] > 0],
        60,
        "the call to drain with a turn committed",
    )
    drained = cluster.named(before[0][1])
    sigterm_at = time.time()
    drained.terminate()
    # calls placed only once it refuses them: one placed at the signal could still be its own
    await asyncio.to_thread(until, lambda: drained.health() == "draining", 20, "draining")
    draining_at = time.time()

    placed = await _calls_until_out_of_rotation(cluster, proxy, speech, drained)
    down_at = proxy.down_events().get(drained.sip_uri)
    assert down_at is not None, (
        f"Kamailio never took the draining {drained.sip_uri} out: {proxy.log.read_text()[-3000:]}"
    )
    # it answers, 503: taken out by its probe, never by a call that found it silent
    assert proxy.down_cause(drained.sip_uri) == "its OPTIONS probe", proxy.log.read_text()[-3000:]
    runs = await asyncio.gather(*(new.run for new in placed))
    for new, run in zip(placed, runs, strict=True):
        assert run.returncode == 0, f"{new.caller}, placed during the drain: {run.output[-2000:]}"

    # (a) its call goes on to the caller's BYE, answered: sipp fails on a BYE from the agent
    finished = await drained_call
    assert finished.returncode == 0, f"the drained instance's call: {finished.output[-2000:]}"
    call_ended_at = time.time()
    # (c) then it exits, by itself, with 0
    exit_code = await asyncio.to_thread(drained.process_exit, 60)
    exited_at = time.time()
    assert exit_code == 0, drained.log_tail()
    assert "drained: every call finished" in drained.log.read_text(errors="replace")

    ended = await asyncio.to_thread(
        cluster.store.rows,
        "SELECT c.end_reason, c.outcome, c.ended_at, (SELECT count(*) FROM turns t"
        " WHERE t.conversation_id = c.id) FROM conversations c WHERE c.caller_id LIKE %s",
        "drained-call@%",
    )
    assert len(ended) == 1 and ended[0][0] == "ended", ended
    end_reason, outcome, _, turns = ended[0]
    assert turns > before[0][4], f"no turn stored after the SIGTERM: {ended}"

    # (b) the new calls went elsewhere, and none was offered to it once Kamailio took it out
    elsewhere = {
        row[0].split("@")[0]: row
        for row in await asyncio.to_thread(cluster.store.conversations, "in-drain-")
    }
    assert sorted(elsewhere) == sorted(call.caller for call in placed), elsewhere
    assert all(row[1] != drained.name for row in elsewhere.values()), elsewhere
    first = proxy.first_choices()
    late = [c.caller for c in placed if c.at > down_at and first[c.caller] == drained.sip_uri]
    assert not late, f"offered to {drained.name} after Kamailio took it out: {late}"

    figures = DrainFigures(
        drained.name, sigterm_at, draining_at, down_at, before[0][4], turns, end_reason,
        outcome, call_ended_at, exit_code, exited_at,
    )  # fmt: skip
    cluster.report["drain"] = _drain_lines(figures, proxy, drained, placed, elsewhere, first)


async def _calls_until_out_of_rotation(
    cluster: Cluster, proxy: Kamailio, speech: Path, drained: Instance
) -> list[Placed]:
    """A new call every second until one is placed after Kamailio took `drained` out."""
    placed: list[Placed] = []
    for n in range(1, 9):
        caller = f"in-drain-{n}"
        call = _call(proxy.address, speech, cluster.work, caller, 10)
        placed.append(Placed(caller, time.time(), asyncio.create_task(call)))
        await asyncio.sleep(1.0)
        down_at = proxy.down_events().get(drained.sip_uri)
        if down_at is not None and placed[-1].at > down_at:
            break
    return placed


@dataclass
class DrainFigures:
    name: str
    sigterm_at: float
    draining_at: float
    down_at: float
    turns_before: int
    turns: int
    end_reason: str
    outcome: str | None
    call_ended_at: float
    exit_code: int
    exited_at: float


def _drain_lines(
    figures: DrainFigures,
    proxy: Kamailio,
    drained: Instance,
    placed: list[Placed],
    elsewhere: dict[str, tuple[Any, ...]],
    first: dict[str, str],
) -> list[str]:
    f = figures
    lines = [
        f"SIGTERM to {f.name} during a call placed through Kamailio (the instance Kamailio had "
        f"chosen for it); /healthz said draining {f.draining_at - f.sigterm_at:.2f} s later, and "
        f"Kamailio took it out of rotation {f.down_at - f.sigterm_at:.2f} s after the SIGTERM "
        f"(by {proxy.down_cause(drained.sip_uri)}; the shipped cfg probes every 2 s, and only a "
        "200 keeps an instance in: a draining one answers 503).",
        f"{f.name}'s call completed: {'yes' if f.end_reason == 'ended' else 'no'}. It went on "
        f"to the caller's BYE "
        f"{f.call_ended_at - f.sigterm_at:.1f} s after the SIGTERM (answered 200), "
        f"{f.turns} turns stored ({f.turns_before} before the SIGTERM), end reason "
        f"{f.end_reason!r}, outcome {f.outcome!r}.",
        f"{f.name} exited with code {f.exit_code}, {f.exited_at - f.call_ended_at:.1f} s after "
        f"its call ended ({f.exited_at - f.sigterm_at:.1f} s after the SIGTERM); its log: "
        '"drained: every call finished".',
    ]
    for call in placed:
        row = elsewhere[call.caller]
        offered_to = first[call.caller]
        refused = ", which answered 503" if offered_to == drained.sip_uri else ""
        lines.append(
            f"{call.caller}: placed {call.at - f.sigterm_at:.1f} s after the SIGTERM; Kamailio "
            f"offered it to {_instance_at(offered_to)} first{refused}; answered by {row[1]}, "
            f"{row[4]} turns stored."
        )
    per_instance = Counter(row[1] for row in elsewhere.values())
    lines.append(
        f"Calls placed during the drain: {len(placed)}, per instance: "
        + ", ".join(f"{name} {count}" for name, count in sorted(per_instance.items()))
        + f"; {f.name} 0."
    )
    return lines


def _instance_at(uri: str) -> str:
    """The instance name of a dispatcher destination, as INSTANCES gives them."""
    host = uri.removeprefix("sip:").split(":")[0]
    return next(name for name, address in INSTANCES if address == host)


def _all_ended(store: Store, caller_prefix: str, count: int) -> list[tuple[Any, ...]]:
    """The conversations of these callers once there are `count` and all have ended."""
    rows = store.conversations(caller_prefix)
    return rows if len(rows) == count and all(row[3] is not None for row in rows) else []


def _kept_rows(store: Store) -> dict[str, set[tuple[Any, ...]]]:
    """Every committed row of what calls write and never change: turns, claims, hand-offs,
    verification attempts."""
    tables = ("turns", "claims", "handoffs", "verification_attempts")
    return {
        table: {_hashable(row) for row in store.rows(f"SELECT * FROM {table}")} for table in tables
    }


def _hashable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row with its JSON values (latency marks, facts) as text, to compare as a set."""
    return tuple(
        json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
        for value in row
    )


def _victims_turns(store: Store) -> int:
    found = store.rows(
        "SELECT count(*) FROM turns t JOIN conversations c ON c.id = t.conversation_id"
        " WHERE c.instance_id = %s AND c.caller_id LIKE 'hold-%%'",
        VICTIM,
    )
    return int(found[0][0])


def _fail_over_lines(
    killed_at: float,
    down_at: float,
    placed: list[tuple[str, float, asyncio.Task[PeerRun]]],
    after: dict[str, tuple[Any, ...]],
    holds: dict[str, tuple[Any, ...]],
    victim_turns: int,
    stored_turns: int,
    kept: dict[str, set[tuple[Any, ...]]],
) -> list[str]:
    lines = [
        f"kill -9 of {VICTIM} during a call; Kamailio took it out of rotation "
        f"{down_at - killed_at:.2f} s later (the shipped cfg: an OPTIONS probe every 2 s, and "
        "2 s without an answer, to a probe or a call, is down).",
        f"Calls in progress: {', '.join(f'{c} on {r[1]}' for c, r in sorted(holds.items()))}; "
        f"the one on {VICTIM} was cut, the others completed.",
    ]
    for caller, at, _ in placed:
        row = after[caller]
        lines.append(
            f"{caller}: placed {at - killed_at:.1f} s after the kill, answered by {row[1]} "
            f"{_epoch(row[2]) - at:.2f} s after it was placed, {row[4]} turns stored."
        )
    per_instance = Counter(row[1] for row in after.values())
    lines += [
        "New calls after the kill per instance: "
        + ", ".join(f"{name} {count}" for name, count in sorted(per_instance.items()))
        + ".",
        f"{VICTIM}'s call had committed {victim_turns} turns when it was killed; "
        f"PostgreSQL holds {stored_turns} of its turns afterwards.",
        "Rows committed before the kill, every one still in PostgreSQL after it: "
        + ", ".join(f"{table} {len(rows)}" for table, rows in kept.items())
        + ".",
    ]
    return lines


def _write_report(report: dict[str, list[str]]) -> None:
    lines = [
        line
        for section in ("spread", "fail_over", "drain", "haproxy")
        for line in report.get(section, [])
    ]
    print("\n".join(["", "cluster:", *(f"  {line}" for line in lines)]))
    target = os.environ.get(REPORT_ENV)
    if target and lines:
        Path(target).write_text(_markdown(report), encoding="utf-8")


def _markdown(report: dict[str, list[str]]) -> str:
    titles = {
        "spread": "Calls spread over the instances",
        "fail_over": "One instance killed mid-call",
        "drain": "One instance drained (SIGTERM) mid-call",
        "haproxy": "The web voice button through HAProxy",
    }
    parts = [
        "# Cluster test: three agents, one PostgreSQL, Kamailio and HAProxy\n",
        f"`{REPORT_ENV}=benchmarks/results/cluster.md .venv/bin/python -m pytest -q -s "
        f"-p no:cacheprovider tests/deploy/test_cluster.py` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%S+00:00} ({os.cpu_count()} cores).\n",
        "All three agents, PostgreSQL, Kamailio, HAProxy, sipp and Chromium share this "
        "machine's cores: the figures show the mechanism works, not what a cluster holds "
        "(docs/scale-out.md).\n",
    ]
    for section, title in titles.items():
        if section in report:
            parts += [f"## {title}\n", *(f"- {line}" for line in report[section]), ""]
    return "\n".join(parts)
