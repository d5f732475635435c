"""The `voice-agent` command: serve, transcribe, say, call, models, data, chat, bench, desk,
livekit-worker."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from voice_agent.app import App
from voice_agent.errors import CliError
from voice_agent.logs import configure_logging
from voice_agent.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    command: Command = args.command
    try:
        settings = load_settings(args.config)
        return command(args, settings)
    except (SettingsError, CliError) as error:
        print(f"voice-agent: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voice-agent", parents=[_common_options(None, False)])
    # Given after the command too; unset there, they leave what was given before it.
    common = _common_options(argparse.SUPPRESS, argparse.SUPPRESS)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the agent's server")
    serve.set_defaults(command=_serve)

    transcribe = sub.add_parser("transcribe", parents=[common], help="speech to text for WAV files")
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE.wav")
    transcribe.add_argument("--json", action="store_true", help="one JSON line per file")
    transcribe.add_argument("--language", help="language code (multilingual model only)")
    transcribe.set_defaults(command=_transcribe)

    say = sub.add_parser("say", parents=[common], help="text to speech into a WAV file")
    say.add_argument("text")
    say.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.wav")
    say.add_argument("--rate", type=int, default=None, help="sample rate of the file")
    say.add_argument(
        "--language", default="en", metavar="CODE", help="the text's language (en de es fr pt)"
    )
    say.set_defaults(command=_say)

    call = sub.add_parser("call", parents=[common], help="run a whole call from a WAV file")
    call.add_argument("--transport", choices=["wav", "sip"], default="wav")
    call.add_argument("--play", type=Path, metavar="CALLER.wav", help="wav: the caller's side")
    call.add_argument("--record", type=Path, metavar="AGENT.wav", help="wav: the agent's side")
    call.add_argument("--to", metavar="SIP-URI", help="sip: whom to call, e.g. sip:shopper@host")
    call.add_argument(
        "--language", metavar="CODE", help="wav: the call's language hint, e.g. de (else heard)"
    )
    call.add_argument(
        "--fast", action="store_true", help="stepped time: faster than real time, same decisions"
    )
    call.add_argument(
        "--purpose",
        choices=["claim-update", "return-update"],
        help="a call the shop places: its own script (wav: the callee is a person)",
    )
    call.add_argument("--claim", metavar="REF", help="claim-update: the decided claim's reference")
    call.add_argument(
        "--return", dest="return_ref", metavar="REF", help="return-update: the refunded return"
    )
    call.set_defaults(command=_call)

    models = sub.add_parser("models", parents=[common], help="check the bundled model files")
    models_sub = models.add_subparsers(required=True, metavar="ACTION")
    verify = models_sub.add_parser("verify", parents=[common], help="verify every model file")
    verify.set_defaults(command=_models_verify)
    prepare = models_sub.add_parser("prepare", parents=[common], help="assemble and verify")
    prepare.set_defaults(command=_models_verify)

    # Commands owned by other packages register themselves here.
    for add_commands in _command_providers():
        add_commands(sub, common)
    return parser


def _common_options(config_default: Any, verbose_default: Any) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=config_default,
        help="TOML file layered over config/default.toml",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=verbose_default, help="debug logging"
    )
    return common


def _command_providers() -> list[
    Callable[[argparse._SubParsersAction[argparse.ArgumentParser], argparse.ArgumentParser], None]
]:
    from voice_agent.bench.commands import add_commands as add_bench_commands
    from voice_agent.desk.commands import add_commands as add_desk_commands
    from voice_agent.dialogue.commands import add_commands as add_chat_commands
    from voice_agent.integrations.livekit.commands import add_commands as add_livekit_commands
    from voice_agent.store.commands import add_commands as add_store_commands

    return [
        add_store_commands,
        add_chat_commands,
        add_bench_commands,
        add_desk_commands,
        add_livekit_commands,
    ]


def _models_verify(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.models import ModelError, ModelStore

    store = ModelStore(settings.models, settings.paths)
    try:
        for entry in store.verify_all():
            print(f"ok  {entry.model:18} {entry.name:28} {entry.size:>11} bytes  {entry.path}")
    except ModelError as error:
        raise CliError(str(error)) from None
    return 0


def _transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.audio.wav import WavError, read_wav
    from voice_agent.stages.asr import AsrHint

    app = App(settings)
    hint = AsrHint(language=args.language)

    async def run() -> int:
        failures = 0
        for path in args.files:
            try:
                audio = read_wav(path)
            except WavError as error:
                print(f"voice-agent: {error}", file=sys.stderr)
                failures += 1
                continue
            result = await app.asr.transcribe(audio, hint)
            if args.json:
                line = {
                    "file": str(path),
                    "text": result.text,
                    "language": result.language,
                    "confidence": round(result.confidence, 4),
                    "timings": {k: round(v, 2) for k, v in result.timings.items()},
                }
                print(json.dumps(line), flush=True)
            else:
                print(f"{path}: {result.text}", flush=True)
        return 1 if failures else 0

    try:
        return asyncio.run(run())
    finally:
        app.close()


def _say(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.audio import AudioFrame
    from voice_agent.audio.resample import resample
    from voice_agent.audio.wav import write_wav

    if args.rate is not None and not 4000 <= args.rate <= 192_000:
        raise CliError(f"--rate {args.rate}: expected a sample rate between 4000 and 192000")
    if not args.text.strip():
        raise CliError("nothing to say: the text is empty")
    app = App(settings)

    async def run() -> AudioFrame:
        from voice_agent.stages.tts.voices import VoiceError

        try:
            frames = [frame async for frame in app.tts.synthesize(args.text, args.language)]
        except VoiceError as error:
            raise CliError(str(error)) from None
        if not frames:
            raise CliError(f"nothing to say: {args.text!r} has no words to speak")
        return AudioFrame.concat(frames)

    try:
        audio = asyncio.run(run())
    finally:
        app.close()
    if args.rate is not None:
        audio = resample(audio, args.rate)
    write_wav(args.output, audio)
    print(f"{args.output}: {audio.duration:.2f} s at {audio.rate} Hz")
    return 0


def _purpose(args: argparse.Namespace, app: App) -> Any:
    """The purpose of a call the shop places (--purpose), or None; CliError when it cannot
    be placed (no such claim, not decided)."""
    from voice_agent.dialogue.purpose import CLAIM_UPDATE, PurposeError, claim_update, return_update

    if args.purpose != CLAIM_UPDATE and args.claim is not None:
        raise CliError("--claim goes with --purpose claim-update")
    if args.purpose not in (None, CLAIM_UPDATE) and args.return_ref is None:
        raise CliError(f"--purpose {args.purpose} needs --return REF")
    if args.purpose in (None, CLAIM_UPDATE) and args.return_ref is not None:
        raise CliError("--return goes with --purpose return-update")
    if args.purpose is None:
        return None
    if args.purpose == CLAIM_UPDATE and not args.claim:
        raise CliError("--purpose claim-update needs --claim REF")
    outbound, offered = app.settings.outbound, app.settings.languages.offered
    find = claim_update if args.purpose == CLAIM_UPDATE else return_update
    reference = args.claim if args.purpose == CLAIM_UPDATE else args.return_ref
    try:
        return find(
            app.repository, reference, outbound.shop_name, outbound.callback_number, offered
        )
    except PurposeError as error:
        raise CliError(str(error)) from None


def _call(args: argparse.Namespace, settings: Settings) -> int:
    if args.transport == "sip":
        return _call_sip(args, settings)
    if args.play is None or args.record is None:
        raise CliError("a wav call needs --play CALLER.wav and --record AGENT.wav")
    from voice_agent.agent.playout import Playout
    from voice_agent.audio import PIPELINE_RATE
    from voice_agent.audio.resample import resample
    from voice_agent.audio.wav import WavError, read_wav, write_wav
    from voice_agent.clock import Clock, FakeClock, RealClock
    from voice_agent.dialogue.purpose import PlacedCall
    from voice_agent.transport.wavfile import FileCaller, Pacing, WavCallTransport

    try:
        caller = resample(read_wav(args.play), PIPELINE_RATE)
    except WavError as error:
        raise CliError(str(error)) from None
    clock: Clock = FakeClock() if args.fast else RealClock()
    pacing = Pacing.STEPPED if args.fast else Pacing.REALTIME
    playout = Playout(clock)
    transport = WavCallTransport(FileCaller(caller), playout, clock, pacing)
    app = App(settings)

    async def run() -> None:
        await app.warm_up()
        placed = None if purpose is None else PlacedCall(purpose)
        await app.run_call(transport, playout, "wav", str(args.play), args.language, placed)

    try:
        purpose = _purpose(args, app)
        asyncio.run(run())
    finally:
        app.close()
    write_wav(args.record, transport.call.agent())
    _print_events(transport.call.events, transport.call.started_at)
    print(f"{args.record}: {transport.call.agent().duration:.2f} s of the agent's side")
    return 0


def _call_sip(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.phone_line import call_out
    from voice_agent.transport.sip import OutboundCallError

    if not args.to:
        raise CliError("a sip call needs --to SIP-URI")
    app = App(settings)
    heard: list[Any] = []

    async def run() -> Any:
        await app.warm_up()
        return await call_out(app, args.to, purpose=purpose, answered=heard.append)

    try:
        purpose = _purpose(args, app)
        call = asyncio.run(run())
    except (OutboundCallError, ValueError) as error:
        raise CliError(f"call to {args.to} failed: {error}") from None
    finally:
        app.close()
    for verdict in heard:
        print(f"answered by a {verdict.answered.value}: {verdict.why}")
    events = list(call.events)
    _print_events(events, events[0].at if events else 0.0)
    return 0


def _print_events(events: Sequence[Any], started_at: float) -> None:
    from voice_agent.agent.events import AgentSaid, AgentStopped, CallerSaid, TurnLatency

    for event in events:
        offset = event.at - started_at
        if isinstance(event, CallerSaid):
            print(f"{offset:7.2f}s caller: {event.text}")
        elif isinstance(event, AgentSaid):
            print(f"{offset:7.2f}s agent:  {event.text}")
        elif isinstance(event, AgentStopped) and event.interrupted:
            print(f"{offset:7.2f}s agent cut off after: {event.played_text}")
        elif isinstance(event, TurnLatency):
            print(f"{offset:7.2f}s latency (ms after speech end): {event.marks_ms}")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.memory import limit_arenas
    from voice_agent.server import serve

    # Before the server's threads exist: a thread keeps the malloc arena it was first given.
    limit_arenas(settings.server.malloc_arena_max)
    app = App(settings)
    try:
        asyncio.run(serve(app))
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
