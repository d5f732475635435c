"""The harness itself: its caps must catch a slow and a greedy input, and keep failures."""

import resource
import signal
from pathlib import Path

import pytest

from fuzz.caps import Caps, Guard
from fuzz.harness import Limits, Target, load_target, run_builtin, save_regression
from fuzz.mutate import Mutator


def _spin(data: bytes) -> None:
    while True:
        pass


def _greedy(data: bytes) -> None:
    hoard = []
    for _ in range(512):  # 512 MiB, far over the test's cap
        hoard.append(bytearray(1024 * 1024))


def _slow_in_c(data: bytes) -> None:
    int("7" * 4000) ** 3000  # one long call that never returns to the interpreter (~0.3 s)


def _fine(data: bytes) -> None:
    data.decode("latin-1").split(",")


def _crash_on_bug(data: bytes) -> None:
    if b"BUG" in data:
        raise KeyError("planted")


def test_a_slow_input_is_a_timeout_failure() -> None:
    with Guard(Caps(time_s=0.05)) as guard:
        outcome = guard.run(_spin, b"")
    assert outcome is not None and outcome.kind == "timeout"
    assert "InputTimeLimit" in outcome.error


def test_a_slow_input_in_c_code_is_a_timeout_failure_too() -> None:
    with Guard(Caps(time_s=0.02)) as guard:
        outcome = guard.run(_slow_in_c, b"")
    assert outcome is not None and outcome.kind == "timeout"


def test_a_greedy_input_is_a_memory_failure() -> None:
    with Guard(Caps(time_s=10.0, memory_bytes=64 * 1024 * 1024)) as guard:
        outcome = guard.run(_greedy, b"")
    assert outcome is not None and outcome.kind == "memory"
    assert "MemoryError" in outcome.error


def test_an_escaping_exception_is_a_failure_and_a_good_input_is_not() -> None:
    with Guard() as guard:
        assert guard.run(_fine, b"a,b") is None
        outcome = guard.run(_crash_on_bug, b"xBUGx")
    assert outcome is not None and outcome.kind == "exception"
    assert "KeyError" in outcome.error and "_crash_on_bug" in outcome.details


def test_the_guard_puts_the_limit_and_the_signal_back() -> None:
    limit = resource.getrlimit(resource.RLIMIT_AS)
    handler = signal.getsignal(signal.SIGPROF)
    with Guard(Caps(memory_bytes=64 * 1024 * 1024)) as guard:
        assert resource.getrlimit(resource.RLIMIT_AS) != limit
        guard.run(_fine, b"")
    assert resource.getrlimit(resource.RLIMIT_AS) == limit
    assert signal.getsignal(signal.SIGPROF) == handler
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_the_builtin_engine_finds_keeps_and_counts_a_planted_bug(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "planted").mkdir(parents=True)
    (tmp_path / "corpus" / "planted" / "seed").write_bytes(b"hello, world")
    target = Target("planted", _crash_on_bug, tokens=(b"BUG",))
    stats = run_builtin(
        target,
        Caps(),
        Limits(runs=5000),
        regressions_dir=tmp_path / "regressions",
        corpus_dir=tmp_path / "corpus",
        report=lambda text: None,
    )
    assert stats.inputs == 5000 and stats.failures > 0 and stats.distinct_failures == 1
    kept = list((tmp_path / "regressions" / "planted").iterdir())
    assert len(kept) == 1 and b"BUG" in kept[0].read_bytes()


def test_regressions_are_named_by_their_sha1(tmp_path: Path) -> None:
    path = save_regression("sip", b"abc", tmp_path)
    assert path == tmp_path / "sip" / "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert save_regression("sip", b"abc", tmp_path) == path


def test_the_mutator_is_deterministic_and_bounded() -> None:
    first = Mutator([b"INVITE sip:a@b SIP/2.0\r\n"], max_len=64, seed=7)
    second = Mutator([b"INVITE sip:a@b SIP/2.0\r\n"], max_len=64, seed=7)
    outputs = [first.next() for _ in range(500)]
    assert outputs == [second.next() for _ in range(500)]
    assert max(map(len, outputs)) <= 64 and len(set(outputs)) > 400


def test_an_unknown_target_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"no fuzz target 'nope'; the targets are .*sip"):
        load_target("nope")
