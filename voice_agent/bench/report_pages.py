"""report.md and report.html: the same tables, goals, plots and sections, each page escaping
its own way."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from voice_agent.bench.report_plots import Plot
from voice_agent.bench.report_summary import (
    CLEAN_PROFILE,
    GOAL_RECEIVE,
    SeriesSummary,
    describe_check,
    language_text,
    percent,
    stage_segments,
)

_NOT_CHECKED = (
    f"Not checked: no series at 1 call on a {CLEAN_PROFILE} line with receive {GOAL_RECEIVE}."
)


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """What report.md and report.html both show, as plain text (each escapes its own way)."""

    title: str
    command: str
    """The command line that reproduces the report."""
    machine: str
    started_at: str
    notes: list[str]
    results: Table
    goal_lines: list[tuple[str, str, bool | None]]
    stages: Table | None
    compare: list[Table]
    calibration: list[Table]
    failures: list[str]
    latency_plots: list[Plot]
    stage_plots: list[Plot]


def write_pages(page: Page, out: Path) -> None:
    """Write report.md and report.html into `out`."""
    (out / "report.md").write_text(_markdown(page), encoding="utf-8")
    (out / "report.html").write_text(_html(page), encoding="utf-8")


def goal_verdicts(checks: list[dict[str, object]]) -> list[tuple[str, str, bool | None]]:
    """(what was checked, the verdict, met) for each goal check."""
    return [(*describe_check(check), _met(check)) for check in checks]


def _met(check: Mapping[str, object]) -> bool | None:
    met = check["met"]
    return met if isinstance(met, bool) else None


def failure_lines(summaries: list[SeriesSummary]) -> list[str]:
    """Each series' failures, prefixed with the series."""
    return [f"{s.label(with_target=True)}: {f}" for s in summaries for f in s.series.failures]


# --- tables -----------------------------------------------------------------------------------

_RESULT_HEADERS = [
    "target", "transport", "profile", "receive", "calls", "turns",
    "v2v p50", "v2v p95", "v2v p99", "v2v max", "net v2v p50",
    "barge-in pause p50", "barge-in stop p50", "false cut-off", "content ok",
    "no reply", "CPU (cores)", "RSS (MB)",
]  # fmt: skip


def results_table(summaries: list[SeriesSummary]) -> Table:
    """One row per series; a "language" column after "calls" when some series has one."""
    rows = [_result_row(summary) for summary in summaries]
    headers = list(_RESULT_HEADERS)
    if any(summary.series.language is not None for summary in summaries):
        at = headers.index("calls") + 1
        headers.insert(at, "language")
        for row, summary in zip(rows, summaries, strict=True):
            language, hinted = summary.series.language, summary.series.hinted
            row.insert(at, "-" if language is None else language_text(language, hinted))
    return Table(
        headers=headers,
        rows=rows,
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
        percent(summary.false_cutoff_rate), percent(summary.content_ok_rate),
        str(summary.no_reply),
        "-" if series.target_cpu is None else f"{series.target_cpu:.2f}",
        "-" if series.target_rss_mb is None else f"{series.target_rss_mb:.0f}",
    ]  # fmt: skip


def stages_table(summaries: list[SeriesSummary]) -> Table | None:
    with_stages = [(s, dict(stage_segments(s))) for s in summaries if s.stages]
    if not with_stages:
        return None
    # columns in the order the first series reached its marks (time order, not pipeline order)
    names = list(dict.fromkeys(name for _, segments in with_stages for name in segments))
    rows = [
        [
            s.label(with_target=True),
            *(_ms(segments.get(name)) for name in names),
            _ms(s.voice_to_voice.p50 if s.voice_to_voice else None),
        ]
        for s, segments in with_stages
    ]
    return Table(
        headers=["series", *names, "v2v p50"],
        rows=rows,
        caption=(
            "p50 ms from the mark reached before each one, marks in the order their p50s"
            " were reached (the target's own marks, ours only); the rest of the caller's"
            " voice-to-voice p50 is network + caller."
        ),
    )


def free_form_tables(data: Mapping[str, object] | None) -> list[Table]:
    """Scalars (nested dicts flattened to dotted keys) in one key/value table; each list of
    dicts in a table of its own."""
    if not data:
        return []
    scalars: list[list[str]] = []
    tables: list[Table] = []
    for key, value in _flatten(data):
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(_dicts_table(key, value))
        else:
            scalars.append([key, _text(value)])
    if scalars:
        tables.insert(0, Table(headers=["what", "value"], rows=scalars))
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


def _dicts_table(caption: str, rows: list[dict[str, object]]) -> Table:
    headers = list(dict.fromkeys(key for row in rows for key in row))
    return Table(
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


# --- Markdown ---------------------------------------------------------------------------------


def _markdown(page: Page) -> str:
    lines = [
        f"# {page.title}",
        "",
        f"`{page.command}` on {page.started_at} ({page.machine}).",
        "",
        *_md_table(page.results),
        "## Goals",
        "",
        *_md_goals(page.goal_lines),
    ]
    if page.stages is not None:
        lines += ["## Where the time goes", "", *_md_table(page.stages)]
        lines += _md_images(page.stage_plots)
    if page.latency_plots:
        lines += ["## Voice-to-voice latency", "", *_md_images(page.latency_plots)]
    lines += _md_section("Compare", [row for t in page.compare for row in _md_table(t)])
    lines += _md_section("Calibration", [row for t in page.calibration for row in _md_table(t)])
    lines += _md_section("Failures", [f"- {_md_cell(f)}" for f in page.failures] + [""])
    lines += _md_section("Notes", [f"- {note}" for note in page.notes] + [""])
    lines += ["## Reproduce", "", "```", page.command, "```", ""]
    return "\n".join(lines)


def _md_section(heading: str, body: list[str]) -> list[str]:
    return [f"## {heading}", "", *body] if any(body) else []


def _md_table(table: Table) -> list[str]:
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


def _md_images(plots: list[Plot]) -> list[str]:
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


def _html(page: Page) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(page.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(page.title)}</h1>",
        f"<p><code>{esc(page.command)}</code> on {esc(page.started_at)} ({esc(page.machine)}).</p>",
        _html_table(page.results),
        "<h2>Goals</h2>",
        _html_goals(page.goal_lines),
    ]
    if page.stages is not None:
        parts += ["<h2>Where the time goes</h2>", _html_table(page.stages)]
        parts += _html_images(page.stage_plots)
    if page.latency_plots:
        parts += ["<h2>Voice-to-voice latency</h2>", *_html_images(page.latency_plots)]
    parts += _html_section("Compare", [_html_table(t) for t in page.compare])
    parts += _html_section("Calibration", [_html_table(t) for t in page.calibration])
    parts += _html_section("Failures", [_html_list(page.failures)] if page.failures else [])
    parts += _html_section("Notes", [_html_list(page.notes)] if page.notes else [])
    parts += ["<h2>Reproduce</h2>", f"<pre><code>{esc(page.command)}</code></pre>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_section(heading: str, body: list[str]) -> list[str]:
    return [f"<h2>{html.escape(heading)}</h2>", *body] if body else []


def _html_table(table: Table) -> str:
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


def _html_images(plots: list[Plot]) -> list[str]:
    return [
        f'<img src="{html.escape(plot.file_name)}" alt="{html.escape(plot.description)}">'
        for plot in plots
    ]
