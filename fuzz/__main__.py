"""``python -m fuzz``: run targets for a bounded time or number of inputs, replay regressions.

python -m fuzz list
python -m fuzz run --target sip --runs 1000000
python -m fuzz run --all --seconds 60 --json var/fuzz/results.json
python -m fuzz replay [--target sdp]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fuzz.caps import DEFAULT_MEMORY_CAP_BYTES, DEFAULT_TIME_CAP_S, Caps
from fuzz.harness import (
    DEFAULT_WORK_DIR,
    Limits,
    RunStats,
    atheris_available,
    atheris_worker,
    load_target,
    replay,
    run_atheris,
    run_builtin,
    target_names,
)


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _add_caps(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-cap-ms",
        type=_positive_float,
        default=DEFAULT_TIME_CAP_S * 1000,
        help="CPU time one input may use (default %(default)s)",
    )
    parser.add_argument(
        "--memory-cap-mb",
        type=_positive_int,
        default=DEFAULT_MEMORY_CAP_BYTES // (1024 * 1024),
        help="address space one input may add (default %(default)s)",
    )


def _caps(args: argparse.Namespace) -> Caps:
    return Caps(args.time_cap_ms / 1000, args.memory_cap_mb * 1024 * 1024)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the fuzz targets")

    run = commands.add_parser("run", help="fuzz targets for a bounded time or number of inputs")
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument("--target", action="append", help="a target (may repeat)")
    which.add_argument("--all", action="store_true", help="every target, one after the other")
    run.add_argument("--runs", type=_positive_int, help="stop after this many inputs per target")
    run.add_argument("--seconds", type=_positive_float, help="stop after this long per target")
    run.add_argument(
        "--engine",
        choices=("auto", "atheris", "builtin"),
        default="auto",
        help="atheris when it imports (auto), or the built-in mutator",
    )
    run.add_argument("--stop-on-failure", action="store_true", help="stop at the first failure")
    run.add_argument("--seed", type=int, default=0, help="random seed of the built-in mutator")
    run.add_argument("--json", type=Path, help="write the figures to this file")
    run.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="atheris corpora")
    _add_caps(run)

    again = commands.add_parser("replay", help="every seed and regression through its target")
    again.add_argument("--target", action="append", help="a target (may repeat); default all")
    _add_caps(again)

    worker = commands.add_parser("_worker", help=argparse.SUPPRESS)
    worker.add_argument("target")
    worker.add_argument("--stats-file", type=Path, required=True)
    worker.add_argument("--work-dir", type=Path, required=True)
    worker.add_argument("--runs", type=_positive_int)
    worker.add_argument("--seconds", type=_positive_float)
    worker.add_argument("--stop-on-failure", action="store_true")
    _add_caps(worker)
    return parser


def _names(requested: list[str] | None) -> list[str]:
    names = requested or target_names()
    unknown = [name for name in names if name not in target_names()]
    if unknown:
        raise SystemExit(
            f"unknown fuzz target {', '.join(unknown)}; the targets are {', '.join(target_names())}"
        )
    return names


def _run(args: argparse.Namespace) -> int:
    names = _names(None if args.all else args.target)
    limits = Limits(args.runs, args.seconds if args.seconds or args.runs else 60.0)
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if atheris_available() else "builtin"
    elif engine == "atheris" and not atheris_available():
        raise SystemExit("atheris is not installed: pip install atheris, or use --engine builtin")
    caps = _caps(args)
    print(
        f"fuzzing {', '.join(names)} with {engine}; caps {args.time_cap_ms:g} ms CPU, "
        f"{args.memory_cap_mb} MiB per input",
        flush=True,
    )
    results: list[RunStats] = []
    for name in names:
        if engine == "atheris":
            stats = run_atheris(
                name, caps, limits, work_dir=args.work_dir, stop_on_failure=args.stop_on_failure
            )
        else:
            stats = run_builtin(
                load_target(name),
                caps,
                limits,
                stop_on_failure=args.stop_on_failure,
                seed=args.seed,
            )
        results.append(stats)
        print(_row(stats), flush=True)
    print(_table(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        caps_json = {"time_ms": args.time_cap_ms, "memory_mb": args.memory_cap_mb}
        document = {"caps": caps_json, "targets": [stats.to_json() for stats in results]}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 1 if any(stats.failures for stats in results) else 0


def _row(stats: RunStats) -> str:
    coverage = "-" if stats.new_coverage is None else f"+{stats.new_coverage} ({stats.coverage})"
    return (
        f"| {stats.target} | {stats.engine} | {stats.inputs} | {stats.seconds:.0f} | "
        f"{stats.inputs_per_s:.0f} | {stats.failures} ({stats.distinct_failures} distinct) | "
        f"{coverage} |"
    )


def _table(results: list[RunStats]) -> str:
    head = (
        "| target | engine | inputs | seconds | inputs/s | failures | new coverage (total) |\n"
        "| --- | --- | ---: | ---: | ---: | --- | --- |"
    )
    return "\n".join([head, *map(_row, results)])


def _replay(args: argparse.Namespace) -> int:
    count, failures = replay(_names(args.target), _caps(args))
    for failure in failures:
        print(
            f"FAILURE {failure.target} {failure.path}: [{failure.outcome.kind}] "
            f"{failure.outcome.error}\n{failure.outcome.details}"
        )
    print(f"replayed {count} inputs: {len(failures)} failed")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        print("\n".join(target_names()))
        return 0
    if args.command == "run":
        return _run(args)
    if args.command == "replay":
        return _replay(args)
    atheris_worker(
        args.target,
        _caps(args),
        Limits(args.runs, args.seconds),
        stats_file=args.stats_file,
        work_dir=args.work_dir,
        stop_on_failure=args.stop_on_failure,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
