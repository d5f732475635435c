"""A very short soak: a few calls over SIP and WebRTC, a caller that vanishes, one that hangs up
during a reply, and the agent killed and restarted between them (about two minutes)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from benchmarks.soak import Options, run_soak
from benchmarks.soak_report import COMPLETED, CUT_BY_KILL, FAILED, write_report
from voice_agent.bench.relay import profile_named
from voice_agent.settings import load_settings

pytestmark = pytest.mark.slow

SCENARIO = """
name = "soak-test"

[[turns]]
say = "Where is my order?"

[[turns]]
say = "{order}."

[[turns]]
say = "{phone}."

[[turns]]
say = "No thanks. Goodbye."

[[callers]]
order = "four seven seven zero zero"
phone = "zero three two one"
"""
"""Short lines, no barge-in: a line the recognizer misses over the impaired line would fail
the storage check for a reason that is not storage's."""


def test_a_short_soak_with_a_kill_stores_every_turn_spoken(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "soak-test.toml").write_text(SCENARIO, encoding="utf-8")
    options = Options(
        minutes=1.2,
        out=tmp_path / "soak",
        profile=profile_named("cross-border"),
        scenarios=scenarios,
        kill=True,
        config=None,
    )
    report = asyncio.run(run_soak(options, load_settings()))
    summary = write_report(report, options.out)

    assert len(report.lives) == 2 and report.lives[0].ended_by == "kill -9"
    assert any(c.process == 2 and c.outcome == COMPLETED for c in report.calls), summary
    compared = [c for c in report.comparisons if c.outcome not in (FAILED, CUT_BY_KILL)]
    assert compared, summary
    for comparison in compared:
        assert comparison.conversation is not None, summary
        assert comparison.matches, summary
    assert not report.open_conversations  # the restart closed what the kill left open
    document = json.loads((options.out / "report.json").read_text(encoding="utf-8"))
    assert document["counts"]["attempted"] == len(report.calls)
    assert "## Turns spoken vs turns stored" in (options.out / "report.md").read_text("utf-8")
