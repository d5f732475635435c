"""Runs a benchmark: series of concurrent synthetic calls against one or two targets.

One series is one target, transport, impairment profile and concurrency level (and, for
scenarios in a language, that language, hinted to the agent or left for it to identify). Its
calls are recorded while they run; everything else (the figures of both receive modes, the replies'
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
from voice_agent.bench.scenario import RenderedTurn, Renderer, Scenario, caller_voice
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
    language: str | None = None
    """The language of the series' scenarios (None: scenarios without one)."""
    hinted: bool = False
    """Each call tells the agent its language up front (WebRTC: the offer's ?lang=); otherwise
    the agent has to identify it from the caller's speech."""
    busy_s: float = 0.0
    """Wall time the series' calls have run so far (its usage is averaged over it)."""

    def hint(self) -> str | None:
        """The language hint each call of the series gives (None: no hint)."""
        return self.language if self.hinted else None

    def turns_said(self, target: Target) -> int:
        """Caller turns said to `target` so far (a call that failed counts one)."""
        return sum(max(1, len(r.turns)) for r in self.recorded if r.target == target)

    def failed_in_a_row(self, target: Target) -> int:
        """How many of the latest calls to `target` failed, one after the other."""
        count = 0
        for recorded in reversed(self.recorded):
            if recorded.target == target:
                if not recorded.failure:
                    break
                count += 1
        return count

    def done_with(self, target: Target) -> bool:
        """`target` has its turns, or refused call after call (an agent that refuses every
        call is not slow: it is given up on)."""
        return (
            self.turns_said(target) >= self.turns
            or self.failed_in_a_row(target) >= GIVE_UP_AFTER_FAILURES
        )

    @property
    def finished(self) -> bool:
        return all(self.done_with(target) for target in self.targets)


Dial = Callable[
    [Target, str, Profile, str | None], contextlib.AbstractAsyncContextManager[LiveCall]
]
"""(target, transport, profile, language hint or None) -> a connected call (webrtc_call or
sip_call)."""


async def run_series(
    plan: SeriesPlan,
    scenarios: Sequence[Scenario],
    renderer: Renderer,
    dial: Dial,
    progress: ProgressBar | None = None,
    until: int | None = None,
) -> None:
    """Runs `plan.calls` callers at once until each target has `plan.turns` turns said.

    With `until`, stops once each target has that many (at most `plan.turns`): a later call
    goes on where this one stopped, with the next scenario and voice, so that several series
    can take turns (one call each) and share whatever the machine's load does meanwhile."""
    goal = plan.turns if until is None else min(until, plan.turns)
    said = {
        target.name: plan.turns if plan.done_with(target) else plan.turns_said(target)
        for target in plan.targets
    }
    numbers = itertools.count(len(plan.recorded))
    telephone = plan.transport == "sip"

    async def caller(worker: int) -> None:
        while True:
            number = next(numbers)
            target = plan.targets[number % len(plan.targets)]
            if said[target.name] >= goal:
                if all(count >= goal for count in said.values()):
                    return
                continue
            scenario = scenarios[number % len(scenarios)]
            voice = caller_voice(scenario, number, len(scenarios))
            turns = await asyncio.to_thread(renderer.render, scenario, number, voice, telephone)
            recorded = await _one_call(target, plan, dial, turns, number)
            plan.recorded.append(recorded)
            said[target.name] += max(1, len(recorded.turns))
            if plan.done_with(target):
                said[target.name] = plan.turns
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
    earlier_s = plan.busy_s
    plan.busy_s += max((sampler.wall_s for sampler in samplers.values()), default=0.0)
    for name, sampler in samplers.items():
        cpu, peak = plan.usage.get(name, (None, None))
        plan.usage[name] = (
            _weighted(cpu, earlier_s, sampler.cpu_cores, sampler.wall_s),
            max(peak or 0.0, sampler.peak_rss_mb) or None,
        )


def _weighted(
    earlier: float | None, earlier_s: float, latest: float | None, latest_s: float
) -> float | None:
    """CPU cores over a series run in pieces: each piece's average, weighted by its length."""
    if earlier is None or earlier_s <= 0:
        return latest
    if latest is None or latest_s <= 0:
        return earlier
    return round((earlier * earlier_s + latest * latest_s) / (earlier_s + latest_s), 2)


async def _one_call(
    target: Target, plan: SeriesPlan, dial: Dial, turns: list[RenderedTurn], number: int
) -> RecordedCall:
    recording = CallRecording()
    try:
        async with asyncio.timeout(CALL_LIMIT_S):
            async with dial(target, plan.transport, plan.profile, plan.hint()) as call:
                recording = call.recording
                played = await play_scenario(call, turns)
                relay = _relay_stats(call)
                ended_early = bool(turns) and not played and call.ended.is_set()
        if ended_early:  # e.g. the agent failed on the call's language: not a measurement
            failure = "the agent ended the call before the caller said a line"
            return RecordedCall(target, number, recording, [], relay, failure=failure)
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
            language=plan.language,
            hinted=plan.hinted if plan.language is not None else None,
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
