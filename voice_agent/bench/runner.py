"""Runs a benchmark: series of concurrent synthetic calls against one or two targets.

One series is one target, transport, impairment profile and concurrency level. Its calls are
recorded while they run; everything else (the figures of both receive modes, the replies'
transcripts) is worked out from the recordings once all calls of the run have ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace

from voice_agent.bench.content import Transcribe, holds_keywords, reply_audio, reply_window
from voice_agent.bench.measures import PlayedTurn, measure_call, sounds, speech_bounds
from voice_agent.bench.player import LiveCall, play_scenario
from voice_agent.bench.relay import Profile
from voice_agent.bench.report import ProgressBar
from voice_agent.bench.results import Series, TurnFigures
from voice_agent.bench.scenario import RenderedTurn, Renderer, Scenario, voice_for
from voice_agent.bench.target import ProcessSampler
from voice_agent.bench.timeline import CallRecording, browser_playout

logger = logging.getLogger(__name__)

GIVE_UP_AFTER_FAILURES = 3
CALL_LIMIT_S = 240.0
"""One call of a scenario takes a minute or two; a call still going after this is stuck."""


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    signaling: str = "voice-agent"
    """webrtc: voice-agent (POST {url}/webrtc/offer) or generic (POST {"sdp","type"} to url)."""
    pid: int | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.url


@dataclass(slots=True)
class RecordedCall:
    target: Target
    number: int
    recording: CallRecording
    turns: list[PlayedTurn]
    relay: dict[str, object] | None = None
    failure: str | None = None
    transcripts: dict[int, str] = field(default_factory=dict)
    """Turn -> its reply's transcript (made once, shared by both receive modes)."""


@dataclass(slots=True)
class SeriesPlan:
    transport: str
    profile: Profile
    calls: int
    turns: int
    targets: tuple[Target, ...]
    recorded: list[RecordedCall] = field(default_factory=list)
    usage: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Target name -> (CPU cores, peak RSS MB) while the series ran."""


Dial = Callable[[Target, str, Profile], contextlib.AbstractAsyncContextManager[LiveCall]]
"""(target, transport, profile) -> a connected call (webrtc_call or sip_call)."""


async def run_series(
    plan: SeriesPlan,
    scenarios: Sequence[Scenario],
    renderer: Renderer,
    dial: Dial,
    progress: ProgressBar | None = None,
) -> None:
    """Runs `plan.calls` callers at once until each target has `plan.turns` turns said."""
    said = dict.fromkeys((target.name for target in plan.targets), 0)
    failed_in_a_row = dict.fromkeys(said, 0)
    numbers = itertools.count()
    telephone = plan.transport == "sip"

    async def caller(worker: int) -> None:
        while True:
            number = next(numbers)
            target = plan.targets[number % len(plan.targets)]
            if said[target.name] >= plan.turns:
                if all(count >= plan.turns for count in said.values()):
                    return
                continue
            scenario = scenarios[number % len(scenarios)]
            turns = await asyncio.to_thread(
                renderer.render, scenario, number, voice_for(number), telephone
            )
            recorded = await _one_call(target, plan, dial, turns, number)
            plan.recorded.append(recorded)
            said[target.name] += max(1, len(recorded.turns))
            failed_in_a_row[target.name] = (
                failed_in_a_row[target.name] + 1 if recorded.failure else 0
            )
            if failed_in_a_row[target.name] >= GIVE_UP_AFTER_FAILURES:
                said[target.name] = plan.turns  # an agent that refuses every call is not slow
            if progress is not None:
                progress.advance(len(recorded.turns), recorded.failure or "")

    async with _sampling(plan), asyncio.TaskGroup() as group:
        for worker in range(plan.calls):
            group.create_task(caller(worker))


@contextlib.asynccontextmanager
async def _sampling(plan: SeriesPlan) -> AsyncIterator[None]:
    samplers = {t.name: ProcessSampler(t.pid) for t in plan.targets if t.pid is not None}
    async with contextlib.AsyncExitStack() as stack:
        for sampler in samplers.values():
            await stack.enter_async_context(sampler)
        yield
    for name, sampler in samplers.items():
        plan.usage[name] = (sampler.cpu_cores, sampler.peak_rss_mb or None)


async def _one_call(
    target: Target, plan: SeriesPlan, dial: Dial, turns: list[RenderedTurn], number: int
) -> RecordedCall:
    recording = CallRecording()
    try:
        async with asyncio.timeout(CALL_LIMIT_S):
            async with dial(target, plan.transport, plan.profile) as call:
                recording = call.recording
                played = await play_scenario(call, turns)
                relay = _relay_stats(call)
        return RecordedCall(target, number, recording, played, relay)
    except TimeoutError:
        return RecordedCall(target, number, recording, [], failure="the call got stuck")
    except (OSError, RuntimeError, ValueError) as error:
        logger.warning("call %d to %s failed: %s", number, target.name, error)
        return RecordedCall(target, number, recording, [], failure=str(error))


def _relay_stats(call: LiveCall) -> dict[str, object] | None:
    stats = getattr(call, "relay_stats", None)
    return stats() if callable(stats) else None


# --- from recordings to series ------------------------------------------------------------------


def series_of(plan: SeriesPlan, receive: str, transcribe: Transcribe | None) -> list[Series]:
    """One Series per target, in this receive mode."""
    out = []
    for target in plan.targets:
        cpu, rss = plan.usage.get(target.name, (None, None))
        series = Series(
            target=target.name,
            transport=plan.transport,
            profile=plan.profile.name,
            receive=receive,
            calls=plan.calls,
            added_delay_ms=plan.profile.added_round_trip_ms,
            target_cpu=cpu,
            target_rss_mb=rss,
        )
        for recorded in plan.recorded:
            if recorded.target != target:
                continue
            if recorded.failure:
                series.failures.append(f"call {recorded.number}: {recorded.failure}")
            series.turns.extend(call_figures(recorded, receive, transcribe))
            if recorded.relay:
                series.relay = _merge_relay(series.relay, recorded.relay)
        out.append(series)
    return out


def call_figures(
    recorded: RecordedCall, receive: str, transcribe: Transcribe | None
) -> list[TurnFigures]:
    recording = recorded.recording
    packets = recording.heard if receive == "arrival" else browser_playout(recording.heard)
    heard = sounds(packets)
    figures = measure_call(recording, recorded.turns, heard, call=recorded.number)
    by_turn = {turn.index: turn for turn in recorded.turns}
    marks = _marks_by_turn(recorded)
    result = []
    for position, figure in enumerate(figures):
        turn = by_turn[figure.turn]
        following = figures[position + 1] if position + 1 < len(figures) else None
        transcript, ok = _content(recorded, turn, following, transcribe)
        stages = marks.get(turn.index, {})
        result.append(replace(figure, transcript=transcript, content_ok=ok, stages_ms=stages))
    return result


def _content(
    recorded: RecordedCall,
    turn: PlayedTurn,
    following: TurnFigures | None,
    transcribe: Transcribe | None,
) -> tuple[str, bool | None]:
    """The reply's transcript (always from arrival, the network's truth) and its verdict."""
    if transcribe is None or not turn.expect:
        return "", None
    recording = recorded.recording
    said = speech_bounds(recording, turn.index)
    if said is None:
        return "", None
    next_said = speech_bounds(recording, following.turn) if following else None
    until = next_said.start if next_said else (recording.ended_at or float("inf"))
    window = reply_window(sounds(recording.heard), said.end, until)
    if window is None:
        return "", False
    if turn.index not in recorded.transcripts:
        recorded.transcripts[turn.index] = transcribe(reply_audio(recording.heard, *window))
    text = recorded.transcripts[turn.index]
    return text, holds_keywords(text, turn.expect)


def _marks_by_turn(recorded: RecordedCall) -> dict[int, dict[str, float]]:
    """The target's own marks, each given to the caller turn it answered.

    The agent sends one set of marks per reply; a reply answers the last line the caller said
    before the marks arrived."""
    out: dict[int, dict[str, float]] = {}
    recording = recorded.recording
    ends = [
        (turn.index, bounds.end)
        for turn in recorded.turns
        if (bounds := speech_bounds(recording, turn.index)) is not None
    ]
    for entry in recording.stage_marks:
        answered = [index for index, end in ends if end <= entry.arrived_at]
        if answered and answered[-1] not in out:
            out[answered[-1]] = entry.marks_ms
    return out


def _merge_relay(total: dict[str, float] | None, stats: dict[str, object]) -> dict[str, float]:
    """Sums packet counts over calls; keeps the last call's rates and delays."""
    merged = dict(total or {})
    for key, value in stats.items():
        if not isinstance(value, int | float):
            continue
        counted = key.endswith(("packets", "dropped", "passed_at_once", "unroutable"))
        merged[key] = merged.get(key, 0.0) + value if counted else float(value)
    return merged
