"""The agent under test when it runs on this machine: started by `--serve`, or found by port.

`--serve` starts `voice-agent serve` as its own process with the embedded defaults on free
loopback ports, a fresh SQLite file holding the demo shop, and a call limit raised to the
benchmark's highest concurrency. A local target's CPU and memory are sampled while a series
runs (`ProcessSampler`), so that a report shows what the figures cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from voice_agent.errors import CliError

START_LIMIT_S = 180.0
"""Loading the models and warming up takes ~20 s here; a slow disk may take longer."""


@dataclass(frozen=True, slots=True)
class LocalAgent:
    web_url: str
    sip_target: str
    pid: int
    database: Path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class AgentLaunch:
    """How to start our agent on its database and ports: the same each time it is started
    (a restart after a crash finds its calls' conversations and its ports again)."""

    command: tuple[str, ...]
    env: Mapping[str, str]
    web_port: int
    sip_port: int
    database: Path

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sip_target(self) -> str:
        return f"sip:agent@127.0.0.1:{self.sip_port}"


async def prepare_local_agent(
    work: Path,
    max_calls: int,
    policies: Path,
    config: Path | None = None,
    by_number: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> AgentLaunch:
    """A fresh SQLite file with the demo shop and free loopback ports for our agent.

    `by_number` is its `languages.by_number` (the language of calls to a number dialled);
    `extra_env` more settings (``VOICE_AGENT_SECTION__KEY``)."""
    database = await asyncio.to_thread(_fresh_database, work)
    policies = await asyncio.to_thread(_policies_without_lockouts, policies, work)
    web_port, sip_port = free_port(), free_port(socket.SOCK_DGRAM)
    env = {
        **os.environ,
        "VOICE_AGENT_STORE__URL": f"sqlite:///{database}",
        "VOICE_AGENT_SERVER__HOST": "127.0.0.1",
        "VOICE_AGENT_SERVER__PORT": str(web_port),
        "VOICE_AGENT_SIP__LISTEN_HOST": "127.0.0.1",
        "VOICE_AGENT_SIP__LISTEN_PORT": str(sip_port),
        "VOICE_AGENT_SESSION__MAX_CONCURRENT_CALLS": str(max_calls),
        "VOICE_AGENT_WEBRTC__LOOPBACK_ONLY": "true",
        "VOICE_AGENT_DIALOGUE__POLICIES": str(policies),
        **(extra_env or {}),
    }
    if by_number:
        env["VOICE_AGENT_LANGUAGES__BY_NUMBER"] = json.dumps(dict(by_number))
    base = (sys.executable, "-c", _CLI, *(("--config", str(config)) if config else ()))
    await _run_to_end([*base, "data", "demo"], env, work / "demo.log")
    return AgentLaunch((*base, "serve"), env, web_port, sip_port, database)


async def start_agent(launch: AgentLaunch, log: Path) -> asyncio.subprocess.Process:
    """`voice-agent serve` in its own process, its output appended to `log`; returns once it
    listens (CliError if it stops or does not listen within START_LIMIT_S)."""
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            *launch.command,
            env=dict(launch.env),
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _until_listening(launch.web_port, process, log)
    except BaseException:
        await stop_agent(process)
        raise
    return process


async def stop_agent(process: asyncio.subprocess.Process, grace_s: float = 20.0) -> None:
    """SIGTERM (the agent drains: its calls go on), a second SIGTERM half `grace_s` later if
    it still runs (its calls are ended), and SIGKILL if it has not stopped within `grace_s`."""
    for _ in range(2):
        if process.returncode is not None:
            return
        process.terminate()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s / 2):
                await process.wait()
    if process.returncode is None:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def serve_local_agent(
    work: Path,
    max_calls: int,
    policies: Path,
    config: Path | None = None,
    by_number: Mapping[str, str] | None = None,
) -> AsyncIterator[LocalAgent]:
    """Our agent in its own process, ready to take calls; stopped on exit.

    `by_number` is its `languages.by_number` (the language of calls to a number dialled)."""
    launch = await prepare_local_agent(work, max_calls, policies, config, by_number)
    (work / "agent.log").unlink(missing_ok=True)
    process = await start_agent(launch, work / "agent.log")
    try:
        yield LocalAgent(launch.web_url, launch.sip_target, process.pid, launch.database)
    finally:
        await stop_agent(process)


_CLI = "import sys; from voice_agent.cli import main; sys.exit(main())"


def _fresh_database(work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    database = work / "bench.sqlite3"
    database.unlink(missing_ok=True)
    return database


_LOCKOUT_LIMITS = re.compile(r"^(max_failed_attempts|order_max_failed_attempts)\s*=.*$", re.M)


_HIGHEST = {"max_failed_attempts": 20, "order_max_failed_attempts": 1000}
"""The highest limits the policy file accepts."""


def _policies_without_lockouts(policies: Path, work: Path) -> Path:
    """The shop's policies with the verification lockouts raised as far as they go.

    Every benchmark call comes from one address and the same few orders, so a handful of
    misheard digits over a run would lock the callers out and change every later call."""
    source = policies.read_text(encoding="utf-8")
    lifted, count = _LOCKOUT_LIMITS.subn(lambda m: f"{m.group(1)} = {_HIGHEST[m.group(1)]}", source)
    if count != 2:
        raise CliError(f"{policies}: the verification limits were not found")
    path = work / "policies.toml"
    path.write_text(lifted, encoding="utf-8")
    return path


async def _run_to_end(command: list[str], env: dict[str, str], log: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    await asyncio.to_thread(log.write_bytes, output)
    if process.returncode != 0:
        raise CliError(f"{' '.join(command[2:])} failed ({process.returncode}); see {log}")


async def _until_listening(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise CliError(f"the agent stopped while starting ({process.returncode}); see {log}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.25)
    raise CliError(f"the agent did not listen on port {port} within {START_LIMIT_S:.0f} s")


def local_pid(url: str) -> int | None:
    """The process on this machine that listens on the target's port, if it is local."""
    parts = urlsplit(url if "//" in url else f"//{url.removeprefix('sip:').split('@')[-1]}")
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or parts.port is None:
        return None
    with contextlib.suppress(psutil.Error):
        for connection in psutil.net_connections(kind="inet"):
            if connection.laddr and connection.laddr.port == parts.port and connection.pid:
                return int(connection.pid)
    return None


class ProcessSampler:
    """CPU (in cores) and peak resident memory of a process and its children, while it runs."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self._process = psutil.Process(pid)
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None
        self._cpu_start = 0.0
        self._wall_start = 0.0
        self.peak_rss_mb = 0.0
        self.cpu_cores: float | None = None
        self.wall_s = 0.0
        """How long the sampling ran."""

    def _cpu_seconds(self) -> float:
        total = 0.0
        for process in [self._process, *self._process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def _rss_mb(self) -> float:
        total = 0
        for process in [self._process, *self._process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total / 2**20

    async def __aenter__(self) -> ProcessSampler:
        self._cpu_start, self._wall_start = self._cpu_seconds(), time.monotonic()
        self._task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            with contextlib.suppress(psutil.Error):
                self.peak_rss_mb = max(self.peak_rss_mb, self._rss_mb())
            await asyncio.sleep(self._every_s)

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.wall_s = time.monotonic() - self._wall_start
        with contextlib.suppress(psutil.Error):
            wall = self.wall_s
            self.cpu_cores = round((self._cpu_seconds() - self._cpu_start) / max(wall, 1e-3), 2)
            self.peak_rss_mb = round(max(self.peak_rss_mb, self._rss_mb()), 1)


class LoadWatch:
    """The machine's load average (1 minute) while a run measures: on a shared machine, others'
    work slows the agent down, and a report must say how busy the machine was."""

    def __init__(self, every_s: float = 5.0) -> None:
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None
        self.samples: list[float] = []

    async def __aenter__(self) -> LoadWatch:
        self._task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            await asyncio.sleep(self._every_s)

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.samples.append(os.getloadavg()[0])

    def describe(self) -> str:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if not self.samples:
            return "Machine load while measuring: not sampled."
        mean = sum(self.samples) / len(self.samples)
        return (
            f"Machine load (1-minute load average, {cores} cores) while measuring: "
            f"min {min(self.samples):.1f}, mean {mean:.1f}, max {max(self.samples):.1f} "
            f"({len(self.samples)} samples)."
        )
