"""Fuzzing harness: targets, seeds, regressions, the two engines, replay.

A target is a module ``fuzz.targets.<name>`` with ``one_input(data: bytes) -> None``; the
project's own parse errors are caught inside it, so anything that escapes is a bug.  It may
also define ``TOKENS`` (byte strings the mutators insert) and ``MAX_LEN`` (input size).

Engines: atheris (coverage-guided libFuzzer, one worker process per target, the project's
modules instrumented) when it imports, else the built-in mutator of ``fuzz.mutate``.  Each
input runs under the caps of ``fuzz.caps``; every failing input is kept under
``fuzz/regressions/<target>/<sha1>`` and replayed by ``python -m fuzz replay`` and the tests.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fuzz import targets as targets_package
from fuzz.caps import Caps, Guard, Outcome
from fuzz.mutate import Mutator

FUZZ_DIR = Path(__file__).resolve().parent
CORPUS_DIR = FUZZ_DIR / "corpus"
REGRESSIONS_DIR = FUZZ_DIR / "regressions"
DEFAULT_WORK_DIR = Path("var") / "fuzz"
DEFAULT_MAX_LEN = 4096
RUNS_ONLY_WALL_LIMIT_S = 3600.0  # a --runs run without --seconds still ends
_SAVED_PER_RUN = 50  # distinct failures written per run, so one bug cannot flood the tree
_STATS_EVERY_S = 5.0


@dataclass(frozen=True)
class Target:
    name: str
    one_input: Callable[[bytes], None]
    tokens: tuple[bytes, ...] = ()
    max_len: int = DEFAULT_MAX_LEN


def target_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(targets_package.__path__)
        if not info.name.startswith("_")
    )


def load_target(name: str) -> Target:
    if name not in target_names():
        raise ValueError(f"no fuzz target {name!r}; the targets are {', '.join(target_names())}")
    module = importlib.import_module(f"fuzz.targets.{name}")
    one_input = getattr(module, "one_input", None)
    if not callable(one_input):
        raise ValueError(f"fuzz/targets/{name}.py defines no one_input(data: bytes)")
    tokens = tuple(getattr(module, "TOKENS", ()))
    return Target(name, one_input, tokens, int(getattr(module, "MAX_LEN", DEFAULT_MAX_LEN)))


def _inputs_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def seed_files(name: str, corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    return _inputs_in(corpus_dir / name)


def regression_files(name: str, regressions_dir: Path = REGRESSIONS_DIR) -> list[Path]:
    return _inputs_in(regressions_dir / name)


def save_regression(name: str, data: bytes, regressions_dir: Path = REGRESSIONS_DIR) -> Path:
    folder = regressions_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / hashlib.sha1(data).hexdigest()
    if not path.exists():
        path.write_bytes(data)
    return path


# --- one run of one target ---------------------------------------------------------------------


@dataclass
class RunStats:
    target: str
    engine: str
    inputs: int = 0
    seconds: float = 0.0
    failures: int = 0  # failing inputs, counting repeats of the same failure
    distinct_failures: int = 0
    saved: list[str] = field(default_factory=list)  # regression files written
    coverage: int | None = None  # libFuzzer's cov: at the end (atheris only)
    new_coverage: int | None = None  # cov: gained over the seeds

    @property
    def inputs_per_s(self) -> float:
        return self.inputs / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "inputs_per_s": round(self.inputs_per_s, 1)}


@dataclass(frozen=True)
class Limits:
    """When a run stops: after ``runs`` inputs or ``seconds`` of wall time, whichever first."""

    runs: int | None = None
    seconds: float | None = None

    @property
    def wall_s(self) -> float:
        return self.seconds if self.seconds is not None else RUNS_ONLY_WALL_LIMIT_S


def _signature(outcome: Outcome) -> str:
    """Failures of the same kind raised at the same place count as one (for saving)."""
    places = re.findall(r'File "([^"]+)", line (\d+)', outcome.details)
    where = ":".join(places[-1]) if places else ""
    return f"{outcome.kind}|{outcome.error.split(':')[0]}|{where}"


class Session:
    """Feeds inputs of one target through a guard, counts them and keeps the failures."""

    def __init__(
        self,
        target: Target,
        guard: Guard,
        limits: Limits,
        *,
        engine: str,
        regressions_dir: Path = REGRESSIONS_DIR,
        stop_on_failure: bool = False,
        report: Callable[[str], None] = print,
    ) -> None:
        self.target = target
        self.guard = guard
        self.limits = limits
        self.stats = RunStats(target.name, engine)
        self._regressions_dir = regressions_dir
        self._stop_on_failure = stop_on_failure
        self._report = report
        self._signatures: set[str] = set()
        self._started = time.monotonic()
        self._deadline = self._started + limits.wall_s

    def feed(self, data: bytes) -> bool:
        """Run one input; False when the run should stop (limits reached, or a failure)."""
        outcome = self.guard.run(self.target.one_input, data)
        self.stats.inputs += 1
        if outcome is not None:
            self._record(data, outcome)
            if self._stop_on_failure:
                return False
        if self.limits.runs is not None and self.stats.inputs >= self.limits.runs:
            return False
        return time.monotonic() < self._deadline

    def finish(self) -> RunStats:
        self.stats.seconds = round(time.monotonic() - self._started, 3)
        return self.stats

    def _record(self, data: bytes, outcome: Outcome) -> None:
        self.stats.failures += 1
        signature = _signature(outcome)
        if signature in self._signatures:
            return
        self._signatures.add(signature)
        self.stats.distinct_failures += 1
        where = "(not saved: too many this run)"
        if len(self.stats.saved) < _SAVED_PER_RUN:
            path = save_regression(self.target.name, data, self._regressions_dir)
            where = _shown(path)
            self.stats.saved.append(where)
        self._report(
            f"FAILURE {self.target.name} [{outcome.kind}] {outcome.error}\n"
            f"  input {len(data)} bytes: {data[:120]!r}\n  saved: {where}\n"
            + _indent(outcome.details.strip().splitlines()[-12:])
        )


def _shown(path: Path) -> str:
    """The path from the repository root when it is inside it (for committed figures)."""
    try:
        return str(path.resolve().relative_to(FUZZ_DIR.parent))
    except ValueError:
        return str(path)


def _indent(lines: list[str]) -> str:
    return "".join(f"    {line}\n" for line in lines)


# --- engines ----------------------------------------------------------------------------------


def atheris_available() -> bool:
    return importlib.util.find_spec("atheris") is not None


def run_builtin(
    target: Target,
    caps: Caps,
    limits: Limits,
    *,
    regressions_dir: Path = REGRESSIONS_DIR,
    corpus_dir: Path = CORPUS_DIR,
    stop_on_failure: bool = False,
    seed: int = 0,
    report: Callable[[str], None] = print,
) -> RunStats:
    """Seeds and regressions first, then mutations of them, in this process."""
    paths = seed_files(target.name, corpus_dir) + regression_files(target.name, regressions_dir)
    seeds = [path.read_bytes() for path in paths]
    mutator = Mutator(seeds, tokens=target.tokens, max_len=target.max_len, seed=seed)
    with Guard(caps) as guard:
        session = Session(
            target,
            guard,
            limits,
            engine="builtin",
            regressions_dir=regressions_dir,
            stop_on_failure=stop_on_failure,
            report=report,
        )
        inputs: Iterator[bytes] = iter(seeds)
        while session.feed(next(inputs, None) or mutator.next()):
            pass
    return session.finish()


def run_atheris(
    name: str,
    caps: Caps,
    limits: Limits,
    *,
    work_dir: Path = DEFAULT_WORK_DIR,
    stop_on_failure: bool = False,
) -> RunStats:
    """One atheris worker process for the target; its libFuzzer log goes to the work dir."""
    folder = work_dir / name
    (folder / "corpus").mkdir(parents=True, exist_ok=True)
    stats_file, log_file = folder / "stats.json", folder / "libfuzzer.log"
    stats_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "fuzz",
        "_worker",
        name,
        "--stats-file",
        str(stats_file),
        "--work-dir",
        str(work_dir),
        "--time-cap-ms",
        str(caps.time_s * 1000),
        "--memory-cap-mb",
        str(caps.memory_bytes // (1024 * 1024)),
        "--seconds",
        str(limits.wall_s),
    ]
    command += ["--runs", str(limits.runs)] if limits.runs is not None else []
    command += ["--stop-on-failure"] if stop_on_failure else []
    with open(log_file, "wb") as log:
        try:
            subprocess.run(command, stderr=log, timeout=limits.wall_s + 120, check=False)
        except subprocess.TimeoutExpired:
            print(f"{name}: the atheris worker ran past its time and was stopped", flush=True)
    if not stats_file.exists():
        tail = log_file.read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError(f"the atheris worker for {name} left no stats:\n" + "\n".join(tail))
    stats = RunStats(**json.loads(stats_file.read_text()))
    stats.coverage, stats.new_coverage = _coverage(log_file.read_text(errors="replace"))
    return stats


def _coverage(log: str) -> tuple[int | None, int | None]:
    values = [int(value) for value in re.findall(r"\bcov: (\d+)", log)]
    inited = re.search(r"INITED cov: (\d+)", log)
    if not values:
        return None, None
    return values[-1], values[-1] - int(inited[1]) if inited else None


def atheris_worker(
    name: str,
    caps: Caps,
    limits: Limits,
    *,
    stats_file: Path,
    work_dir: Path,
    stop_on_failure: bool,
) -> None:
    """The body of the worker process: libFuzzer drives; this process never returns."""
    import atheris  # type: ignore[import-not-found,unused-ignore]

    with atheris.instrument_imports(include=["voice_agent"]):
        target = load_target(name)
    folder = work_dir / name
    dictionary = folder / "tokens.dict"
    dictionary.write_text("".join(f"{_dict_entry(token)}\n" for token in target.tokens))
    seed_dirs = [str(p) for p in (CORPUS_DIR / name, REGRESSIONS_DIR / name) if p.is_dir()]
    argv = [
        sys.argv[0],
        str(folder / "corpus"),
        *seed_dirs,
        f"-max_len={target.max_len}",
        "-timeout=30",  # libFuzzer's own backstop for C code that never returns
        "-rss_limit_mb=0",  # RLIMIT_AS is the memory cap
        f"-artifact_prefix={folder}/",
        "-print_final_stats=1",
        f"-max_total_time={int(limits.wall_s) + 60}",  # the session stops first
    ]
    if target.tokens:
        argv.append(f"-dict={dictionary}")
    guard = Guard(caps).__enter__()  # held until the process exits
    session = Session(target, guard, limits, engine="atheris", stop_on_failure=stop_on_failure)
    last_written = time.monotonic()

    def one_input(data: bytes) -> None:
        nonlocal last_written
        going_on = session.feed(data)
        if not going_on or time.monotonic() - last_written > _STATS_EVERY_S:
            _write_stats(stats_file, session)
            last_written = time.monotonic()
        if not going_on:
            sys.stdout.flush()
            os._exit(1 if stop_on_failure and session.stats.failures else 0)

    atheris.Setup(argv, one_input)
    atheris.Fuzz()


def _write_stats(path: Path, session: Session) -> None:
    stats = asdict(session.stats)
    stats["seconds"] = round(time.monotonic() - session._started, 3)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as file:
        json.dump(stats, file)
    os.replace(file.name, path)


def _dict_entry(token: bytes) -> str:
    """A libFuzzer dictionary line: the token quoted, unusual bytes as \\xNN."""
    text = "".join(
        chr(byte) if 0x20 <= byte < 0x7F and byte not in b'"\\' else f"\\x{byte:02x}"
        for byte in token
    )
    return f'"{text}"'


# --- replay -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayFailure:
    target: str
    path: Path
    outcome: Outcome


def replay_files(name: str) -> list[Path]:
    return seed_files(name) + regression_files(name)


def replay(names: list[str], caps: Caps) -> tuple[int, list[ReplayFailure]]:
    """Every seed and regression of the targets through them; (inputs run, failures)."""
    failures: list[ReplayFailure] = []
    count = 0
    for name in names:
        target = load_target(name)
        with Guard(caps) as guard:
            for path in replay_files(name):
                count += 1
                outcome = guard.run(target.one_input, path.read_bytes())
                if outcome is not None:
                    failures.append(ReplayFailure(name, path, outcome))
    return count, failures
