"""The benchmark's report: its public entry points.

`write_report` writes report.json (stable keys: scripts read it), report.md and report.html (for
people; the HTML shows PNG plots written beside it). Every figure comes from `SeriesSummary`, so
the three files cannot disagree.

The work is split by concern: the figures, JSON summary and goals in `report_summary`, the
Markdown and HTML pages in `report_pages`, the plots in `report_plots`, and the runner's
progress bar in `progress`; their public names are re-exported here.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from voice_agent.bench.progress import ProgressBar
from voice_agent.bench.report_pages import (
    Page,
    failure_lines,
    free_form_tables,
    goal_verdicts,
    results_table,
    stages_table,
    write_pages,
)
from voice_agent.bench.report_plots import plot_latency_cdfs, plot_stages
from voice_agent.bench.report_summary import (
    CLEAN_PROFILE,
    GOAL_RECEIVE,
    GOALS,
    IMPAIRED_PROFILE,
    NETWORK_AND_CALLER,
    STAGES,
    SeriesSummary,
    check_goals,
    describe_check,
    latency_goals,
    stage_segments,
    summarize,
    summary_json,
)
from voice_agent.bench.results import Percentiles, Series

__all__ = [
    "CLEAN_PROFILE",
    "GOALS",
    "GOAL_RECEIVE",
    "IMPAIRED_PROFILE",
    "NETWORK_AND_CALLER",
    "STAGES",
    "ProgressBar",
    "Report",
    "SeriesSummary",
    "check_goals",
    "compare_targets",
    "describe_check",
    "describe_machine",
    "latency_goals",
    "stage_segments",
    "summarize",
    "write_report",
]


# --- comparison and machine -------------------------------------------------------------------


def compare_targets(first: Series, second: Series) -> dict[str, object]:
    """The `--compare` section: both targets' voice-to-voice p50/p95, and second / first."""
    one, two = SeriesSummary.of(first).voice_to_voice, SeriesSummary.of(second).voice_to_voice
    return {
        "targets": [_compare_row(first, one), _compare_row(second, two)],
        "second_over_first_p50": _ratio(two.p50, one.p50) if one and two else None,
        "second_over_first_p95": _ratio(two.p95, one.p95) if one and two else None,
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator > 0 else None


def _compare_row(series: Series, voice_to_voice: Percentiles | None) -> dict[str, object]:
    return {
        "target": series.target,
        "transport": series.transport,
        "profile": series.profile,
        "calls": series.calls,
        "voice_to_voice_p50_ms": round(voice_to_voice.p50, 1) if voice_to_voice else None,
        "voice_to_voice_p95_ms": round(voice_to_voice.p95, 1) if voice_to_voice else None,
    }


def describe_machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """CPU model, usable cores and Python version, e.g. 'AMD EPYC 7B13, 2 cores, Python 3.11.7'."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{_cpu_model(cpuinfo)}, {cores} cores, Python {platform.python_version()}"


def _cpu_model(cpuinfo: Path) -> str:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


# --- the report -------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    title: str
    command: str
    """The command line that reproduces this report."""
    machine: str
    """See describe_machine()."""
    started_at: str
    """ISO 8601."""
    series: list[Series]
    goals: dict[str, float] = field(default_factory=lambda: dict(GOALS))
    compare: dict[str, object] | None = None
    """See compare_targets()."""
    calibration: dict[str, object] | None = None
    """Free-form results of `--calibrate`."""
    notes: list[str] = field(default_factory=list)


def write_report(report: Report, out: Path) -> None:
    """Write report.json, report.md, report.html and the PNG plots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    summaries = [SeriesSummary.of(series) for series in report.series]
    checks = check_goals(report.series, report.goals)
    _write_json(report, summaries, checks, out / "report.json")
    page = Page(
        title=report.title,
        command=report.command,
        machine=report.machine,
        started_at=report.started_at,
        notes=report.notes,
        results=results_table(summaries),
        goal_lines=goal_verdicts(checks),
        stages=stages_table(summaries),
        compare=free_form_tables(report.compare),
        calibration=free_form_tables(report.calibration),
        failures=failure_lines(summaries),
        latency_plots=plot_latency_cdfs(summaries, report.goals, out),
        stage_plots=plot_stages(summaries, out),
    )
    write_pages(page, out)


def _write_json(
    report: Report,
    summaries: list[SeriesSummary],
    checks: list[dict[str, object]],
    path: Path,
) -> None:
    document = {
        "title": report.title,
        "command": report.command,
        "machine": report.machine,
        "started_at": report.started_at,
        "goals": {"limits": report.goals, "checks": checks},
        "runs": [summary_json(summary) for summary in summaries],
        "compare": report.compare,
        "calibration": report.calibration,
        "notes": report.notes,
    }
    # default=str: free-form calibration results may hold paths or the like; never fail on them
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
