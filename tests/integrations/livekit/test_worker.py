"""The worker's options: built from our settings, picklable for LiveKit's call runners."""

from __future__ import annotations

import functools
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from livekit.agents import JobExecutorType, JobProcess

from tests.conftest import PROJECT_ROOT, free_port
from voice_agent.integrations.livekit.config import Connection
from voice_agent.integrations.livekit.worker import (
    APP_KEY,
    call_load,
    prewarm,
    shared_app,
    worker_options,
)
from voice_agent.settings import load_settings

CONNECTION = Connection("wss://lk.example.com", "key", "secret")


def test_options_come_from_the_settings() -> None:
    settings = load_settings(
        environ={
            "VOICE_AGENT_SESSION__MAX_CONCURRENT_CALLS": "4",
            "VOICE_AGENT_LIVEKIT__AGENT_NAME": "shop",
            "VOICE_AGENT_LIVEKIT__DRAIN_TIMEOUT_S": "60",
        }
    )
    options = worker_options(settings, CONNECTION)
    assert (options.ws_url, options.api_key, options.api_secret) == (
        "wss://lk.example.com",
        "key",
        "secret",
    )
    assert options.agent_name == "shop"
    assert options.drain_timeout == 60
    assert options.job_executor_type is JobExecutorType.THREAD
    assert options.load_threshold == 1.0
    server = cast(Any, SimpleNamespace(active_jobs=[object()] * 3))
    load = options.load_fnc
    assert isinstance(load, functools.partial)
    assert load(server) == pytest.approx(0.75)
    assert call_load(4, server) == pytest.approx(0.75)
    assert call_load(4, cast(Any, SimpleNamespace(active_jobs=[object()] * 4))) == 1.0


def test_options_survive_the_trip_to_a_call_runner_process() -> None:
    settings = load_settings(environ={"VOICE_AGENT_LIVEKIT__EXECUTOR": "process"})
    options = pickle.loads(pickle.dumps(worker_options(settings, CONNECTION)))
    assert options.job_executor_type is JobExecutorType.PROCESS
    prewarm_fnc = options.prewarm_fnc
    assert isinstance(prewarm_fnc, functools.partial)
    assert prewarm_fnc.args[0] == settings


@pytest.mark.slow
def test_prewarm_builds_and_warms_one_app_per_process(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path / "var"),
            "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        }
    )
    first = JobProcess(executor_type=JobExecutorType.THREAD, user_arguments=None, http_proxy=None)
    second = JobProcess(executor_type=JobExecutorType.THREAD, user_arguments=None, http_proxy=None)
    prewarm(settings, first)
    prewarm(settings, second)
    app = first.userdata[APP_KEY]
    assert second.userdata[APP_KEY] is app is shared_app(settings)
    assert "asr" in app.__dict__ and "tts" in app.__dict__  # built by the warm-up
    app.close()


@pytest.mark.slow
def test_sigterm_drains_and_stops_the_worker(tmp_path: Path) -> None:
    """No LiveKit server here: the worker is pointed at a closed port on 127.0.0.1, where it
    retries; SIGTERM must still drain it (LiveKit's AgentServer.drain) and end it cleanly."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "VOICE_AGENT_"))},
        "LIVEKIT_URL": f"ws://127.0.0.1:{free_port()}",
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "a-secret-of-at-least-thirty-two-bytes",
        "VOICE_AGENT_PATHS__DATA_DIR": str(tmp_path / "var"),
        "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "VOICE_AGENT_LIVEKIT__IDLE_PROCESSES": "0",  # no call runner to prewarm
        "VOICE_AGENT_LIVEKIT__HEALTH_PORT": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "voice_agent.cli", "livekit-worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = worker.stdout.readline()
            seen.append(line)
            if "failed to connect to livekit" in line or not line:
                break
        assert any("failed to connect to livekit" in line for line in seen), "".join(seen)
        worker.send_signal(signal.SIGTERM)
        rest, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, rest
    assert "draining worker" in rest
