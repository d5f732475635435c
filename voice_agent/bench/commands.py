"""`voice-agent bench`: what callers really hear, over WebRTC and SIP, for any agent.

voice-agent bench --url URL [--signaling voice-agent|generic] [--transport webrtc|sip]
    [--calls N] [--turns N] [--profile NAME] [--receive arrival|browser] [--out DIR]
    [--sweep 1,2,4] [--serve] [--compare URL2] [--calibrate]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shlex
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voice_agent.errors import CliError
from voice_agent.settings import Settings

TRANSPORTS = ("webrtc", "sip")
RECEIVE_MODES = ("arrival", "browser")


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    bench = sub.add_parser(
        "bench",
        parents=[common],
        help="measure voice-to-voice latency as callers hear it (WebRTC, SIP)",
        description="Synthetic callers call a voice agent and measure what they hear.",
    )
    bench.add_argument("--url", help="the agent: http://host:port (WebRTC) or sip:user@host:port")
    bench.add_argument(
        "--signaling",
        choices=["voice-agent", "generic"],
        default="voice-agent",
        help="WebRTC offer/answer: ours (POST URL/webrtc/offer) or generic (POST "
        '{"sdp","type"} to URL, e.g. a Pipecat SmallWebRTC /api/offer)',
    )
    bench.add_argument("--transport", default="webrtc", help="webrtc, sip, or webrtc,sip")
    bench.add_argument("--calls", type=int, default=1, help="concurrent callers (default 1)")
    bench.add_argument("--turns", type=int, default=20, help="caller turns per series")
    bench.add_argument(
        "--profile", default="clean", help="clean, cross-border, bad-mobile, or a list"
    )
    bench.add_argument(
        "--receive", choices=[*RECEIVE_MODES, "both"], default="both", help="receive modes reported"
    )
    bench.add_argument("--out", type=Path, help="report folder (default var/bench/<time>)")
    bench.add_argument("--sweep", help="concurrency levels, e.g. 1,2,4 (instead of --calls)")
    bench.add_argument("--serve", action="store_true", help="start our own agent and measure it")
    bench.add_argument("--compare", metavar="URL2", help="a second agent, called alternately")
    bench.add_argument(
        "--compare-signaling", choices=["voice-agent", "generic"], help="the second agent's"
    )
    bench.add_argument(
        "--scenarios", type=Path, default=Path("benchmarks/scenarios"), help="scenario folder"
    )
    bench.add_argument(
        "--calibrate", action="store_true", help="check the instrument against known delays"
    )
    bench.set_defaults(command=_bench)


@dataclass(frozen=True, slots=True)
class BenchOptions:
    url: str | None
    signaling: str
    transports: tuple[str, ...]
    sweep: tuple[int, ...]
    turns: int
    profiles: tuple[str, ...]
    receive: tuple[str, ...]
    out: Path
    serve: bool
    compare: str | None
    compare_signaling: str
    scenarios: Path
    calibrate: bool
    config: Path | None
    policies: Path
    work: Path
    """Our agent's database and logs under --serve (not in the report folder)."""


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    options = _options(args, settings)
    if not args.verbose:  # every ICE check and HTTP request would drown the progress bar
        for name in ("aioice", "aiortc", "aiohttp.access"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if options.calibrate:
        return asyncio.run(_calibrate(options))
    return asyncio.run(_run(options, settings))


def _options(args: argparse.Namespace, settings: Settings) -> BenchOptions:
    transports = _listed(args.transport, TRANSPORTS, "--transport")
    sweep = _levels(args.sweep) if args.sweep else (args.calls,)
    if min(sweep) < 1 or max(sweep) > 64:
        raise CliError("--calls and --sweep take 1 to 64 concurrent calls")
    if args.turns < 1:
        raise CliError("--turns must be at least 1")
    if not (args.calibrate or args.serve or args.url):
        raise CliError("say which agent to measure: --url URL, or --serve to start ours")
    if args.url and len(transports) > 1:
        raise CliError("one --url serves one --transport; --serve measures both")
    from voice_agent.bench.relay import PROFILES

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return BenchOptions(
        url=args.url,
        signaling=args.signaling,
        transports=transports,
        sweep=sweep,
        turns=args.turns,
        profiles=_listed(args.profile, tuple(PROFILES), "--profile"),
        receive=RECEIVE_MODES if args.receive == "both" else (args.receive,),
        out=args.out or settings.paths.data / "bench" / stamp,
        serve=args.serve,
        compare=args.compare,
        compare_signaling=args.compare_signaling or args.signaling,
        scenarios=args.scenarios,
        calibrate=args.calibrate,
        config=getattr(args, "config", None),
        policies=settings.dialogue.policies,
        work=settings.paths.data / "bench" / stamp,
    )


def _listed(text: str, known: tuple[str, ...], flag: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise CliError(
            f"{flag}: unknown {', '.join(unknown) or 'value'}; known: {', '.join(known)}"
        )
    return names


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise CliError(
            f"--sweep takes numbers separated by commas, e.g. 1,2,4, not {text!r}"
        ) from None
    return levels


def _command_line() -> str:
    return "voice-agent " + shlex.join(sys.argv[1:])


async def _calibrate(options: BenchOptions) -> int:
    from voice_agent.bench.calibrate import calibrate
    from voice_agent.bench.report import Report, describe_machine, write_report

    started = datetime.now(UTC).isoformat(timespec="seconds")
    result = await calibrate(lambda line: print(line, file=sys.stderr))
    report = Report(
        title="Calibration: known delays recovered by the benchmark caller",
        command=_command_line(),
        machine=describe_machine(),
        started_at=started,
        series=[],
        calibration=result,
    )
    await asyncio.to_thread(write_report, report, options.out)
    print(f"calibration {'passed' if result['ok'] else 'FAILED'}: {options.out}/report.md")
    return 0 if result["ok"] else 1


async def _run(options: BenchOptions, settings: Settings) -> int:
    from voice_agent.bench.report import Report, describe_machine, write_report

    started = datetime.now(UTC).isoformat(timespec="seconds")
    async with _targets(options) as targets:
        series, notes = await _measure(options, settings, targets)
    report = Report(
        title="Voice-to-voice latency as callers hear it",
        command=_command_line(),
        machine=describe_machine(),
        started_at=started,
        series=series,
        compare=_comparison(series) if options.compare else None,
        notes=notes,
    )
    await asyncio.to_thread(write_report, report, options.out)
    print((options.out / "report.md").read_text(encoding="utf-8"))
    if report.compare:
        _print_comparison(report.compare)
    return 0


@contextlib.asynccontextmanager
async def _targets(options: BenchOptions) -> AsyncIterator[dict[str, list[Any]]]:
    """Per transport, the targets to call (ours first when --serve)."""
    from voice_agent.bench.runner import Target
    from voice_agent.bench.target import local_pid, serve_local_agent

    by_transport: dict[str, list[Target]] = {transport: [] for transport in options.transports}
    async with contextlib.AsyncExitStack() as stack:
        if options.serve:
            print("starting our agent (loading models) ...", file=sys.stderr)
            agent = await stack.enter_async_context(
                serve_local_agent(
                    options.work / "agent", max(options.sweep), options.policies, options.config
                )
            )
            for transport in options.transports:
                url = agent.web_url if transport == "webrtc" else agent.sip_target
                by_transport[transport].append(
                    Target(url, "voice-agent", agent.pid, label="voice-agent (--serve)")
                )
        elif options.url:
            pid = local_pid(options.url)
            by_transport[options.transports[0]].append(Target(options.url, options.signaling, pid))
        if options.compare:
            pid = local_pid(options.compare)
            for targets in by_transport.values():
                targets.append(Target(options.compare, options.compare_signaling, pid))
        yield by_transport


async def _measure(
    options: BenchOptions, settings: Settings, targets: dict[str, list[Any]]
) -> tuple[list[Any], list[str]]:
    from voice_agent.bench.dialing import dial
    from voice_agent.bench.relay import profile_named
    from voice_agent.bench.report import ProgressBar
    from voice_agent.bench.runner import SeriesPlan, run_series, series_of
    from voice_agent.bench.scenario import load_scenario, scenario_files

    scenarios = [load_scenario(path) for path in scenario_files(options.scenarios)]
    renderer = await asyncio.to_thread(_renderer, settings)
    plans = [
        SeriesPlan(transport, profile_named(profile), calls, options.turns, tuple(listed))
        for transport, listed in targets.items()
        for profile in options.profiles
        for calls in options.sweep
    ]
    total = sum(plan.turns * len(plan.targets) for plan in plans)
    progress = ProgressBar(total, "caller turns")
    for plan in plans:
        await run_series(plan, scenarios, renderer, dial, progress)
    progress.close()
    transcribe = await asyncio.to_thread(_transcriber, settings)
    series = []
    for plan in plans:
        for receive in options.receive:
            series.extend(await asyncio.to_thread(series_of, plan, receive, transcribe))
    return series, []


def _renderer(settings: Settings) -> Any:
    from voice_agent.bench.scenario import Renderer
    from voice_agent.bench.voices import piper_speaker
    from voice_agent.models import ModelError, ModelStore

    try:
        models = ModelStore(settings.models, settings.paths)
        piper = piper_speaker(models, settings.tts.voices["en"])
    except (ModelError, OSError) as error:
        raise CliError(f"the Piper caller voice needs the bundled models: {error}") from None
    return Renderer(settings.paths.data / "bench" / "voices", piper)


def _transcriber(settings: Settings) -> Any:
    """The bundled Whisper model, for the replies heard (after the calls, off the timing path)."""
    from concurrent.futures import ThreadPoolExecutor

    from voice_agent.audio import AudioFrame
    from voice_agent.models import ModelStore
    from voice_agent.stages.asr import AsrHint
    from voice_agent.stages.asr.whisper import WhisperAsr

    asr = WhisperAsr(
        settings.asr, ModelStore(settings.models, settings.paths), ThreadPoolExecutor(1)
    )
    asr.load()

    def transcribe(audio: AudioFrame) -> str:
        if not len(audio.samples):
            return ""
        return asr.transcribe_blocking(audio, AsrHint()).text

    return transcribe


def _comparison(series: list[Any]) -> dict[str, Any]:
    """Each series of the first target against the same series of the second."""
    from voice_agent.bench.report import compare_targets

    keyed: dict[tuple[str, str, str, int], list[Any]] = {}
    for item in series:
        keyed.setdefault((item.transport, item.profile, item.receive, item.calls), []).append(item)
    pairs = [
        {"receive": key[2], **compare_targets(pair[0], pair[1])}
        for key, pair in keyed.items()
        if len(pair) == 2
    ]
    return {"pairs": pairs}


def _print_comparison(comparison: dict[str, Any]) -> None:
    for pair in comparison["pairs"]:
        first, second = pair["targets"]
        print(
            f"{first['transport']} {first['profile']} {pair['receive']} {first['calls']} call(s): "
            f"{second['target']} / {first['target']} voice-to-voice p50 "
            f"{pair['second_over_first_p50']}, p95 {pair['second_over_first_p95']}"
        )
