"""Periods of whole days that dashboards and reports compare: months, quarters, years, the previous one."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

#: Longest period a figure may cover: a typo such as 1024 instead of 2024 stays cheap and is caught.
MAX_DAYS = 3 * 366


class PeriodError(ValueError):
    """A period people asked for that cannot be used, with the reason in their language."""


@dataclass(frozen=True)
class Period:
    """A range of whole days, both ends inclusive, compared on Visit.visited_at (UTC)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    @classmethod
    def checked(cls, start: date, end: date) -> Period:
        """Return the period people asked for; :raise PeriodError: when it is reversed or over three years."""
        if end < start:
            raise PeriodError(_l("The period ends before it starts."))
        if (end - start).days > MAX_DAYS:
            raise PeriodError(_l("A period covers at most three years."))
        return cls(start, end)

    @property
    def days(self) -> int:
        """Return the number of days in the period."""
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """Return [start, end) as UTC datetimes for filtering timestamps."""
        return (
            datetime.combine(self.start, time.min, tzinfo=UTC),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC),
        )

    def previous(self) -> Period:
        """Return the period of the same length just before; whole months/quarters/years step by one."""
        months = self._whole_months()
        if months:
            start = _add_months(self.start, -months)
            return Period(start, self.start - timedelta(days=1))
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def _whole_months(self) -> int:
        """Return n when the period is exactly n calendar months (1, 3, 6, 12), else 0."""
        if self.start.day != 1 or self.end.day != calendar.monthrange(self.end.year, self.end.month)[1]:
            return 0
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return months if months in (1, 3, 6, 12) else 0

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        """Return the `days` days up to and including today."""
        today = today or date.today()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def month(cls, today: date | None = None) -> Period:
        """Return the calendar month containing today."""
        today = today or date.today()
        return cls(today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1]))

    @classmethod
    def quarter(cls, today: date | None = None) -> Period:
        """Return the calendar quarter containing today."""
        today = today or date.today()
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return cls(first, _add_months(first, 3) - timedelta(days=1))

    @classmethod
    def year(cls, today: date | None = None) -> Period:
        """Return the calendar year containing today."""
        today = today or date.today()
        return cls(date(today.year, 1, 1), date(today.year, 12, 31))

    def split(self, count: int) -> list[Period]:
        """Return the period cut into `count` consecutive parts of (nearly) equal length, fewer if too short."""
        count = max(1, min(count, self.days))
        bounds = [self.start + timedelta(days=round(i * self.days / count)) for i in range(count + 1)]
        return [Period(bounds[i], bounds[i + 1] - timedelta(days=1)) for i in range(count)]

    def split_at_months(self, count: int) -> list[Period]:
        """Return `split(count)` with each inner boundary moved to the nearest first of a month within
        half a part: the parts stay (nearly) equal, and the rollups serve them as whole months, not days."""
        parts = self.split(count)
        bounds = [part.start for part in parts] + [self.end + timedelta(days=1)]
        reach = self.days / len(parts) / 2
        for i in range(1, len(parts)):
            month_start = _add_months(bounds[i], 0)
            nearest = min((month_start, _add_months(bounds[i], 1)), key=lambda day: abs((day - bounds[i]).days))
            if abs((nearest - bounds[i]).days) <= reach and bounds[i - 1] < nearest < bounds[i + 1]:
                bounds[i] = nearest
        return [Period(bounds[i], bounds[i + 1] - timedelta(days=1)) for i in range(len(parts))]

    def series(self, count: int) -> list[Period]:
        """Return `count` consecutive periods ending with this one, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.insert(0, periods[0].previous())
        return periods


def _add_months(day: date, months: int) -> date:
    """Return the first-of-month date `months` months from `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def monthly_periods(end: date, count: int = 12) -> list[Period]:
    """Return the `count` calendar months ending with the one that contains `end`, oldest first."""
    return Period.month(end).series(count)
