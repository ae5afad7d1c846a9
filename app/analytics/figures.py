"""Every figure managers act on, aggregated in SQL for a `Filters`: averages with their visits and 95 %
intervals, league tables with rank ranges, sections of one programme, trends, failures, sample plans.

Each function runs one or two GROUP BY queries over the rollups (ScoreRollup: count, sum and sum of
squares of visit and section scores per location, version, state and day; QuestionRollup and
RegionQuestionRollup: failures per location and per region), which app.analytics.rollups keeps
equal to the facts; app.analytics.stats turns the sums into intervals. Only the list of a
figure's visits reads the visits themselves.
Sections and grades belong to one programme: section figures are empty in the all-programmes view.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, case, func, literal, select

from app.analytics import rollups, stats
from app.analytics.filters import Filters, latest_titles, memo
from app.analytics.periods import Period
from app.checklists.schema import DEFAULT_GRADES, GRADE_TOLERANCE, Checklist
from app.extensions import db
from app.models import (
    ChecklistVersion,
    Location,
    QuestionRollup,
    Region,
    RegionQuestionRollup,
    ScoreRollup,
    User,
    Visit,
)

# -- sums and grades ---------------------------------------------------------------------------------


def _rolled_up() -> list[Any]:
    """Return the summed count, sum and sum of squares of rollup rows."""
    return [func.sum(ScoreRollup.n), func.sum(ScoreRollup.total), func.sum(ScoreRollup.squares)]


def _visit_level(filters: Filters) -> list[ColumnElement[bool]]:
    """Return the conditions selecting the filter's rollup rows of visit scores."""
    return [ScoreRollup.part == "", *filters.rollup_conditions(ScoreRollup)]


def _section_level(filters: Filters) -> list[ColumnElement[bool]]:
    """Return the conditions selecting the filter's rollup rows of section scores."""
    return [ScoreRollup.part != "", *filters.rollup_conditions(ScoreRollup)]


def _sums(n: Any, total: Any, squares: Any) -> stats.Sums:
    return stats.Sums(int(n or 0), float(total or 0.0), float(squares or 0.0))


def _estimate(sums: stats.Sums) -> stats.Estimate:
    return sums.estimate(bounds=stats.SCORE_BOUNDS)


def latest_checklist(checklist_id: str | None) -> Checklist | None:
    """Return the parsed newest version of a programme, or None."""
    if not checklist_id:
        return None

    def newest() -> Checklist | None:
        version = db.session.scalars(
            select(ChecklistVersion).where(ChecklistVersion.checklist_id == checklist_id)
            .order_by(ChecklistVersion.version.desc()).limit(1)
        ).first()
        return version.checklist if version else None

    return memo(("latest_checklist", checklist_id), newest)


def grade_label(score: float | None, checklist: Checklist | None = None) -> str | None:
    """Return the grade of an average: on the programme's bands, else the default ones."""
    if score is None:
        return None
    if checklist is not None:
        return checklist.grade_for(score)
    for band in sorted(DEFAULT_GRADES, key=lambda g: g.min, reverse=True):
        if score + GRADE_TOLERANCE >= band.min:
            return band.label
    return None


class Averaged:
    """The score (mean), visits, and low and high end of the 95 % interval of an `estimate`."""

    estimate: stats.Estimate

    @property
    def score(self) -> float | None:
        return self.estimate.mean

    @property
    def visits(self) -> int:
        return self.estimate.n

    @property
    def low(self) -> float | None:
        return self.estimate.low

    @property
    def high(self) -> float | None:
        return self.estimate.high


@dataclass(frozen=True)
class Figure(Averaged):
    """An average visit score with its number of visits, 95 % interval and grade."""

    estimate: stats.Estimate
    grade: str | None = None


def _figure(sums: stats.Sums, checklist: Checklist | None) -> Figure:
    estimate = _estimate(sums)
    return Figure(estimate, grade_label(estimate.mean, checklist))


def average(filters: Filters) -> Figure:
    """Return the average visit score of the filter's visits (a location, a region, the scope)."""
    row = db.session.execute(select(*_rolled_up()).where(*_visit_level(filters))).one()
    return _figure(_sums(*row), latest_checklist(filters.programme))


@dataclass(frozen=True)
class Comparison:
    """A figure against the same figure of the previous period, with Welch's test of the change."""

    current: Figure
    previous: Figure
    change: stats.Change


def compare(current: Figure, previous: Figure) -> Comparison:
    """Return the change from `previous` to `current`, marked significant or not."""
    return Comparison(current, previous, stats.welch_change(current.estimate, previous.estimate))


def average_with_change(filters: Filters) -> Comparison:
    """Return the filter's average now and over the previous period (one query)."""
    buckets = _bucketed(filters, [filters.period.previous(), filters.period], literal(0))
    checklist = latest_checklist(filters.programme)
    previous, current = (_figure(buckets.get((0, i), stats.Sums()), checklist) for i in (0, 1))
    return compare(current, previous)


# -- league table --------------------------------------------------------------------------------------


@dataclass
class LeagueRow:
    """A location's figures for a period, the previous period, its trend and its place."""

    location_id: int
    code: str
    name: str
    region_id: int
    region_name: str
    current: Figure
    previous: Figure
    change: stats.Change
    #: Average score in each part of the previous and this period, oldest first (None = no visits).
    trend: list[float | None] = field(default_factory=list)
    #: (best, worst) possible rank among the ranked locations; None when listed apart (too few visits).
    rank: tuple[int, int] | None = None
    #: The sums behind `current`, so that regions' averages add up their locations' (region_averages_of).
    sums: stats.Sums = field(default_factory=stats.Sums)

    @property
    def score(self) -> float | None:
        return self.current.score

    @property
    def visits(self) -> int:
        return self.current.visits

    @property
    def grade(self) -> str | None:
        return self.current.grade

    @property
    def rank_text(self) -> str:
        """Return the rank as people read it: "3" or "3–6"; an em dash when not ranked."""
        return stats.format_rank(*self.rank) if self.rank else "—"


@dataclass
class LeagueTable:
    """Locations ranked by average score; those with fewer than `min_visits` visits listed apart."""

    ranked: list[LeagueRow]
    unranked: list[LeagueRow]
    min_visits: int
    programme: str | None

    @property
    def rows(self) -> list[LeagueRow]:
        """Return every row: the ranked ones best first, then the others."""
        return self.ranked + self.unranked

    def row(self, location_id: int) -> LeagueRow | None:
        """Return the row of a location, or None."""
        return next((r for r in self.rows if r.location_id == location_id), None)


def min_visits_to_rank() -> int:
    """Return the configured minimum of visits in a period for a location to be ranked."""
    if has_app_context():
        return int(current_app.config.get("RANK_MIN_VISITS", stats.MIN_VISITS_TO_RANK))
    return stats.MIN_VISITS_TO_RANK


def _bucketed(filters: Filters, periods: list[Period], key: Any) -> dict[tuple[Any, int], stats.Sums]:
    """Return {(key, bucket): sums} over consecutive periods in one query."""
    # Each period reads its own whole months and edge days, so a row falls in exactly one bucket.
    bucket = case(*((rollups.period_rows(ScoreRollup, p.start, p.end), i) for i, p in enumerate(periods)),
                  else_=len(periods) - 1)
    rows = (select(key.label("k"), bucket.label("b"), ScoreRollup.n, ScoreRollup.total, ScoreRollup.squares)
            .where(ScoreRollup.part == "", *filters.rollup_conditions(ScoreRollup, periods)).subquery())
    stmt = (select(rows.c.k, rows.c.b, func.sum(rows.c.n), func.sum(rows.c.total), func.sum(rows.c.squares))
            .group_by(rows.c.k, rows.c.b))
    return {(k, b): _sums(n, total, squares) for k, b, n, total, squares in db.session.execute(stmt)}


def league_table(filters: Filters, *, trend_points: int = 6, include_empty: bool = False,
                 min_visits: int | None = None) -> LeagueTable:
    """Return the league table of the filter's locations: averages with intervals, changes, rank ranges.

    One GROUP BY over the previous and the current period, each cut into trend_points / 2 parts (the
    sparkline); a period's sums are the sums of its parts, so its mean is exactly the mean over its
    visits. `include_empty` adds active locations without visits in the period.
    """
    min_visits = min_visits_to_rank() if min_visits is None else min_visits
    half = max(trend_points // 2, 1)
    older, newer = filters.period.previous().split_at_months(half), filters.period.split_at_months(half)
    periods = older + newer
    buckets = _bucketed(filters, periods, ScoreRollup.location_id)
    parts: dict[tuple[int, bool], list[stats.Sums]] = {}
    for (location_id, index), sums in buckets.items():
        parts.setdefault((location_id, index >= len(older)), []).append(sums)
    totals = {key: stats.Sums.total_of(sums) for key, sums in parts.items()}
    current_ids = {location_id for (location_id, is_current) in totals if is_current}

    stmt = select(Location.id, Location.code, Location.name, Location.region_id, Region.name).join(Region)
    if include_empty:
        stmt = stmt.where(Location.active.is_(True) | Location.id.in_(current_ids))
        if filters.scope is not None:
            stmt = stmt.where(Location.region_id.in_(sorted(filters.scope)))
        if filters.region_id is not None:
            stmt = stmt.where(Location.region_id == filters.region_id)
        if filters.location_id is not None:
            stmt = stmt.where(Location.id == filters.location_id)
    else:
        stmt = stmt.where(Location.id.in_(current_ids))
    checklist = latest_checklist(filters.programme)
    rows = []
    for location_id, code, name, region_id, region_name in db.session.execute(stmt):
        current = _figure(totals.get((location_id, True), stats.Sums()), checklist)
        previous = _figure(totals.get((location_id, False), stats.Sums()), checklist)
        trend = [buckets[(location_id, i)].mean if (location_id, i) in buckets else None
                 for i in range(len(periods))]
        rows.append(LeagueRow(location_id, code, name, region_id, region_name, current, previous,
                              stats.welch_change(current.estimate, previous.estimate), trend,
                              sums=totals.get((location_id, True), stats.Sums())))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.code))
    ranks = stats.rank_locations([r.current.estimate for r in rows], min_visits=min_visits)
    for row, rank in zip(rows, ranks, strict=True):
        row.rank = rank
    return LeagueTable([r for r in rows if r.rank], [r for r in rows if not r.rank], min_visits, filters.programme)


@dataclass(frozen=True)
class Ranks:
    """A location's place among its region's and the network's locations, for one programme and period."""

    region: tuple[int, int] | None
    region_of: int
    network: tuple[int, int] | None
    network_of: int
    min_visits: int


def location_ranks(filters: Filters, location: Location) -> Ranks:
    """Return the location's rank ranges in its region and in the whole network.

    The same ranks as the region's and the network's league tables (rank ranges depend only on the
    intervals of the current period), from one GROUP BY of the network's locations: a rank needs
    neither names, previous periods nor trends, and the region's locations are a part of the network's.
    """
    benchmark = filters.network().replace(location_id=None)
    stmt = (
        select(ScoreRollup.location_id, Location.region_id, *_rolled_up())
        .join(Location, Location.id == ScoreRollup.location_id)
        .where(*_visit_level(benchmark)).group_by(ScoreRollup.location_id, Location.region_id)
    )
    min_visits = min_visits_to_rank()
    found = [(location_id, region_id, _estimate(_sums(n, total, squares)))
             for location_id, region_id, n, total, squares in db.session.execute(stmt)]
    ranked = [(location_id, region_id, e) for location_id, region_id, e in found if e.n >= min_visits]
    in_region = [(location_id, e) for location_id, region_id, e in ranked if region_id == location.region_id]
    network_ranks = dict(zip((r[0] for r in ranked), stats.rank_ranges([r[2] for r in ranked]), strict=True))
    region_ranks = dict(zip((r[0] for r in in_region), stats.rank_ranges([r[1] for r in in_region]), strict=True))
    return Ranks(region_ranks.get(location.id), len(in_region), network_ranks.get(location.id), len(ranked),
                 min_visits)


# -- regions and the network ------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionFigure:
    """A region's average visit score."""

    region_id: int
    name: str
    figure: Figure


def region_averages(filters: Filters) -> list[RegionFigure]:
    """Return each region's average visit score under the filter, regions in name order."""
    stmt = (
        select(Location.region_id, Region.name, *_rolled_up())
        .join(Location, Location.id == ScoreRollup.location_id).join(Region, Region.id == Location.region_id)
        .where(*_visit_level(filters)).group_by(Location.region_id, Region.name).order_by(Region.name)
    )
    checklist = latest_checklist(filters.programme)
    return [RegionFigure(rid, name, _figure(_sums(n, total, squares), checklist))
            for rid, name, n, total, squares in db.session.execute(stmt)]


def region_averages_of(table: LeagueTable) -> list[RegionFigure]:
    """Return each region's average visit score from a league table's rows, regions in name order.

    The table's rows hold every location with visits under its filter, so a region's sums are its
    rows' sums: the figures of region_averages(filters), without a second aggregate over the rollups.
    """
    regions: dict[tuple[str, int], list[stats.Sums]] = {}
    for row in table.rows:
        if row.sums.n:
            regions.setdefault((row.region_name, row.region_id), []).append(row.sums)
    checklist = latest_checklist(table.programme)
    return [RegionFigure(rid, name, _figure(stats.Sums.total_of(sums), checklist))
            for (name, rid), sums in sorted(regions.items())]


# -- sections of one programme ------------------------------------------------------------------------


def _versions_in(filters: Filters) -> list[ChecklistVersion]:
    """Return the checklist versions of the filter's visits, newest first per programme."""
    ids = select(ScoreRollup.checklist_version_id).where(*_visit_level(filters)).distinct()
    return list(db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.id.in_(ids))
        .order_by(ChecklistVersion.checklist_id, ChecklistVersion.version.desc())
    ))


def section_titles(filters: Filters, section_ids: Iterable[str]) -> dict[str, str]:
    """Return {section id: title} of the filter's programme: its newest version's order and titles, then
    the sections only older versions of it had (looked up only when there are such sections)."""
    titles: dict[str, str] = {}
    newest = latest_checklist(filters.programme)
    for section in newest.sections if newest else ():
        titles.setdefault(section.id, section.title)
    if set(section_ids) - set(titles):
        for version in _versions_in(filters):
            for section in version.checklist.sections:
                titles.setdefault(section.id, section.title)
    return titles


@dataclass(frozen=True)
class SectionFigure(Averaged):
    """A section's average score over the filter's visits (sections belong to one programme)."""

    programme: str
    section_id: str
    title: str
    estimate: stats.Estimate


def section_averages(filters: Filters) -> dict[str, SectionFigure]:
    """Return {section id: SectionFigure} of the filter's programme in checklist order ({} for all programmes)."""
    if not filters.programme:
        return {}
    stmt = (
        select(ScoreRollup.part, *_rolled_up()).where(*_section_level(filters)).group_by(ScoreRollup.part)
    )
    found: dict[str, stats.Sums] = {
        sid: _sums(n, total, squares) for sid, n, total, squares in db.session.execute(stmt)}
    if not found:
        return {}
    titles = section_titles(filters, found)
    ordered = [s for s in titles if s in found] + sorted(s for s in found if s not in titles)
    return {s: SectionFigure(filters.programme, s, titles.get(s, s), _estimate(found[s])) for s in ordered}


def section_benchmarks(filters: Filters, region_id: int) -> tuple[dict[str, SectionFigure], dict[str, SectionFigure]]:
    """Return the section averages of a region and of the whole network under `filters` (a network filter),
    as `section_averages` gives them for each, in one GROUP BY: the network's sums are the region's and
    the other regions' sums."""
    if not filters.programme:
        return {}, {}
    in_region = Location.region_id == region_id
    stmt = (
        select(ScoreRollup.part, in_region, *_rolled_up()).join(Location, Location.id == ScoreRollup.location_id)
        .where(*_section_level(filters)).group_by(ScoreRollup.part, in_region)
    )
    regional: dict[str, stats.Sums] = {}
    network: dict[str, list[stats.Sums]] = {}
    for sid, mine, n, total, squares in db.session.execute(stmt):
        sums = _sums(n, total, squares)
        network.setdefault(sid, []).append(sums)
        if mine:
            regional[sid] = sums
    if not network:
        return {}, {}
    titles = section_titles(filters, network)
    ordered = [s for s in titles if s in network] + sorted(s for s in network if s not in titles)

    def figures_of(found: Mapping[str, stats.Sums]) -> dict[str, SectionFigure]:
        return {s: SectionFigure(filters.programme or "", s, titles.get(s, s), _estimate(found[s]))
                for s in ordered if s in found}

    return figures_of(regional), figures_of({s: stats.Sums.total_of(parts) for s, parts in network.items()})


class HeatmapCells(Mapping[int, dict[str, "SectionFigure"]]):
    """{location id: {section id: SectionFigure}}, each location's figures made when first read: a page
    shows 50 of 500 locations, and an interval per cell is most of the heatmap's cost."""

    def __init__(self, programme: str, titles: dict[str, str], sums: dict[int, dict[str, stats.Sums]]) -> None:
        self._programme, self._titles, self._sums = programme, titles, sums
        self._made: dict[int, dict[str, SectionFigure]] = {}

    def __getitem__(self, location_id: int) -> dict[str, SectionFigure]:
        if location_id not in self._made:
            self._made[location_id] = {
                sid: SectionFigure(self._programme, sid, self._titles.get(sid, sid), _estimate(sums))
                for sid, sums in self._sums[location_id].items()}
        return self._made[location_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._sums)

    def __len__(self) -> int:
        return len(self._sums)


@dataclass
class Heatmap:
    """Locations x sections average scores of one programme."""

    programme: str | None
    sections: dict[str, str]  # id -> title, in checklist order
    cells: Mapping[int, dict[str, SectionFigure]]


def heatmap(filters: Filters) -> Heatmap:
    """Return each location's section averages of the filter's programme, in one GROUP BY."""
    if not filters.programme:
        return Heatmap(None, {}, {})
    stmt = (
        select(ScoreRollup.location_id, ScoreRollup.part, *_rolled_up())
        .where(*_section_level(filters)).group_by(ScoreRollup.location_id, ScoreRollup.part)
    )
    sums: dict[int, dict[str, stats.Sums]] = {}
    for location_id, sid, n, total, squares in db.session.execute(stmt):
        sums.setdefault(location_id, {})[sid] = _sums(n, total, squares)
    if not sums:
        return Heatmap(filters.programme, {}, {})
    seen = {sid for row in sums.values() for sid in row}
    titles = section_titles(filters, seen)
    sections = {s: t for s, t in titles.items() if s in seen}
    sections.update({s: s for s in sorted(seen - set(sections))})
    return Heatmap(filters.programme, sections, HeatmapCells(filters.programme, titles, sums))


# -- trends --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint(Averaged):
    """The average score over one period of a trend."""

    period: Period
    estimate: stats.Estimate


def trend(filters: Filters, periods: list[Period]) -> list[TrendPoint]:
    """Return the filter's average in each of consecutive `periods` (one query)."""
    buckets = _bucketed(filters, periods, literal(0))
    return [TrendPoint(p, _estimate(buckets.get((0, i), stats.Sums()))) for i, p in enumerate(periods)]


# -- questions -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionFailure:
    """How often a question of a programme lost points over the filter's visits."""

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


def _failure_counts(filters: Filters) -> list[tuple[str, str, int, int, int, datetime | None]]:
    """Return (checklist id, question id, failures, asked, critical failures, last failure) per question.

    Grouped by checklist version (an integer) in SQL, without joining checklist_versions; the few
    versions of a programme are merged here.
    """
    # Summed per region, or the network would add up a row per location and question.
    q: type[QuestionRollup] | type[RegionQuestionRollup]
    if filters.location_id is None:
        q, conditions = RegionQuestionRollup, filters.region_rollup_conditions(RegionQuestionRollup)
    else:
        q, conditions = QuestionRollup, filters.rollup_conditions(QuestionRollup)
    stmt = (
        select(q.checklist_version_id, q.question_id, func.sum(q.failures), func.sum(q.asked),
               func.sum(q.critical_failures), func.max(q.last_failed_at))
        .where(*conditions).group_by(q.checklist_version_id, q.question_id)
    )
    rows = db.session.execute(stmt).all()
    if not rows:
        return []
    programme_of = dict(db.session.execute(select(ChecklistVersion.id, ChecklistVersion.checklist_id).where(
        ChecklistVersion.id.in_({row[0] for row in rows}))).all())
    merged: dict[tuple[str, str], list[Any]] = {}
    for version_id, qid, failures, asked, critical, last in rows:
        if isinstance(last, str):  # SQLite may return MAX() of a timestamp as text
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        figures = merged.setdefault((programme_of[version_id], qid), [0, 0, 0, None])
        figures[0] += failures or 0
        figures[1] += asked
        figures[2] += critical or 0
        if last is not None and (figures[3] is None or last > figures[3]):
            figures[3] = last
    return [(cid, qid, *figures) for (cid, qid), figures in merged.items()]


def question_texts(versions: Iterable[ChecklistVersion]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Return {(programme, question id): (text, section id, programme title)}; the newest version wins."""
    texts: dict[tuple[str, str], tuple[str, str, str]] = {}
    titles = latest_titles()
    for version in versions:
        checklist = version.checklist
        for question in checklist.questions:
            texts.setdefault((version.checklist_id, question.id), (
                question.text, checklist.section_of(question.id).id, titles.get(version.checklist_id, version.title)))
    return texts


def _failures(filters: Filters, counts: Sequence[tuple[Any, ...]]) -> list[QuestionFailure]:
    texts = question_texts(_versions_in(filters)) if counts else {}
    result = []
    for checklist_id, qid, failures, asked, critical, last in counts:
        text, section_id, title = texts.get((checklist_id, qid), (qid, "", checklist_id))
        result.append(QuestionFailure(checklist_id, qid, text, section_id, title, failures, asked, critical, last))
    return result


def _most_failed(counts: list[tuple[Any, ...]], min_failures: int) -> list[tuple[Any, ...]]:
    kept = [row for row in counts if row[2] >= min_failures]
    return sorted(kept, key=lambda row: (-row[2], row[1], row[0]))


def failing_questions(filters: Filters, limit: int = 10) -> list[QuestionFailure]:
    """Return the questions that lose points most often, most failures first."""
    return _failures(filters, _most_failed(_failure_counts(filters), 1)[:limit])


def recurring_failures(filters: Filters, min_visits: int = 2) -> list[QuestionFailure]:
    """Return the questions failed in at least `min_visits` of the filter's visits (a location's repeat faults)."""
    return _failures(filters, _most_failed(_failure_counts(filters), min_visits))


# -- the visits behind a figure ------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitScore:
    """A counted visit's score, for lists and trend charts."""

    visit_id: int
    visited_at: datetime
    score: float
    grade: str | None
    checklist_title: str = ""
    shopper_code: str | None = None


def visit_scores(filters: Filters) -> list[VisitScore]:
    """Return the counted visits of the filter, oldest first."""
    stmt = (
        select(Visit.id, Visit.visited_at, Visit.score, Visit.grade, ChecklistVersion.title, User.shopper_code)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .join(User, User.id == Visit.shopper_id)
        .where(*filters.conditions()).order_by(Visit.visited_at, Visit.id)
    )
    # Filters.conditions() keeps only visits with a time and a score: neither column is NULL here.
    return [VisitScore(visit_id, cast(datetime, visited_at), cast(float, score), grade, title, shopper_code)
            for visit_id, visited_at, score, grade, title, shopper_code in db.session.execute(stmt)]


# -- sample plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    """How many visits per location a programme needs in a period to know each location's score to ± precision."""

    programme: str
    title: str
    visits: int
    locations: int
    #: Spread of visit scores within a location (pooled standard deviation), None below two visits anywhere.
    spread: float | None
    precision: float
    needed: int | None
    #: Locations that had at least `needed` visits in the period.
    enough: int


def sample_plan(filters: Filters, precision: float = 5.0) -> list[PlanLine]:
    """Return, per programme under the filter, the visits per location needed for a ± `precision` interval."""
    stmt = (
        select(ChecklistVersion.checklist_id, ScoreRollup.location_id, *_rolled_up())
        .join(ChecklistVersion, ChecklistVersion.id == ScoreRollup.checklist_version_id)
        .where(*_visit_level(filters)).group_by(ChecklistVersion.checklist_id, ScoreRollup.location_id)
    )
    groups: dict[str, list[stats.Sums]] = {}
    for checklist_id, _location_id, n, total, squares in db.session.execute(stmt):
        groups.setdefault(checklist_id, []).append(_sums(n, total, squares))
    titles = latest_titles(groups)
    lines = []
    for checklist_id, sums in groups.items():
        spread = stats.pooled_sd(sums)
        needed = stats.visits_needed(spread, precision) if spread is not None else None
        lines.append(PlanLine(checklist_id, titles.get(checklist_id, checklist_id), sum(s.n for s in sums),
                              len(sums), spread, precision, needed,
                              sum(1 for s in sums if needed is not None and s.n >= needed)))
    return sorted(lines, key=lambda line: (-line.visits, line.programme))
