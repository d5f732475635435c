"""The statistics page: per-day figures of the calls, drawn as inline SVG (hand-written, so
nothing renders off the page's process and no style is inlined), each with a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiohttp import web
from markupsafe import Markup, escape

from voice_agent.desk.web import DESK, render
from voice_agent.store.desk import DeskError
from voice_agent.store.desk_calls import CallHistory, day_range
from voice_agent.store.desk_views import StatsRows

DEFAULT_DAYS = 14
MAX_DAYS = 366
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date
    calls: int = 0
    completed: int = 0
    handoffs: int = 0
    verification_failures: int = 0
    locks: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    @property
    def resolved_share(self) -> float | None:
        """Of the calls that ended completed or handed off, the share the agent resolved."""
        decided = self.completed + self.handoffs
        return self.completed / decided if decided else None

    @property
    def handoff_rate(self) -> float | None:
        return self.handoffs / self.calls if self.calls else None


def daily(rows: StatsRows, since: date, until: date) -> list[DayStats]:
    """One DayStats per day from `since` to `until` (both included), empty days too."""
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    calls = _by_day(at for at, _ in rows.calls)
    completed = _by_day(at for at, outcome in rows.calls if outcome == "completed")
    handoffs = _by_day(at for at, outcome in rows.calls if outcome == "handoff")
    failures = _by_day(at for at, success in rows.verifications if not success)
    locks = _by_day(rows.locks)
    latencies: dict[date, list[float]] = {}
    for at, ms in rows.first_audio:
        latencies.setdefault(at.date(), []).append(ms)
    return [
        DayStats(
            day=day,
            calls=calls.get(day, 0),
            completed=completed.get(day, 0),
            handoffs=handoffs.get(day, 0),
            verification_failures=failures.get(day, 0),
            locks=locks.get(day, 0),
            latency_p50_ms=percentile(latencies.get(day, []), 50),
            latency_p95_ms=percentile(latencies.get(day, []), 95),
        )
        for day in days
    ]


def _by_day(times: Iterable[datetime]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for at in times:
        counts[at.date()] = counts.get(at.date(), 0) + 1
    return counts


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None: no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- SVG --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[float | None]
    css: str
    """The CSS class that colours it (desk.css: .s1, .s2)."""


def chart(
    chart_id: str, title: str, days: Sequence[date], series: Sequence[Series], unit: str = ""
) -> Markup:
    """Bars per day (one per series, side by side), with axes; described by its title and
    the table that follows it on the page (aria-describedby)."""
    top = max((v for s in series for v in s.values if v is not None), default=0.0)
    scale_max = _nice(top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(days))
    bar = max(1.0, slot * 0.8 / max(1, len(series)))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-table">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    for tick in (0.0, scale_max / 2, scale_max):
        y = TOP + plot_h - (tick / scale_max * plot_h if scale_max else 0)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_short(tick, unit))}</text>"
        )
    every = max(1, math.ceil(len(days) / 8))
    for index, day in enumerate(days):
        x0 = LEFT + index * slot + slot * 0.1
        for n, one in enumerate(series):
            value = one.values[index]
            if value is None:
                continue
            height = value / scale_max * plot_h if scale_max else 0
            x, y = x0 + n * bar, TOP + plot_h - height
            parts.append(
                f'<rect class="{one.css}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}"><title>{escape(one.label)} {day:%b %d}: '
                f"{escape(_short(value, unit))}</title></rect>"
            )
        if index % every == 0:
            parts.append(
                f'<text class="tick" x="{x0 + slot * 0.4:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{day:%b %d}</text>'
            )
    parts.append(_legend(series))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(series: Sequence[Series]) -> str:
    items = []
    for n, one in enumerate(series):
        x = LEFT + n * 170
        items.append(
            f'<rect class="{one.css}" x="{x}" y="{HEIGHT - 14}" width="10" height="10"/>'
            f'<text class="tick" x="{x + 14}" y="{HEIGHT - 5}">{escape(one.label)}</text>'
        )
    return "".join(items)


def _nice(top: float) -> float:
    """A round axis maximum at or above `top` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(top))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= top)


def _short(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "ms":
        return f"{value:.0f} ms"
    return f"{value:.0f}" if value == round(value) else f"{value:.1f}"


# --- the page ---------------------------------------------------------------------------------


def add_routes(desk_app: web.Application) -> None:
    desk_app.router.add_get("/stats", _stats_page)


async def _stats_page(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    today = desk.now().date()
    try:
        since, until = stats_days(request.query.get("since"), request.query.get("until"), today)
    except DeskError as error:
        return render(request, "error.html", 400, message=str(error))
    start, end = day_range(since, until)
    rows = await desk.blocking(lambda database: CallHistory(database).stats_rows(start, end))
    days = daily(rows, since, until)
    return render(
        request,
        "stats.html",
        days=days,
        charts=_charts(days),
        since=since,
        until=until,
        section="stats",
    )


def stats_days(since_text: str | None, until_text: str | None, today: date) -> tuple[date, date]:
    """The days a stats page covers, from its query's from/to; DeskError says what is wrong."""
    try:
        until = date.fromisoformat(until_text or today.isoformat())
        # the first days of year 1 have fewer days before them than the default covers
        default_since = until - timedelta(days=min(DEFAULT_DAYS - 1, (until - date.min).days))
        since = date.fromisoformat(since_text or default_since.isoformat())
    except ValueError:
        raise DeskError("from and to must be dates like 2026-03-31") from None
    if since > until:
        raise DeskError(f"from {since} is after to {until}")
    if (until - since).days >= MAX_DAYS:
        raise DeskError(f"at most {MAX_DAYS} days at a time")
    return since, until


def _percent(value: float | None) -> float | None:
    return None if value is None else value * 100


def _charts(days: list[DayStats]) -> dict[str, Markup]:
    on = [day.day for day in days]
    return {
        "calls": chart(
            "calls",
            "Calls per day",
            on,
            [
                Series("calls", [d.calls for d in days], "s1"),
            ],
        ),
        "resolution": chart(
            "resolution",
            "Resolved without a person, and hand-off rate",
            on,
            [
                Series(
                    "resolved without a person", [_percent(d.resolved_share) for d in days], "s1"
                ),
                Series("hand-off rate", [_percent(d.handoff_rate) for d in days], "s2"),
            ],
            "%",
        ),
        "verification": chart(
            "verification",
            "Verification failures and locks per day",
            on,
            [
                Series("failed checks", [d.verification_failures for d in days], "s1"),
                Series("locks", [d.locks for d in days], "s2"),
            ],
        ),
        "latency": chart(
            "latency",
            "Agent reply latency, server-side",
            on,
            [
                Series("p50", [d.latency_p50_ms for d in days], "s1"),
                Series("p95", [d.latency_p95_ms for d in days], "s2"),
            ],
            "ms",
        ),
    }
