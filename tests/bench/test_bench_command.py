"""`voice-agent bench` end to end: our real agent (--serve), real WebRTC and SIP callers.

The real Whisper model and Piper voice answer synthetic callers over both transports; the test
checks the report says what happened, not how fast (speed lives in benchmarks/results)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voice_agent.bench.commands import BenchOptions, _options, _plans
from voice_agent.bench.runner import Target
from voice_agent.cli import _parser
from voice_agent.errors import CliError
from voice_agent.settings import Settings

HERE = Path(__file__).parent
LANGUAGES = HERE.parents[1] / "benchmarks" / "scenarios-languages"
RUN_LIMIT_S = 600


def _bench(*args: str) -> BenchOptions:
    return _options(_parser().parse_args(["bench", *args]), Settings())


def test_the_command_line_is_checked_before_anything_starts() -> None:
    with pytest.raises(CliError, match="--url URL, or --serve"):
        _bench()
    with pytest.raises(CliError, match="unknown satellite"):
        _bench("--url", "http://127.0.0.1:1", "--profile", "clean,satellite")
    with pytest.raises(CliError, match="--sweep takes numbers"):
        _bench("--url", "http://127.0.0.1:1", "--sweep", "1,two")
    with pytest.raises(CliError, match="one --url serves one --transport"):
        _bench("--url", "http://127.0.0.1:1", "--transport", "webrtc,sip")
    options = _bench("--serve", "--sweep", "1,2,4", "--profile", "clean,cross-border")
    assert options.sweep == (1, 2, 4)
    assert options.receive == ("arrival", "browser")


def test_a_language_hint_is_asked_for_only_where_it_reaches_the_agent() -> None:
    assert _bench("--serve").hints == (False,)
    assert _bench("--serve", "--hint").hints == (True,)
    assert _bench("--serve", "--hint", "both", "--transport", "webrtc,sip").hints == (True, False)
    with pytest.raises(CliError, match="only our signaling"):
        _bench("--url", "http://127.0.0.1:1/api/offer", "--signaling", "generic", "--hint")
    with pytest.raises(CliError, match="only our signaling"):
        _bench(
            "--serve",
            "--compare",
            "http://127.0.0.1:1/x",
            "--compare-signaling",
            "generic",
            "--hint",
        )
    with pytest.raises(CliError, match="only --serve maps"):
        _bench("--url", "sip:agent@127.0.0.1:5060", "--transport", "sip", "--hint", "both")


def test_a_series_per_language_hinted_and_identified() -> None:
    options = _bench("--serve", "--hint", "both", "--scenarios", str(LANGUAGES))
    plans = _plans(options, {"webrtc": [Target("http://127.0.0.1:1")]})
    assert [(plan.language, plan.hinted) for plan, _ in plans] == [
        (language, hinted)
        for language in ("de", "en", "es", "fr", "pt")
        for hinted in (True, False)
    ]
    for plan, scenarios in plans:
        assert {scenario.language for scenario in scenarios} == {plan.language}
        assert len(scenarios) == 3 and plan.hint() == (plan.language if plan.hinted else None)


def test_a_hint_needs_scenarios_in_a_language() -> None:
    options = _bench("--serve", "--hint", "--scenarios", str(HERE / "data"))
    with pytest.raises(CliError, match="--hint: these scenarios have no language"):
        _plans(options, {"webrtc": [Target("http://127.0.0.1:1")]})
    plans = _plans(_bench("--serve", "--scenarios", str(HERE / "data")), {"webrtc": []})
    assert [(plan.language, plan.hinted) for plan, _ in plans] == [(None, False)]


def test_our_agent_measured_over_webrtc_and_sip(tmp_path: Path) -> None:
    out = tmp_path / "report"
    command = [
        sys.executable,
        "-c",
        "import sys; from voice_agent.cli import main; sys.exit(main())",
        "bench",
        "--serve",
        "--transport",
        "webrtc,sip",
        "--turns",
        "2",
        "--scenarios",
        str(HERE / "data"),
        "--out",
        str(out),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_LIMIT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    runs = {(run["transport"], run["receive"]): run for run in report["runs"]}
    assert set(runs) == {(t, r) for t in ("webrtc", "sip") for r in ("arrival", "browser")}
    for (transport, receive), run in runs.items():
        assert run["failures"] == [], (transport, run["failures"])
        assert run["turns"] == 2, (transport, receive)
        assert run["voice_to_voice_ms"]["count"] == 2, (transport, receive)
        # what the agent understood is its own business; that the replies were heard and
        # transcribed is the instrument's
        assert run["content_ok_rate"] is not None
        assert all(turn["transcript"] for turn in run["turns_detail"]), run["turns_detail"]
        assert run["target_cpu"] is not None and run["target_rss_mb"] > 100
    arrival, browser = runs[("webrtc", "arrival")], runs[("webrtc", "browser")]
    # the same calls, played through a 60 ms buffer: later, by about the buffer
    assert browser["voice_to_voice_ms"]["p50"] > arrival["voice_to_voice_ms"]["p50"]
    assert "first_audio_sent" in arrival["stages_ms"]
    assert (out / "report.html").exists() and (out / "report.md").exists()
    assert list(out.glob("*.png"))
