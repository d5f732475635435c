"""The statistics page's figures and plots, from rows made here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from voice_agent.desk.stats import Series, chart, daily, percentile, stats_days
from voice_agent.store.desk import DeskError
from voice_agent.store.desk_views import StatsRows


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_each_day_counts_its_own_calls_and_empty_days_are_kept() -> None:
    rows = StatsRows(
        calls=(
            (_at(1), "completed"),
            (_at(1), "completed"),
            (_at(1), "handoff"),
            (_at(1), "no_speech"),
            (_at(3), "handoff"),
        ),
        verifications=((_at(1), False), (_at(1), True), (_at(3), False), (_at(3), False)),
        locks=(_at(3),),
        first_audio=((_at(1), 300.0), (_at(1), 500.0), (_at(1), 400.0)),
    )
    first, second, third = daily(rows, date(2026, 12, 1), date(2026, 12, 3))
    assert (first.calls, first.completed, first.handoffs) == (4, 2, 1)
    assert first.resolved_share == pytest.approx(2 / 3)
    assert first.handoff_rate == pytest.approx(1 / 4)
    assert (first.verification_failures, first.locks) == (1, 0)
    assert first.latency_p50_ms == 400.0
    assert first.latency_p95_ms == pytest.approx(490.0)
    assert (second.calls, second.resolved_share, second.handoff_rate) == (0, None, None)
    assert second.latency_p50_ms is None
    assert (third.calls, third.handoff_rate, third.resolved_share) == (1, 1.0, 0.0)
    assert (third.verification_failures, third.locks) == (2, 1)


@pytest.mark.parametrize("q", [0, 25, 50, 90, 95, 100])
def test_percentiles_match_numpy(q: float) -> None:
    values = [812.0, 120.5, 300.0, 301.0, 90.0, 1500.0, 640.0]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], q) is None


def test_a_chart_is_an_accessible_svg_with_a_bar_per_value() -> None:
    days = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
    svg = chart(
        "latency",
        "Latency <server-side>",
        days,
        [Series("p50", [300.0, None, 250.0], "s1"), Series("p95", [900.0, None, 400.0], "s2")],
        "ms",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-describedby="latency-table"' in svg
    assert "Latency &lt;server-side&gt;" in svg  # escaped
    bars = svg.count('<rect class="s1" x=') + svg.count('<rect class="s2" x=')
    assert bars == 4 + 2  # four values, two legend swatches
    assert "p95 Dec 01: 900 ms" in svg
    assert ">1000 ms<" in svg  # the axis rounds up to a round number
    assert "style=" not in svg  # the desk's CSP allows no inline styles


def test_the_stats_range_defaults_to_two_weeks_up_to_today() -> None:
    today = date(2026, 3, 31)
    assert stats_days(None, None, today) == (today - timedelta(days=13), today)
    assert stats_days("2026-03-01", "2026-03-02", today) == (date(2026, 3, 1), date(2026, 3, 2))


@pytest.mark.parametrize(
    ("since", "until", "says"),
    [
        ("yesterday", None, "from and to must be dates like 2026-03-31"),
        ("2026-03-02", "2026-03-01", "from 2026-03-02 is after to 2026-03-01"),
        ("2024-01-01", "2026-01-01", "at most 366 days at a time"),
    ],
)
def test_a_bad_stats_range_says_what_is_wrong(since: str, until: str | None, says: str) -> None:
    with pytest.raises(DeskError, match=says):
        stats_days(since, until, date(2026, 3, 31))


def test_a_range_ending_in_the_first_days_of_year_one_starts_on_its_first_day() -> None:
    # found writing the fuzz target: two weeks before 0001-01-05 overflowed (a 500, not a page)
    assert stats_days(None, "0001-01-05", date(2026, 3, 31)) == (date.min, date(1, 1, 5))
