"""Collect what each report shows: stored scores and answers only, aggregated in SQL.

Figures come from app.analytics.summaries for the same Filters as the page a report was asked
from, so a report and the page never disagree; nothing here computes a score or an average.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.analytics.filters import Filters
from app.analytics.summaries import LocationSummary, location_summary
from app.extensions import db
from app.localtime import window_warning
from app.models import (
    ActionStatus,
    CorrectiveAction,
    Location,
    Region,
    Visit,
)
from app.models.types import utcnow
from app.pdf import photo_url
from app.visits.photos import evidence

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
    photos: list[PhotoLine] = field(default_factory=list)
    section_title: str = ""

    @property
    def lost_points(self) -> bool:
        """Return True when the answer earned less than the question's full points."""
        if not self.max:
            return False
        return (self.points or 0) < self.max - 1e-9


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
    #: "Started 2 days before the window opened.", on the location's calendar; None inside the window.
    window_warning: str | None = None


@dataclass(frozen=True)
class PhotoLine:
    """A photo as the report prints it: its internal URL and how, when and where it was taken."""

    src: str
    caption: str


def shopper_label(visit: Visit, include_name: bool) -> str:
    """Return the shopper's code, with the name only when the caller was allowed and asked for it."""
    shopper = visit.shopper
    code = shopper.shopper_code or f"#{shopper.id}"
    return f"{shopper.name} ({code})" if include_name else code


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
    photos: dict[str, list[PhotoLine]] = defaultdict(list)
    ready = [photo for photo in visit.photos if photo.ready]  # a pending or refused upload has no clean copy
    for photo in ready:
        photos[photo.question_id].append(PhotoLine(photo_url(photo.stored_name),
                                                   " · ".join(evidence(photo, visit.location))))

    sections, critical = [], []
    for s_index, section in enumerate(checklist.sections, start=1):
        lines = []
        for q_index, question in enumerate(section.questions, start=1):
            answer = answers.get(question.id)
            status = answer.status if answer else "unanswered"
            if status == "hidden":
                continue  # never asked: a report lists what the shopper saw
            scored = bool(answer and answer.max_points)
            value: object
            if question.type == "photo" and photos.get(question.id):
                status, value = "answered", [p.src for p in photos[question.id]]  # the stored photos are the answer
            else:
                value = answer.value if answer else None
            line = QuestionLine(
                number=f"{s_index}.{q_index}", question_id=question.id, text=question.text,
                answer=question.answer_text(status, value), status=status,
                points=answer.points if scored and answer else None,
                max=answer.max_points if scored and answer else None,
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
        photo_count=len(ready), window_warning=window_warning(visit),
    )


# -- one location over a period, a region or the network -------------------------------------


def open_actions(location_id: int) -> list[CorrectiveAction]:
    """Return the location's open corrective actions, soonest due first."""
    return list(db.session.scalars(
        select(CorrectiveAction).where(
            CorrectiveAction.location_id == location_id, CorrectiveAction.status == ActionStatus.open,
        ).order_by(CorrectiveAction.due_date, CorrectiveAction.id)
    ))


@dataclass
class LocationReport:
    """The location report: the page's figures (same Filters), the latest visit in detail, open actions."""

    figures: LocationSummary
    latest: VisitDetail | None
    actions: list[CorrectiveAction]


def location_report(filters: Filters, location: Location, *, include_shopper_name: bool = False) -> LocationReport:
    """Return the location report's content for exactly the filter of the page it was asked from."""
    summary = location_summary(filters, location)
    latest = load_visit(summary.visits[-1].visit_id) if summary.visits else None
    detail = visit_detail(latest, include_shopper_name=include_shopper_name) if latest else None
    return LocationReport(summary, detail, open_actions(location.id))


def report_date() -> datetime:
    """Return now, for the "report date" in headers (a function so tests can see one place)."""
    return utcnow()
