from datetime import UTC, date, datetime

from govflow.domain.calendar import DayType, HolidayCalendar, deadline

# Monday 2026-03-02 09:00 in Shanghai.
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def local_end(day: str) -> datetime:
    """24:00 Shanghai time of ``day`` in UTC."""
    y, m, d = map(int, day.split("-"))
    return datetime(y, m, d, 16, 0, tzinfo=UTC)


def test_start_day_is_not_counted() -> None:
    """Five natural days from a Monday end at 24:00 on Saturday... moved to the working Monday."""
    assert deadline(MONDAY, 3) == local_end("2026-03-05")


def test_period_ending_on_rest_day_moves_to_next_working_day() -> None:
    """A period whose last day is a Saturday ends on Monday (民法典 Art. 203)."""
    assert deadline(MONDAY, 5) == local_end("2026-03-09")


def test_statutory_holiday_moves_the_end() -> None:
    """A last day on a statutory holiday moves past it."""
    calendar = HolidayCalendar(holidays=frozenset({date(2026, 3, 5), date(2026, 3, 6)}))
    assert deadline(MONDAY, 3, calendar=calendar) == local_end("2026-03-09")


def test_working_days_skip_weekends_and_count_make_up_days() -> None:
    """Working-day periods skip weekends and holidays and count make-up working Saturdays."""
    assert deadline(MONDAY, 5, DayType.WORKING) == local_end("2026-03-09")
    calendar = HolidayCalendar(
        holidays=frozenset({date(2026, 3, 3)}), working_weekends=frozenset({date(2026, 3, 7)})
    )
    assert deadline(MONDAY, 5, DayType.WORKING, calendar=calendar) == local_end("2026-03-09")
    assert deadline(MONDAY, 4, DayType.WORKING, calendar=calendar) == local_end("2026-03-07")


def test_local_date_decides_the_start_day() -> None:
    """17:00 UTC is already the next day in Shanghai: counting starts from that local day."""
    late = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 01:00 Tuesday in Shanghai
    assert deadline(late, 1) == local_end("2026-03-04")
