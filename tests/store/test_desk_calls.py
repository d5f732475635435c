"""The call history's day arithmetic (its queries: test_desk.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from voice_agent.store.desk_calls import day_range


def test_a_day_range_runs_from_the_first_days_start_to_the_next_days_start() -> None:
    assert day_range(date(2026, 3, 1), date(2026, 3, 31)) == (
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )


def test_a_range_to_the_last_date_there_is_ends_at_the_last_moment() -> None:
    # found writing the fuzz target: "to 9999-12-31" on the call history overflowed (a 500)
    start, end = day_range(date.min, date.max)
    assert start == datetime(1, 1, 1, tzinfo=UTC)
    assert end == datetime.max.replace(tzinfo=UTC)
