"""Collect what each report shows: stored scores and answers only, aggregated in SQL.

Figures come from app/dashboard/queries.py so a report and the dashboard never disagree;
nothing here computes a score (app/scoring.py did that when the visit was stored).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.dashboard import queries as q
from app.extensions import db
from app.models import (
    ActionStatus,
    ChecklistVersion,
    CorrectiveAction,
    Location,
    Region,
    Visit,
)
from app.reports.pdf import photo_url
from app.storage import photo_path

CYRILLIC = re.compile(r"[\u0400-\u04FF]")


# -- one visit --------------------------------------------------------------------------------


@dataclass
class QuestionLine:
    """One question as the report prints it."""

    number: str
    question_id: str
    text: str
    answer: str
    status: str
    points: float | None
    max: float | None
    critical: bool
    critical_failed: bool
    comment: str | None
    photos: list[str] = field(default_factory=list)
    section_title: str = ""

    @property
    def lost_points(self) -> bool:
        """Return True when the answer earned less than the question's full points."""
        return bool(self.max) and (self.points or 0) < self.max - 1e-9


@dataclass
class SectionBlock:
    """A section's stored score and its questions."""

    id: str
    title: str
    weight: float
    score: float | None
    points: float
    max: float
    questions: list[QuestionLine]


@dataclass
class VisitDetail:
    """Everything the visit report shows."""

    visit: Visit
    location: Location
    region: Region
    checklist_title: str
    checklist_version: int
    shopper_label: str
    score: float | None
    grade: str | None
    critical: list[QuestionLine]
    sections: list[SectionBlock]
    photo_count: int


def stored_photo_path(stored_name: str) -> str:
    """Return a stored photo's path below UPLOAD_DIR, as the field app lays the files out."""
    return photo_path("", stored_name).as_posix()


def shopper_label(visit: Visit, include_name: bool) -> str:
    """Return the shopper's code, with the name only when the caller was allowed and asked for it."""
    shopper = visit.shopper
    code = shopper.shopper_code or f"#{shopper.id}"
    return f"{shopper.name} ({code})" if include_name else code


def language_of(*texts: str) -> str:
    """Return "ru" when the texts are written in Cyrillic, else ""."""
    return "ru" if any(CYRILLIC.search(t or "") for t in texts) else ""


def checklist_language(checklist) -> str:
    """Return the language a checklist is written in ("ru" for Cyrillic, "" when unsure)."""
    return language_of(checklist.title, *(s.title for s in checklist.sections))


def _versions_language(conditions: list) -> str:
    titles = db.session.scalars(
        select(ChecklistVersion.title).where(ChecklistVersion.id.in_(
            select(Visit.checklist_version_id).where(*conditions).distinct()))
    ).all()
    return language_of(*titles)


def location_language(location: Location, period: q.Period) -> str:
    """Return the language of the checklists a location was audited with in the period."""
    return _versions_language(q.visit_conditions(*period.bounds(), location_id=location.id))


def summary_language(period: q.Period, *, region_id=None, scope=None) -> str:
    """Return the language of the checklists used in a region (or the scope) in the period."""
    return _versions_language(q.visit_conditions(*period.bounds(), region_id=region_id, scope=scope))


def load_visit(visit_id: int) -> Visit | None:
    """Return a visit with its answers, section scores and photos loaded in three queries."""
    return db.session.scalars(
        select(Visit).where(Visit.id == visit_id).options(
            selectinload(Visit.answers), selectinload(Visit.section_scores), selectinload(Visit.photos),
        )
    ).first()


def visit_detail(visit: Visit, *, include_shopper_name: bool = False) -> VisitDetail:
    """Return the visit report's content from the stored answers, section scores and photos."""
    checklist = visit.checklist
    answers = {a.question_id: a for a in visit.answers}
    stored_sections = {s.section_id: s for s in visit.section_scores}
    photos: dict[str, list[str]] = defaultdict(list)
    for photo in visit.photos:
        photos[photo.question_id].append(photo_url(stored_photo_path(photo.stored_name)))

    sections, critical = [], []
    for s_index, section in enumerate(checklist.sections, start=1):
        lines = []
        for q_index, question in enumerate(section.questions, start=1):
            answer = answers.get(question.id)
            status = answer.status if answer else "unanswered"
            if status == "hidden":
                continue  # never asked: a report lists what the shopper saw
            scored = bool(answer and answer.max_points)
            if question.type == "photo" and photos.get(question.id):
                status, value = "answered", photos[question.id]  # the stored photos are the answer
            else:
                value = answer.value if answer else None
            line = QuestionLine(
                number=f"{s_index}.{q_index}", question_id=question.id, text=question.text,
                answer=question.answer_text(status, value), status=status,
                points=answer.points if scored else None, max=answer.max_points if scored else None,
                critical=question.critical, critical_failed=bool(answer and answer.critical_failed),
                comment=(answer.comment or None) if answer else None, photos=photos.get(question.id, []),
                section_title=section.title,
            )
            lines.append(line)
            if line.critical_failed:
                critical.append(line)
        stored = stored_sections.get(section.id)
        sections.append(SectionBlock(
            id=section.id, title=section.title, weight=section.weight,
            score=stored.score if stored else None, points=stored.points if stored else 0.0,
            max=stored.max_points if stored else 0.0, questions=lines,
        ))
    location = visit.location
    return VisitDetail(
        visit=visit, location=location, region=location.region, checklist_title=checklist.title,
        checklist_version=checklist.version, shopper_label=shopper_label(visit, include_shopper_name),
        score=visit.score, grade=visit.grade, critical=critical, sections=sections,
        photo_count=len(visit.photos),
    )


# -- one location over a period --------------------------------------------------------------


@dataclass
class SectionComparison:
    """A section's average at the location beside its region's and the network's."""

    section_id: str
    title: str
    location: float | None
    region: float | None
    network: float | None
    visits: int


@dataclass
class SurveyFigures:
    """NPS, CSAT and CES of a location over a period, each with its number of answers."""

    nps: float | None
    nps_n: int
    csat: float | None
    csat_n: int
    ces: float | None
    ces_n: int

    @property
    def any(self) -> bool:
        """Return True when at least one metric has answers."""
        return bool(self.nps_n or self.csat_n or self.ces_n)


@dataclass
class LocationReport:
    """Everything the location report for a period shows."""

    location: Location
    region: Region
    period: q.Period
    visits: list[q.VisitScore]
    average: float | None
    grade: str | None
    previous: float | None
    checklist_id: str | None
    checklist_title: str | None
    sections: list[SectionComparison]
    region_average: float | None
    network_average: float | None
    rank_region: tuple[int | None, int]
    rank_network: tuple[int | None, int]
    recurring: list[q.QuestionFailure]
    latest: VisitDetail | None
    survey: SurveyFigures
    actions: list[CorrectiveAction]

    @property
    def change(self) -> float | None:
        """Return the change in points against the previous period."""
        if self.average is None or self.previous is None:
            return None
        return self.average - self.previous


def survey_figures(period: q.Period, location_id: int) -> SurveyFigures:
    """Return the location's NPS/CSAT/CES for the period, as the survey pages compute them (flagged left out)."""
    from app.surveys.queries import survey_metrics

    metrics = survey_metrics(period, location_ids=[location_id]).get(location_id) or {}

    def pick(key):
        result = metrics.get(key)
        return (result.value, result.n) if result is not None else (None, 0)

    (nps, nps_n), (csat, csat_n), (ces, ces_n) = pick("nps"), pick("csat"), pick("ces")
    return SurveyFigures(nps=nps, nps_n=nps_n, csat=csat, csat_n=csat_n, ces=ces, ces_n=ces_n)


def open_actions(location_id: int) -> list[CorrectiveAction]:
    """Return the location's open corrective actions, soonest due first."""
    return list(db.session.scalars(
        select(CorrectiveAction).where(
            CorrectiveAction.location_id == location_id, CorrectiveAction.status == ActionStatus.open,
        ).order_by(CorrectiveAction.due_date, CorrectiveAction.id)
    ))


def location_report(location: Location, period: q.Period, *, include_shopper_name: bool = False) -> LocationReport:
    """Return the location report's content for the period."""
    visits = q.visit_scores(period, location.id)
    latest = load_visit(visits[-1].visit_id) if visits else None
    checklist_id = latest.checklist_version.checklist_id if latest else None
    trend = q.score_trend([period.previous(), period], location_id=location.id)
    previous, current = trend[0], trend[1]

    sections: list[SectionComparison] = []
    region_avg = network_avg = None
    rank_region: tuple[int | None, int] = (None, 0)
    rank_network: tuple[int | None, int] = (None, 0)
    if checklist_id:
        mine = q.section_averages(period, location_id=location.id, checklist_id=checklist_id)
        region = q.section_averages(period, region_id=location.region_id, checklist_id=checklist_id)
        network = q.section_averages(period, checklist_id=checklist_id)
        for sid, avg in mine.items():
            sections.append(SectionComparison(
                sid, avg.title, avg.score, getattr(region.get(sid), "score", None),
                getattr(network.get(sid), "score", None), avg.visits,
            ))
        region_avg = _average(period, region_id=location.region_id, checklist_id=checklist_id)
        network_avg = _average(period, checklist_id=checklist_id)
        rank_region = q.location_rank(period, location.id, within_region=True, checklist_id=checklist_id)
        rank_network = q.location_rank(period, location.id, within_region=False, checklist_id=checklist_id)
    checklist = latest.checklist if latest else None
    detail = visit_detail(latest, include_shopper_name=include_shopper_name) if latest else None
    return LocationReport(
        location=location, region=location.region, period=period, visits=visits,
        average=current.score, grade=q.grade_label(current.score, checklist), previous=previous.score,
        checklist_id=checklist_id, checklist_title=checklist.title if checklist else None,
        sections=sections, region_average=region_avg, network_average=network_avg,
        rank_region=rank_region, rank_network=rank_network,
        recurring=q.recurring_failures(period, location.id, min_visits=2), latest=detail,
        survey=survey_figures(period, location.id), actions=open_actions(location.id),
    )


def _average(period: q.Period, *, region_id=None, checklist_id=None) -> float | None:
    """Return the average visit score over a region (or the network) for one checklist."""
    scope = {region_id} if region_id is not None else None
    return q.network_average(period, scope=scope, checklist_id=checklist_id).score


# -- region / network summary ----------------------------------------------------------------


@dataclass
class ChecklistSummary:
    """One checklist's league table and section heatmap (scores of different checklists never mix)."""

    checklist_id: str
    title: str
    rows: list[q.LocationRow]
    heatmap: q.Heatmap
    average: float | None
    visits: int


@dataclass
class SummaryReport:
    """A region's (or the network's) league tables for a period."""

    title: str
    region: Region | None
    period: q.Period
    checklists: list[ChecklistSummary]


def checklists_in(period: q.Period, *, scope=None, region_id=None) -> list[tuple[str, str, int]]:
    """Return (checklist id, title, visits) of the checklists used in the period, most used first."""
    stmt = (
        select(ChecklistVersion.checklist_id, func.max(ChecklistVersion.title), func.count(Visit.id))
        .join(Visit, Visit.checklist_version_id == ChecklistVersion.id)
        .where(*q.visit_conditions(*period.bounds(), scope=scope, region_id=region_id))
        .group_by(ChecklistVersion.checklist_id)
    )
    rows = [(cid, title, n) for cid, title, n in db.session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def summary_report(period: q.Period, *, region: Region | None = None, scope=None, title: str = "",
                   checklist_id: str | None = None) -> SummaryReport:
    """Return the league tables and heatmaps of a region, or of the network within `scope`."""
    region_id = region.id if region else None
    blocks = []
    for cid, _title, _n in checklists_in(period, scope=scope, region_id=region_id):
        if checklist_id and cid != checklist_id:
            continue
        checklist = q.latest_checklist(cid)
        rows = q.location_table(period, scope=scope, region_id=region_id, checklist_id=cid, trend_points=2)
        heatmap = q.section_matrix(period, scope=scope, region_id=region_id, checklist_id=cid)
        overall = q.network_average(period, scope={region_id} if region_id else scope, checklist_id=cid)
        blocks.append(ChecklistSummary(cid, checklist.title if checklist else cid, rows, heatmap,
                                       overall.score, overall.visits))
    return SummaryReport(title=title, region=region, period=period, checklists=blocks)


def parse_period(start: str | None, end: str | None, today: date | None = None) -> q.Period:
    """Return the period from ISO dates; the last 90 days when both are missing.

    :raise ValueError: with a readable message on bad dates or an end before the start.
    """
    today = today or date.today()
    if not start and not end:
        return q.Period.last_days(90, today)
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else today
    except ValueError:
        raise ValueError(_("Dates must look like 2024-03-31.")) from None
    if first is None:
        first = last.replace(day=1)
    if last < first:
        raise ValueError(_("The period ends before it starts."))
    if (last - first).days > 3 * 366:
        raise ValueError(_("A report covers at most three years."))
    return q.Period(first, last)


def report_date() -> datetime:
    """Return now, for the "report date" in headers (a function so tests can see one place)."""
    from app.models.types import utcnow

    return utcnow()
