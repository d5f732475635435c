"""The runner's text progress bar."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressBar:
    """A text progress bar for the runner. On a terminal it redraws one line; otherwise (a log,
    CI) it prints a plain line every ~10% so the log stays short and readable."""

    _BAR_WIDTH = 24

    def __init__(
        self,
        total: int,
        label: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._total = max(0, total)
        self._label = label
        # Resolved now, not as a default argument, so a redirected sys.stderr is honoured
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._started = clock()
        self._done = 0
        self._note = ""
        self._redraws = _is_terminal(self._stream)
        self._tenths_printed = 0
        self._printed_done = -1
        self._drawn_chars = 0
        self._closed = False

    @property
    def done(self) -> int:
        return self._done

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def advance(self, n: int = 1, note: str = "") -> None:
        self._done += n
        if note:
            self._note = note
        if self._redraws:
            self._redraw()
        elif self._tenths() > self._tenths_printed:
            self._print_line()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._redraws:
            self._redraw()
            self._stream.write("\n")
        elif self._printed_done != self._done:
            self._print_line()
        self._stream.flush()

    def _fraction(self) -> float:
        return 1.0 if self._total == 0 else min(1.0, self._done / self._total)

    def _tenths(self) -> int:
        # Integer arithmetic: 7 / 10 * 10 in floats could land just under 7
        return 10 if self._total == 0 else min(10, self._done * 10 // self._total)

    def _status(self) -> str:
        elapsed = self._clock() - self._started
        status = f"{self._done}/{self._total} ({self._fraction() * 100:.0f}%) {elapsed:.0f} s"
        return f"{status}  {self._note}" if self._note else status

    def _print_line(self) -> None:
        self._stream.write(f"{self._label}: {self._status()}\n")
        self._stream.flush()
        self._tenths_printed = self._tenths()
        self._printed_done = self._done

    def _redraw(self) -> None:
        filled = round(self._fraction() * self._BAR_WIDTH)
        bar = "#" * filled + "." * (self._BAR_WIDTH - filled)
        line = f"{self._label} [{bar}] {self._status()}"
        # A line longer than the terminal wraps, and "\r" then redraws only its last part
        line = line[: shutil.get_terminal_size().columns - 1]
        self._stream.write("\r" + line.ljust(self._drawn_chars))
        self._stream.flush()
        self._drawn_chars = len(line)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
