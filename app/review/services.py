"""The review queue, the reviewers' comment library and what the review page shows.

The decisions themselves (approve, return, void) are operations of app/visits/lifecycle.py.
"""
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.access import can_review, visible_regions, visible_visits
from app.checklists.schema import BaseQuestion, Section
from app.extensions import db
from app.models import (
    Answer,
    ChecklistVersion,
    Location,
    Photo,
    Region,
    ReviewComment,
    Role,
    User,
    Visit,
    VisitSectionScore,
    VisitStatus,
)
from app.models.audit import record
from app.models.types import utcnow
from app.visits import lifecycle
from app.visits.risk import FILTER_LEVELS, RiskSettings, level, level_condition

MAX_LIBRARY = 100
#: The decision form's field of the note beside one question: mark-<question id>.
MARK_PREFIX = "mark-"


class ReviewError(ValueError):
    """A comment-library change the rules refuse, with a message for the manager."""


def marks_from(fields: Mapping[str, str]) -> dict[str, str]:
    """Return {question id: note} of the decision form's non-empty mark-<question id> fields."""
    return {name.removeprefix(MARK_PREFIX): value for name, value in fields.items()
            if name.startswith(MARK_PREFIX) and value.strip()}


#: How the queue can be ordered: oldest submission first (the default), newest, riskiest, lowest score.
SORTS = ("oldest", "newest", "risk", "score")
#: ?reviewer=: visits the signed-in manager has taken, or visits nobody has; missing: anyone's.
REVIEWER_FILTERS = ("me", "none")
#: The longest wait ?age= accepts, in days.
MAX_AGE_DAYS = 3650
#: The most visits one "Approve selected" takes: more than a page of the queue is never ticked by hand.
MAX_BULK = 200


@dataclass(frozen=True)
class QueueView:
    """How the reviewer looks at the queue: its order and its filters (None: not filtered by that)."""

    sort: str = "oldest"
    #: The programme: a checklist id (every version of it).
    programme: str | None = None
    region_id: int | None = None
    #: One of app.visits.risk.FILTER_LEVELS.
    risk: str | None = None
    #: Only visits waiting more than this many days since their submission.
    older_than_days: int | None = None
    #: One of REVIEWER_FILTERS.
    reviewer: str | None = None

    @property
    def filtered(self) -> bool:
        """Return True when some visits waiting for review are left out."""
        return any(v is not None for v in (self.programme, self.region_id, self.risk, self.older_than_days,
                                           self.reviewer))

    @property
    def only_high_risk(self) -> bool:
        """Return True when the one filter is the high risk level (the queue says so in its own words)."""
        return self.risk == "high" and self == QueueView(sort=self.sort, risk="high")


def read_view(args: Mapping[str, str], *, programmes: Collection[str],
              regions: Collection[int]) -> tuple[QueueView, list[str]]:
    """Return the queue's view of a query string, and a note for each value left out as not valid.

    `programmes` and `regions` are the ones the reviewer may choose (a region outside their scope reads as
    unknown: nobody learns what exists elsewhere). Nothing here is an error: a bad value is ignored, and said so.
    """
    notes: list[str] = []

    def pick(name: str, allowed: Collection[str], note: str) -> str | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if raw in allowed:
            return raw
        notes.append(note)
        return None

    sort = pick("sort", SORTS, _l("Unknown order ignored: the oldest visits come first.")) or "oldest"
    programme = pick("programme", programmes, _l("Unknown programme ignored."))
    region = pick("region", {str(r) for r in regions}, _l("Unknown region, or not one of yours: ignored."))
    risk = pick("risk", FILTER_LEVELS, _l("Unknown risk level ignored: choose high, medium or low."))
    reviewer = pick("reviewer", REVIEWER_FILTERS, _l("Unknown reviewer filter ignored."))
    age = pick("age", {str(n) for n in range(1, MAX_AGE_DAYS + 1)},
               _l("The waiting time must be a number of days from 1 to %(max)s: ignored.", max=MAX_AGE_DAYS))
    view = QueueView(sort=sort, programme=programme, region_id=int(region) if region else None, risk=risk,
                     older_than_days=int(age) if age else None, reviewer=reviewer)
    return view, [str(note) for note in notes]


def _waiting(user: User) -> list[ColumnElement[bool]]:
    return [Visit.status == VisitStatus.submitted, visible_visits(user)]


def _filters(user: User, view: QueueView, now: datetime | None) -> list[ColumnElement[bool]]:
    """Return the conditions of the view's filters (none for the whole queue)."""
    conditions: list[ColumnElement[bool]] = []
    if view.programme is not None:
        conditions.append(Visit.checklist_version_id.in_(
            select(ChecklistVersion.id).where(ChecklistVersion.checklist_id == view.programme)))
    if view.region_id is not None:
        conditions.append(Visit.location_id.in_(select(Location.id).where(Location.region_id == view.region_id)))
    if view.risk is not None:
        conditions.append(level_condition(view.risk, RiskSettings.current()))
    if view.older_than_days is not None:
        cutoff = (now or utcnow()) - timedelta(days=view.older_than_days)
        conditions.append(Visit.submitted_at < cutoff)
    if view.reviewer == "me":
        conditions.append(Visit.reviewer_id == user.id)
    elif view.reviewer == "none":
        conditions.append(Visit.reviewer_id.is_(None))
    return conditions


def queue_query(user: User, view: QueueView = QueueView(), *, now: datetime | None = None) -> Select[Visit]:
    """Return a select of the submitted visits waiting for `user`'s review in the view, in its order."""
    stmt = select(Visit).where(*_waiting(user), *_filters(user, view, now))
    oldest = (Visit.submitted_at.asc().nulls_last(), Visit.id)
    if view.sort == "newest":
        return stmt.order_by(Visit.submitted_at.desc().nulls_last(), Visit.id.desc())
    if view.sort == "risk":
        return stmt.order_by(Visit.risk_score.desc().nulls_last(), *oldest)
    if view.sort == "score":
        return stmt.order_by(Visit.score.asc().nulls_last(), *oldest)
    return stmt.order_by(*oldest)


@dataclass(frozen=True)
class QueueCounts:
    """How many visits wait for the reviewer, and how many of them the view shows."""

    waiting: int
    shown: int


def queue_counts(user: User, view: QueueView = QueueView(), *, now: datetime | None = None) -> QueueCounts:
    """Return how many visits wait for `user`'s review, in all and in the view (one query)."""
    filters = _filters(user, view, now)
    shown = func.count(case((and_(*filters), 1))) if filters else func.count()
    waiting, matching = db.session.execute(select(func.count(), shown).where(*_waiting(user))).one()
    return QueueCounts(waiting or 0, matching or 0)


def queue_page(user: User, view: QueueView, limit: int, offset: int) -> list[Visit]:
    """Return one page of the queue with everything its rows show (location, checklist, shopper, reviewer)."""
    stmt = queue_query(user, view).options(joinedload(Visit.reviewer)).limit(limit).offset(offset)
    return list(db.session.scalars(stmt).unique())


def programme_choices() -> list[tuple[str, str]]:
    """Return (checklist id, title of its newest version) of every programme, by title."""
    titles: dict[str, str] = {}
    for checklist_id, title in db.session.execute(
            select(ChecklistVersion.checklist_id, ChecklistVersion.title).order_by(ChecklistVersion.version)):
        titles[checklist_id] = title
    return sorted(titles.items(), key=lambda item: (item[1].casefold(), item[0]))


def region_choices(user: User) -> list[Region]:
    """Return the regions the user may filter the queue by, by name."""
    return list(db.session.scalars(select(Region).where(visible_regions(user)).order_by(Region.name, Region.id)))


# -- reviewers --------------------------------------------------------------------------------


def reviewer_choices(visit: Visit) -> list[User]:
    """Return the active managers and admins who may review `visit` (its region in their scope), by name."""
    staff = db.session.scalars(select(User).where(User.active.is_(True), User.role.in_((Role.manager, Role.admin)))
                               .options(selectinload(User.regions)).order_by(User.name, User.id))
    return [user for user in staff if can_review(user, visit)]


def assign_reviewer(visit: Visit, manager: User, reviewer: User | None) -> bool:
    """Make `reviewer` (None: nobody) the one who reviews the waiting `visit`, audited (not committed).

    Return False when nothing changed. :raise ReviewError: when the visit no longer waits for review or the
    reviewer may not review it.
    """
    if not can_review(manager, visit):
        raise ReviewError(_l("This visit is outside your regions."))
    if visit.status != VisitStatus.submitted:
        raise ReviewError(_l("Only a visit waiting for review can be given a reviewer."))
    if reviewer is not None and not can_review(reviewer, visit):
        raise ReviewError(_l("%(name)s cannot review visits of this region.", name=reviewer.name))
    new = reviewer.id if reviewer is not None else None
    if visit.reviewer_id == new:
        return False
    previous, visit.reviewer_id = visit.reviewer_id, new
    record(manager, "visit.reviewer", visit, reviewer_id=new, previous_reviewer_id=previous)
    return True


# -- approving several visits at once ---------------------------------------------------------


@dataclass
class BulkApproval:
    """What "Approve selected" did: the visits approved and those left alone, by why."""

    approved: list[Visit] = field(default_factory=list)
    #: Decided, returned or voided since the queue was shown.
    changed: list[Visit] = field(default_factory=list)
    #: High risk, and the reviewer did not tick "include high-risk visits".
    high_risk: list[Visit] = field(default_factory=list)
    #: How many of the ids are no visit this reviewer may see (never named: they are someone else's).
    unavailable: int = 0


def visit_name(visit: Visit) -> str:
    """Return how a message names a visit: its location and number."""
    return f"{visit.location.name} #{visit.id}"


def approve_selected(user: User, visit_ids: Collection[int], *, include_high_risk: bool,
                     settings: RiskSettings) -> BulkApproval:
    """Approve each of the selected visits that still waits for `user`'s review, through lifecycle.approve (the
    same scoring, figures and audit as one approval); skip the others, and high-risk ones unless asked (no commit).

    The visits are locked first (PostgreSQL), so a decision taken meanwhile by someone else is seen, not undone.
    """
    wanted = sorted(set(visit_ids))
    visits = db.session.scalars(select(Visit).where(Visit.id.in_(wanted), visible_visits(user))
                                .order_by(Visit.id).with_for_update(of=Visit)).unique().all()
    result = BulkApproval(unavailable=len(wanted) - len(visits))
    for visit in visits:
        if not lifecycle.allows(visit, "approve"):
            result.changed.append(visit)
        elif level(visit.risk_score, settings) == "high" and not include_high_risk:
            result.high_risk.append(visit)
        else:
            lifecycle.approve(visit, user)
            result.approved.append(visit)
    return result


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
