"""The one filter every figure is computed for, built once from a request or the command line.

A `Filters` value says which visits count: the period, the viewer's regions, a region or location,
the programme (a checklist id, all its versions) and the channel; and whether a location's average is
also shown calibrated for its shoppers' leniency (app.analytics.calibration). It is carried unchanged by every
link (page -> PDF -> export -> drill-down) as `args()`, and read back by `read_args()`, so a PDF,
a spreadsheet or the API shows exactly what the page it came from showed.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

from flask import current_app, g, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, or_, select
from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, SelectField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # types-WTForms 3.2 lacks it (3.3)
from wtforms.validators import Optional

from app.analytics import cache, rollups
from app.analytics.periods import Period, PeriodError
from app.extensions import db
from app.models import ChecklistVersion, Location, Region, ScoreRollup, Visit, VisitStatus

T = TypeVar("T")
#: `checklist=` value of the explicit "all programmes" view (visit scores only).
ALL_PROGRAMMES = "all"
PRESETS = [
    SelectChoice("30d", _l("Last 30 days")),
    SelectChoice("90d", _l("Last 90 days")),
    SelectChoice("quarter", _l("This quarter")),
    SelectChoice("last_quarter", _l("Last quarter")),
    SelectChoice("year", _l("This year")),
    SelectChoice("custom", _l("Custom dates")),
]
CHANNELS = [SelectChoice(value, label) for value, label in (
    ("", _l("All channels")), ("store", _l("Store")), ("phone", _l("Phone")), ("email", _l("Email")),
    ("web", _l("Web")), ("chat", _l("Chat")), ("other", _l("Other")))]
#: The query-string keys of a filter, the same on every page, PDF, export and API link.
KEYS = ("period", "start", "end", "region", "checklist", "channel", "calibrated")


class FilterError(ValueError):
    """A filter that cannot be used as asked, with the reason in the user's language."""


def counted_statuses() -> tuple[VisitStatus, ...]:
    """Return the visit states that count in figures: approved, and submitted when configured so."""
    if has_app_context() and current_app.config.get("COUNT_SUBMITTED_VISITS"):
        return (VisitStatus.approved, VisitStatus.submitted)
    return (VisitStatus.approved,)


@dataclass(frozen=True)
class Filters:
    """Which visits a figure counts. `programme` None means every programme (visit scores only)."""

    period: Period
    #: Regions the viewer may see (None = the whole network).
    scope: frozenset[int] | None = None
    region_id: int | None = None
    location_id: int | None = None
    programme: str | None = None
    channel: str | None = None
    #: The period preset people chose ("90d", "quarter", ..., "custom"), kept for links.
    preset: str = "custom"
    #: Show a location's average also corrected for its shoppers' biases (`calibrated=1`); counts the same visits.
    calibrated: bool = False

    def replace(self, **changes: Any) -> Filters:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    def previous(self) -> Filters:
        """Return the same filter over the previous period."""
        return replace(self, period=self.period.previous(), preset="custom")

    def network(self) -> Filters:
        """Return the benchmark of these figures: the same programme, channel and period over the whole network."""
        return Filters(self.period, programme=self.programme, channel=self.channel, preset=self.preset)

    def args(self, **overrides: Any) -> dict[str, str]:
        """Return the query-string arguments that select exactly this filter (location ids go in paths)."""
        args = {"period": "custom", "start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
                "checklist": self.programme or ALL_PROGRAMMES}
        if self.region_id is not None:
            args["region"] = str(self.region_id)
        if self.channel:
            args["channel"] = self.channel
        if self.calibrated:
            args["calibrated"] = "1"
        args.update({key: str(value) for key, value in overrides.items() if value is not None})
        return args

    def to_params(self) -> dict[str, Any]:
        """Return this filter as JSON-ready values, for a background job to rebuild it with `from_params`."""
        return {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
                "scope": sorted(self.scope) if self.scope is not None else None, "region_id": self.region_id,
                "location_id": self.location_id, "programme": self.programme, "channel": self.channel}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Filters:
        """Return the filter `to_params` saved (the viewer's regions as they were when it was saved)."""
        scope = params.get("scope")
        return cls(Period(date.fromisoformat(params["from"]), date.fromisoformat(params["to"])),
                   scope=frozenset(scope) if scope is not None else None, region_id=params.get("region_id"),
                   location_id=params.get("location_id"), programme=params.get("programme"),
                   channel=params.get("channel"))

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the WHERE conditions on Visit selecting the counted, scored visits of this filter."""
        start, end = self.period.bounds()
        return [Visit.status.in_(counted_statuses()), Visit.visited_at >= start, Visit.visited_at < end,
                Visit.score.is_not(None), *self._where(Visit.location_id, Visit.checklist_version_id)]

    def rollup_conditions(self, table: Any, periods: Sequence[Period] | None = None) -> list[ColumnElement[bool]]:
        """Return the same selection on a rollup table (ScoreRollup, QuestionRollup): the rows that sum
        the period's days (or those of consecutive `periods`) once each, and the filter's keys."""
        return [*self._counted_days(table, periods), *self._where(table.location_id, table.checklist_version_id)]

    def region_rollup_conditions(self, table: Any) -> list[ColumnElement[bool]]:
        """Return the same selection on a rollup table per region (RegionQuestionRollup); not for one location."""
        if self.location_id is not None:
            raise ValueError("a location's figures read the location rollups")
        conditions = self._counted_days(table)
        if self.scope is not None:
            conditions.append(table.region_id.in_(sorted(self.scope)))
        if self.region_id is not None:
            conditions.append(table.region_id == self.region_id)
        return conditions + self._versions(table.checklist_version_id)

    def _counted_days(self, table: Any, periods: Sequence[Period] | None = None) -> list[ColumnElement[bool]]:
        """Return the conditions on a rollup table's counted states and the rows summing the period's days."""
        spans = [rollups.period_rows(table, p.start, p.end) for p in (periods or [self.period])]
        return [table.status.in_(counted_statuses()), or_(*spans)]

    def located(self) -> Select[int] | None:
        """Return the select of the ids of the locations in the filter's scope and region (None: all of them)."""
        if self.scope is None and self.region_id is None:
            return None
        located = select(Location.id)
        if self.scope is not None:
            located = located.where(Location.region_id.in_(sorted(self.scope)))
        if self.region_id is not None:
            located = located.where(Location.region_id == self.region_id)
        return located

    def _where(self, location_id: Any, version_id: Any) -> list[ColumnElement[bool]]:
        conditions = []
        if self.location_id is not None:
            conditions.append(location_id == self.location_id)
        located = self.located()
        if located is not None:
            conditions.append(location_id.in_(located))
        return conditions + self._versions(version_id)

    def _versions(self, version_id: Any) -> list[ColumnElement[bool]]:
        if not (self.programme or self.channel):
            return []
        versions = select(ChecklistVersion.id)
        if self.programme:
            versions = versions.where(ChecklistVersion.checklist_id == self.programme)
        if self.channel:
            versions = versions.where(ChecklistVersion.channel == self.channel)
        return [version_id.in_(versions)]


@dataclass(frozen=True)
class Programme:
    """A checklist id (every version of it) and how many counted visits it has under a filter."""

    checklist_id: str
    title: str
    visits: int


def memo(key: Hashable, build: Callable[[], T]) -> T:
    """Return build(), computed once per request (a page asks for the same lookups many times)."""
    if not has_request_context():
        return build()
    cache = g.setdefault("_analytics_memo", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def programmes(filters: Filters) -> list[Programme]:
    """Return the programmes with counted visits under `filters` (any programme), most visits first."""
    any_programme = filters.replace(programme=None, preset="", calibrated=False)
    return list(memo(("programmes", any_programme),
                     lambda: cache.cached("programmes", any_programme, lambda: _programmes(any_programme))))


def _programmes(filters: Filters) -> list[Programme]:
    any_programme = filters.replace(programme=None)
    stmt = (
        select(ChecklistVersion.checklist_id, func.sum(ScoreRollup.n))
        .join(ScoreRollup, ScoreRollup.checklist_version_id == ChecklistVersion.id)
        .where(ScoreRollup.part == "", *any_programme.rollup_conditions(ScoreRollup))
        .group_by(ChecklistVersion.checklist_id)
    )
    counts = dict(db.session.execute(stmt).all())
    titles = latest_titles(counts)
    found = [Programme(cid, titles.get(cid, cid), n) for cid, n in counts.items()]
    return sorted(found, key=lambda p: (-p.visits, p.checklist_id))


def latest_titles(checklist_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Return {checklist id: title of its newest version} (of all checklists, or those given)."""
    titles = memo("latest_titles", _latest_titles)
    return dict(titles) if checklist_ids is None else {cid: titles[cid] for cid in checklist_ids if cid in titles}


def _latest_titles() -> dict[str, str]:
    stmt = select(ChecklistVersion.checklist_id, ChecklistVersion.title).order_by(
        ChecklistVersion.checklist_id, ChecklistVersion.version.desc())
    titles: dict[str, str] = {}
    for checklist_id, title in db.session.execute(stmt):
        titles.setdefault(checklist_id, title)
    return titles


# -- reading filters from a request or the command line ------------------------------------------


def preset_period(preset: str, today: date) -> Period:
    """Return the period of a preset ("30d", "90d", "quarter", "last_quarter", "year")."""
    if preset == "30d":
        return Period.last_days(30, today)
    if preset == "quarter":
        return Period.quarter(today)
    if preset == "last_quarter":
        return Period.quarter(today).previous()
    if preset == "year":
        return Period.year(today)
    return Period.last_days(90, today)


def _int_or_none(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class IsoDateField(DateField):
    """A date typed as 2024-03-31, refused with an example of the format (the browser's date input sends it)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Dates must look like 2024-03-31.")) from None


class FilterForm(Form):
    """The filter bar of the manager pages (GET, no CSRF); `read_args` turns it into Filters."""

    period = SelectField(_l("Period"), choices=PRESETS, default="90d")
    start = IsoDateField(_l("From"), validators=[Optional()])
    end = IsoDateField(_l("To"), validators=[Optional()])
    region = SelectField(_l("Region"), coerce=_int_or_none, validate_choice=True)
    checklist = SelectField(_l("Programme"), default="", validate_choice=False)
    channel = SelectField(_l("Channel"), choices=CHANNELS, default="")

    def __init__(self, formdata: Any, *, scope: frozenset[int] | None, **kwargs: Any):
        super().__init__(formdata, **kwargs)
        regions = select(Region.id, Region.name).order_by(Region.name)
        if scope is not None:
            regions = regions.where(Region.id.in_(sorted(scope)))
        self.region.choices = [SelectChoice(None, _l("All regions"))] + [
            SelectChoice(rid, name) for rid, name in db.session.execute(regions)]

    def offer_programmes(self, found: list[Programme], chosen: str | None) -> None:
        """Offer the programmes of the period (most visits first) and the all-programmes view."""
        self.checklist.choices = [SelectChoice(p.checklist_id, f"{p.title} · {p.visits}") for p in found] + [
            SelectChoice(ALL_PROGRAMMES, _l("All programmes (visit scores only)"))]
        self.checklist.data = chosen or ALL_PROGRAMMES


def read_args(args: Mapping[str, str], *, scope: frozenset[int] | None, today: date | None = None,
              location_id: int | None = None, strict: bool = False) -> tuple[Filters, FilterForm]:
    """Return the Filters a query string asks for, and the filter bar showing them.

    Without `checklist=` the programme with the most visits is chosen. Invalid values fall back to the
    defaults and stay as errors on the form; with strict=True (downloads, the API) they raise FilterError.
    """
    today = today or date.today()
    if ("from" in args or "to" in args) and not ("start" in args or "end" in args):
        # Report links before the filters were unified said ?from=&to=: read them as a custom period.
        legacy = {"from": "start", "to": "end"}
        args = {**{legacy.get(k, k): v for k, v in args.items()}, "period": "custom"}
        args.setdefault("end", today.isoformat())
        if not args.get("start"):
            try:
                args["start"] = date.fromisoformat(args["end"]).replace(day=1).isoformat()
            except ValueError:
                pass  # the end date's own error says what is wrong
    form = FilterForm(MultiDict(args), scope=scope)
    valid = form.validate()
    preset = form.period.data if form.period.data in {choice.value for choice in PRESETS} else "90d"
    period = preset_period(preset, today)
    if preset == "custom" and not form.start.errors and not form.end.errors:
        if not form.start.data or not form.end.data:
            form.end.errors = [*form.end.errors, str(_l("Choose both dates of a custom period."))]
        else:
            try:
                period = Period.checked(form.start.data, form.end.data)
            except PeriodError as exc:
                form.end.errors = [*form.end.errors, str(exc)]
    if form.errors:
        valid = False
    if not valid:
        if strict:
            raise FilterError("; ".join(str(e) for errors in form.errors.values() for e in errors))
        preset, period = "90d", preset_period("90d", today)
    region_id = form.region.data if not form.region.errors else None
    channel = (form.channel.data or None) if not form.channel.errors else None
    calibrated = args.get("calibrated", "")
    if calibrated not in ("", "0", "1"):
        if strict:
            raise FilterError(str(_l("calibrated must be 0 or 1.")))
        calibrated = ""
    filters = Filters(period, scope=scope, region_id=region_id, location_id=location_id, channel=channel,
                      preset=preset, calibrated=calibrated == "1")
    found = programmes(filters)
    wanted = (args.get("checklist") or "").strip()
    if wanted == ALL_PROGRAMMES:
        programme = None
    elif wanted:
        programme = wanted  # a programme without visits in this period still shows as empty, never another one
        if all(p.checklist_id != wanted for p in found):
            title = latest_titles([wanted]).get(wanted)
            if title is None and strict:
                raise FilterError(str(_l("No programme %(id)s.", id=wanted)))
            found.append(Programme(wanted, title or wanted, 0))
    else:
        programme = found[0].checklist_id if found else None
    form.offer_programmes(found, programme)
    return filters.replace(programme=programme), form


def filters_for(start: date | None, end: date | None, *, programme: str | None = None,
                region_id: int | None = None, location_id: int | None = None, today: date | None = None) -> Filters:
    """Return the Filters of a command: dates default to the last 90 days (or the month before `end`).

    :raise PeriodError: on an end before the start or over three years.
    """
    today = today or date.today()
    if start is None and end is None:
        period = Period.last_days(90, today)
    else:
        last = end or today
        period = Period.checked(start or last.replace(day=1), last)
    filters = Filters(period, region_id=region_id, location_id=location_id)
    if programme is None:
        found = programmes(filters)
        programme = found[0].checklist_id if found else None
    return filters.replace(programme=None if programme == ALL_PROGRAMMES else programme)


def parse_date(text: str | None) -> date | None:
    """Return a date from ISO text (2024-03-31), None for nothing; :raise FilterError: otherwise."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise FilterError(str(_l("Dates must look like 2024-03-31."))) from None
