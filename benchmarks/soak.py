"""A soak with faults: two callers back to back for N minutes, a kill -9 and restart midway.

    .venv/bin/python -m benchmarks.soak --minutes 30 --out var/soak/30min

Our agent runs as its own process (`voice-agent serve` on a fresh SQLite file with the demo
shop, free 127.0.0.1 ports, `session.max_concurrent_calls` = 2). Two callers call it back to
back, SIP and WebRTC in turn, with the benchmark's callers (`voice_agent.bench`) through the
impairment relay (`cross-border` by default), playing the benchmark's scenarios. Faults:

- every 6th call from the 3rd vanishes after half its lines: no BYE, no goodbye on the data
  channel, its media path cut (the agent finds out from its RTP or media timeout);
- every 6th call from the 5th hangs up (BYE) one second into a reply: the reply is cut;
- at half time the agent is killed (SIGKILL) and started again on the same database and
  ports; calls in flight are cut by the kill and calls go on once it listens again.

Reported in OUT/report.md and OUT/report.json, and summed up on stdout: the calls and how they
ended; for every call the turns spoken (lines said, replies heard) against the turns stored;
each agent process's memory and open files; the event loop's stalls from the agent's
watchdog. See docs/benchmark.md, "Soak with faults".

Bounded: the calls stop at --minutes; everything ends within --minutes plus SAFETY_MARGIN_S,
and the agent process is killed on any exit (Ctrl-C included). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import re
import secrets
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from benchmarks.soak_report import (
    COMPLETED,
    CUT_BY_KILL,
    FAILED,
    HUNG_UP_IN_REPLY,
    VANISHED,
    CallRecord,
    Interval,
    ProcessLife,
    Sample,
    SoakReport,
    compare,
    conversations_by_call,
    open_conversations,
    replies_heard,
    stalls_in,
    stored_turns,
    turns_counted,
    write_report,
)
from voice_agent.bench.dialing import dial
from voice_agent.bench.measures import sounds, speech_bounds
from voice_agent.bench.player import AgentListener, LiveCall, play_scenario
from voice_agent.bench.relay import PROFILES, Profile, profile_named
from voice_agent.bench.runner import CALL_LIMIT_S, Target
from voice_agent.bench.scenario import (
    RenderedTurn,
    Renderer,
    Scenario,
    caller_voice,
    load_scenario,
    scenario_files,
)
from voice_agent.bench.target import (
    START_LIMIT_S,
    AgentLaunch,
    prepare_local_agent,
    start_agent,
    stop_agent,
)
from voice_agent.errors import CliError
from voice_agent.settings import Settings, load_settings

logger = logging.getLogger("benchmarks.soak")

MAX_CALLS = 2
"""The configured call limit (`session.max_concurrent_calls`), and the callers at once."""
TRANSPORTS = ("sip", "webrtc")
FAULT_CYCLE = 6
VANISH_AT, HANG_UP_AT = 2, 4
"""Call numbers (mod FAULT_CYCLE) whose caller vanishes, or hangs up during a reply."""
INTO_REPLY_S = 1.0
"""A hang-up during a reply comes this far into it."""
SAMPLE_EVERY_S = 10.0
METRICS_TOKEN = "VOICE_AGENT_SERVER__METRICS_TOKEN"
CALLS_IN_PROGRESS = re.compile(r"^voice_agent_calls_in_progress\{[^}]*\} (\S+)$", re.M)
SETTLE_S = 2.0
"""After a vanish, beyond the agent's timeout, before this caller calls again."""
DRAIN_LIMIT_S = 60.0
"""At the end, how long the agent may take to end its calls (a vanished caller's included)."""
SAFETY_MARGIN_S = 2 * START_LIMIT_S + CALL_LIMIT_S + DRAIN_LIMIT_S + 60
"""Beyond --minutes, the most the soak may take: two starts, the last call, the drain."""


@dataclass
class Options:
    minutes: float
    out: Path
    profile: Profile
    scenarios: Path
    kill: bool
    config: Path | None


@dataclass
class _Agent:
    """The agent process of the moment, and what the soak knows of it."""

    launch: AgentLaunch
    process: asyncio.subprocess.Process
    life: ProcessLife
    log: Path
    warm: set[str] = field(default_factory=set)
    """The transports a call of this process has ended on."""


@dataclass
class _InFlight:
    record: CallRecord
    task: asyncio.Task[None]


@dataclass
class _Soak:
    options: Options
    settings: Settings
    renderer: Renderer
    scenarios: list[Scenario]
    launch: AgentLaunch
    report: SoakReport
    began: float = field(default_factory=time.monotonic)
    up: asyncio.Event = field(default_factory=asyncio.Event)
    agent: _Agent | None = None
    in_flight: dict[int, _InFlight] = field(default_factory=dict)
    numbers: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def calls_end_at(self) -> float:
        return self.began + self.options.minutes * 60

    def now_s(self) -> float:
        return time.monotonic() - self.began


# --- the agent's processes --------------------------------------------------------------------


async def _start(soak: _Soak, number: int) -> _Agent:
    log = soak.options.out / f"agent-{number}.log"
    starting = time.monotonic()
    process = await start_agent(soak.launch, log)
    agent = _Agent(soak.launch, process, ProcessLife(number, process.pid), log)
    soak.report.lives.append(agent.life)
    soak.agent = agent
    soak.up.set()
    print(
        f"[{soak.now_s():6.0f}s] agent process {number} (pid {process.pid}) listening, "
        f"{time.monotonic() - starting:.0f} s after its start",
        flush=True,
    )
    return agent


def _usage(pid: int) -> tuple[float, int] | None:
    """RSS (MB) of the process and its children, and their open file descriptors."""
    try:
        process = psutil.Process(pid)
        family = [process, *process.children(recursive=True)]
        rss = sum(p.memory_info().rss for p in family) / 2**20
        files = sum(p.num_fds() for p in family)
    except psutil.Error:
        return None
    return round(rss, 1), files


async def _calls_in_progress(agent: _Agent) -> int | None:
    """The agent's own count (its /metrics), vanished callers it has not noticed included."""
    url = f"{agent.launch.web_url}/metrics"
    headers = {"Authorization": f"Bearer {agent.launch.env[METRICS_TOKEN]}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
            http.get(url, headers=headers) as response,
        ):
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError):
        return None
    found = CALLS_IN_PROGRESS.findall(text)
    return round(sum(float(value) for value in found)) if found else None


async def _sample(soak: _Soak, agent: _Agent) -> None:
    usage = await asyncio.to_thread(_usage, agent.process.pid)
    calls = await _calls_in_progress(agent)
    if usage is not None:
        load = round(psutil.getloadavg()[0], 2)
        agent.life.samples.append(Sample(round(soak.now_s(), 1), *usage, calls, load))


async def _sampler(soak: _Soak) -> None:
    while True:
        await asyncio.sleep(SAMPLE_EVERY_S)
        agent = soak.agent
        if agent is not None and soak.up.is_set():
            await _sample(soak, agent)


async def _kill_midway(soak: _Soak) -> None:
    """At half time: SIGKILL, the calls in flight cut, the same agent started again."""
    await asyncio.sleep(max(0.0, soak.calls_end_at - time.monotonic()) / 2)
    agent = soak.agent
    assert agent is not None
    soak.up.clear()
    await _sample(soak, agent)
    killed_at = time.time()
    agent.process.send_signal(signal.SIGKILL)
    agent.life.ended_by = "kill -9"
    soak.report.kill_at_s = round(soak.now_s(), 1)
    print(
        f"[{soak.now_s():6.0f}s] kill -9 of agent process 1; {len(soak.in_flight)} call(s) cut",
        flush=True,
    )
    for flying in list(soak.in_flight.values()):
        flying.record.outcome = CUT_BY_KILL
        flying.record.cut_at = killed_at
        flying.task.cancel()
    await agent.process.wait()
    restart = time.monotonic()
    await _start(soak, 2)
    soak.report.restart_s = round(time.monotonic() - restart, 1)


# --- the callers ------------------------------------------------------------------------------


def fault_of(number: int) -> str:
    position = number % FAULT_CYCLE
    return "vanish" if position == VANISH_AT else "hang-up" if position == HANG_UP_AT else "none"


async def _caller(soak: _Soak, worker: int) -> None:
    """Calls back to back until the minutes are over, SIP and WebRTC in turn."""
    for turn in itertools.count():
        await soak.up.wait()
        if time.monotonic() >= soak.calls_end_at:
            return
        agent = soak.agent
        assert agent is not None
        number = next(soak.numbers)
        transport = TRANSPORTS[(worker + turn) % len(TRANSPORTS)]
        record = CallRecord(number, transport, fault_of(number), agent.life.number)
        task = asyncio.create_task(_call(soak, record, agent.launch))
        soak.in_flight[number] = _InFlight(record, task)
        try:
            await asyncio.wait({task})
        finally:
            task.cancel()
            soak.in_flight.pop(number, None)
        soak.report.calls.append(record)
        await _after_call(soak, record, agent)


async def _after_call(soak: _Soak, record: CallRecord, agent: _Agent) -> None:
    if record.outcome != CUT_BY_KILL:
        agent.life.calls += 1
        agent.warm.add(record.transport)
        if agent.life.warmed_at is None and agent.warm >= set(TRANSPORTS):
            agent.life.warmed_at = round(soak.now_s(), 1)
    print(
        f"[{soak.now_s():6.0f}s] call {record.number} {record.transport} "
        f"{record.scenario}: {record.outcome}"
        + "".join(f" ({text})" for text in (record.failure, record.note) if text),
        flush=True,
    )
    if record.outcome == VANISHED:
        # the agent holds the call (a slot of two) until its timeout notices the caller gone
        timeout = (
            soak.settings.sip.rtp_timeout_s
            if record.transport == "sip"
            else soak.settings.webrtc.media_timeout_s
        )
        await asyncio.sleep(timeout + SETTLE_S)
    elif record.outcome == FAILED:
        await asyncio.sleep(SETTLE_S)  # a refused call (busy, the agent restarting): not at once


async def _call(soak: _Soak, record: CallRecord, launch: AgentLaunch) -> None:
    scenario = soak.scenarios[record.number % len(soak.scenarios)]
    record.scenario = scenario.name
    voice = caller_voice(scenario, record.number, len(soak.scenarios))
    telephone = record.transport == "sip"
    turns = await asyncio.to_thread(soak.renderer.render, scenario, record.number, voice, telephone)
    url = launch.sip_target if telephone else launch.web_url
    target = Target(url, "voice-agent", label="voice-agent (soak)")
    call: Any = None
    record.started_at = time.time()
    try:
        async with asyncio.timeout(CALL_LIMIT_S):
            async with dial(target, record.transport, soak.options.profile, None) as call:
                record.call_id = call.call_id
                record.outcome = await _play(call, turns, record)
    except asyncio.CancelledError:
        if record.outcome != CUT_BY_KILL:
            raise
    except TimeoutError:
        record.outcome, record.failure = FAILED, f"the call got stuck (over {CALL_LIMIT_S:g} s)"
    except (OSError, RuntimeError, ValueError) as error:
        record.outcome, record.failure = FAILED, str(error) or type(error).__name__
    finally:
        record.ended_at = time.time()
        if call is not None:
            _account(record, call)


async def _play(call: Any, turns: Sequence[RenderedTurn], record: CallRecord) -> str:
    """The scenario, or its first half and then the call's fault; the call's outcome."""
    half = max(1, len(turns) // 2)
    if record.fault == "none":
        await play_scenario(call, turns)
        return COMPLETED
    await play_scenario(call, turns[:half])  # returns once the last reply is over
    if call.ended.is_set():
        record.note = "the agent ended the call before the fault"
        return COMPLETED
    if record.fault == "vanish":
        record.cut_at = time.time()
        call.vanish()
        return VANISHED
    call.microphone.say(turns[half].audio, half)
    if not await _into_reply(call, INTO_REPLY_S):
        if call.ended.is_set():
            record.note = "the agent ended the call before the fault"
            return COMPLETED
        raise RuntimeError("no reply came to hang up in")
    return HUNG_UP_IN_REPLY  # leaving the call hangs up (BYE, or the data channel's goodbye)


async def _into_reply(call: LiveCall, into_s: float, limit_s: float = 20.0) -> bool:
    """Until the agent has been talking `into_s` since the caller's line ended (True), or the
    call ended or no reply came within `limit_s` (False)."""
    while True:  # the microphone paces itself: polled, as the player does
        if not call.microphone.speaking or call.ended.is_set():
            break
        await asyncio.sleep(0.02)
    said = time.monotonic()
    listener = AgentListener(call.recording)
    while not call.ended.is_set() and time.monotonic() - said < limit_s:
        listener.update()
        now = time.monotonic()
        started = listener.talking_since
        if started is not None and started > said and now - started >= into_s:
            return True
        await asyncio.sleep(0.02)
    return False


def _account(record: CallRecord, call: Any) -> None:
    """The lines said and the replies heard, from the call's recording, in epoch seconds."""
    recording = call.recording
    to_epoch = time.time() - time.monotonic()
    indexes = sorted({span.utterance for frame in recording.sent for span in frame.spans})
    lines = [b for index in indexes if (b := speech_bounds(recording, index)) is not None]
    heard = [Interval(s.start, s.end) for s in sounds(recording.heard)]
    replies = replies_heard(heard, [line.start for line in lines])
    record.lines = [Interval(b.start + to_epoch, b.end + to_epoch) for b in lines]
    record.replies = [Interval(r.start + to_epoch, r.end + to_epoch) for r in replies]


# --- the run ----------------------------------------------------------------------------------


async def run_soak(options: Options, settings: Settings) -> SoakReport:
    options.out.mkdir(parents=True, exist_ok=True)
    report = SoakReport(
        command="python -m benchmarks.soak " + shlex.join(sys.argv[1:]),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        minutes=options.minutes,
        profile=options.profile.name,
    )
    began = time.monotonic()
    launch = await prepare_local_agent(
        options.out / "agent",
        MAX_CALLS,
        settings.dialogue.policies,
        options.config,
        extra_env={
            "VOICE_AGENT_SERVER__LOOP_STALL_MS": "100",
            METRICS_TOKEN: secrets.token_hex(16),
        },
    )
    for old in options.out.glob("agent-*.log"):
        old.unlink()
    renderer = await asyncio.to_thread(_renderer, settings)
    scenarios = [load_scenario(path) for path in scenario_files(options.scenarios)]
    soak = _Soak(options, settings, renderer, scenarios, launch, report)
    soak.began = time.monotonic()  # the calls' clock starts with the agent listening
    async with asyncio.timeout(options.minutes * 60 + SAFETY_MARGIN_S):
        agent = await _start(soak, 1)
        soak.began = time.monotonic()
        try:
            await _run_calls(soak)
            agent = soak.agent or agent
            await _drain(soak, agent)
            await _sample(soak, agent)
            agent.life.ended_by = "the soak's end"
        finally:
            soak.up.clear()
            for life_agent in {id(a): a for a in (agent, soak.agent) if a}.values():
                await stop_agent(life_agent.process, grace_s=10)
    report.wall_s = round(time.monotonic() - began, 1)
    await asyncio.to_thread(_read_back, report, options.out, launch)
    return report


async def _run_calls(soak: _Soak) -> None:
    async with asyncio.TaskGroup() as group:
        callers = [group.create_task(_caller(soak, worker)) for worker in range(MAX_CALLS)]
        background = [group.create_task(_sampler(soak))]
        if soak.options.kill:
            background.append(group.create_task(_kill_midway(soak)))
        await asyncio.wait(callers)
        for task in background:
            task.cancel()


async def _drain(soak: _Soak, agent: _Agent) -> None:
    """Until the agent has ended every call (a vanished caller's too), so the final sample is
    of an idle agent and every conversation is stored."""
    deadline = time.monotonic() + DRAIN_LIMIT_S
    while time.monotonic() < deadline:
        text = await asyncio.to_thread(agent.log.read_text, "utf-8", "replace")
        started = text.count("call started conversation=")
        ended = text.count("call ended conversation=")
        if started <= ended:
            return
        await asyncio.sleep(1.0)
    soak.report.notes.append(f"the agent still had calls {DRAIN_LIMIT_S:g} s after the last one")


def _read_back(report: SoakReport, out: Path, launch: AgentLaunch) -> None:
    """Turns stored, conversations, stalls: from the database and the agent's logs."""
    turns = stored_turns(launch.database)
    by_call: dict[str, int] = {}
    counted: dict[int, int] = {}
    for life in report.lives:
        lines = (out / f"agent-{life.number}.log").read_text("utf-8", "replace").splitlines()
        by_call.update(conversations_by_call(lines))
        counted.update(turns_counted(lines))
        report.stalls.extend(stalls_in(lines, life.number))
    for record in report.calls:
        conversation = by_call.get(record.call_id or "")
        comparison = compare(record, conversation, turns.get(conversation or -1, []))
        comparison.agent_counted = counted.get(conversation or -1)
        report.comparisons.append(comparison)
    report.open_conversations = open_conversations(launch.database)


def _renderer(settings: Settings) -> Renderer:
    from voice_agent.bench.voices import piper_speaker
    from voice_agent.models import ModelError, ModelStore

    try:
        piper = piper_speaker(
            ModelStore(settings.models, settings.paths), settings.tts.voices["en"]
        )
    except (ModelError, OSError) as error:
        raise CliError(f"the Piper caller voice needs the bundled models: {error}") from None
    return Renderer(settings.paths.data / "bench" / "voices", piper)


# --- the command ------------------------------------------------------------------------------


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description="Two callers back to back against our agent for N minutes, with callers "
        "that vanish, hang up during a reply, and a kill -9 + restart of the agent midway.",
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="minutes of calls")
    parser.add_argument("--out", type=Path, help="report folder (default var/soak/<time>)")
    parser.add_argument("--profile", default="cross-border", help=", ".join(PROFILES))
    parser.add_argument(
        "--scenarios", type=Path, default=Path("benchmarks/scenarios"), help="scenario folder"
    )
    parser.add_argument("--no-kill", action="store_true", help="no kill -9 midway")
    parser.add_argument("--config", type=Path, help="the agent's settings file")
    args = parser.parse_args(argv)
    if not 0.5 <= args.minutes <= 24 * 60:
        parser.error(f"--minutes takes 0.5 to 1440, not {args.minutes:g}")
    if args.profile not in PROFILES:
        parser.error(f"--profile: unknown {args.profile}; known: {', '.join(PROFILES)}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Options(
        minutes=args.minutes,
        out=args.out or Path("var/soak") / stamp,
        profile=profile_named(args.profile),
        scenarios=args.scenarios,
        kill=not args.no_kill,
        config=args.config,
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    options = parse_options(argv)
    settings = load_settings(options.config)
    options.out = options.out.resolve()
    print(
        f"soak: {options.minutes:g} min of calls ({MAX_CALLS} at once, {options.profile.name}), "
        f"ends within {(options.minutes * 60 + SAFETY_MARGIN_S) / 60:.0f} min; report in "
        f"{options.out}",
        flush=True,
    )
    try:
        report = asyncio.run(run_soak(options, settings))
    except CliError as error:
        print(f"soak: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("soak: interrupted; the agent was stopped", file=sys.stderr)
        return 130
    print(write_report(report, options.out))
    print(f"report: {options.out / 'report.md'}")
    return 0 if all(report.verdicts().values()) else 1


if __name__ == "__main__":
    sys.exit(main())
