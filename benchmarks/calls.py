"""Caller-side latency of whole calls over the WAV transport, in real time.

    .venv/bin/python -m benchmarks.calls [--quick] [--concurrency 2]

Scripted callers (espeak-ng voices) phone the agent running on the demo shop: they ask where
an order is, give the order number and a second factor, and hang up. The end of each caller
utterance is known from the generated audio, and the first sound of the reply from the audio
the caller heard, so voice-to-voice latency is measured as the caller lives it, independently
of the agent's own VAD. Other scenarios measure barge-in reaction, false cut-offs of
utterances with pauses inside, and false barge-ins caused by the agent's own echo.

Results: benchmarks/results/calls.json and calls.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from voice_agent.agent.events import (
    AgentStopped,
    BargeIn,
    BargeInResolved,
    CallerSaid,
    TurnLatency,
)
from voice_agent.app import App
from voice_agent.audio import AudioFrame
from voice_agent.audio.levels import rms_dbfs
from voice_agent.bench.caller import Cue, Line, Spoken
from voice_agent.bench.simulate import EchoPath, SimulatedCall, simulate_call
from voice_agent.bench.voices import EspeakVoice
from voice_agent.settings import load_settings
from voice_agent.store.demo import demo_document
from voice_agent.store.importer import import_document
from voice_agent.transport.wavfile import Pacing

RESULTS = Path(__file__).parent / "results"
VOICES = ("en-us", "en-gb+f3", "en-us+m7", "en-gb-scotland+f2")
AUDIBLE_DBFS = -50.0

# (order number as spoken, the phone's last four digits as spoken), from the demo shop.
CALLERS = (
    ("four seven seven zero zero", "zero three two one"),
    ("four five zero six nine", "one two three four"),
    ("three one one four four", "zero seven five two"),
    ("two zero seven eight six", "zero nine seven two"),
    ("five eight eight one four", "zero seven five two"),
    ("one zero four five seven", "eight eight seven one"),
    ("four five zero seven one", "six six three zero"),
    ("two zero seven eight nine", "zero one three three"),
)


SLOWEST = 5


@dataclass
class Scores:
    voice_to_voice_ms: list[float] = field(default_factory=list)
    turns: list[tuple[float, str, str]] = field(default_factory=list)
    """(voice-to-voice ms, what the caller said, what the agent heard) of every scored turn."""
    marks_ms: dict[str, list[float]] = field(default_factory=dict)
    barge_paused_ms: list[float] = field(default_factory=list)
    barge_stopped_ms: list[float] = field(default_factory=list)
    pause_utterances: int = 0
    false_cut_offs: int = 0
    echo_replies: int = 0
    false_barge_ins: int = 0


def _say(text: str, voice: str, **cue: Any) -> Line:
    return Line(EspeakVoice(voice).speak(text), text, **cue)


def _with_pause(first: str, second: str, voice: str, pause_s: float) -> Line:
    speaker = EspeakVoice(voice)
    audio = AudioFrame.concat(
        [speaker.speak(first), AudioFrame.silence(pause_s), speaker.speak(second)]
    )
    return Line(audio, f"{first} ... {second}")


def _first_audible_after(call: SimulatedCall, at: float) -> float | None:
    agent = call.call.agent()
    start = max(0, round((at - agent.timestamp) * agent.rate))
    for offset in range(start, len(agent.samples), 320):
        if rms_dbfs(agent.samples[offset : offset + 320]) > AUDIBLE_DBFS:
            return agent.timestamp + offset / agent.rate
    return None


def _first_silent_after(call: SimulatedCall, at: float) -> float | None:
    agent = call.call.agent()
    start = max(0, round((at - agent.timestamp) * agent.rate))
    for offset in range(start, len(agent.samples), 320):
        if rms_dbfs(agent.samples[offset : offset + 320]) <= AUDIBLE_DBFS:
            return agent.timestamp + offset / agent.rate
    return None


def _latency_lines(index: int) -> list[Line]:
    voice = VOICES[index % len(VOICES)]
    number, phone = CALLERS[index % len(CALLERS)]
    return [
        _say("Where is my order?", voice),
        _say(f"It's {number}.", voice),
        _say(f"The last four digits of my phone are {phone}.", voice),
        _say("No thanks, goodbye.", voice),
    ]


def _heard(call: SimulatedCall, spoken: Spoken) -> str:
    """What the agent took the caller to have said in this line's turn."""
    said = [e for e in call.of_type(CallerSaid) if isinstance(e, CallerSaid)]
    after = [e.text for e in said if e.at >= spoken.started_at]
    return after[0] if after else ""


def _score_latency(call: SimulatedCall, scores: Scores) -> None:
    for spoken in call.spoken:
        heard = _first_audible_after(call, spoken.ended_at)
        if heard is not None and heard - spoken.ended_at < 10:
            scores.voice_to_voice_ms.append((heard - spoken.ended_at) * 1000)
            scores.turns.append(
                ((heard - spoken.ended_at) * 1000, spoken.line.text, _heard(call, spoken))
            )
    for event in call.of_type(TurnLatency):
        assert isinstance(event, TurnLatency)
        for name, ms in event.marks_ms.items():
            scores.marks_ms.setdefault(name, []).append(ms)


def _barge_lines(index: int) -> list[Line]:
    voice = VOICES[index % len(VOICES)]
    return [
        _say("Where is my order?", voice),
        _say("Sorry, I would rather talk to a person.", voice, cue=Cue.DURING_REPLY),
        _say("Goodbye.", voice),
    ]


def _score_barge(call: SimulatedCall, scores: Scores) -> None:
    onset = call.spoken[1].started_at if len(call.spoken) > 1 else None
    if onset is None:
        return
    paused = _first_silent_after(call, onset)
    if paused is not None:
        scores.barge_paused_ms.append((paused - onset) * 1000)
    for event in call.of_type(BargeInResolved):
        assert isinstance(event, BargeInResolved)
        if event.interrupted and event.at >= onset:
            scores.barge_stopped_ms.append((event.at - onset) * 1000)
            break


def _pause_lines(index: int) -> list[Line]:
    voice = VOICES[index % len(VOICES)]
    number, _ = CALLERS[index % len(CALLERS)]
    digits = number.split()
    return [
        _say("Where is my order?", voice),
        _with_pause("It's " + " ".join(digits[:3]), " ".join(digits[3:]) + ".", voice, 0.6),
        _with_pause("Hmm, let me see", "I think that was my old phone number.", voice, 0.5),
        _say("Goodbye.", voice),
    ]


def _score_pauses(call: SimulatedCall, scores: Scores) -> None:
    said = [event for event in call.of_type(CallerSaid) if isinstance(event, CallerSaid)]
    for spoken in call.spoken:
        if "..." not in spoken.line.text:
            continue
        scores.pause_utterances += 1
        inside = [e for e in said if spoken.started_at <= e.at <= spoken.ended_at + 0.05]
        if inside:  # a turn committed before the utterance ended: the caller was cut off
            scores.false_cut_offs += 1


def _score_echo(call: SimulatedCall, scores: Scores) -> None:
    stopped = [e for e in call.of_type(AgentStopped) if isinstance(e, AgentStopped)]
    scores.echo_replies += len(stopped)
    scores.false_barge_ins += len(call.of_type(BargeIn))


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = np.array(sorted(values))
    return {
        "n": len(values),
        "p50": round(float(np.percentile(ordered, 50)), 1),
        "p95": round(float(np.percentile(ordered, 95)), 1),
        "p99": round(float(np.percentile(ordered, 99)), 1),
        "max": round(float(ordered[-1]), 1),
    }


async def _run(app: App, quick: bool, concurrency: int) -> Scores:
    scores = Scores()
    latency_calls = 3 if quick else 8
    for start in range(0, latency_calls, concurrency):
        batch = range(start, min(start + concurrency, latency_calls))
        calls = await asyncio.gather(
            *(simulate_call(app, _latency_lines(i), Pacing.REALTIME) for i in batch)
        )
        for call in calls:
            _score_latency(call, scores)
    if concurrency > 1:
        return scores
    for index in range(2 if quick else 5):
        call = await simulate_call(app, _barge_lines(index), Pacing.REALTIME)
        _score_barge(call, scores)
        _score_latency(call, scores)
    for index in range(2 if quick else 5):
        call = await simulate_call(app, _pause_lines(index), Pacing.REALTIME)
        _score_pauses(call, scores)
    for index, delay in enumerate((0.04, 0.08, 0.12, 0.06)[: 2 if quick else 4]):
        echo = EchoPath(delay_s=delay, gain_db=-12)
        call = await simulate_call(app, _latency_lines(index), Pacing.REALTIME, echo=echo)
        _score_echo(call, scores)
    return scores


def _report(scores: Scores, concurrency: int, quick: bool) -> dict[str, Any]:
    return {
        "benchmark": "calls",
        "command": "python -m benchmarks.calls"
        + (" --quick" if quick else "")
        + (f" --concurrency {concurrency}" if concurrency > 1 else ""),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "concurrent_calls": concurrency,
        "voice_to_voice_ms": _percentiles(scores.voice_to_voice_ms),
        "marks_ms_after_detected_speech_end": {
            name: _percentiles(values) for name, values in sorted(scores.marks_ms.items())
        },
        "slowest_turns": [
            {"voice_to_voice_ms": round(ms, 1), "said": said, "heard": heard}
            for ms, said, heard in sorted(scores.turns, reverse=True)[:SLOWEST]
        ],
        "barge_in_paused_ms": _percentiles(scores.barge_paused_ms),
        "barge_in_stopped_ms": _percentiles(scores.barge_stopped_ms),
        "false_cut_offs": {
            "utterances_with_pauses": scores.pause_utterances,
            "cut_off": scores.false_cut_offs,
        },
        "false_barge_ins_under_echo": {
            "replies": scores.echo_replies,
            "barge_ins": scores.false_barge_ins,
        },
    }


def _markdown(report: dict[str, Any]) -> str:
    def row(name: str, stats: dict[str, float]) -> str:
        if not stats:
            return f"| {name} | - | - | - | - | 0 |"
        return (
            f"| {name} | {stats['p50']} | {stats['p95']} | {stats['p99']} | {stats['max']} "
            f"| {stats['n']} |"
        )

    lines = [
        f"# Call latency ({report['concurrent_calls']} call(s) at a time)",
        "",
        f"`{report['command']}` on {report['date']} ({report['machine']}).",
        "",
        "| measure (ms) | p50 | p95 | p99 | max | n |",
        "|---|---|---|---|---|---|",
        row("voice-to-voice (caller side)", report["voice_to_voice_ms"]),
    ]
    for name, stats in report["marks_ms_after_detected_speech_end"].items():
        lines.append(row(f"{name} (after VAD speech end)", stats))
    lines.append(row("barge-in: onset to agent paused", report["barge_in_paused_ms"]))
    lines.append(row("barge-in: onset to stopped for good", report["barge_in_stopped_ms"]))
    lines += ["", "Slowest turns (what the caller said, what the agent heard):", ""]
    lines += [
        f"- {turn['voice_to_voice_ms']} ms: {turn['said']!r} heard as {turn['heard']!r}"
        for turn in report["slowest_turns"]
    ]
    cut = report["false_cut_offs"]
    echo = report["false_barge_ins_under_echo"]
    lines += [
        "",
        f"False cut-offs: {cut['cut_off']} of {cut['utterances_with_pauses']} utterances with "
        "a 0.5-0.6 s pause inside.",
        f"False barge-ins under echo (-12 dB, 40-120 ms, telephone band): {echo['barge_ins']} "
        f"in {echo['replies']} agent replies.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    parser.add_argument("--concurrency", type=int, default=1, help="calls at a time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data:
        environ = {
            "VOICE_AGENT_PATHS__DATA_DIR": data,
            "VOICE_AGENT_STORE__URL": f"sqlite:///{data}/bench.sqlite3",
            "VOICE_AGENT_SESSION__MAX_CONCURRENT_CALLS": str(max(2, args.concurrency)),
        }
        app = App(load_settings(environ=environ))
        import_document(app.database, demo_document(datetime.now(UTC)), "demo")

        async def run() -> Scores:
            await app.warm_up()
            return await _run(app, args.quick, args.concurrency)

        try:
            scores = asyncio.run(run())
        finally:
            app.close()
    report = _report(scores, args.concurrency, args.quick)
    suffix = "" if args.concurrency == 1 else f"_x{args.concurrency}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"calls{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"calls{suffix}.md").write_text(_markdown(report))
    print(_markdown(report))
    print(json.dumps({"median_ms": statistics.median(scores.voice_to_voice_ms or [0])}))


if __name__ == "__main__":
    main()
