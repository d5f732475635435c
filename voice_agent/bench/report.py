"""The benchmark's report and the runner's progress bar.

`write_report` writes report.json (stable keys: scripts read it), report.md and report.html (for
people; the HTML shows PNG plots written beside it). Every figure comes from `SeriesSummary`, so
the three files cannot disagree.
"""

from __future__ import annotations

import html
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from voice_agent.agent.latency import MARKS
from voice_agent.bench.results import Percentiles, Series, TurnFigures, TurnKind

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

GOALS: dict[str, float] = {
    "voice_to_voice_p50_ms": 300,
    "voice_to_voice_p95_ms": 450,
    "voice_to_voice_p99_ms": 600,
    "content_drop_points_max": 5,
}
CLEAN_PROFILE = "clean"
IMPAIRED_PROFILE = "cross-border"
GOAL_RECEIVE = "arrival"
"""Latency goals are judged on the audio's arrival time: the browser's jitter buffer is extra."""

STAGES = MARKS[1:]
"""The target's marks after the caller's speech end, in pipeline order."""
NETWORK_AND_CALLER = "network + caller"

_LATENCY_GOAL = re.compile(r"voice_to_voice_(p50|p95|p99)_ms")
_CONTENT_GOAL = "content_drop_points_max"
_NOT_CHECKED = (
    f"Not checked: no series at 1 call on a {CLEAN_PROFILE} line with receive {GOAL_RECEIVE}."
)


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """One series' figures, computed once for the JSON, the tables, the goals and the plots."""

    series: Series
    voice_to_voice: Percentiles | None
    voice_to_voice_net: Percentiles | None
    barge_in_pause: Percentiles | None
    barge_in_stop: Percentiles | None
    barge_in_not_stopped: int
    false_cutoff_rate: float | None
    content_ok_rate: float | None
    no_reply: int
    overlapped: int
    stages: dict[str, Percentiles]

    @classmethod
    def of(cls, series: Series) -> SeriesSummary:
        turns = series.turns
        voice_to_voice = [t.voice_to_voice_ms for t in turns if t.voice_to_voice_ms is not None]
        return cls(
            series=series,
            voice_to_voice=Percentiles.of(voice_to_voice),
            voice_to_voice_net=Percentiles.of([v - series.added_delay_ms for v in voice_to_voice]),
            barge_in_pause=Percentiles.of(
                [t.barge_in_pause_ms for t in turns if t.barge_in_pause_ms is not None]
            ),
            barge_in_stop=Percentiles.of(
                [t.barge_in_stop_ms for t in turns if t.barge_in_stop_ms is not None]
            ),
            barge_in_not_stopped=sum(
                1 for t in turns if t.kind is TurnKind.BARGE_IN and t.barge_in_stop_ms is None
            ),
            false_cutoff_rate=_rate([t.cut_off for t in turns]),
            content_ok_rate=_rate([t.content_ok for t in turns]),
            no_reply=sum(1 for t in turns if t.no_reply),
            overlapped=sum(1 for t in turns if t.overlapped),
            stages=_stage_percentiles(turns),
        )

    @property
    def impaired(self) -> bool:
        return self.series.added_delay_ms > 0

    def label(self, with_target: bool = False) -> str:
        series = self.series
        text = f"{series.transport}, {series.profile}, {series.receive}, "
        text += _calls_text(series.calls)
        return f"{series.target}: {text}" if with_target else text


def _rate(outcomes: Iterable[bool | None]) -> float | None:
    """Share of True among the turns where the outcome applies (None: it does not)."""
    known = [outcome for outcome in outcomes if outcome is not None]
    return round(sum(known) / len(known), 4) if known else None


def _stage_percentiles(turns: list[TurnFigures]) -> dict[str, Percentiles]:
    names = {name for turn in turns for name in turn.stages_ms}
    ordered = [name for name in STAGES if name in names] + sorted(names - set(STAGES))
    stages: dict[str, Percentiles] = {}
    for name in ordered:
        stage = Percentiles.of([t.stages_ms[name] for t in turns if name in t.stages_ms])
        if stage is not None:
            stages[name] = stage
    return stages


def stage_segments(summary: SeriesSummary) -> list[tuple[str, float]]:
    """Where the time goes: p50 ms spent reaching each mark after the one before, then the rest
    of the caller-measured voice-to-voice p50 (network, jitter buffering, the caller's ear).

    Stages overlap (ASR can finish before the endpoint is decided) and the caller's clock is not
    the target's, so a difference can be negative; it counts as 0 here, and the raw marks stay
    in report.json.
    """
    reached = 0.0
    segments: list[tuple[str, float]] = []
    for name in STAGES:
        stage = summary.stages.get(name)
        if stage is not None:
            segments.append((name, max(0.0, stage.p50 - reached)))
            reached = max(reached, stage.p50)
    if segments and summary.voice_to_voice is not None:
        segments.append((NETWORK_AND_CALLER, max(0.0, summary.voice_to_voice.p50 - reached)))
    return segments


# --- JSON -------------------------------------------------------------------------------------


def summarize(series: Series) -> dict[str, object]:
    """The JSON object for one series; its keys are stable (scripts rely on them)."""
    return _summary_json(SeriesSummary.of(series))


def _summary_json(summary: SeriesSummary) -> dict[str, object]:
    series = summary.series
    return {
        "target": series.target,
        "transport": series.transport,
        "profile": series.profile,
        "receive": series.receive,
        "calls": series.calls,
        "turns": len(series.turns),
        "voice_to_voice_ms": _percentiles_json(summary.voice_to_voice),
        "voice_to_voice_net_ms": _percentiles_json(summary.voice_to_voice_net),
        "barge_in_pause_ms": _percentiles_json(summary.barge_in_pause),
        "barge_in_stop_ms": _percentiles_json(summary.barge_in_stop),
        "barge_in_not_stopped": summary.barge_in_not_stopped,
        "false_cutoff_rate": summary.false_cutoff_rate,
        "content_ok_rate": summary.content_ok_rate,
        "no_reply": summary.no_reply,
        "overlapped": summary.overlapped,
        "stages_ms": {name: stage.as_dict() for name, stage in summary.stages.items()},
        "target_cpu": _rounded(series.target_cpu, 2),
        "target_rss_mb": _rounded(series.target_rss_mb, 1),
        "relay": dict(series.relay) if series.relay is not None else None,
        "failures": list(series.failures),
        "turns_detail": [_turn_json(turn) for turn in series.turns],
    }


def _percentiles_json(percentiles: Percentiles | None) -> dict[str, float] | None:
    return percentiles.as_dict() if percentiles is not None else None


def _rounded(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def _turn_json(turn: TurnFigures) -> dict[str, object]:
    detail = asdict(turn)
    detail["kind"] = turn.kind.value
    # Tenths of a ms, like the percentiles: finer digits are clock noise that bloats the file
    for name in ("voice_to_voice_ms", "barge_in_pause_ms", "barge_in_stop_ms"):
        detail[name] = _rounded(detail[name], 1)
    detail["stages_ms"] = {name: round(ms, 1) for name, ms in turn.stages_ms.items()}
    return detail


# --- goals ------------------------------------------------------------------------------------


def check_goals(
    series: list[Series], goals: Mapping[str, float] = GOALS
) -> list[dict[str, object]]:
    """Each goal met or missed, and by how much.

    Latency goals: every series at 1 call on a clean line, timed on arrival. Content goal: every
    clean series that has a cross-border twin (same target, transport, receive mode and calls):
    content accuracy may drop by at most `content_drop_points_max` percentage points.
    """
    summaries = [SeriesSummary.of(one) for one in series]
    checks: list[dict[str, object]] = []
    for summary in summaries:
        if _is_goal_baseline(summary.series):
            checks.extend(_latency_checks(summary, goals))
    if _CONTENT_GOAL in goals:
        for clean, impaired in _clean_and_impaired_pairs(summaries):
            checks.append(_content_check(clean, impaired, goals[_CONTENT_GOAL]))
    return checks


def _is_goal_baseline(series: Series) -> bool:
    return series.calls == 1 and series.profile == CLEAN_PROFILE and series.receive == GOAL_RECEIVE


def latency_goals(goals: Mapping[str, float]) -> list[tuple[str, str, float]]:
    """(goal name, percentile, limit ms) for each voice-to-voice goal, e.g. p50 <= 300 ms."""
    found = []
    for name, limit in goals.items():
        match = _LATENCY_GOAL.fullmatch(name)
        if match:
            found.append((name, match.group(1), limit))
    return found


def _latency_checks(summary: SeriesSummary, goals: Mapping[str, float]) -> list[dict[str, object]]:
    checks = []
    for name, percentile, limit in latency_goals(goals):
        measured = None
        if summary.voice_to_voice is not None:
            measured = round(_percentile_of(summary.voice_to_voice, percentile), 1)
        checks.append(_check(name, summary.series, "ms", limit, measured))
    return checks


def _percentile_of(percentiles: Percentiles, name: str) -> float:
    return {"p50": percentiles.p50, "p95": percentiles.p95, "p99": percentiles.p99}[name]


def _content_check(
    clean: SeriesSummary, impaired: SeriesSummary, limit: float
) -> dict[str, object]:
    drop = None
    if clean.content_ok_rate is not None and impaired.content_ok_rate is not None:
        drop = round((clean.content_ok_rate - impaired.content_ok_rate) * 100, 1)
    check = _check(_CONTENT_GOAL, impaired.series, "points", limit, drop)
    check["clean_ok_rate"] = clean.content_ok_rate
    check["impaired_ok_rate"] = impaired.content_ok_rate
    return check


def _clean_and_impaired_pairs(
    summaries: list[SeriesSummary],
) -> list[tuple[SeriesSummary, SeriesSummary]]:
    def twin_key(series: Series) -> tuple[str, str, str, int]:
        return (series.target, series.transport, series.receive, series.calls)

    impaired = {twin_key(s.series): s for s in summaries if s.series.profile == IMPAIRED_PROFILE}
    return [
        (s, impaired[twin_key(s.series)])
        for s in summaries
        if s.series.profile == CLEAN_PROFILE and twin_key(s.series) in impaired
    ]


def _check(
    goal: str, series: Series, unit: str, limit: float, measured: float | None
) -> dict[str, object]:
    """`over`: how far past the limit (0 when met); `to_spare`: how far under it (0 when
    missed); both None when nothing was measured."""
    met = None if measured is None else measured <= limit
    over = None if measured is None else round(max(0.0, measured - limit), 1)
    to_spare = None if measured is None else round(max(0.0, limit - measured), 1)
    return {
        "goal": goal,
        "target": series.target,
        "transport": series.transport,
        "profile": series.profile,
        "receive": series.receive,
        "calls": series.calls,
        "unit": unit,
        "limit": limit,
        "measured": measured,
        "met": met,
        "over": over,
        "to_spare": to_spare,
    }


def describe_check(check: Mapping[str, object]) -> tuple[str, str]:
    """(what was checked, the verdict) in words, e.g. (..., "missed by 212 ms")."""
    return _check_subject(check), _check_verdict(check)


def _check_subject(check: Mapping[str, object]) -> str:
    where = f"{check['target']} ({check['transport']}, receive {check['receive']}, "
    where += f"{_calls_text(check['calls'])})"
    if check["goal"] == _CONTENT_GOAL:
        clean = _percent(_optional_float(check.get("clean_ok_rate")))
        impaired = _percent(_optional_float(check.get("impaired_ok_rate")))
        drop = _optional_float(check["measured"])
        shown = "-" if drop is None else f"{drop:.1f} points"
        return (
            f"{where}: content OK {clean} on {CLEAN_PROFILE}, {impaired} on {check['profile']},"
            f" a drop of {shown}, goal at most {_amount(check['limit'], 'points')}"
        )
    match = _LATENCY_GOAL.fullmatch(str(check["goal"]))
    percentile = match.group(1) if match else str(check["goal"])
    measured = _optional_float(check["measured"])
    shown = "-" if measured is None else f"{measured:.1f} ms"
    return (
        f"{where}: voice-to-voice {percentile} {shown},"
        f" goal at most {_amount(check['limit'], 'ms')}"
    )


def _check_verdict(check: Mapping[str, object]) -> str:
    unit = str(check["unit"])
    if check["met"] is None:
        return "not measured"
    if check["met"]:
        return f"met, {_amount(check['to_spare'], unit)} to spare"
    return f"missed by {_amount(check['over'], unit)}"


def _amount(value: object, unit: str) -> str:
    """Whole milliseconds (finer is noise next to a goal), tenths of a point."""
    number = _optional_float(value) or 0.0
    return f"{number:.0f} ms" if unit == "ms" else f"{number:.1f} {unit}"


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _calls_text(calls: object) -> str:
    return f"{calls} call" + ("" if calls == 1 else "s")


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


@dataclass(frozen=True, slots=True)
class _Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class _Plot:
    file_name: str
    description: str


@dataclass(frozen=True, slots=True)
class _Content:
    """What report.md and report.html both show, as plain text (each escapes its own way)."""

    report: Report
    results: _Table
    goal_lines: list[tuple[str, str, bool | None]]
    stages: _Table | None
    compare: list[_Table]
    calibration: list[_Table]
    failures: list[str]
    latency_plots: list[_Plot]
    stage_plots: list[_Plot]


def write_report(report: Report, out: Path) -> None:
    """Write report.json, report.md, report.html and the PNG plots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    summaries = [SeriesSummary.of(series) for series in report.series]
    checks = check_goals(report.series, report.goals)
    _write_json(report, summaries, checks, out / "report.json")
    content = _Content(
        report=report,
        results=_results_table(summaries),
        goal_lines=[(*describe_check(check), _met(check)) for check in checks],
        stages=_stages_table(summaries),
        compare=_free_form_tables(report.compare),
        calibration=_free_form_tables(report.calibration),
        failures=[
            f"{s.label(with_target=True)}: {f}" for s in summaries for f in s.series.failures
        ],
        latency_plots=_plot_latency_cdfs(summaries, report.goals, out),
        stage_plots=_plot_stages(summaries, out),
    )
    (out / "report.md").write_text(_markdown(content), encoding="utf-8")
    (out / "report.html").write_text(_html(content), encoding="utf-8")


def _met(check: Mapping[str, object]) -> bool | None:
    met = check["met"]
    return met if isinstance(met, bool) else None


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
        "runs": [_summary_json(summary) for summary in summaries],
        "compare": report.compare,
        "calibration": report.calibration,
        "notes": report.notes,
    }
    # default=str: free-form calibration results may hold paths or the like; never fail on them
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


# --- tables -----------------------------------------------------------------------------------

_RESULT_HEADERS = [
    "target", "transport", "profile", "receive", "calls", "turns",
    "v2v p50", "v2v p95", "v2v p99", "v2v max", "net v2v p50",
    "barge-in pause p50", "barge-in stop p50", "false cut-off", "content ok",
    "no reply", "CPU (cores)", "RSS (MB)",
]  # fmt: skip


def _results_table(summaries: list[SeriesSummary]) -> _Table:
    return _Table(
        headers=_RESULT_HEADERS,
        rows=[_result_row(summary) for summary in summaries],
        caption=(
            "Latencies in ms at the caller, from the end of its speech (v2v) or the onset of"
            " a barge-in. Net v2v: less the delay the impairment profile adds."
        ),
    )


def _result_row(summary: SeriesSummary) -> list[str]:
    series, v2v = summary.series, summary.voice_to_voice
    stop = _ms(summary.barge_in_stop.p50 if summary.barge_in_stop else None)
    if summary.barge_in_not_stopped:
        stop += f" ({summary.barge_in_not_stopped} not stopped)"
    net = summary.voice_to_voice_net if summary.impaired else None
    return [
        series.target, series.transport, series.profile, series.receive,
        str(series.calls), str(len(series.turns)),
        _ms(v2v.p50 if v2v else None), _ms(v2v.p95 if v2v else None),
        _ms(v2v.p99 if v2v else None), _ms(v2v.max if v2v else None),
        _ms(net.p50 if net else None),
        _ms(summary.barge_in_pause.p50 if summary.barge_in_pause else None), stop,
        _percent(summary.false_cutoff_rate), _percent(summary.content_ok_rate),
        str(summary.no_reply),
        "-" if series.target_cpu is None else f"{series.target_cpu:.2f}",
        "-" if series.target_rss_mb is None else f"{series.target_rss_mb:.0f}",
    ]  # fmt: skip


def _stages_table(summaries: list[SeriesSummary]) -> _Table | None:
    with_stages = [(s, dict(stage_segments(s))) for s in summaries if s.stages]
    if not with_stages:
        return None
    names = [
        name for name in (*STAGES, NETWORK_AND_CALLER) if any(name in d for _, d in with_stages)
    ]
    rows = [
        [
            s.label(with_target=True),
            *(_ms(segments.get(name)) for name in names),
            _ms(s.voice_to_voice.p50 if s.voice_to_voice else None),
        ]
        for s, segments in with_stages
    ]
    return _Table(
        headers=["series", *names, "v2v p50"],
        rows=rows,
        caption=(
            "p50 ms spent reaching each mark after the one before (the target's own marks,"
            " ours only); the rest of the caller's voice-to-voice p50 is network + caller."
        ),
    )


def _free_form_tables(data: Mapping[str, object] | None) -> list[_Table]:
    """Scalars (nested dicts flattened to dotted keys) in one key/value table; each list of
    dicts in a table of its own."""
    if not data:
        return []
    scalars: list[list[str]] = []
    tables: list[_Table] = []
    for key, value in _flatten(data):
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(_dicts_table(key, value))
        else:
            scalars.append([key, _text(value)])
    if scalars:
        tables.insert(0, _Table(headers=["what", "value"], rows=scalars))
    return tables


def _flatten(data: Mapping[str, object], prefix: str = "") -> list[tuple[str, object]]:
    flat: list[tuple[str, object]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.extend(_flatten(value, f"{name}."))
        else:
            flat.append((name, value))
    return flat


def _dicts_table(caption: str, rows: list[dict[str, object]]) -> _Table:
    headers = list(dict.fromkeys(key for row in rows for key in row))
    return _Table(
        headers=headers,
        rows=[[_text(row.get(key)) for key in headers] for row in rows],
        caption=caption,
    )


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


# --- Markdown ---------------------------------------------------------------------------------


def _markdown(content: _Content) -> str:
    report = content.report
    lines = [
        f"# {report.title}",
        "",
        f"`{report.command}` on {report.started_at} ({report.machine}).",
        "",
        *_md_table(content.results),
        "## Goals",
        "",
        *_md_goals(content.goal_lines),
    ]
    if content.stages is not None:
        lines += ["## Where the time goes", "", *_md_table(content.stages)]
        lines += _md_images(content.stage_plots)
    if content.latency_plots:
        lines += ["## Voice-to-voice latency", "", *_md_images(content.latency_plots)]
    lines += _md_section("Compare", [row for t in content.compare for row in _md_table(t)])
    lines += _md_section("Calibration", [row for t in content.calibration for row in _md_table(t)])
    lines += _md_section("Failures", [f"- {_md_cell(f)}" for f in content.failures] + [""])
    lines += _md_section("Notes", [f"- {note}" for note in report.notes] + [""])
    lines += ["## Reproduce", "", "```", report.command, "```", ""]
    return "\n".join(lines)


def _md_section(heading: str, body: list[str]) -> list[str]:
    return [f"## {heading}", "", *body] if any(body) else []


def _md_table(table: _Table) -> list[str]:
    lines = [f"{_md_cell(table.caption)}", ""] if table.caption else []
    lines.append("| " + " | ".join(_md_cell(h) for h in table.headers) + " |")
    lines.append("|" + "---|" * len(table.headers))
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in table.rows]
    return [*lines, ""]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_goals(goal_lines: list[tuple[str, str, bool | None]]) -> list[str]:
    if not goal_lines:
        return [_NOT_CHECKED, ""]
    lines = []
    for subject, verdict, met in goal_lines:
        shown = f"**{verdict}**" if met is False else verdict
        lines.append(f"- {_md_cell(subject)}: {shown}")
    return [*lines, ""]


def _md_images(plots: list[_Plot]) -> list[str]:
    return [line for plot in plots for line in (f"![{plot.description}]({plot.file_name})", "")]


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { caption-side: top; text-align: left; color: #555; padding-bottom: 0.3em; }
.missed { color: #b00020; font-weight: bold; } .met { color: #1b5e20; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
code, pre { background: #f4f4f4; padding: 0.1em 0.3em; }
"""


def _html(content: _Content) -> str:
    report = content.report
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(report.title)}</h1>",
        f"<p><code>{esc(report.command)}</code> on {esc(report.started_at)}"
        f" ({esc(report.machine)}).</p>",
        _html_table(content.results),
        "<h2>Goals</h2>",
        _html_goals(content.goal_lines),
    ]
    if content.stages is not None:
        parts += ["<h2>Where the time goes</h2>", _html_table(content.stages)]
        parts += _html_images(content.stage_plots)
    if content.latency_plots:
        parts += ["<h2>Voice-to-voice latency</h2>", *_html_images(content.latency_plots)]
    parts += _html_section("Compare", [_html_table(t) for t in content.compare])
    parts += _html_section("Calibration", [_html_table(t) for t in content.calibration])
    parts += _html_section("Failures", [_html_list(content.failures)] if content.failures else [])
    parts += _html_section("Notes", [_html_list(report.notes)] if report.notes else [])
    parts += ["<h2>Reproduce</h2>", f"<pre><code>{esc(report.command)}</code></pre>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_section(heading: str, body: list[str]) -> list[str]:
    return [f"<h2>{html.escape(heading)}</h2>", *body] if body else []


def _html_table(table: _Table) -> str:
    esc = html.escape
    caption = f"<caption>{esc(table.caption)}</caption>" if table.caption else ""
    head = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.headers) + "</tr>"
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    return f"<table>{caption}<thead>{head}</thead><tbody>{body}</tbody></table>"


def _html_goals(goal_lines: list[tuple[str, str, bool | None]]) -> str:
    if not goal_lines:
        return f"<p>{html.escape(_NOT_CHECKED)}</p>"
    items = []
    for subject, verdict, met in goal_lines:
        style = {True: "met", False: "missed", None: ""}[met]
        items.append(
            f'<li>{html.escape(subject)}: <span class="{style}">{html.escape(verdict)}</span></li>'
        )
    return "<ul>" + "".join(items) + "</ul>"


def _html_list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def _html_images(plots: list[_Plot]) -> list[str]:
    return [
        f'<img src="{html.escape(plot.file_name)}" alt="{html.escape(plot.description)}">'
        for plot in plots
    ]


# --- plots ------------------------------------------------------------------------------------

_LINE_STYLES = ("-", "--", ":", "-.")
_GOAL_LINE_COLOR = "#777777"


def _new_figure(width_in: float, height_in: float) -> Figure:
    # Imported here: matplotlib takes ~0.5 s to import, which `voice-agent` start-up should not
    # pay. Agg explicitly, on the figure itself: no display needed, no pyplot global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _plot_latency_cdfs(
    summaries: list[SeriesSummary], goals: Mapping[str, float], out: Path
) -> list[_Plot]:
    """One CDF plot per transport + receive mode: a line per calls level and profile."""
    groups: dict[tuple[str, str], list[SeriesSummary]] = {}
    for summary in summaries:
        if summary.voice_to_voice is not None:
            groups.setdefault((summary.series.transport, summary.series.receive), []).append(
                summary
            )
    plots = []
    for (transport, receive), group in groups.items():
        file_name = _file_name(f"voice-to-voice-cdf-{transport}-{receive}")
        title = f"Voice-to-voice latency, {transport}, receive {receive}"
        _plot_cdf(group, goals, title, out / file_name)
        plots.append(_Plot(file_name, f"{title}: cumulative share of turns"))
    return plots


def _plot_cdf(
    group: list[SeriesSummary], goals: Mapping[str, float], title: str, path: Path
) -> None:
    figure = _new_figure(8, 4.8)
    axes = figure.add_subplot()
    several_targets = len({s.series.target for s in group}) > 1
    profiles = list(dict.fromkeys(s.series.profile for s in group))
    for summary in sorted(group, key=lambda s: (s.series.target, s.series.profile, s.series.calls)):
        values = sorted(
            t.voice_to_voice_ms for t in summary.series.turns if t.voice_to_voice_ms is not None
        )
        shares = [(index + 1) / len(values) for index in range(len(values))]
        style = _LINE_STYLES[profiles.index(summary.series.profile) % len(_LINE_STYLES)]
        label = f"{_calls_text(summary.series.calls)}, {summary.series.profile} (n={len(values)})"
        if several_targets:
            label = f"{summary.series.target}: {label}"
        axes.step([0.0, *values], [0.0, *shares], where="post", linestyle=style, label=label)
    _draw_goal_lines(axes, goals)
    axes.set_title(title, pad=28)  # room for the goal labels above the plot
    axes.set_xlabel("voice-to-voice latency (ms): caller's speech end to agent audio heard")
    axes.set_ylabel("share of turns at or below")
    axes.set_ylim(0, 1.05)
    axes.set_xlim(left=0)
    axes.grid(True, alpha=0.3)
    # Below the plot, not on it: the lines it would cover are the point of the plot
    figure.legend(loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    figure.savefig(path)


def _draw_goal_lines(axes: Axes, goals: Mapping[str, float]) -> None:
    for _, percentile, limit in latency_goals(goals):
        axes.axvline(limit, color=_GOAL_LINE_COLOR, linestyle="--", linewidth=1)
        # Above the plot area (x in data, y in axes units), clear of the lines
        axes.text(
            limit,
            1.01,
            f"{percentile} goal\n{limit:.0f} ms",
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="small",
            color=_GOAL_LINE_COLOR,
        )


def _plot_stages(summaries: list[SeriesSummary], out: Path) -> list[_Plot]:
    """Stacked horizontal bars: where the p50 voice-to-voice time goes, one bar per series."""
    bars = [(s.label(), stage_segments(s)) for s in summaries if s.stages]
    if not bars:
        return []
    if len({s.series.target for s in summaries if s.stages}) > 1:
        bars = [(s.label(with_target=True), stage_segments(s)) for s in summaries if s.stages]
    file_name = "stages.png"
    _draw_stage_bars(bars, out / file_name)
    return [_Plot(file_name, "Where the time goes: p50 ms per stage after the caller's speech")]


def _draw_stage_bars(bars: list[tuple[str, list[tuple[str, float]]]], path: Path) -> None:
    figure = _new_figure(9, 1.6 + 0.55 * len(bars))
    axes = figure.add_subplot()
    names = [n for n in (*STAGES, NETWORK_AND_CALLER) if any(n in dict(s) for _, s in bars)]
    colors = {name: f"C{index}" for index, name in enumerate(names)}
    labels = [label for label, _ in bars]
    total_ms = max(sum(ms for _, ms in segments) for _, segments in bars) or 1.0
    starts = [0.0] * len(bars)
    for name in names:
        widths = [dict(segments).get(name, 0.0) for _, segments in bars]
        container = axes.barh(labels, widths, left=starts, color=colors[name], label=name)
        # Numbers only where they fit inside their segment
        axes.bar_label(
            container,
            labels=[f"{w:.0f}" if w >= total_ms * 0.06 else "" for w in widths],
            label_type="center",
            fontsize="small",
            color="white",
        )
        starts = [start + width for start, width in zip(starts, widths, strict=True)]
    axes.invert_yaxis()  # first series on top, as in the tables
    axes.set_title("Where the time goes (p50 per stage)")
    axes.set_xlabel("ms after the caller's speech end; each segment ends at its mark")
    axes.grid(True, axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=len(names), fontsize="small", frameon=False)
    figure.savefig(path)


def _file_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") + ".png"


# --- progress ---------------------------------------------------------------------------------


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
