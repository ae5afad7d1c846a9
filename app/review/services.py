"""The review queue, the reviewers' comment library and what the review page shows.

The decisions themselves (approve, return, void) are operations of app/visits/lifecycle.py.
"""
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from app.access import visible_visits
from app.checklists.schema import BaseQuestion, Section
from app.extensions import db
from app.models import Answer, Photo, ReviewComment, User, Visit, VisitSectionScore, VisitStatus

MAX_LIBRARY = 100
#: The decision form's field of the note beside one question: mark-<question id>.
MARK_PREFIX = "mark-"


class ReviewError(ValueError):
    """A comment-library change the rules refuse, with a message for the manager."""


def marks_from(fields: Mapping[str, str]) -> dict[str, str]:
    """Return {question id: note} of the decision form's non-empty mark-<question id> fields."""
    return {name.removeprefix(MARK_PREFIX): value for name, value in fields.items()
            if name.startswith(MARK_PREFIX) and value.strip()}


#: How the queue can be ordered: oldest submission first, or riskiest first (then oldest).
SORTS = ("oldest", "risk")


@dataclass(frozen=True)
class QueueView:
    """How the reviewer looks at the queue: its order, and only visits from this risk score (None: all)."""

    sort: str = "oldest"
    min_risk: int | None = None


def queue_query(user: User, view: QueueView = QueueView()) -> Select[Visit]:
    """Return a select of the submitted visits waiting for `user`'s review, in the view's order."""
    stmt = select(Visit).where(Visit.status == VisitStatus.submitted, visible_visits(user))
    if view.min_risk is not None:
        stmt = stmt.where(Visit.risk_score >= view.min_risk)
    oldest = (Visit.submitted_at.asc().nulls_last(), Visit.id)
    if view.sort == "risk":
        return stmt.order_by(Visit.risk_score.desc().nulls_last(), *oldest)
    return stmt.order_by(*oldest)


def queue_count(user: User, view: QueueView = QueueView()) -> int:
    """Return how many visits wait for `user`'s review in the view."""
    return db.session.scalar(select(func.count()).select_from(queue_query(user, view).order_by(None).subquery())) or 0


# -- the comment library ---------------------------------------------------------------------


def library(user: User) -> list[ReviewComment]:
    """Return the user's reusable comments, oldest first."""
    return list(db.session.scalars(
        select(ReviewComment).where(ReviewComment.user_id == user.id).order_by(ReviewComment.id)))


def add_comment(user: User, text: str) -> ReviewComment:
    """Add a reusable comment (not committed); :raise ReviewError: when empty, repeated or too many."""
    text = (text or "").strip()
    if not text:
        raise ReviewError(_l("Write the comment first."))
    existing = library(user)
    if any(c.text == text for c in existing):
        raise ReviewError(_l("This comment is already in your library."))
    if len(existing) >= MAX_LIBRARY:
        raise ReviewError(_l("Your library is full: delete a comment first."))
    comment = ReviewComment(user_id=user.id, text=text)
    db.session.add(comment)
    return comment


# -- what the review page shows ---------------------------------------------------------------


@dataclass
class AnswerView:
    """One question of the visit as the reviewer sees it."""

    question: BaseQuestion
    answer: Answer | None
    display: str
    photos: list[Photo] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.answer is not None and self.answer.fraction is not None and self.answer.fraction < 1


@dataclass
class SectionView:
    section: Section
    score: VisitSectionScore | None
    answers: list[AnswerView]


def visit_sections(visit: Visit) -> list[SectionView]:
    """Return the visit's sections with every question, its stored answer and its photos."""
    checklist = visit.checklist
    answers = {a.question_id: a for a in visit.answers}
    scores = {s.section_id: s for s in visit.section_scores}
    photos: defaultdict[str, list[Photo]] = defaultdict(list)
    for photo in visit.photos:
        photos[photo.question_id].append(photo)
    sections: list[SectionView] = []
    for section in checklist.sections:
        rows: list[AnswerView] = []
        for question in section.questions:
            answer = answers.get(question.id)
            words = question.answer_text(answer.status, answer.value) if answer else question.answer_text(
                "unanswered", None)
            rows.append(AnswerView(question, answer, words, photos.get(question.id, [])))
        sections.append(SectionView(section, scores.get(section.id), rows))
    return sections
