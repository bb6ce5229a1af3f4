"""Deadlines in natural or working days (民法典 Arts. 201-203).

The start day is not counted; a period ends at 24:00 local time of its last day; a natural-day
period whose last day is a rest day (法定休假日, weekends included) ends on the next working
day. Deadlines are computed in the council's time zone and returned in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class DayType(StrEnum):
    NATURAL = "natural"
    WORKING = "working"


@dataclass(frozen=True)
class HolidayCalendar:
    """Statutory holidays and make-up working days (调休) of one jurisdiction."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    working_weekends: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.working_weekends:
            return True
        return day.weekday() < 5


def deadline(
    start: datetime,
    days: int,
    day_type: DayType = DayType.NATURAL,
    *,
    calendar: HolidayCalendar | None = None,
    timezone: str = "Asia/Shanghai",
) -> datetime:
    """The instant (UTC) at which a period of ``days`` starting at ``start`` ends."""
    if start.tzinfo is None:
        raise ValueError("deadlines need an aware start time")
    if days < 0:
        raise ValueError("a period cannot be negative")
    zone = ZoneInfo(timezone)
    calendar = calendar or HolidayCalendar()
    day = start.astimezone(zone).date()
    if day_type is DayType.NATURAL:
        day += timedelta(days=days)
        while days and not calendar.is_working_day(day):
            day += timedelta(days=1)
    else:
        remaining = days
        while remaining:
            day += timedelta(days=1)
            if calendar.is_working_day(day):
                remaining -= 1
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return end_of_day.astimezone(UTC)
