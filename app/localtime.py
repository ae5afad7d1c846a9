"""Local time at a location: the one home of time zones, "today", visit windows and shown times.

Times are stored in UTC. Every location keeps its clocks in one IANA zone (its own, else its
region's: `Location.zone`). A visit's window is a pair of dates in the location's calendar, so
"today", "overdue" and "outside the window" are decided on the location's local date, and every
time a person reads (pages, PDFs, exports) is the location's wall-clock time with the zone named:
"3 Dec 2026, 10:47 (Moscow, UTC+3)".
"""
from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from flask import Flask
from flask_babel import get_locale, ngettext
from sqlalchemy import ColumnElement, and_, false, func, or_, select

from app.extensions import db
from app.models import OPEN_STATES, Location, Region, Visit
from app.models.types import utcnow

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The zones of Russia, west to east, listed first wherever a zone is chosen.
RUSSIAN_ZONES = (
    "Europe/Kaliningrad", "Europe/Moscow", "Europe/Volgograd", "Europe/Samara", "Asia/Yekaterinburg",
    "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
    "Asia/Sakhalin", "Asia/Magadan", "Asia/Kamchatka",
)
#: Names in the zone database that are not places: never offered, never accepted.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})

#: Where a time is read: a location (its effective zone), a zone, or a zone's IANA name.
Where = Location | ZoneInfo | str


class UnknownZone(ValueError):
    """A time-zone name the zone database does not know."""


@lru_cache(maxsize=1)
def _known_zones() -> dict[str, str]:
    """Return {lower-case name: IANA name} of every zone of the installed database (tzdata as fallback)."""
    return {name.lower(): name for name in zoneinfo.available_timezones() - NOT_ZONES}


def canonical_zone(name: str | None) -> str | None:
    """Return the IANA spelling of a zone name typed in any case ("europe/moscow"), or None when unknown."""
    return _known_zones().get((name or "").strip().lower())


def zone_of(where: Where) -> ZoneInfo:
    """Return the zone of a location, a zone, or a zone name; :raise UnknownZone: for an unknown name."""
    if isinstance(where, ZoneInfo):
        return where
    if isinstance(where, Location):
        return where.zone
    name = canonical_zone(where)
    if name is None:
        raise UnknownZone(where)
    return ZoneInfo(name)


def all_zones() -> list[str]:
    """Return every zone a person may choose: Russia's first (west to east), then the rest by name."""
    russian = [z for z in RUSSIAN_ZONES if canonical_zone(z)]
    return russian + sorted(set(_known_zones().values()) - set(russian))


def zone_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """Return (IANA name, label) of every zone for a select: "UTC+3 · Moscow (Europe/Moscow)", Russia's first.

    Russia's zones carry their city in the page language; the others their IANA name, which is what
    people search for in a long list.
    """
    moment = now or utcnow()
    locale = _locale()
    choices = []
    for name in all_zones():
        offset = offset_text(moment.astimezone(ZoneInfo(name)))
        label = f"{offset} · {city_name(name, locale)} ({name})" if name in RUSSIAN_ZONES else f"{offset} · {name}"
        choices.append((name, label))
    return choices


# -- converting and formatting ---------------------------------------------------------------------


def to_local(moment: datetime, where: Where) -> datetime:
    """Return a stored (UTC) moment as wall-clock time at the location; a naive moment is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone_of(where))


def to_utc(local: datetime, where: Where) -> datetime:
    """Return the UTC moment of a wall-clock time at the location (a naive time is read in its zone)."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone_of(where))
    return local.astimezone(UTC)


def offset_text(local: datetime) -> str:
    """Return the UTC offset of an aware moment as people write it: "UTC+3", "UTC+5:30", "UTC−3", "UTC"."""
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@lru_cache(maxsize=2048)
def city_name(zone_name: str, locale: str) -> str:
    """Return the zone's city in the language ("Moscow", "Москва"), or the IANA name when it has none."""
    if zone_name in ("UTC", "Etc/UTC") or zone_name.startswith("Etc/"):
        return zone_name
    try:
        return str(get_timezone_location(ZoneInfo(zone_name), locale, return_city=True))
    except (LookupError, ValueError):
        return zone_name


def _locale() -> str:
    return str(get_locale() or "en")


def zone_text(where: Where, moment: datetime | None = None) -> str:
    """Return the zone as a manager reads it at a moment (now by default): "Moscow, UTC+3"."""
    zone = zone_of(where)
    local = (moment or utcnow()).astimezone(zone)
    city = city_name(zone.key, _locale())
    offset = offset_text(local)
    return offset if city in ("UTC", "Etc/UTC") else f"{city}, {offset}"


def format_local(moment: datetime | None, where: Where, fmt: str = "medium", *, zone: bool = True) -> str:
    """Return a stored moment as the location's wall-clock time, "3 Dec 2026, 10:47 (Moscow, UTC+3)".

    `fmt` "short" gives the short date ("03.12.2026, 10:47"), "time" the time alone; `zone=False` leaves
    the zone out where a heading names it. An em dash when there is no moment.
    """
    if moment is None:
        return "—"
    local = to_local(moment, where)
    locale = _locale()
    if fmt == "short":
        text = format_datetime(local, "short", tzinfo=local.tzinfo, locale=locale)
    elif fmt == "time":
        text = format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    else:
        text = f'{format_date(local.date(), "medium", locale=locale)}, ' \
               f'{format_time(local, "short", tzinfo=local.tzinfo, locale=locale)}'
    return f"{text} ({zone_text(where, moment)})" if zone else text


# -- "today" and the window rules -----------------------------------------------------------------


def today_at(where: Where, now: datetime | None = None) -> date:
    """Return the date on the location's calendar at `now` (the current moment by default)."""
    return to_local(now or utcnow(), where).date()


def visit_day(visit: Visit) -> date | None:
    """Return the local date the visit took place: when it was started, else submitted; None before either."""
    moment = visit.started_at or visit.submitted_at
    return to_local(moment, visit.location).date() if moment else None


def is_overdue(visit: Visit, now: datetime | None = None) -> bool:
    """Return True when the visit is still open after the last day of its window, on the location's calendar."""
    return visit.status in OPEN_STATES and today_at(visit.location, now) > visit.window_end


def days_outside(day: date, window_start: date, window_end: date) -> int:
    """Return how many days `day` lies before the window (negative), after it (positive), or 0 inside."""
    if day < window_start:
        return (day - window_start).days
    if day > window_end:
        return (day - window_end).days
    return 0


def window_warning(visit: Visit) -> str | None:
    """Return what the reviewer is told when the visit took place outside its window, else None.

    "Started 2 days before the window opened." — on the location's calendar.
    """
    day = visit_day(visit)
    if day is None:
        return None
    off = days_outside(day, visit.window_start, visit.window_end)
    if off == 0:
        return None
    started = visit.started_at is not None
    if off < 0:
        if started:
            return ngettext("Started %(num)d day before the window opened.",
                            "Started %(num)d days before the window opened.", -off)
        return ngettext("Submitted %(num)d day before the window opened.",
                        "Submitted %(num)d days before the window opened.", -off)
    if started:
        return ngettext("Started %(num)d day after the window closed.",
                        "Started %(num)d days after the window closed.", off)
    return ngettext("Submitted %(num)d day after the window closed.",
                    "Submitted %(num)d days after the window closed.", off)


def _early(count: int, n: object) -> str:
    return ngettext("The window opens in %(n)s day. You can start now, but the reviewer will see that the visit "
                    "was early.",
                    "The window opens in %(n)s days. You can start now, but the reviewer will see that the visit "
                    "was early.", count, n=n)


def _late(count: int, n: object) -> str:
    return ngettext("The window closed %(n)s day ago. You can still start, but the reviewer will see that the "
                    "visit was late.",
                    "The window closed %(n)s days ago. You can still start, but the reviewer will see that the "
                    "visit was late.", count, n=n)


def start_warning(visit: Visit, now: datetime | None = None) -> str | None:
    """Return what the shopper is told before starting a visit outside its window today, else None."""
    if visit.started_at is not None or visit.status not in OPEN_STATES:
        return None
    off = days_outside(today_at(visit.location, now), visit.window_start, visit.window_end)
    if off < 0:
        return _early(-off, -off)
    if off > 0:
        return _late(off, off)
    return None


def start_warning_texts(samples: tuple[int, ...] = (1, 2, 5)) -> dict[str, list[str]]:
    """Return the start warnings for the phone's own check, "{n}" for the days, one form per sample count.

    The phone form redoes the check with the phone's clock in the store's zone (the page may be an
    offline copy from an earlier day); text.js picks the plural form of the page language.
    """
    return {"window_early": [_early(c, "{n}") for c in samples], "window_late": [_late(c, "{n}") for c in samples]}


# -- the same rules in SQL ----------------------------------------------------------------------


def effective_zone_column() -> ColumnElement[str]:
    """Return the SQL expression of a location's zone (needs locations joined to regions)."""
    return func.coalesce(Location.timezone, Region.timezone)


def zones_in_use() -> set[str]:
    """Return every zone some location keeps its clocks in (one query over the small tables)."""
    stmt = select(effective_zone_column()).select_from(Location).join(Region, Region.id == Location.region_id)
    return set(db.session.scalars(stmt.distinct()))


def zones_by_day(zones: Iterable[str], now: datetime | None = None) -> dict[date, list[str]]:
    """Return the zones grouped by their local date at `now` (two or three dates at most on Earth)."""
    moment = now or utcnow()
    groups: defaultdict[date, list[str]] = defaultdict(list)
    for name in zones:
        groups[today_at(name, moment)].append(name)
    return dict(groups)


def overdue_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """Return the SQL condition of `is_overdue` for Visit rows: open, and the window ended before local today.

    One group per local date in use: when every location shares a date it is a plain date comparison.
    """
    groups = zones_by_day(zones_in_use(), now)
    if not groups:
        return false()
    if len(groups) == 1:
        (today,) = groups
        ended: ColumnElement[bool] = Visit.window_end < today
    else:
        parts = []
        for today, names in groups.items():
            located = select(Location.id).join(Region, Region.id == Location.region_id).where(
                effective_zone_column().in_(names))
            parts.append(and_(Visit.window_end < today, Visit.location_id.in_(located)))
        # The bound on the latest date lets the database walk the window_end index as for one date.
        ended = and_(Visit.window_end < max(groups), or_(*parts))
    return and_(Visit.status.in_(OPEN_STATES), ended)


# -- template helpers -----------------------------------------------------------------------------


def register(app: Flask) -> None:
    """Make the local-time helpers template filters and globals of every page.

    `{{ visit.started_at|localtime(visit.location) }}`, `{{ moment|localtime(loc, 'short', zone=False) }}`,
    `{{ zone_text(location) }}`, `{{ overdue(visit) }}`, `{{ window_warning(visit) }}`.
    """
    app.jinja_env.filters.update({"localtime": format_local})
    app.jinja_env.globals.update({"zone_text": zone_text, "overdue": is_overdue, "window_warning": window_warning,
                                  "start_warning": start_warning, "start_warning_texts": start_warning_texts})
