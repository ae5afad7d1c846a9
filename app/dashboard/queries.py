"""Shared analytics: every dashboard and report figure, aggregated in SQL over stored scores.

Nothing here loads visits into Python to average them: each function runs one or two
GROUP BY queries over Visit.score, VisitSectionScore.score and Answer.fraction, filtered on
indexed columns (status, visited_at, location_id). The same SQL runs on SQLite and PostgreSQL.
Functions know nothing of requests: callers pass the region scope (region_scope(user)).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app, has_app_context
from sqlalchemy import case, func, literal, select

from app.dashboard.periods import Period, monthly_periods  # noqa: F401  (part of this module's API)
from app.extensions import db
from app.models import Answer, ChecklistVersion, Location, Region, Visit, VisitSectionScore, VisitStatus

# -- filters ---------------------------------------------------------------------------------


def counted_statuses() -> tuple[VisitStatus, ...]:
    """Return the visit states that count in comparisons and reports."""
    if has_app_context() and current_app.config.get("COUNT_SUBMITTED_VISITS"):
        return (VisitStatus.approved, VisitStatus.submitted)
    return (VisitStatus.approved,)


def visit_conditions(
    start: datetime, end: datetime, *, scope: Iterable[int] | None = None, region_id: int | None = None,
    checklist_id: str | None = None, channel: str | None = None, location_id: int | None = None,
) -> list:
    """Return the WHERE conditions selecting the scored, counted visits in [start, end)."""
    conditions = [
        Visit.status.in_(counted_statuses()),
        Visit.visited_at >= start,
        Visit.visited_at < end,
        Visit.score.is_not(None),
    ]
    if location_id is not None:
        conditions.append(Visit.location_id == location_id)
    if scope is not None or region_id is not None:
        located = select(Location.id)
        if scope is not None:
            located = located.where(Location.region_id.in_(sorted(scope)))
        if region_id is not None:
            located = located.where(Location.region_id == region_id)
        conditions.append(Visit.location_id.in_(located))
    if checklist_id or channel:
        versions = select(ChecklistVersion.id)
        if checklist_id:
            versions = versions.where(ChecklistVersion.checklist_id == checklist_id)
        if channel:
            versions = versions.where(ChecklistVersion.channel == channel)
        conditions.append(Visit.checklist_version_id.in_(versions))
    return conditions


def _period_conditions(period: Period, **filters) -> list:
    return visit_conditions(*period.bounds(), **filters)


def _copied_period(model, period: Period) -> list:
    """Return the period filter on a fact table's copy of Visit.visited_at (Answer, VisitSectionScore).

    Redundant with the visit conditions, but it lets the database range-scan the covering index
    of the fact rows instead of looking them up visit by visit (see store_result).
    """
    start, end = period.bounds()
    return [model.visited_at >= start, model.visited_at < end]


# -- grades and titles -----------------------------------------------------------------------


def latest_checklist(checklist_id: str | None):
    """Return the parsed latest version of a checklist, or None."""
    if not checklist_id:
        return None
    version = db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.checklist_id == checklist_id)
        .order_by(ChecklistVersion.version.desc()).limit(1)
    ).first()
    return version.checklist if version else None


def grade_label(score: float | None, checklist=None) -> str | None:
    """Return the grade of an average score: the checklist's bands, else the default ones."""
    if score is None:
        return None
    if checklist is not None:
        return checklist.grade_for(score)
    from app.checklists.schema import DEFAULT_GRADES

    for band in sorted(DEFAULT_GRADES, key=lambda g: g.min, reverse=True):
        if score + 1e-9 >= band.min:
            return band.label
    return None


def _versions_in(conditions: list) -> list[ChecklistVersion]:
    """Return the checklist versions used by the visits matching `conditions`, newest first."""
    ids = select(Visit.checklist_version_id).where(*conditions).distinct()
    return list(db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.id.in_(ids))
        .order_by(ChecklistVersion.checklist_id, ChecklistVersion.version.desc())
    ))


def section_titles(versions: Iterable[ChecklistVersion]) -> dict[str, str]:
    """Return {section id: title} in checklist order; the newest version's title wins."""
    titles: dict[str, str] = {}
    for version in versions:
        for section in version.checklist.sections:
            titles.setdefault(section.id, section.title)
    return titles


def question_texts(versions: Iterable[ChecklistVersion]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Return {(checklist id, question id): (text, section id, checklist title)}; newest version wins."""
    texts: dict[tuple[str, str], tuple[str, str, str]] = {}
    for version in versions:
        checklist = version.checklist
        for question in checklist.questions:
            texts.setdefault(
                (version.checklist_id, question.id),
                (question.text, checklist.section_of(question.id).id, version.title),
            )
    return texts


# -- league table ----------------------------------------------------------------------------


@dataclass
class LocationRow:
    """A location's figures for a period, with the previous period and a trend."""

    location_id: int
    code: str
    name: str
    region_id: int
    region_name: str
    visits: int = 0
    score: float | None = None
    previous_score: float | None = None
    previous_visits: int = 0
    grade: str | None = None
    #: Average score in each third of the previous and of this period, oldest first (None = no visits).
    trend: list[float | None] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """Return the change in points against the previous period."""
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score


def _bucketed(periods: list[Period], key, conditions_for) -> dict:
    """Return {(key, bucket index): (avg score, visits)} over consecutive periods, in one query."""
    start = periods[0].bounds()[0]
    end = periods[-1].bounds()[1]
    bucket = case(*((Visit.visited_at < p.bounds()[1], i) for i, p in enumerate(periods)), else_=len(periods) - 1)
    rows = select(key.label("k"), Visit.score.label("score"), bucket.label("b")).where(
        *conditions_for(start, end)
    ).subquery()
    stmt = select(rows.c.k, rows.c.b, func.avg(rows.c.score), func.count()).group_by(rows.c.k, rows.c.b)
    return {(k, b): (float(avg) if avg is not None else None, n) for k, b, avg, n in db.session.execute(stmt)}


def location_table(
    period: Period, *, scope=None, region_id: int | None = None, checklist_id: str | None = None,
    channel: str | None = None, trend_points: int = 6, include_empty: bool = False,
) -> list[LocationRow]:
    """Return the league table: one row per location with visits, best score first.

    One GROUP BY over the previous and the current period, each cut into trend_points / 2 parts
    (the sparkline); the period figures are the visit-weighted means of their parts, which is exactly
    the mean over the visits. `include_empty` adds active locations without visits in the period.
    """
    half = max(trend_points // 2, 1)
    older, newer = period.previous().split(half), period.split(half)
    periods = older + newer
    filters = {"scope": scope, "region_id": region_id, "checklist_id": checklist_id, "channel": channel}
    buckets = _bucketed(periods, Visit.location_id, lambda s, e: visit_conditions(s, e, **filters))
    figures: dict = {}
    for (loc_id, b), (avg, n) in buckets.items():
        key = (loc_id, "current" if b >= len(older) else "previous")
        total, count = figures.get(key, (0.0, 0))
        figures[key] = (total + avg * n, count + n)
    figures = {key: (total / n, n) for key, (total, n) in figures.items()}
    location_ids = {k for (k, which) in figures if which == "current"}

    stmt = select(Location.id, Location.code, Location.name, Location.region_id, Region.name).join(Region)
    if include_empty:
        stmt = stmt.where(Location.active.is_(True) | Location.id.in_(location_ids))
        if scope is not None:
            stmt = stmt.where(Location.region_id.in_(sorted(scope)))
        if region_id is not None:
            stmt = stmt.where(Location.region_id == region_id)
    else:
        stmt = stmt.where(Location.id.in_(location_ids))
    checklist = latest_checklist(checklist_id)
    table = []
    for loc_id, code, name, reg_id, reg_name in db.session.execute(stmt):
        score, visits = figures.get((loc_id, "current"), (None, 0))
        prev_score, prev_visits = figures.get((loc_id, "previous"), (None, 0))
        table.append(LocationRow(
            location_id=loc_id, code=code, name=name, region_id=reg_id, region_name=reg_name,
            visits=visits, score=score, previous_score=prev_score, previous_visits=prev_visits,
            grade=grade_label(score, checklist),
            trend=[buckets.get((loc_id, i), (None, 0))[0] for i in range(len(periods))],
        ))
    table.sort(key=lambda r: (r.score is None, -(r.score or 0), r.code))
    return table


def location_rank(
    period: Period, location_id: int, *, within_region: bool, checklist_id: str | None = None,
) -> tuple[int | None, int]:
    """Return (rank, of): the location's place by average score in its region or the network."""
    region_id = None
    if within_region:
        region_id = db.session.scalar(select(Location.region_id).where(Location.id == location_id))
    stmt = select(Visit.location_id, func.avg(Visit.score)).where(
        *_period_conditions(period, region_id=region_id, checklist_id=checklist_id)
    ).group_by(Visit.location_id)
    averages = dict(db.session.execute(stmt).all())
    mine = averages.get(location_id)
    if mine is None:
        return None, len(averages)
    return 1 + sum(1 for avg in averages.values() if avg > mine), len(averages)


# -- averages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Average:
    """An average score over some visits."""

    key: object
    name: str
    score: float | None
    visits: int


def network_average(period: Period, *, scope=None, checklist_id=None, channel=None) -> Average:
    """Return the average visit score over the network (or the scope)."""
    score, visits = db.session.execute(
        select(func.avg(Visit.score), func.count()).where(
            *_period_conditions(period, scope=scope, checklist_id=checklist_id, channel=channel))
    ).one()
    return Average(None, "network", float(score) if score is not None else None, visits)


def region_averages(period: Period, *, scope=None, checklist_id=None, channel=None) -> list[Average]:
    """Return each region's average visit score, regions in name order."""
    stmt = (
        select(Location.region_id, Region.name, func.avg(Visit.score), func.count(Visit.id))
        .join(Location, Location.id == Visit.location_id).join(Region, Region.id == Location.region_id)
        .where(*_period_conditions(period, scope=scope, checklist_id=checklist_id, channel=channel))
        .group_by(Location.region_id, Region.name).order_by(Region.name)
    )
    return [Average(rid, name, float(avg), n) for rid, name, avg, n in db.session.execute(stmt)]


@dataclass(frozen=True)
class SectionAvg:
    """A section's average score over a set of visits."""

    section_id: str
    title: str
    score: float | None
    visits: int


def section_averages(
    period: Period, *, scope=None, location_id: int | None = None, region_id: int | None = None,
    checklist_id: str | None = None, channel: str | None = None,
) -> dict[str, SectionAvg]:
    """Return {section id: SectionAvg} over the matching visits, in checklist order."""
    conditions = _period_conditions(period, scope=scope, location_id=location_id, region_id=region_id,
                                    checklist_id=checklist_id, channel=channel)
    stmt = (
        select(VisitSectionScore.section_id, func.avg(VisitSectionScore.score), func.count(VisitSectionScore.score))
        .join(Visit, Visit.id == VisitSectionScore.visit_id)
        .where(*conditions, *_copied_period(VisitSectionScore, period))
        .group_by(VisitSectionScore.section_id)
    )
    figures = {sid: (float(avg) if avg is not None else None, n) for sid, avg, n in db.session.execute(stmt)}
    if not figures:
        return {}
    titles = section_titles(_versions_in(conditions))
    ordered = [s for s in titles if s in figures] + sorted(s for s in figures if s not in titles)
    return {s: SectionAvg(s, titles.get(s, s), *figures[s]) for s in ordered}


@dataclass
class Heatmap:
    """Locations x sections average scores."""

    sections: dict[str, str]  # id -> title, in checklist order
    cells: dict[int, dict[str, SectionAvg]]


def section_matrix(period: Period, *, scope=None, region_id=None, checklist_id=None, channel=None) -> Heatmap:
    """Return each location's section averages for the heatmap, in one GROUP BY."""
    conditions = _period_conditions(period, scope=scope, region_id=region_id,
                                    checklist_id=checklist_id, channel=channel)
    stmt = (
        select(Visit.location_id, VisitSectionScore.section_id, func.avg(VisitSectionScore.score),
               func.count(VisitSectionScore.score))
        .join(Visit, Visit.id == VisitSectionScore.visit_id)
        .where(*conditions, *_copied_period(VisitSectionScore, period))
        .group_by(Visit.location_id, VisitSectionScore.section_id)
    )
    cells: dict[int, dict[str, SectionAvg]] = {}
    seen: set[str] = set()
    rows = db.session.execute(stmt).all()
    titles = section_titles(_versions_in(conditions)) if rows else {}
    for loc_id, sid, avg, n in rows:
        seen.add(sid)
        cells.setdefault(loc_id, {})[sid] = SectionAvg(sid, titles.get(sid, sid), float(avg) if avg is not None
                                                       else None, n)
    sections = {s: t for s, t in titles.items() if s in seen}
    sections.update({s: s for s in sorted(seen - set(sections))})
    return Heatmap(sections, cells)


# -- questions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionFailure:
    """How often a question lost points over a set of visits."""

    checklist_id: str
    question_id: str
    text: str
    section_id: str
    checklist_title: str
    failures: int
    asked: int
    critical_failures: int
    last_failed_at: datetime | None = None

    @property
    def rate(self) -> float:
        """Return the share of visits (percent) in which the question lost points."""
        return 100.0 * self.failures / self.asked if self.asked else 0.0


def _failure_counts(conditions: list, period: Period) -> list[tuple]:
    """Return (checklist id, question id, failures, asked, critical failures, last failure) per question.

    Grouped by checklist version (an integer) in SQL, without joining checklist_versions: this
    GROUP BY reads every answer of the period (hundreds of thousands), so the cheapest grouping key
    wins. The versions are few, so merging them per checklist happens here.
    """
    lost = Answer.fraction < 1
    stmt = (
        select(
            Visit.checklist_version_id, Answer.question_id, func.count().filter(lost), func.count(),
            func.count().filter(Answer.critical_failed), func.max(Answer.visited_at).filter(lost),
        )
        .join(Visit, Visit.id == Answer.visit_id)
        .where(*conditions, *_copied_period(Answer, period), Answer.status == "answered", Answer.max_points > 0)
        .group_by(Visit.checklist_version_id, Answer.question_id)
    )
    rows = db.session.execute(stmt).all()
    if not rows:
        return []
    checklist_of = dict(db.session.execute(select(ChecklistVersion.id, ChecklistVersion.checklist_id).where(
        ChecklistVersion.id.in_({row[0] for row in rows}))).all())
    merged: dict[tuple[str, str], list] = {}
    for version_id, qid, failures, asked, critical, last in rows:
        if isinstance(last, str):  # SQLite may return MAX() of a timestamp as text
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        key = (checklist_of[version_id], qid)
        if key not in merged:
            merged[key] = [0, 0, 0, None]
        figures = merged[key]
        figures[0] += failures or 0
        figures[1] += asked
        figures[2] += critical or 0
        if last is not None and (figures[3] is None or last > figures[3]):
            figures[3] = last
    return [(cid, qid, *figures) for (cid, qid), figures in merged.items()]


def _failures(conditions: list, counts: list[tuple]) -> list[QuestionFailure]:
    texts = question_texts(_versions_in(conditions)) if counts else {}
    result = []
    for checklist_id, qid, failures, asked, critical, last in counts:
        text, section_id, title = texts.get((checklist_id, qid), (qid, "", checklist_id))
        result.append(QuestionFailure(checklist_id, qid, text, section_id, title, failures, asked, critical, last))
    return result


def _most_failed(counts: list[tuple], min_failures: int) -> list[tuple]:
    """Return the counts with at least `min_failures` failures: most failures first, then by question id."""
    kept = [row for row in counts if row[2] >= min_failures]
    return sorted(kept, key=lambda row: (-row[2], row[1], row[0]))


def failing_questions(
    period: Period, *, scope=None, region_id=None, checklist_id=None, channel=None, location_id=None, limit=10,
) -> list[QuestionFailure]:
    """Return the questions that lose points most often, most failures first."""
    conditions = _period_conditions(period, scope=scope, region_id=region_id, checklist_id=checklist_id,
                                    channel=channel, location_id=location_id)
    counts = _most_failed(_failure_counts(conditions, period), 1)[:limit]
    return _failures(conditions, counts)


def recurring_failures(period: Period, location_id: int, min_visits: int = 2) -> list[QuestionFailure]:
    """Return the questions a location failed in at least `min_visits` visits of the period."""
    conditions = _period_conditions(period, location_id=location_id)
    return _failures(conditions, _most_failed(_failure_counts(conditions, period), min_visits))


# -- one location ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitScore:
    """A counted visit's score, for lists and trend charts."""

    visit_id: int
    visited_at: datetime
    score: float
    grade: str | None
    checklist_title: str = ""
    shopper_code: str | None = None


def visit_scores(period: Period, location_id: int) -> list[VisitScore]:
    """Return the counted visits of a location in the period, oldest first."""
    from app.models import User

    stmt = (
        select(Visit.id, Visit.visited_at, Visit.score, Visit.grade, ChecklistVersion.title, User.shopper_code)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .join(User, User.id == Visit.shopper_id)
        .where(*_period_conditions(period, location_id=location_id))
        .order_by(Visit.visited_at, Visit.id)
    )
    return [VisitScore(*row) for row in db.session.execute(stmt)]


@dataclass(frozen=True)
class TrendPoint:
    """The average score of one period in a trend."""

    period: Period
    score: float | None
    visits: int


def score_trend(periods: list[Period], *, scope=None, location_id=None, region_id=None,
                checklist_id=None) -> list[TrendPoint]:
    """Return the average score in each of consecutive `periods` (one query)."""
    figures = _bucketed(periods, literal(0), lambda s, e: visit_conditions(
        s, e, scope=scope, location_id=location_id, region_id=region_id, checklist_id=checklist_id))
    return [TrendPoint(p, *figures.get((0, i), (None, 0))) for i, p in enumerate(periods)]
