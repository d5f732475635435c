"""The ``python -m fuzz`` command line, on the built-in engine (atheris is optional)."""

import json
from pathlib import Path

import pytest

from fuzz.__main__ import main


def test_run_counts_the_inputs_and_writes_the_figures(tmp_path: Path) -> None:
    figures = tmp_path / "fuzz.json"
    args = ["run", "--target", "rtp", "--runs", "300", "--engine", "builtin", "--json"]
    assert main([*args, str(figures)]) == 0
    (stats,) = json.loads(figures.read_text())["targets"]
    assert (stats["target"], stats["engine"], stats["inputs"]) == ("rtp", "builtin", 300)
    assert stats["failures"] == 0 and stats["inputs_per_s"] > 0


def test_replay_passes_the_committed_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--target", "sdp"]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_an_unknown_target_is_refused_with_the_known_ones() -> None:
    with pytest.raises(SystemExit, match=r"unknown fuzz target nope; the targets are .*jitter"):
        main(["replay", "--target", "nope"])
