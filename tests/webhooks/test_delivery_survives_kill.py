"""At least once, through a kill -9: actions of scripted calls reach the shop's receiver
exactly once after dedupe by Idempotency-Key, though the agent died mid-delivery.

The real `voice-agent serve` (models loaded, SIP off) delivers to a receiver on 127.0.0.1; the
real `voice-agent chat --script` makes the calls on the same SQLite file, with the demo shop.
The receiver records the first delivery and never answers it; the agent is killed with
SIGKILL then, the receiver refuses the next delivery once, and a restarted agent must deliver
every action's event, the one the shop already got again (same bytes), none lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.dialogues import HERE as SCRIPTS
from benchmarks.dialogues import load_script, load_shop, resolved_script_text
from tests.conftest import PROJECT_ROOT, VOICE_AGENT, free_port, run_cli
from tests.webhooks.receiver import Receiver
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.store.db import open_database
from voice_agent.store.outbox import Outbox, OutboxEntry
from voice_agent.webhooks.schedule import webhook_body
from voice_agent.webhooks.signature import sign, verify_signature

pytestmark = pytest.mark.slow

SECRET = "shop-secret-for-this-test"
CALLS = {
    "lost-parcel-overdue-claim": "claim.opened",
    "return-delivered": "return.requested",
    "address-change-before-dispatch": "address.changed",
    "cancel-before-dispatch": "cancellation.requested",
    "human-direct": "handoff.created",
}
"""Scripted calls (benchmarks/dialogues) and the event each must leave for the shop."""
OTHER_ORDER = {"cancel-before-dispatch": ("{pending.", "{pending2.")}
"""The cancellation is of the other order not yet dispatched (the first one has moved)."""


def _environment(tmp_path: Path, receiver: Receiver) -> dict[str, str]:
    return {
        **os.environ,
        "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path / "var"),
        "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "VOICE_AGENT_SIP__ENABLED": "false",
        "VOICE_AGENT_SERVER__PORT": str(free_port()),
        "VOICE_AGENT_WEBHOOKS__URL": receiver.url,
        "VOICE_AGENT_WEBHOOKS__SECRET": SECRET,
        "VOICE_AGENT_WEBHOOKS__POLL_S": "0.1",
        "VOICE_AGENT_WEBHOOKS__BACKOFF_INITIAL_S": "0.2",
        "VOICE_AGENT_WEBHOOKS__BACKOFF_MAX_S": "1",
        "VOICE_AGENT_WEBHOOKS__TIMEOUT_S": "120",  # the held delivery stays in flight
    }


@contextlib.contextmanager
def _agent(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`voice-agent serve`, killed at the end of the block if it still runs."""
    with log.open("ab") as output:
        server = subprocess.Popen(
            [str(VOICE_AGENT), "serve"], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output
        )
        try:
            yield server
        finally:
            if server.poll() is None:
                server.kill()
            server.wait(timeout=30)


def _wait_healthy(env: dict[str, str], server: subprocess.Popen[bytes], log: Path) -> None:
    url = f"http://127.0.0.1:{env['VOICE_AGENT_SERVER__PORT']}/healthz"
    deadline = time.monotonic() + 240  # verifying, loading and warming the models
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the agent exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as answer:
            if answer.status == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"the agent did not come up: {log.read_text()[-3000:]}")


def _call(script: str, env: dict[str, str], now: str, tmp_path: Path) -> None:
    path = SCRIPTS / f"{script}.jsonl"
    if script in OTHER_ORDER:
        path = tmp_path / path.name
        path.write_text((SCRIPTS / path.name).read_text().replace(*OTHER_ORDER[script]))
    text = resolved_script_text(load_script(path), load_shop("demo"))
    result = subprocess.run(
        [str(VOICE_AGENT), "chat", "--now", now, "--script", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _events(env: dict[str, str]) -> list[OutboxEntry]:
    store = StoreSettings(url=env["VOICE_AGENT_STORE__URL"])
    with open_database(store, PathsSettings()) as database:
        return Outbox(database).entries()


def _until(condition: Callable[[], object], limit_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit_s} s\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def test_every_action_reaches_the_shop_once_deduped_across_a_kill_9(tmp_path: Path) -> None:
    shop = load_shop("demo")
    log = tmp_path / "agent.log"
    with Receiver(SECRET) as receiver:
        env = _environment(tmp_path, receiver)
        anchor = shop.now.isoformat()
        loaded = run_cli(["data", "demo", "--anchor", anchor], env=env)
        assert loaded.returncode == 0, loaded.stderr
        receiver.hold_requests()
        with _agent(env, log) as first:
            _wait_healthy(env, first, log)
            for script in CALLS:
                _call(script, env, anchor, tmp_path)
            stored = _events(env)
            assert sorted(entry.event for entry in stored) == sorted(CALLS.values())
            _until(lambda: receiver.received, 60, "the first delivery", log)
            first.send_signal(signal.SIGKILL)  # mid-delivery: the shop has it, unanswered
            assert first.wait(timeout=30) == -signal.SIGKILL
        (held,) = receiver.received
        assert [entry.delivered_at for entry in _events(env)] == [None] * len(CALLS)

        # The shop is briefly unwell after the restart too: one 503 goes to the dead agent's
        # held request as it is let go, the other to the restarted agent's first delivery.
        receiver.answers.extend([503, 503])
        receiver.answer_requests()
        with _agent(env, log) as second:
            _until(lambda: all(entry.delivered_at for entry in _events(env)), 300, "all", log)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0  # delivery stops cleanly with the server

    outbox = _events(env)
    keys = {entry.event_id for entry in outbox}
    kept = receiver.by_key()
    assert set(kept) == keys  # every action's key arrived, and nothing else
    assert all(len(bodies) == 1 for bodies in kept.values())  # same bytes on every retry
    assert {entry.event_id: webhook_body(entry) for entry in outbox} == {
        key: next(iter(bodies)) for key, bodies in kept.items()
    }
    assert sum(got.key == held.key for got in receiver.received) >= 2  # sent again
    assert len(receiver.received) > len(keys)  # duplicates and the refused one, deduped
    assert all(got.signature_valid for got in receiver.received)
    assert sorted(entry.event for entry in outbox) == sorted(CALLS.values())
    assert max(entry.attempts for entry in outbox) >= 2  # refused, then taken
    assert all(entry.last_error is None for entry in outbox)

    body = held.body
    tampered = body.replace(b'"event":"', b'"event":"x', 1)
    assert tampered != body
    assert verify_signature(SECRET, body, sign(SECRET, body))
    assert not verify_signature(SECRET, tampered, sign(SECRET, body))
    assert not verify_signature("not-the-shop-secret!", body, sign(SECRET, body))
