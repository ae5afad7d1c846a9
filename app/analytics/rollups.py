"""Keeping the rollups true: every change to a visit marks its (location, day, checklist version), and
before the transaction commits those keys are recomputed from the facts (visits, section scores,
answers) in SQL. `rebuild()` recomputes every key at once; the two must agree (tests/test_rollups.py).

Recomputing a key rather than adding deltas keeps the rule in one place (the SELECTs below) and
stays exact through resubmissions, returns, voids and corrections. Two transactions that touch the
same location are serialised by a row lock on it, so the later one sees the other's visits.
The regions' question rows are the locations' rows summed (in SQL, after them, under a row lock on
the region); a location that moves to another region has both regions recomputed whole.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    String,
    and_,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.analytics import versions
from app.extensions import db
from app.models import Answer, Location, Region, Visit, VisitSectionScore, VisitStatus
from app.models.rollups import QuestionRollup, RegionQuestionRollup, ScoreRollup

#: The visit states that can count in figures (which of them do is a setting: filters.counted_statuses).
ROLLED_UP = (VisitStatus.approved, VisitStatus.submitted)
#: What decides where and how a visit counts (a draft save touches none of them).
TRACKED = ("status", "score", "visited_at", "location_id", "checklist_version_id", "location", "checklist_version")
#: (location id, day, checklist version id)
Key = tuple[int, date, int]
_PENDING = "rollup_keys"
#: Regions whose every row is recomputed: a location moved between them, or left.
_WHOLE_REGIONS = "rollup_whole_regions"
_STORED_REGIONS = "rollup_stored_regions"


def day_of(moment: datetime) -> date:
    """Return the UTC day of a timestamp (the day a visit counts on)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _key(location_id: Any, visited_at: Any, version_id: Any) -> Key | None:
    if location_id is None or visited_at is None or version_id is None:
        return None
    return int(location_id), day_of(visited_at), int(version_id)


def touch(visit: Visit) -> None:
    """Mark the visit's key for recomputing (its facts were rewritten without changing a tracked attribute)."""
    _remember(db.session(), [_key(visit.location_id, visit.visited_at, visit.checklist_version_id)])


def _may_count(visit: Visit) -> bool:
    """Return False when the visit neither was nor is in a state the rollups hold, so no row can change.

    A visit started or saved as a draft then takes no lock on its location and region: at month-end
    every start in a region would otherwise wait for the region's row (and deadlock with submissions).
    """
    state, history = inspect(visit), inspect(visit).attrs.status.history
    if history.has_changes():
        if not history.deleted and not state.pending:
            return True  # set without its old value loaded: it may have counted until now
        states = [*history.added, *history.deleted]
    else:
        states = list(history.unchanged)
    # Nothing known (expired, or a new visit before its default is applied): recompute, to be safe.
    return not states or any(value in ROLLED_UP for value in states)


def _changed(session: Session) -> list[Visit]:
    """Return the visits of this flush that are new, deleted, or changed in a tracked attribute, and that
    count, or counted, in a rollup."""
    found = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Visit) and (obj not in session.dirty or any(
                inspect(obj).attrs[name].history.has_changes() for name in TRACKED)) and _may_count(obj):
            found.append(obj)
    return found


def _remember(session: Session, keys: Iterable[Key | None]) -> None:
    session.info.setdefault(_PENDING, set()).update(k for k in keys if k is not None)


def _before_flush(session: Session, context: Any, instances: Any) -> None:
    # Where changed visits counted until now: the database still holds it (an expired attribute has
    # no old value in its history, and a foreign key set through its relationship is copied late).
    ids = [v.id for v in _changed(session) if v.id is not None]
    if ids:
        stored = session.connection().execute(
            select(Visit.location_id, Visit.visited_at, Visit.checklist_version_id).where(Visit.id.in_(ids)))
        _remember(session, (_key(*row) for row in stored))
    # The region each edited or deleted location belongs to until now.
    edited = [obj for obj in session.dirty if isinstance(obj, Location) and obj.id is not None]
    deleted = [obj for obj in session.deleted if isinstance(obj, Location) and obj.id is not None]
    if edited or deleted:
        regions = dict(session.connection().execute(select(Location.id, Location.region_id).where(
            Location.id.in_([obj.id for obj in edited + deleted]))).all())
        session.info.setdefault(_STORED_REGIONS, []).extend((obj, regions[obj.id]) for obj in edited
                                                            if obj.id in regions)
        session.info.setdefault(_WHOLE_REGIONS, set()).update(regions[obj.id] for obj in deleted if obj.id in regions)


def _after_flush(session: Session, context: Any) -> None:
    # Where they count now, foreign keys filled in.
    _remember(session, (_key(v.location_id, v.visited_at, v.checklist_version_id) for v in _changed(session)))
    for location, region_id in session.info.pop(_STORED_REGIONS, []):
        if location.region_id != region_id:
            session.info.setdefault(_WHOLE_REGIONS, set()).update({region_id, location.region_id})


def _before_commit(session: Session) -> None:
    session.flush()
    keys = session.info.pop(_PENDING, None)
    whole = session.info.pop(_WHOLE_REGIONS, None)
    if keys:
        recompute(sorted(keys), session, skip_regions=whole or ())
    if whole:
        recompute_regions(sorted(whole), session)
    versions.bump_changed(session)


def install() -> None:
    """Listen to every session of the app (called once by the application factory)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
    versions.install()


DAY, MONTH = "d", "m"


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end) days as UTC datetimes."""
    return datetime.combine(start, time.min, tzinfo=UTC), datetime.combine(end, time.min, tzinfo=UTC)


def period_rows(table: Any, start: date, end: date) -> ColumnElement[bool]:
    """Select the rows of `table` that sum the days start..end (inclusive) exactly once: the months
    wholly inside, and the days of the partial months at either end."""
    first = start if start.day == 1 else next_month(start)
    stop = month_of(end + timedelta(days=1))  # the first day after the last whole month
    if first >= stop:
        return and_(table.grain == DAY, table.day >= start, table.day <= end)
    return or_(
        and_(table.grain == MONTH, table.day >= first, table.day < stop),
        and_(table.grain == DAY, or_(and_(table.day >= start, table.day < first),
                                     and_(table.day >= stop, table.day <= end))),
    )


def _selects(grain: str, day_expr: Any, conditions: list[Any]) -> tuple[Any, Any, Any]:
    """Return the three SELECTs that sum the facts into rollup rows, grouped by key, state and part."""
    counted = [Visit.status.in_(ROLLED_UP), Visit.visited_at.is_not(None), Visit.score.is_not(None), *conditions]
    keys = (Visit.location_id, literal(grain, String), day_expr, Visit.checklist_version_id, Visit.status)
    visits = (
        select(*keys, literal("", String), func.count(Visit.score), func.sum(Visit.score),
               func.sum(Visit.score * Visit.score))
        .where(*counted).group_by(*keys)
    )
    score = VisitSectionScore.score
    sections = (
        select(*keys, VisitSectionScore.section_id, func.count(score), func.sum(score), func.sum(score * score))
        .join(Visit, Visit.id == VisitSectionScore.visit_id).where(*counted)
        .group_by(*keys, VisitSectionScore.section_id).having(func.count(score) > 0)
    )
    lost = Answer.fraction < 1
    questions = (
        select(*keys, Answer.question_id, func.count(), func.count().filter(lost),
               func.count().filter(Answer.critical_failed), func.max(Answer.visited_at).filter(lost))
        .join(Visit, Visit.id == Answer.visit_id).where(*counted, Answer.status == "answered", Answer.max_points > 0)
        .group_by(*keys, Answer.question_id)
    )
    return visits, sections, questions


SCORE_COLUMNS = ["location_id", "grain", "day", "checklist_version_id", "status", "part", "n", "total", "squares"]
QUESTION_COLUMNS = ["location_id", "grain", "day", "checklist_version_id", "status", "question_id", "asked", "failures",
                    "critical_failures", "last_failed_at"]
REGION_COLUMNS = ["region_id", *QUESTION_COLUMNS[1:]]


def _insert(executor: Session | Connection, selects: tuple[Any, Any, Any]) -> None:
    visits, sections, questions = selects
    executor.execute(insert(ScoreRollup).from_select(SCORE_COLUMNS, visits))
    executor.execute(insert(ScoreRollup).from_select(SCORE_COLUMNS, sections))
    executor.execute(insert(QuestionRollup).from_select(QUESTION_COLUMNS, questions))


def recompute(keys: Iterable[Key], session: Session | None = None, *, skip_regions: Collection[int] = ()) -> None:
    """Recompute the day and month rollup rows of these keys from the facts, then the rows of their
    regions from the locations' rows (in the current transaction; `skip_regions` are recomputed whole)."""
    session = session or db.session()
    keys = sorted(set(keys))
    months = sorted({(location_id, month_of(day), version_id) for location_id, day, version_id in keys})
    location_ids = sorted({key[0] for key in keys})
    # Serialises writers of one location, so a recompute sees the visits another one committed.
    region_of = dict(session.execute(select(Location.id, Location.region_id).where(Location.id.in_(location_ids))
                                     .order_by(Location.id).with_for_update()).all())
    for grain, rows, end_of in ((DAY, keys, lambda d: d + timedelta(days=1)), (MONTH, months, next_month)):
        for location_id, day, version_id in rows:
            for table in (ScoreRollup, QuestionRollup):
                session.execute(delete(table).where(
                    table.location_id == location_id, table.grain == grain, table.day == day,
                    table.checklist_version_id == version_id))
            start, end = _bounds(day, end_of(day))
            _insert(session, _selects(grain, literal(day, Date), [
                Visit.location_id == location_id, Visit.checklist_version_id == version_id,
                Visit.visited_at >= start, Visit.visited_at < end]))
    region_keys = sorted({(region_of[location_id], grain, day, version_id)
                          for grain, rows in ((DAY, keys), (MONTH, months))
                          for location_id, day, version_id in rows
                          if location_id in region_of and region_of[location_id] not in skip_regions})
    _lock_regions(session, {key[0] for key in region_keys})
    r, q = RegionQuestionRollup, QuestionRollup
    for region_id, grain, day, version_id in region_keys:
        session.execute(delete(r).where(r.region_id == region_id, r.grain == grain, r.day == day,
                                        r.checklist_version_id == version_id))
        session.execute(insert(r).from_select(REGION_COLUMNS, _region_select([
            Location.region_id == region_id, q.grain == grain, q.day == day, q.checklist_version_id == version_id])))


def _lock_regions(session: Session, region_ids: Iterable[int]) -> None:
    """Serialise writers of a region's rows; each then sums the locations' rows others committed.

    The locked rows get a new data version in the same transaction: the figures cache keys on it.
    """
    ids = sorted(region_ids)
    if ids:
        session.execute(select(Region.id).where(Region.id.in_(ids)).order_by(Region.id).with_for_update())
        versions.bump(session, ids)


def recompute_regions(region_ids: Iterable[int], session: Session | None = None) -> None:
    """Recompute every row of these regions from their locations' rows (a location moved or left)."""
    session = session or db.session()
    ids = sorted(set(region_ids))
    _lock_regions(session, ids)
    session.execute(delete(RegionQuestionRollup).where(RegionQuestionRollup.region_id.in_(ids)))
    session.execute(insert(RegionQuestionRollup).from_select(
        REGION_COLUMNS, _region_select([Location.region_id.in_(ids)])))


def _region_select(conditions: list[Any]) -> Any:
    """Return the SELECT that sums locations' question rows into their regions' rows."""
    q = QuestionRollup
    keys = (Location.region_id, q.grain, q.day, q.checklist_version_id, q.status, q.question_id)
    return (select(*keys, func.sum(q.asked), func.sum(q.failures), func.sum(q.critical_failures),
                   func.max(q.last_failed_at))
            .join(Location, Location.id == q.location_id).where(*conditions).group_by(*keys))


def _day_sql(dialect: str, column: Any, grain: str) -> Any:
    """The UTC day (or the first day of its month) of a timestamp column, in SQL."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return cast(func.date_trunc("month", utc) if grain == MONTH else utc, Date)
    # SQLite stores UTC text, "YYYY-MM-DD HH:MM:SS..."
    return func.date(column, "start of month") if grain == MONTH else func.date(column)


def fill(executor: Session | Connection) -> None:
    """Write every rollup row from the facts into empty rollup tables (also the migration's data step)."""
    dialect = (executor.get_bind() if isinstance(executor, Session) else executor).dialect.name
    for grain in (DAY, MONTH):
        _insert(executor, _selects(grain, _day_sql(dialect, Visit.visited_at, grain), []))


def fill_regions(executor: Session | Connection) -> None:
    """Write every region's rows from the locations' question rows into an empty region table."""
    executor.execute(insert(RegionQuestionRollup).from_select(REGION_COLUMNS, _region_select([])))


def rebuild() -> tuple[int, int]:
    """Recompute every rollup from the facts (not committed); return the score and question rows written."""
    session = db.session()
    for pending in (_PENDING, _WHOLE_REGIONS, _STORED_REGIONS):
        session.info.pop(pending, None)
    if session.get_bind().dialect.name == "postgresql":  # emptying millions of rows: TRUNCATE, not DELETE
        session.execute(text("TRUNCATE score_rollups, question_rollups, region_question_rollups"))
    else:
        for table in (ScoreRollup, QuestionRollup, RegionQuestionRollup):
            session.execute(delete(table))
    fill(session)
    fill_regions(session)
    versions.bump_all(session)
    return (session.scalar(select(func.count()).select_from(ScoreRollup)) or 0,
            session.scalar(select(func.count()).select_from(QuestionRollup)) or 0)
