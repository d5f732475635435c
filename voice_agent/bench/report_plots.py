"""The report's PNG plots: voice-to-voice latency CDFs against the goals, and where the time goes
per stage. matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voice_agent.bench.report_summary import (
    NETWORK_AND_CALLER,
    STAGES,
    SeriesSummary,
    calls_text,
    language_text,
    latency_goals,
    stage_segments,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True, slots=True)
class Plot:
    file_name: str
    description: str


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


def plot_latency_cdfs(
    summaries: list[SeriesSummary], goals: Mapping[str, float], out: Path
) -> list[Plot]:
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
        plots.append(Plot(file_name, f"{title}: cumulative share of turns"))
    return plots


def _plot_cdf(
    group: list[SeriesSummary], goals: Mapping[str, float], title: str, path: Path
) -> None:
    figure = _new_figure(8, 4.8)
    axes = figure.add_subplot()
    several_targets = len({s.series.target for s in group}) > 1
    profiles = list(dict.fromkeys(s.series.profile for s in group))
    for summary in sorted(group, key=_plot_order):
        values = sorted(
            t.voice_to_voice_ms for t in summary.series.turns if t.voice_to_voice_ms is not None
        )
        shares = [(index + 1) / len(values) for index in range(len(values))]
        style = _LINE_STYLES[profiles.index(summary.series.profile) % len(_LINE_STYLES)]
        label = f"{calls_text(summary.series.calls)}, {summary.series.profile}"
        if summary.series.language is not None:
            label += f", {language_text(summary.series.language, summary.series.hinted)}"
        label += f" (n={len(values)})"
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


def _plot_order(summary: SeriesSummary) -> tuple[str, str, int, str, bool]:
    series = summary.series
    return (series.target, series.profile, series.calls, series.language or "", not series.hinted)


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


def plot_stages(summaries: list[SeriesSummary], out: Path) -> list[Plot]:
    """Stacked horizontal bars: where the p50 voice-to-voice time goes, one bar per series."""
    bars = [(s.label(), stage_segments(s)) for s in summaries if s.stages]
    if not bars:
        return []
    if len({s.series.target for s in summaries if s.stages}) > 1:
        bars = [(s.label(with_target=True), stage_segments(s)) for s in summaries if s.stages]
    file_name = "stages.png"
    _draw_stage_bars(bars, out / file_name)
    return [Plot(file_name, "Where the time goes: p50 ms per stage after the caller's speech")]


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
