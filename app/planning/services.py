"""Planning: which visits a manager sees, changing or cancelling a planned visit, and bulk assignment from CSV."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypedDict

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, func, or_, select

from app import csvfiles
from app.access import scope_of, visible_visits
from app.extensions import db
from app.localtime import overdue_condition, today_at, visit_day
from app.mail import notifications
from app.models import ChecklistVersion, Location, Role, User, Visit
from app.models import VisitStatus as S
from app.models.audit import record
from app.visits.errors import VisitError
from app.visits.lifecycle import OPEN, assign_visit, require

MAX_ROWS = 2000
#: Accepted header names for each column (lower case); without a header the columns are in this order.
COLUMNS = {
    "location": ("location", "location_code", "location code", "code", "код", "точка"),
    "checklist": ("checklist", "checklist_id", "checklist id", "чек-лист", "анкета"),
    "shopper": ("shopper", "shopper_email", "shopper email", "email", "e-mail", "тайный покупатель"),
    "from": ("from", "window_start", "start", "с", "начало"),
    "to": ("to", "window_end", "end", "по", "конец"),
    "instructions": ("instructions", "scenario", "инструкции", "сценарий"),
}
ORDER = ("location", "checklist", "shopper", "from", "to", "instructions")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y")


class VisitFilters(TypedDict):
    """The filters of the planning list, as filter_visits takes them."""

    status: str
    region_id: int | None
    shopper_id: int | None
    overdue: bool
    q: str | None


def filter_visits(user: User, *, status: str | None = None, region_id: int | None = None,
                  shopper_id: int | None = None, overdue: bool = False, q: str | None = None,
                  now: datetime | None = None) -> Select[Visit]:
    """Return a select of the visits `user` may plan, for the planning list, soonest window first.

    "Overdue" is decided on each location's own calendar at `now` (see app/localtime.py).
    """
    query = select(Visit).join(Location, Visit.location_id == Location.id).where(visible_visits(user))
    if status == "open" or not status:
        if not overdue:  # overdue visits are open: a second status condition would skew the planner's estimate
            query = query.where(Visit.status.in_(OPEN))
    elif status != "all":
        query = query.where(Visit.status == S(status))
    if region_id:
        query = query.where(Location.region_id == region_id)
    if shopper_id:
        query = query.where(Visit.shopper_id == shopper_id)
    if overdue:
        query = query.where(overdue_condition(now))
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(Location.code).like(like), func.lower(Location.name).like(like)))
    return query.order_by(Visit.window_end, Visit.id)


def status_counts(user: User, now: datetime | None = None) -> dict[str, int]:
    """Return the number of visits `user` may plan per status, plus "overdue" (one grouped query each)."""
    counts = {s.value: 0 for s in S}
    by_status = select(Visit.status, func.count(Visit.id)).where(visible_visits(user)).group_by(Visit.status)
    for status, count in db.session.execute(by_status):
        counts[S(status).value] = count
    counts["overdue"] = db.session.scalar(select(func.count(Visit.id)).where(
        visible_visits(user), overdue_condition(now))) or 0
    return counts


def latest_versions_by_id(checklist_ids: Iterable[str] | None = None) -> dict[str, ChecklistVersion]:
    """Return the newest stored version of each checklist id (all, or those given)."""
    newest = select(ChecklistVersion.checklist_id, func.max(ChecklistVersion.version).label("v"))
    if checklist_ids is not None:
        newest = newest.where(ChecklistVersion.checklist_id.in_(list(checklist_ids)))
    latest = newest.group_by(ChecklistVersion.checklist_id).subquery()
    rows = db.session.scalars(select(ChecklistVersion).join(
        latest, (ChecklistVersion.checklist_id == latest.c.checklist_id) & (ChecklistVersion.version == latest.c.v)))
    return {v.checklist_id: v for v in rows}


# -- changing and cancelling a planned visit ---------------------------------------------------

def edit_visit(visit: Visit, manager: User, *, shopper: User, window_start: date, window_end: date,
               instructions: str, today: date | None = None) -> dict[str, list[object]]:
    """Change the shopper, window and instructions of an open visit (no commit); return {field: [old, new]}.

    Raise NotAllowed once it was handed in, VisitError (with `field`) for a change the rules refuse.
    """
    today = today or today_at(visit.location)
    require(visit, "edit")
    instructions = (instructions or "").strip()
    if shopper.id != visit.shopper_id:
        # Answers, photos and the proof of visit recorded so far belong to the shopper who started it.
        if visit.status != S.planned:
            raise VisitError(_l("The visit was started by %(name)s: it cannot go to another shopper.",
                                name=visit.shopper.name), field="shopper")
        if shopper.role != Role.shopper or not shopper.active:
            raise VisitError(_l("%(email)s is not an active shopper.", email=shopper.email), field="shopper")
    if window_start > window_end:
        raise VisitError(_l("The window must end on or after its first day."), field="window_end")
    if window_end != visit.window_end and window_end < today:
        raise VisitError(_l("The window cannot end in the past."), field="window_end")
    changes: dict[str, list[object]] = {}
    if shopper.id != visit.shopper_id:
        changes["shopper"] = [visit.shopper.email, shopper.email]
        visit.shopper = shopper
    if (window_start, window_end) != (visit.window_start, visit.window_end):
        changes["window"] = [[visit.window_start.isoformat(), visit.window_end.isoformat()],
                             [window_start.isoformat(), window_end.isoformat()]]
        visit.window_start, visit.window_end = window_start, window_end
    if instructions != (visit.instructions or ""):
        changes["instructions"] = [visit.instructions or "", instructions]
        visit.instructions = instructions
    if changes:
        record(manager, "visit.edit", visit, **changes)
    if "shopper" in changes:
        notifications.visit_assigned(visit)  # the new shopper hears of it once this commits
    return changes


# -- the lockout: the same shopper at the same location again too soon ---------------------------

def lockout_days(checklist_id: str, config: Mapping[str, object]) -> int:
    """Return the lockout of a programme (checklist id): its VISIT_LOCKOUT_DAYS_BY_PROGRAMME entry, else
    VISIT_LOCKOUT_DAYS; 0 means none."""
    by_programme = config.get("VISIT_LOCKOUT_DAYS_BY_PROGRAMME") or {}
    assert isinstance(by_programme, Mapping)
    days = by_programme.get(checklist_id, config.get("VISIT_LOCKOUT_DAYS", 0))
    return max(int(days or 0), 0)


@dataclass(frozen=True)
class Lockout:
    """A shopper's earlier visit of a location, too recent for another visit from `window_start`."""

    previous: Visit
    visited_on: date
    days: int

    @property
    def until(self) -> date:
        """Return the first day another visit is allowed."""
        return self.visited_on + timedelta(days=self.days)

    @property
    def message(self) -> LazyString:
        return _l("%(name)s visited %(location)s on %(date)s: the next visit there is allowed from %(until)s "
                  "(lockout of %(days)s days). Choose another shopper or later dates, or assign anyway below.",
                  name=self.previous.shopper.name, location=self.previous.location.name,
                  date=format_date(self.visited_on), until=format_date(self.until), days=self.days)


def lockout_of(location: Location, shopper: User, window_start: date, days: int) -> Lockout | None:
    """Return the shopper's latest visit of `location` if it took place fewer than `days` days before
    `window_start` (the location's calendar), else None.

    Staff at a branch learn a shopper's face: a second visit too soon is no longer anonymous. Any programme's
    visit counts; voided ones and visits not yet started do not (the shopper was never there).
    """
    if days <= 0:
        return None
    happened = func.coalesce(Visit.visited_at, Visit.started_at)
    latest = db.session.scalars(
        select(Visit).where(Visit.shopper_id == shopper.id, Visit.location_id == location.id,
                            Visit.status != S.voided, happened.is_not(None))
        .order_by(happened.desc()).limit(1)
    ).first()
    visited_on = visit_day(latest) if latest is not None else None
    if latest is None or visited_on is None or visited_on + timedelta(days=days) <= window_start:
        return None
    return Lockout(latest, visited_on, days)


def record_lockout_override(manager: User, visit: Visit, lockout: Lockout) -> None:
    """Audit that `manager` assigned `visit` despite the lockout (no commit)."""
    record(manager, "visit.lockout_override", visit, previous_visit=lockout.previous.id,
           visited_on=lockout.visited_on.isoformat(), lockout_days=lockout.days, shopper=visit.shopper.email,
           location=visit.location.code)


# -- CSV import ---------------------------------------------------------------------------------

@dataclass
class ImportRow:
    """One line of the file: what it asked for, and either the visit made or why it was refused."""

    line: int
    values: dict[str, str]
    reasons: list[LazyString | str] = field(default_factory=list)
    visit: Visit | None = None

    @property
    def accepted(self) -> bool:
        return not self.reasons


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    error: LazyString | None = None  # a problem with the whole file
    dry_run: bool = False

    @property
    def accepted(self) -> list[ImportRow]:
        return [r for r in self.rows if r.accepted]

    @property
    def refused(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.accepted]


def parse_date(text: str) -> date | None:
    """Return a date written as 2025-05-31, 31.05.2025 or 31/05/2025, else None."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def read_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], LazyString | None]:
    """Return (line number, {column: value}) for each non-empty row, and a whole-file problem or None."""
    rows = csvfiles.read_rows(text)
    if not rows:
        return [], _l("The file is empty.")
    header = [cell.strip().lower() for cell in rows[0][1]]
    mapping: dict[str, int] = {}
    for name, aliases in COLUMNS.items():
        for index, cell in enumerate(header):
            if cell in aliases:
                mapping[name] = index
                break
    if {"location", "checklist", "shopper", "from", "to"} <= set(mapping):
        rows = rows[1:]
    elif len(mapping) >= 2:
        missing = ", ".join(n for n in ORDER[:5] if n not in mapping)
        return [], _l("Columns missing from the header: %(names)s.", names=missing)
    else:
        mapping = {name: index for index, name in enumerate(ORDER)}
    if len(rows) > MAX_ROWS:
        return [], _l("The file has %(n)s rows; import at most %(max)s at a time.", n=len(rows), max=MAX_ROWS)
    result: list[tuple[int, dict[str, str]]] = []
    for line, row in rows:
        values = {name: (row[index].strip() if index < len(row) else "") for name, index in mapping.items()}
        result.append((line, values))
    return result, None


def import_assignments(data: bytes, manager: User, *, dry_run: bool = False, today: date | None = None) -> ImportReport:
    """Assign the visits of a CSV file row by row (no commit); refused rows say why, accepted rows make visits.

    A window may not end before today on the location's calendar (`today` overrides it for every row).
    """
    rows, problem = read_rows(csvfiles.decode(data))
    report = ImportReport(error=problem, dry_run=dry_run)
    if problem:
        return report
    # Look everything up in a few queries, not one per row.
    codes = {v["location"] for _line, v in rows if v.get("location")}
    emails = {v["shopper"].lower() for _line, v in rows if v.get("shopper")}
    checklist_ids = {v["checklist"] for _line, v in rows if v.get("checklist")}
    locations = {loc.code.lower(): loc for loc in db.session.scalars(
        select(Location).where(func.lower(Location.code).in_([c.lower() for c in codes])))} if codes else {}
    shoppers = {u.email.lower(): u for u in db.session.scalars(
        select(User).where(func.lower(User.email).in_(emails)))} if emails else {}
    versions = latest_versions_by_id(checklist_ids) if checklist_ids else {}
    existing: set[tuple[int, str, int, date, date]] = set()
    if shoppers:
        for loc_id, cl_id, shopper_id, window_start, window_end in db.session.execute(
            select(Visit.location_id, ChecklistVersion.checklist_id, Visit.shopper_id, Visit.window_start,
                   Visit.window_end).join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
            .where(Visit.shopper_id.in_([u.id for u in shoppers.values()]), Visit.status.in_(OPEN))
        ):
            existing.add((loc_id, cl_id, shopper_id, window_start, window_end))
    scope = scope_of(manager)

    for line, values in rows:
        row = ImportRow(line, values)
        report.rows.append(row)
        location = locations.get(values.get("location", "").lower())
        if not values.get("location"):
            row.reasons.append(_l("The location code is missing."))
        elif location is None:
            row.reasons.append(_l("Unknown location code %(code)s.", code=values["location"]))
        elif not location.active:
            row.reasons.append(_l("Location %(code)s is closed (inactive).", code=location.code))
        elif not scope.sees_region(location.region_id):
            row.reasons.append(_l("Location %(code)s is outside your regions.", code=location.code))
        version = versions.get(values.get("checklist", ""))
        if version is None:
            row.reasons.append(_l("Unknown checklist %(id)s.", id=values.get("checklist") or "—"))
        shopper = shoppers.get(values.get("shopper", "").lower())
        if shopper is None or shopper.role != Role.shopper:
            row.reasons.append(_l("No shopper with the email %(email)s.", email=values.get("shopper") or "—"))
        elif not shopper.active:
            row.reasons.append(_l("Shopper %(email)s is deactivated.", email=shopper.email))
        start, end = parse_date(values.get("from", "")), parse_date(values.get("to", ""))
        if start is None:
            row.reasons.append(_l("Bad start date %(value)s (use YYYY-MM-DD or DD.MM.YYYY).",
                                  value=values.get("from") or "—"))
        if end is None:
            row.reasons.append(_l("Bad end date %(value)s (use YYYY-MM-DD or DD.MM.YYYY).",
                                  value=values.get("to") or "—"))
        if start and end and start > end:
            row.reasons.append(_l("The window starts (%(start)s) after it ends (%(end)s).",
                                  start=start.isoformat(), end=end.isoformat()))
        elif end and location is not None and end < (today or today_at(location)):
            row.reasons.append(_l("The window ended in the past (%(end)s).", end=end.isoformat()))
        if row.reasons or location is None or version is None or shopper is None or start is None or end is None:
            continue  # each missing piece has given a reason
        key = (location.id, version.checklist_id, shopper.id, start, end)
        if key in existing:
            row.reasons.append(_l("This visit is already assigned (same location, checklist, shopper and window)."))
            continue
        existing.add(key)
        try:
            row.visit = assign_visit(location, version, shopper, start, end, values.get("instructions", ""),
                                     manager=manager)
        except VisitError as exc:
            row.reasons.append(exc.message)
    return report
