"""Stopping `serve` gently: the drain's three ends, and SIGTERM to the real agent mid-call."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import PROJECT_ROOT
from tests.transport.sip.support import Dialogue, SipPeer, offer
from voice_agent.agent.limits import CallLimiter
from voice_agent.bench.sip_caller import SipCallError, sip_call
from voice_agent.bench.target import prepare_local_agent, start_agent, stop_agent
from voice_agent.protocol.sip.message import SipResponse
from voice_agent.settings import PathsSettings, StoreSettings
from voice_agent.shutdown import StopSignals, drain
from voice_agent.store.db import open_database
from voice_agent.store.repository import Repository


def test_the_first_signal_asks_to_drain_the_second_to_hurry() -> None:
    async def scenario() -> None:
        signals = StopSignals()
        signals.received("SIGTERM")
        assert signals.requested.is_set() and not signals.urgent.is_set()
        signals.received("SIGINT")
        assert signals.urgent.is_set()

    asyncio.run(scenario())


def _drained(limiter: CallLimiter, hurry: bool, timeout_s: float) -> str:
    async def scenario() -> str:
        urgent = asyncio.Event()
        held = limiter.try_acquire("sip")
        assert held is not None

        async def caller_hangs_up() -> None:
            await asyncio.sleep(0.05)
            assert not limiter.accepting  # refused from the start of the drain
            if hurry:
                urgent.set()
            else:
                held.release()

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(caller_hangs_up())
            how = await drain(limiter, limiter.idle, urgent, timeout_s)
        return how

    return asyncio.run(scenario())


def test_a_drain_ends_when_the_calls_have_finished() -> None:
    limiter = CallLimiter(2)
    assert _drained(limiter, hurry=False, timeout_s=5) == "every call finished"
    assert limiter.draining and limiter.active == 0


def test_a_drain_ends_when_asked_again() -> None:
    limiter = CallLimiter(2)
    assert _drained(limiter, hurry=True, timeout_s=5) == "asked again to stop"
    assert limiter.active == 1  # the call is left for the shutdown to end


def test_a_drain_ends_at_its_time_limit() -> None:
    limiter = CallLimiter(2)
    how = _drained(limiter, hurry=False, timeout_s=0.01)
    assert "server.drain_timeout_s" in how


# --- the real agent ----------------------------------------------------------------------------


async def _until(condition: Callable[[], bool], limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit_s} s")
        await asyncio.sleep(0.05)


async def _health(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
        return response.status, await response.json()


async def _answer_to(method: str, agent: tuple[str, int]) -> SipResponse:
    """The agent's final answer to an OPTIONS or an INVITE from a new caller."""
    peer = await SipPeer.open()
    try:
        dialogue = Dialogue(peer, agent)
        body, kind = (offer(40_000), "application/sdp") if method == "INVITE" else (b"", None)
        request = dialogue.request(method, body, kind)
        dialogue.send(request)
        answer = await peer.response()
        if method == "INVITE":
            dialogue.send(dialogue.ack(request, answer))
        return answer
    finally:
        assert peer.transport is not None
        peer.transport.close()


@pytest.mark.slow
@pytest.mark.parametrize("ended_by", ["the caller", "a second SIGTERM"])
def test_sigterm_mid_call_refuses_new_calls_lets_the_call_go_on_then_exits_0(
    tmp_path: Path, ended_by: str
) -> None:
    asyncio.run(asyncio.wait_for(_sigterm_mid_call(tmp_path, ended_by), 420))


async def _sigterm_mid_call(tmp_path: Path, ended_by: str) -> None:
    policies = PROJECT_ROOT / "config" / "policies.toml"
    launch = await prepare_local_agent(
        tmp_path, 2, policies, extra_env={"VOICE_AGENT_SERVER__RETRY_AFTER_S": "42"}
    )
    log = tmp_path / "agent.log"
    agent = ("127.0.0.1", launch.sip_port)
    process = await start_agent(launch, log)
    try:
        assert (await _health(launch.web_url))[0] == 200
        assert (await _answer_to("OPTIONS", agent)).status == 200
        async with sip_call(launch.sip_target) as call:
            await _until(lambda: len(call.recording.heard) > 50, 60, "the agent's greeting")
            process.send_signal(signal.SIGTERM)
            await _until_draining(launch.web_url)
            for method in ("OPTIONS", "INVITE"):
                refused = await _answer_to(method, agent)
                assert (refused.status, refused.headers.get("Retry-After")) == (503, "42")
            with pytest.raises(SipCallError, match="503"):
                async with sip_call(launch.sip_target):
                    pass
            heard = len(call.recording.heard)
            await asyncio.sleep(1.0)
            assert process.returncode is None and not call.ended.is_set()
            assert len(call.recording.heard) > heard  # the call goes on
            if ended_by == "a second SIGTERM":
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(call.ended.wait(), 30)  # the agent's BYE
        # the call is over (the caller's BYE on leaving the block, or the agent's): it exits
        async with asyncio.timeout(60):
            assert await process.wait() == 0
    finally:
        await stop_agent(process)
    text = log.read_text(encoding="utf-8")
    how = "every call finished" if ended_by == "the caller" else "asked again to stop"
    assert f"drained: {how}" in text, text[-3000:]
    store = StoreSettings(url=f"sqlite:///{launch.database}")
    with open_database(store, PathsSettings()) as database:
        repository = Repository(database)
        conversations = repository.conversations()
        assert [(c.channel, c.ended_at is not None) for c in conversations] == [("sip", True)]
        assert repository.turns(conversations[0].id)  # the greeting, stored


async def _until_draining(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        status, body = await _health(url)
        if body["status"] == "draining":
            break
        assert time.monotonic() < deadline, f"not draining: {status} {body}"
        await asyncio.sleep(0.05)
    assert (status, body["calls"], body["capacity"]) == (503, 1, 2)
