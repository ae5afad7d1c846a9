"""Keeping the rollups true: every change to a visit marks its (location, day, checklist version), and
before the transaction commits those keys are recomputed from the facts (visits, section scores,
answers) in SQL. `rebuild()` recomputes every key at once; the two must agree (tests/test_rollups.py).

Recomputing a key rather than adding deltas keeps the rule in one place (the SELECTs below) and
stays exact through resubmissions, returns, voids and corrections. Two transactions that touch the
same location are serialised by a row lock on it, so the later one sees the other's visits.
"""
from __future__ import annotations

from collections.abc import Iterable
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

from app.extensions import db
from app.models import Answer, Location, Visit, VisitSectionScore, VisitStatus
from app.models.rollups import QuestionRollup, ScoreRollup

#: The visit states that can count in figures (which of them do is a setting: filters.counted_statuses).
ROLLED_UP = (VisitStatus.approved, VisitStatus.submitted)
#: What decides where and how a visit counts (a draft save touches none of them).
TRACKED = ("status", "score", "visited_at", "location_id", "checklist_version_id", "location", "checklist_version")
#: (location id, day, checklist version id)
Key = tuple[int, date, int]
_PENDING = "rollup_keys"


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


def _changed(session: Session) -> list[Visit]:
    """Return the visits of this flush that are new, deleted, or changed in a tracked attribute."""
    found = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Visit) and (obj not in session.dirty or any(
                inspect(obj).attrs[name].history.has_changes() for name in TRACKED)):
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


def _after_flush(session: Session, context: Any) -> None:
    # Where they count now, foreign keys filled in.
    _remember(session, (_key(v.location_id, v.visited_at, v.checklist_version_id) for v in _changed(session)))


def _before_commit(session: Session) -> None:
    session.flush()
    keys = session.info.pop(_PENDING, None)
    if keys:
        recompute(sorted(keys), session)


def install() -> None:
    """Listen to every session of the app (called once by the application factory)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)


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


def _insert(executor: Session | Connection, selects: tuple[Any, Any, Any]) -> None:
    visits, sections, questions = selects
    executor.execute(insert(ScoreRollup).from_select(SCORE_COLUMNS, visits))
    executor.execute(insert(ScoreRollup).from_select(SCORE_COLUMNS, sections))
    executor.execute(insert(QuestionRollup).from_select(QUESTION_COLUMNS, questions))


def recompute(keys: Iterable[Key], session: Session | None = None) -> None:
    """Recompute the day and month rollup rows of these keys from the facts (in the current transaction)."""
    session = session or db.session()
    keys = sorted(set(keys))
    months = sorted({(location_id, month_of(day), version_id) for location_id, day, version_id in keys})
    for location_id in sorted({key[0] for key in keys}):
        # Serialises writers of one location, so a recompute sees the visits another one committed.
        session.execute(select(Location.id).where(Location.id == location_id).with_for_update())
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


def rebuild() -> tuple[int, int]:
    """Recompute every rollup from the facts (not committed); return the score and question rows written."""
    session = db.session()
    session.info.pop(_PENDING, None)
    if session.get_bind().dialect.name == "postgresql":  # emptying millions of rows: TRUNCATE, not DELETE
        session.execute(text("TRUNCATE score_rollups, question_rollups"))
    else:
        session.execute(delete(ScoreRollup))
        session.execute(delete(QuestionRollup))
    fill(session)
    return (session.scalar(select(func.count()).select_from(ScoreRollup)) or 0,
            session.scalar(select(func.count()).select_from(QuestionRollup)) or 0)
