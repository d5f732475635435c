"""The runner's progress bar."""

from __future__ import annotations

import io

from voice_agent.bench.progress import ProgressBar


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_off_a_terminal_prints_a_line_per_tenth() -> None:
    stream, clock = io.StringIO(), _Clock()
    bar = ProgressBar(20, "calls", stream=stream, clock=clock)

    for _ in range(20):
        clock.now += 1.5
        bar.advance(note="webrtc clean")
    bar.close()

    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "calls: 2/20 (10%) 3 s  webrtc clean"
    assert lines[-1] == "calls: 20/20 (100%) 30 s  webrtc clean"


def test_progress_bar_off_a_terminal_prints_where_it_stopped_on_close() -> None:
    stream = io.StringIO()
    with ProgressBar(100, "turns", stream=stream, clock=_Clock()) as bar:
        bar.advance(5)

    assert stream.getvalue() == "turns: 5/100 (5%) 0 s\n"


def test_progress_bar_with_nothing_to_do_is_complete() -> None:
    stream = io.StringIO()
    ProgressBar(0, "turns", stream=stream, clock=_Clock()).close()

    assert stream.getvalue() == "turns: 0/0 (100%) 0 s\n"


def test_progress_bar_on_a_terminal_redraws_one_line() -> None:
    stream = _Terminal()
    bar = ProgressBar(4, "calls", stream=stream, clock=_Clock())

    bar.advance(note="a long note that is then replaced")
    bar.advance(note="short")
    bar.close()

    output = stream.getvalue()
    assert output.count("\n") == 1 and output.endswith("\n")
    draws = output.rstrip("\n").split("\r")[1:]
    assert draws[0].startswith("calls [######..................] 1/4 (25%)")
    assert draws[-1].startswith("calls [############............] 2/4 (50%)")
    # A shorter line is padded over the longer one it replaces
    assert len(draws[1]) == len(draws[0])
