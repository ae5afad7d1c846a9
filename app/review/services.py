"""Review decisions (approve, return, void), the review queue and the reviewers' comment library."""
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Location, ReviewComment, Visit, VisitEvent, VisitStatus
from app.models.audit import record
from app.models.types import utcnow

#: States a visit may be voided from: anything a shopper has handed in or was asked to fix.
VOIDABLE = (VisitStatus.submitted, VisitStatus.approved, VisitStatus.returned)
MAX_LIBRARY = 100


class ReviewError(ValueError):
    """A decision the review rules refuse, with a message for the manager."""


def queue_query(scope):
    """Return a select of the submitted visits waiting for review in scope, oldest first."""
    stmt = select(Visit).where(Visit.status == VisitStatus.submitted)
    if scope is not None:
        stmt = stmt.where(Visit.location_id.in_(select(Location.id).where(Location.region_id.in_(sorted(scope)))))
    return stmt.order_by(Visit.submitted_at.asc().nulls_last(), Visit.id)


def queue_count(scope) -> int:
    """Return how many visits wait for review in scope."""
    return db.session.scalar(select(func.count()).select_from(queue_query(scope).order_by(None).subquery()))


def approve(visit: Visit, manager, comment: str = "") -> None:
    """Approve a submitted visit so that it counts in comparisons (not committed)."""
    if visit.status != VisitStatus.submitted:
        raise ReviewError(_l("Only a submitted visit can be approved."))
    comment = (comment or "").strip() or None
    now = utcnow()
    visit.status = VisitStatus.approved
    visit.reviewed_by_id, visit.reviewed_at, visit.review_comment = manager.id, now, comment
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=now, action="approved", comment=comment))
    record(manager, "visit.approve", visit, comment=comment, score=visit.score)


def void(visit: Visit, manager, reason: str) -> None:
    """Void a visit with a reason: it stops counting anywhere (not committed)."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_l("Say why the visit is voided."))
    if visit.status not in VOIDABLE:
        raise ReviewError(_l("This visit cannot be voided in its current state."))
    now = utcnow()
    previous = visit.status
    visit.status = VisitStatus.voided
    visit.void_reason = reason
    visit.reviewed_by_id, visit.reviewed_at = manager.id, now
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=now, action="voided", comment=reason))
    record(manager, "visit.void", visit, reason=reason, previous=previous.value)


def return_visit(visit: Visit, manager, comment: str) -> None:
    """Send the visit back to its shopper with a comment (the field app's rule; not committed)."""
    from app.visits.services import VisitError, return_for_correction

    try:
        return_for_correction(visit, manager, comment)
    except VisitError as exc:
        raise ReviewError(exc.message) from None


# -- the comment library ---------------------------------------------------------------------


def library(user) -> list[ReviewComment]:
    """Return the user's reusable comments, oldest first."""
    return list(db.session.scalars(
        select(ReviewComment).where(ReviewComment.user_id == user.id).order_by(ReviewComment.id)))


def add_comment(user, text: str) -> ReviewComment:
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


def get_comment_or_404(comment_id: int, user) -> ReviewComment:
    """Return the user's own library comment; :raise 404: for anyone else's."""
    from flask import abort

    comment = db.session.get(ReviewComment, comment_id)
    if comment is None or comment.user_id != user.id:
        abort(404)
    return comment


# -- what the review page shows ---------------------------------------------------------------


@dataclass
class AnswerView:
    """One question of the visit as the reviewer sees it."""

    question: Any
    answer: Any  # the stored Answer row, or None
    display: str
    photos: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.answer is not None and self.answer.fraction is not None and self.answer.fraction < 1


@dataclass
class SectionView:
    section: Any
    score: Any  # VisitSectionScore or None
    answers: list[AnswerView]


def visit_sections(visit: Visit) -> list[SectionView]:
    """Return the visit's sections with every question, its stored answer and its photos."""
    checklist = visit.checklist
    answers = {a.question_id: a for a in visit.answers}
    scores = {s.section_id: s for s in visit.section_scores}
    photos = defaultdict(list)
    for photo in visit.photos:
        photos[photo.question_id].append(photo)
    sections = []
    for section in checklist.sections:
        rows = []
        for question in section.questions:
            answer = answers.get(question.id)
            words = question.answer_text(answer.status, answer.value) if answer else question.answer_text(
                "unanswered", None)
            rows.append(AnswerView(question, answer, words, photos.get(question.id, [])))
        sections.append(SectionView(section, scores.get(section.id), rows))
    return sections
