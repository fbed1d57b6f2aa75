"""Usage months: YYYY-MM, calendar months in UTC, the end exclusive."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.http.usage import UsageMonth


def test_a_month_is_its_utc_calendar_month():
    month = UsageMonth.parse("2026-02")
    assert month.start == datetime(2026, 2, 1, tzinfo=UTC)
    assert month.end == datetime(2026, 3, 1, tzinfo=UTC)
    assert str(month) == "2026-02"
    december = UsageMonth.parse("2026-12")
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_month_of_a_moment_is_taken_in_utc():
    montreal_evening = datetime(2026, 11, 30, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert str(UsageMonth.of(montreal_evening)) == "2026-12"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-01", "2026/01", "2026-1", "", "1999-12", "x"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        UsageMonth.parse(text)
