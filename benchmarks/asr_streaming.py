"""Streamed recognition against one pass over the whole utterance, on the streaming corpus.

    python -m benchmarks.asr_streaming [--voices N] [--limit N] [--out DIR]

Issue 13 asks that the transcripts streamed while a caller speaks be no worse than one pass
over the whole utterance (WER within 0.5 points, at 16 kHz and on 8 kHz telephone audio), and
for the time of the final pass, the one the caller waits for after they stop.

The corpus is the caller lines of benchmarks/scenarios-streaming (bench scenarios: support
requests of 3-8 s, some with a planned pause inside). Each line is rendered by the bench's
voices (voice_agent.bench.scenario.Renderer, its WAV cache in var/bench/voices), the
placeholders filled from the scenario's [[callers]] in turn (the line's k-th voice says the
k-th caller's order number); at 16 kHz as WebRTC delivers it, and as 8 kHz telephone audio
(the bench's SIP rendering) brought back to 16 kHz 20 ms at a time by the SIP path's own
converter (voice_agent.transport.rtp_udp.PhoneBand).

For each clip:
- whole: ``WhisperAsr.transcribe_blocking`` over the clip;
- streamed, in simulated real time, through the call's own ``WhisperStream``
  (voice_agent/stages/asr/live.py): the audio arrives in 20 ms frames; whenever a partial pass
  is due (0.5 s of new audio) it runs at once, and as a pass takes real CPU time the audio
  clock moves on by the pass's measured wall time, the frames that arrived meanwhile appended
  before its words are taken (one decoder: passes never overlap). When the clip's last frame
  has arrived the final pass runs (``WhisperStream.transcript``: the unconfirmed tail, or the
  whole utterance again when that pass stops short) and is timed. A partial pass still
  running at the clip's end is waited for: that wait is reported apart from the final pass.

WER is scored by benchmarks/scoring.py against what was said. Results:
benchmarks/results/asr_streaming.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.scoring import word_error_rate
from voice_agent.audio import PIPELINE_RATE, AudioFrame
from voice_agent.bench.scenario import (
    RenderedTurn,
    Renderer,
    Scenario,
    ScenarioTurn,
    load_scenario,
    scenario_files,
)
from voice_agent.bench.voices import piper_speaker
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, Settings, load_settings
from voice_agent.stages.asr import AsrHint
from voice_agent.stages.asr.live import PartialRunner, StreamingWhisper
from voice_agent.stages.asr.whisper import HeardWords, WhisperAsr
from voice_agent.transport.rtp_udp import PhoneBand

HERE = Path(__file__).parent
CORPUS = HERE / "scenarios-streaming"
RESULTS = HERE / "results"
VOICE_ORDER: tuple[str, ...] = (
    "en-us",
    "piper:1.0",
    "en-gb+f3",
    "en-us+m7",
    "en-gb-scotland+f2",
    "piper:1.15",
)
"""The bench's voices (VOICES), in the order `--voices N` takes them (4: three espeak, Piper)."""
LINES = ("16k", "8k")
"""16 kHz (WebRTC) and 8 kHz telephone audio (SIP)."""
FRAME_S = 0.02
MIN_NEW_S = 0.5
"""A partial pass is due after this much audio since the last pass's input ended."""
GOAL_POINTS = 0.5
"""Issue 13: streamed WER no worse than the whole-utterance pass by more than this."""
_EPSILON_S = 1e-9
_PAUSE = re.compile(r"<pause\s+([0-9.]+)>")


# --- the corpus --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusLine:
    """One caller line of a scenario: the turn at `index`."""

    scenario: Scenario
    index: int

    @property
    def turn(self) -> ScenarioTurn:
        return self.scenario.turns[self.index]

    @property
    def name(self) -> str:
        return f"{self.scenario.name}#{self.index + 1}"

    @property
    def pauses_s(self) -> tuple[float, ...]:
        """The planned pauses written in the line, in seconds."""
        return tuple(float(length) for length in _PAUSE.findall(self.turn.say))

    def alone(self, caller: int) -> Scenario:
        """A scenario of this line only, said by caller `caller` (in turn): for the renderer."""
        callers = self.scenario.callers
        values = callers[caller % len(callers)]
        return Scenario(self.scenario.name, (self.turn,), (values,), self.scenario.source)


def corpus_lines(folder: Path = CORPUS) -> list[CorpusLine]:
    """Every caller line of the scenarios in `folder`, file by file, turn by turn."""
    scenarios = [load_scenario(path) for path in scenario_files(folder)]
    return [CorpusLine(s, index) for s in scenarios for index in range(len(s.turns))]


def renderer(settings: Settings) -> Renderer:
    """The bench's renderer: espeak-ng and Piper voices, cached WAVs in var/bench/voices."""
    piper = piper_speaker(ModelStore(settings.models, settings.paths), settings.tts.voices["en"])
    return Renderer(settings.paths.data / "bench" / "voices", piper)


def render_line(
    render: Renderer, line: CorpusLine, caller: int, voice: str, telephone: bool
) -> RenderedTurn:
    return render.render(line.alone(caller), 0, voice, telephone)[0]


@dataclass(frozen=True, slots=True)
class Clip:
    line: str
    voice: str
    rate: str
    said: str
    paused: bool
    """The line has a planned pause inside."""
    frames: tuple[AudioFrame, ...]
    """16 kHz, 20 ms each: what the pipeline is given, frame by frame."""

    @property
    def audio(self) -> AudioFrame:
        return AudioFrame.concat(list(self.frames))


def pipeline_frames(rendered: AudioFrame) -> tuple[AudioFrame, ...]:
    """The pipeline's 20 ms frames: as they are at 16 kHz; 8 kHz telephone audio brought up
    to 16 kHz packet by packet by the SIP path's converter."""
    packets = rendered.chunks(FRAME_S)
    if rendered.rate == PIPELINE_RATE:
        return tuple(packets)
    band = PhoneBand()
    return tuple(AudioFrame(band.up(packet.samples), PIPELINE_RATE) for packet in packets)


def clips(render: Renderer, lines: Sequence[CorpusLine], voices: Sequence[str]) -> Iterator[Clip]:
    """Each line in each voice, the k-th voice saying the k-th caller's values; each rate."""
    for line in lines:
        for caller, voice in enumerate(voices):
            for rate in LINES:
                rendered = render_line(render, line, caller, voice, telephone=rate == "8k")
                frames = pipeline_frames(rendered.audio)
                yield Clip(line.name, voice, rate, rendered.text, bool(rendered.pauses_s), frames)


# --- the streamed pass in simulated real time --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Streamed:
    text: str
    partial_ms: tuple[float, ...]
    """Each partial pass's wall time, in order."""
    inputs_s: tuple[tuple[float, float], ...]
    """Each partial pass's audio: (offset, duration) in seconds on the clip's clock."""
    wait_ms: float
    """The partial pass still running when the clip's last frame arrived: how long after it."""
    final_ms: float
    final_audio_s: float
    """The audio the final pass decoded (from the cut to the clip's end; all of it when the
    final pass stopped short and the whole utterance was decoded again)."""
    whole_again: bool = False
    """The final pass stopped short of its audio and the stream decoded the whole utterance."""

    @property
    def ready_ms(self) -> float:
        """The transcript's delay after the clip's last frame: the wait, then the final pass."""
        return self.wait_ms + self.final_ms


class _InlinePartials:
    """Runs each partial pass at once on the calling thread, timing it: one decoder, as the
    call's passes never overlap on one utterance."""

    def __init__(self, timer: Callable[[], float]) -> None:
        self._timer = timer
        self.last_s = 0.0
        self.partial_ms: list[float] = []
        self.inputs: list[tuple[float, float]] = []

    def __call__(self, job: Callable[[], HeardWords]) -> Future[HeardWords]:
        audio = job.args[0] if isinstance(job, functools.partial) else None
        if isinstance(audio, AudioFrame):
            self.inputs.append((audio.timestamp, audio.duration))
        future: Future[HeardWords] = Future()
        started = self._timer()
        future.set_result(job())
        self.last_s = self._timer() - started
        self.partial_ms.append(self.last_s * 1000)
        return future


def stream(
    frames: Sequence[AudioFrame],
    streaming: Callable[[PartialRunner], StreamingWhisper],
    timer: Callable[[], float] = time.perf_counter,
    hint: AsrHint | None = None,
) -> Streamed:
    """The clip streamed through the call's own WhisperStream, in simulated real time, under
    `hint` (none by default: this corpus's free speech)."""
    partials = _InlinePartials(timer)
    whisper_stream = streaming(partials).stream(hint or AsrHint())
    # When each frame has arrived: the time of its last sample on the clip's clock.
    arrival = np.cumsum([len(frame.samples) for frame in frames]) / PIPELINE_RATE

    async def run() -> Streamed:
        clock = 0.0
        arrived = 0
        while arrived < len(frames):
            whisper_stream.append(frames[arrived])
            clock = max(clock, float(arrival[arrived]))
            arrived += 1
            # Partial passes while the caller speaks; once the last frame is in, the final one.
            while arrived < len(frames) and (partial := whisper_stream.partial()) is not None:
                clock += partials.last_s
                # What arrived while the pass ran is there before its words are taken.
                while arrived < len(frames) and arrival[arrived] <= clock + _EPSILON_S:
                    whisper_stream.append(frames[arrived])
                    arrived += 1
                await partial
        wait_s = max(0.0, clock - float(arrival[-1])) if len(frames) else 0.0
        started = timer()
        transcript = await whisper_stream.transcript()
        final_s = timer() - started
        final_audio_ms = transcript.timings.get("final_audio_ms")
        return Streamed(
            transcript.text,
            tuple(partials.partial_ms),
            tuple(partials.inputs),
            wait_s * 1000,
            final_s * 1000,
            (final_audio_ms / 1000) if final_audio_ms is not None else float(arrival[-1]),
            whole_again=final_audio_ms is None,
        )

    return asyncio.run(run())


@dataclass(frozen=True, slots=True)
class Result:
    clip: Clip
    whole: str
    whole_ms: float
    streamed: Streamed

    def record(self) -> dict[str, Any]:
        clip, streamed = self.clip, self.streamed
        return {
            "line": clip.line,
            "voice": clip.voice,
            "rate": clip.rate,
            "paused": clip.paused,
            "said": clip.said,
            "whole": self.whole,
            "streamed": streamed.text,
            "clip_s": round(clip.audio.duration, 2),
            "final_audio_s": round(streamed.final_audio_s, 2),
            "whole_ms": round(self.whole_ms, 1),
            "final_ms": round(streamed.final_ms, 1),
            "wait_ms": round(streamed.wait_ms, 1),
            "partial_passes": len(streamed.partial_ms),
        }


def run_clip(asr: WhisperAsr, settings: AsrSettings, clip: Clip) -> Result:
    audio = clip.audio
    started = time.perf_counter()
    whole = asr.transcribe_blocking(audio, AsrHint()).text
    whole_ms = (time.perf_counter() - started) * 1000

    def streaming(partials: PartialRunner) -> StreamingWhisper:
        return StreamingWhisper(asr, settings, partials)

    return Result(clip, whole, whole_ms, stream(clip.frames, streaming))


# --- the report --------------------------------------------------------------------------------


def _stats(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    if not values:
        return {}
    return {
        "n": len(values),
        "p50": round(float(np.percentile(values, 50)), digits),
        "p95": round(float(np.percentile(values, 95)), digits),
        "max": round(float(max(values)), digits),
    }


def _wers(results: Sequence[Result]) -> dict[str, float]:
    said = [r.clip.said for r in results]
    whole = 100 * word_error_rate(said, [r.whole for r in results])
    streamed = 100 * word_error_rate(said, [r.streamed.text for r in results])
    return {
        "whole_percent": round(whole, 2),
        "streamed_percent": round(streamed, 2),
        "difference_points": round(streamed - whole, 2),
    }


def _clips_compared(results: Sequence[Result]) -> dict[str, int]:
    """How many clips the streamed transcript scores worse, the same or better on."""
    counts = {"streamed_worse": 0, "same": 0, "streamed_better": 0}
    for r in results:
        whole = word_error_rate([r.clip.said], [r.whole])
        streamed = word_error_rate([r.clip.said], [r.streamed.text])
        key = "same" if streamed == whole else "streamed_worse" if streamed > whole else ""
        counts[key or "streamed_better"] += 1
    return counts


def summary(results: Sequence[Result]) -> dict[str, Any]:
    passes = [len(r.streamed.partial_ms) for r in results]
    wer = _wers(results)
    paused = [r for r in results if r.clip.paused]
    return {
        "clips": len(results),
        "audio_s": round(sum(r.clip.audio.duration for r in results), 1),
        "wer": {**wer, "goal_met": wer["difference_points"] <= GOAL_POINTS},
        "clips_compared": _clips_compared(results),
        "wer_lines_with_pause": {"clips": len(paused), **_wers(paused)} if paused else {},
        "final_pass_ms": _stats([r.streamed.final_ms for r in results]),
        "whole_pass_ms": _stats([r.whole_ms for r in results]),
        "wait_for_partial_ms": _stats([r.streamed.wait_ms for r in results]),
        "ready_after_end_ms": _stats([r.streamed.ready_ms for r in results]),
        "final_audio_s": _stats([r.streamed.final_audio_s for r in results], 2),
        "clip_s": _stats([r.clip.audio.duration for r in results], 2),
        "final_share_of_clip": _stats(
            [r.streamed.final_audio_s / r.clip.audio.duration for r in results], 2
        ),
        "partial_passes": {
            "total": sum(passes),
            "per_clip_mean": round(float(np.mean(passes)), 1),
            "per_clip_max": max(passes),
        },
        "partial_pass_ms": _stats([ms for r in results for ms in r.streamed.partial_ms]),
    }


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}, {model}, {os.cpu_count()} cores shared with other work"


def report(
    results: Sequence[Result], lines: Sequence[CorpusLine], voices: Sequence[str], command: str
) -> dict[str, Any]:
    scenarios = sorted({line.scenario.name for line in lines})
    return {
        "benchmark": "asr_streaming",
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "corpus": {
            "folder": str(CORPUS.relative_to(HERE.parent)),
            "scenarios": len(scenarios),
            "lines": len(lines),
            "lines_with_pause": sum(1 for line in lines if line.pauses_s),
            "voices": list(voices),
        },
        "settings": {"frame_s": FRAME_S, "partial_pass_every_s": MIN_NEW_S},
        "goal_points": GOAL_POINTS,
        "by_line": {rate: summary([r for r in results if r.clip.rate == rate]) for rate in LINES},
        "clips": [r.record() for r in results],
    }


def _cell(stats: dict[str, float], key: str) -> str:
    return str(stats.get(key, "-"))


def markdown(data: dict[str, Any]) -> str:
    corpus = data["corpus"]
    lines = [
        "# Streamed recognition against one whole-utterance pass",
        "",
        f"`{data['command']}` on {data['date']} ({data['machine']}).",
        "",
        f"Corpus: {corpus['lines']} caller lines of 3-8 s from `{corpus['folder']}/` "
        f"(scenarios: {corpus['scenarios']}; lines with a planned 0.4-0.7 s pause inside: "
        f"{corpus['lines_with_pause']}), each said by {len(corpus['voices'])} voices "
        f"({', '.join(corpus['voices'])}), "
        "the k-th voice with the k-th caller's order numbers; at 16 kHz (WebRTC) and as 8 kHz "
        "telephone audio brought back to 16 kHz by the SIP path's converter. tiny.en int8, "
        "the agent's ASR settings.",
        "",
        "Streamed: 20 ms frames arrive in simulated real time; a partial pass whenever 0.5 s of "
        "new audio has come and no pass is running; the audio clock moves on by each pass's "
        "measured time; the final pass at the clip's end. Whole: one `transcribe_blocking` "
        "over the clip. WER against what was said (`benchmarks/scoring.py`).",
        "",
        "**Timings are noisy**: the machine's 2 cores were shared with other work during the "
        "run, and every pass's time also moves the simulated clock (so the number of partial "
        "passes varies with the load too). Read the WER as the result and the milliseconds "
        "as this machine on that day.",
        "",
        f"## WER (goal: streamed no worse than whole by more than {data['goal_points']} points)",
        "",
        "| line | clips | whole % | streamed % | difference (points) | goal | "
        "lines with a pause: whole % / streamed % | clips streamed worse / same / better |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rate, row in data["by_line"].items():
        wer, paused = row["wer"], row["wer_lines_with_pause"]
        pause_cell = (
            f"{paused['whole_percent']} / {paused['streamed_percent']} ({paused['clips']} clips)"
            if paused
            else "-"
        )
        compared = row["clips_compared"]
        lines.append(
            f"| {rate} | {row['clips']} | {wer['whole_percent']} | {wer['streamed_percent']} | "
            f"{wer['difference_points']:+} | {'met' if wer['goal_met'] else 'missed'} | "
            f"{pause_cell} | {compared['streamed_worse']} / {compared['same']} / "
            f"{compared['streamed_better']} |"
        )
    lines += [
        "",
        "## Time",
        "",
        "| line | final pass ms p50 / p95 | wait for a running partial ms p50 / p95 | "
        "ready after the clip's end ms p50 / p95 | whole pass ms p50 / p95 |",
        "|---|---|---|---|---|",
    ]
    for rate, row in data["by_line"].items():
        cells = [
            f"{_cell(row[key], 'p50')} / {_cell(row[key], 'p95')}"
            for key in ("final_pass_ms", "wait_for_partial_ms", "ready_after_end_ms")
        ]
        whole = row["whole_pass_ms"]
        lines.append(
            f"| {rate} | {' | '.join(cells)} | {_cell(whole, 'p50')} / {_cell(whole, 'p95')} |"
        )
    lines += [
        "",
        "## What the final pass decodes",
        "",
        "| line | final pass audio s p50 / p95 | clip s p50 / p95 | share of the clip p50 / p95 "
        "| partial passes (per clip mean, max; total) | partial pass ms p50 / p95 |",
        "|---|---|---|---|---|---|",
    ]
    for rate, row in data["by_line"].items():
        audio, clip, share = row["final_audio_s"], row["clip_s"], row["final_share_of_clip"]
        passes, partial = row["partial_passes"], row["partial_pass_ms"]
        lines.append(
            f"| {rate} | {audio['p50']} / {audio['p95']} | {clip['p50']} / {clip['p95']} | "
            f"{share['p50']} / {share['p95']} | {passes['per_clip_mean']}, "
            f"{passes['per_clip_max']}; {passes['total']} | "
            f"{_cell(partial, 'p50')} / {_cell(partial, 'p95')} |"
        )
    lines += [
        "",
        "Wait: a partial pass still running when the clip's last frame arrived is finished and "
        "its words taken before the final pass starts (one decoder). Ready after the clip's "
        "end = wait + final pass; on a call the endpointer's silence comes before it.",
        "",
        "Every clip's transcripts and times are in `asr_streaming.json`.",
    ]
    return "\n".join(lines) + "\n"


# --- running it --------------------------------------------------------------------------------


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.asr_streaming", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--voices", type=int, default=len(VOICE_ORDER), help="how many bench voices (default all 6)"
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N lines (quick runs)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    args = parser.parse_args(argv)
    if not 1 <= args.voices <= len(VOICE_ORDER):
        parser.error(f"--voices is 1 to {len(VOICE_ORDER)}")
    if args.limit < 0:
        parser.error("--limit is a number of lines")
    return args


def _command(args: argparse.Namespace) -> str:
    command = "python -m benchmarks.asr_streaming"
    if args.voices != len(VOICE_ORDER):
        command += f" --voices {args.voices}"
    if args.limit:
        command += f" --limit {args.limit}"
    if args.out.resolve() != RESULTS.resolve():
        command += f" --out {args.out}"
    return command


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    settings = load_settings()
    lines = corpus_lines()
    if args.limit:
        lines = lines[: args.limit]
    voices = VOICE_ORDER[: args.voices]
    render = renderer(settings)
    with ThreadPoolExecutor(max_workers=1) as pool:
        asr = WhisperAsr(settings.asr, ModelStore(settings.models, settings.paths), pool)
        asr.load()
        todo = clips(render, lines, voices)
        first = next(todo)
        run_clip(asr, settings.asr, first)  # warm-up: the first passes pay one-off costs
        total = len(lines) * len(voices) * len(LINES)
        results: list[Result] = []
        for number, clip in enumerate(itertools.chain([first], todo), 1):
            results.append(run_clip(asr, settings.asr, clip))
            if number % 20 == 0 or number == total:
                print(f"{number}/{total} clips", file=sys.stderr, flush=True)
    data = report(results, lines, voices, _command(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "asr_streaming.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / "asr_streaming.md").write_text(markdown(data))
    print(markdown(data))


if __name__ == "__main__":
    main()
