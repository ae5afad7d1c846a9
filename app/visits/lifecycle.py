"""The life of a visit: its states, the one table of what may move it where, and the operations that do.

    planned --start/save--> in_progress --submit--> submitted --approve--> approved
       |                        |                     |   ^                  |
       +------ cancel ----------+                     |   +--- submit ---+   |
                                                      +--return--> returned <+ (return)
    submitted / approved / returned --void--> voided

Operations take typed values (app/visits/payloads.py), change the session, log who did what and
never commit: callers (views, the demo, the CLI) commit once. Refusals are VisitError with a code.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, inspect, select, update

from app.access import scope_of
from app.analytics import rollups
from app.checklists.schema import Checklist
from app.extensions import db
from app.labels import status_label
from app.mail import notifications
from app.models import (
    HANDED_IN_STATES,
    OPEN_STATES,
    Answer,
    ChecklistVersion,
    Location,
    Role,
    User,
    Visit,
    VisitEvent,
    VisitSectionScore,
)
from app.models import VisitStatus as S
from app.models.audit import record
from app.models.types import utcnow
from app.scoring import AnswerProblem, AnswersInvalid, VisitResult, score_visit, validate_answers
from app.visits import risk
from app.visits.answer_messages import answer_message
from app.visits.errors import SubmissionRace, VisitError
from app.visits.payloads import DraftPayload, Position, StartPayload, SubmitPayload
from app.webhooks import events as webhooks

OPEN, HANDED_IN = OPEN_STATES, HANDED_IN_STATES

#: operation -> (states it may start from, state it leaves the visit in; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[S], S | None]] = {
    "start": (OPEN, None),
    "save": (OPEN, None),
    "edit": (OPEN, None),
    "upload": (OPEN, None),
    "submit": (OPEN, S.submitted),
    "cancel": (OPEN, S.voided),
    "approve": (frozenset({S.submitted}), S.approved),
    "return": (HANDED_IN, S.returned),
    "void": (HANDED_IN | {S.returned}, S.voided),
}
#: Phones' clocks drift; a time this far ahead of the server is not believed.
CLOCK_SKEW = timedelta(minutes=5)
#: The submitted fields that make a payload "identical" (the id itself is the key, not content).
SUBMIT_FIELDS = ("answers", "answer_times", "started_at", "submitted_at", "geolocation", "position")


class NotAllowed(VisitError):
    """An operation the visit's state does not allow (the codes are the API's, see docs/api.md)."""

    def __init__(self, visit: Visit, operation: str):
        status = status_label(visit.status)
        if operation in ("start", "save", "upload", "submit"):
            code, message = "not_editable", _l("This visit can no longer be changed (status: %(status)s).",
                                               status=status)
        elif operation in ("edit", "cancel") and visit.status == S.voided:
            code, message = "not_open", _l("This visit was cancelled or voided: it can no longer be changed.")
        elif operation in ("edit", "cancel"):
            code, message = "not_open", _l(
                "This visit was already handed in (status: %(status)s), so it can no longer be changed "
                "from planning. Return it for correction or void it from its review page.", status=status)
        elif operation == "approve":
            code, message = "not_approvable", _l("Only a submitted visit can be approved.")
        elif operation == "return":
            code, message = "not_returnable", _l("Only a submitted visit can be returned for correction.")
        else:
            code, message = "not_voidable", _l("This visit cannot be voided in its current state.")
        super().__init__(message, code=code, visit_status=visit.status.value)


class InvalidAnswers(VisitError):
    code = "invalid_answers"

    def __init__(self, problems: list[AnswerProblem]):
        super().__init__(_l("Some answers need attention."), problems=[
            {"question_id": p.question_id, "message": answer_message(p)} for p in problems
        ])


def allows(visit: Visit, operation: str) -> bool:
    """Return True when the visit's state allows the operation."""
    return visit.status in TRANSITIONS[operation][0]


def require(visit: Visit, operation: str) -> None:
    """Raise NotAllowed unless the visit's state allows the operation."""
    if not allows(visit, operation):
        raise NotAllowed(visit, operation)


def _move(visit: Visit, operation: str) -> S:
    """Check and apply the operation's state change; return the state it came from."""
    require(visit, operation)
    previous, target = visit.status, TRANSITIONS[operation][1]
    if target is not None:
        visit.status = target
    return previous


# -- what is stored: drafts, submission snapshots and the answer rows ----------------------------


class AnswerSet(TypedDict):
    """Answers as the phone sends them, and when each was first given (ISO UTC)."""

    answers: dict[str, Any]
    answer_times: dict[str, str]


class Draft(AnswerSet):
    """Visit.draft: work in progress, or a returned visit's last submission to correct."""

    client_saved_at: str | None


class SubmissionSnapshot(AnswerSet):
    """VisitEvent.snapshot of a submission: what was handed in, its score and the response it got."""

    client_submission_id: str
    submission_hash: str
    score: float | None
    grade: str | None
    critical_failures: list[str]
    submitted_at: str
    received_at: str
    response: dict[str, Any]


def write_draft(visit: Visit, answers: Mapping[str, Any], answer_times: Mapping[str, str], *,
                client_saved_at: str | None, saved_at: datetime) -> Draft:
    """Store the draft of a visit and return it."""
    draft: Draft = {"answers": dict(answers), "answer_times": dict(answer_times), "client_saved_at": client_saved_at}
    visit.draft, visit.draft_saved_at = dict(draft), saved_at
    return draft


def store_result(visit: Visit, result: VisitResult, answer_times: Mapping[str, str] | None = None) -> None:
    """Write the Answer and VisitSectionScore rows and the visit's score and grade (no commit)."""
    checklist = visit.checklist
    if visit.id is None:
        db.session.flush()  # the rows below need the visit's id
    else:
        # A resubmission replaces the rows; the history snapshot keeps the old ones.
        db.session.execute(delete(Answer).where(Answer.visit_id == visit.id))
        db.session.execute(delete(VisitSectionScore).where(VisitSectionScore.visit_id == visit.id))
    times = {qid: datetime.fromisoformat(value) for qid, value in (answer_times or {}).items()}
    # visited_at is copied onto the rows: the dashboards' period aggregates range-scan them by date.
    # Bulk INSERTs: a 60-question visit is two statements, not 66 ORM objects.
    db.session.execute(insert(Answer), [{
        "visit_id": visit.id, "question_id": qid, "section_id": checklist.section_of(qid).id, "value": q.value,
        "comment": q.comment, "comment_hash": risk.comment_hash(q.comment), "status": q.status,
        "fraction": q.fraction, "points": q.points, "max_points": q.max,
        "critical_failed": q.critical_failed, "first_answered_at": times.get(qid), "visited_at": visit.visited_at,
    } for qid, q in result.questions.items()])
    db.session.execute(insert(VisitSectionScore), [{
        "visit_id": visit.id, "section_id": sid, "score": section.score, "points": section.points,
        "max_points": section.max, "weight": section.weight, "visited_at": visit.visited_at,
    } for sid, section in result.sections.items()])
    if inspect(visit).persistent:
        db.session.expire(visit, ["answers", "section_scores"])
    visit.score = result.score
    visit.grade = result.grade
    visit.critical_failed = bool(result.critical_failures)
    rollups.touch(visit)  # the facts changed even when the score did not


def record_submission(visit: Visit, result: VisitResult, answers: Mapping[str, Any], answer_times: Mapping[str, str],
                      *, client_submission_id: str, digest: str, submitted_at: datetime, received_at: datetime,
                      user_id: int | None, action: str = "submitted") -> SubmissionSnapshot:
    """Store a scored submission, its risk, and the history event with its snapshot; return the snapshot.

    The one writer of submissions: the phone's API and the demo data both come through here.
    """
    visit.client_submission_id, visit.submission_hash = client_submission_id, digest
    visit.submitted_at = submitted_at
    store_result(visit, result, answer_times)
    risk.refresh(visit, now=received_at)
    response: dict[str, Any] = {"status": S.submitted.value, "visit_id": visit.id,
                                "client_submission_id": client_submission_id, "submitted_at": submitted_at.isoformat()}
    if visit.checklist.shopper_sees_score:
        response.update(score=result.score, grade=result.grade)
    snapshot: SubmissionSnapshot = {
        "client_submission_id": client_submission_id, "submission_hash": digest, "answers": dict(answers),
        "answer_times": dict(answer_times), "score": result.score, "grade": result.grade,
        "critical_failures": list(result.critical_failures), "submitted_at": submitted_at.isoformat(),
        "received_at": received_at.isoformat(), "response": response,
    }
    db.session.add(VisitEvent(visit=visit, user_id=user_id, at=received_at, action=action, snapshot=dict(snapshot)))
    return snapshot


def submissions(visit: Visit) -> list[SubmissionSnapshot]:
    """Return the snapshots of every submission of the visit, oldest first."""
    # record_submission is the one writer of the snapshots that carry a client_submission_id.
    return [cast(SubmissionSnapshot, event.snapshot) for event in visit.events
            if event.snapshot and event.snapshot.get("client_submission_id")]


def last_submission(visit: Visit) -> SubmissionSnapshot | None:
    """Return the snapshot of the visit's latest submission, or None."""
    handed_in = submissions(visit)
    return handed_in[-1] if handed_in else None


def draft_of(visit: Visit) -> dict[str, Any]:
    """Return the draft as the API shows it."""
    draft = visit.draft or {}
    return {
        "answers": draft.get("answers", {}),
        "answer_times": draft.get("answer_times", {}),
        "saved_at": visit.draft_saved_at.isoformat() if visit.draft_saved_at else None,
        "client_saved_at": draft.get("client_saved_at"),
    }


def failed_questions(visit: Visit) -> set[str]:
    """Return the ids of the questions that lost points in the visit (from the stored answers)."""
    return {a.question_id for a in visit.answers if a.fraction is not None and a.fraction < 1}


def critical_failures(visit: Visit) -> list[str]:
    """Return the ids of the critical questions the visit failed, in checklist order."""
    return [a.question_id for a in visit.answers if a.critical_failed]


# -- planning ----------------------------------------------------------------------------------


def assign_visit(location: Location, checklist_version: ChecklistVersion, shopper: User, window_start: date,
                 window_end: date, instructions: str = "", *, manager: User | None = None) -> Visit:
    """Plan a visit (no commit); raise VisitError for an inactive shopper, a reversed window, a foreign region."""
    if shopper.role != Role.shopper or not shopper.active:
        raise VisitError(_l("%(email)s is not an active shopper.", email=shopper.email), field="shopper")
    if window_start > window_end:
        raise VisitError(_l("The window starts after it ends."), field="window_end")
    if manager is not None and not scope_of(manager).sees_region(location.region_id):
        raise VisitError(_l("Location %(code)s is outside your regions.", code=location.code), code="forbidden",
                         field="location")
    visit = Visit(location=location, checklist_version=checklist_version, shopper=shopper,
                  window_start=window_start, window_end=window_end, instructions=(instructions or "").strip(),
                  created_by_id=getattr(manager, "id", None), status=S.planned)
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitEvent(visit=visit, user_id=getattr(manager, "id", None), action="assigned"))
    record(manager, "visit.assign", visit, location=location.code, checklist=checklist_version.checklist_id,
           version=checklist_version.version, shopper=shopper.email,
           window=[window_start.isoformat(), window_end.isoformat()])
    notifications.visit_assigned(visit)  # sent once this commits
    return visit


def cancel_visit(visit: Visit, manager: User, reason: str) -> Visit:
    """Void an open visit with a reason (no commit): it leaves the shopper's list and never counts."""
    reason = (reason or "").strip()
    if not reason:
        raise VisitError(_l("Say why the visit is cancelled."), field="reason")
    previous = _move(visit, "cancel")
    visit.void_reason = reason
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=utcnow(), action="voided", comment=reason))
    record(manager, "visit.void", visit, reason=reason, previous=previous.value, source="planning")
    return visit


# -- filling in ---------------------------------------------------------------------------------


def believable(moment: datetime | None, now: datetime) -> datetime | None:
    """Return the phone's time unless it lies in the future beyond clock skew; then the server time."""
    if moment is not None and moment > now + CLOCK_SKEW:
        return now
    return moment


def _mark_started(visit: Visit, started_at: datetime | None, now: datetime) -> None:
    if visit.started_at is None:
        visit.started_at = believable(started_at, now) or now
    if visit.status == S.planned:
        visit.status = S.in_progress


def _known_times(checklist: Checklist, times: Mapping[str, datetime | None] | None) -> dict[str, str]:
    """Return {question id: ISO UTC time} for the checklist's questions (others are ignored)."""
    return {qid: moment.isoformat() for qid, moment in (times or {}).items()
            if moment is not None and checklist.has_question(qid)}


def start_visit(visit: Visit, payload: StartPayload, *, now: datetime | None = None) -> Visit:
    """Mark the visit started, keeping the first start time and position (idempotent)."""
    now = now or utcnow()
    require(visit, "start")
    _mark_started(visit, payload.started_at, now)
    visit.geolocation = visit.geolocation or payload.geolocation
    if payload.position and visit.start_latitude is None:
        visit.start_latitude, visit.start_longitude = payload.position.latitude, payload.position.longitude
        visit.start_accuracy = payload.position.accuracy
    return visit


@dataclass(frozen=True)
class DraftSaved:
    saved_at: datetime
    stale: bool
    client_saved_at: str | None = None


def save_draft(visit: Visit, payload: DraftPayload, *, now: datetime | None = None) -> DraftSaved:
    """Store the work in progress after checking each value; raise InvalidAnswers or NotAllowed."""
    now = now or utcnow()
    require(visit, "save")
    checklist = visit.checklist
    problems = validate_answers(checklist, payload.answers, complete=False)
    if problems:
        raise InvalidAnswers(problems)
    stored = visit.draft or {}
    client_time = payload.client_saved_at
    previous = stored.get("client_saved_at")
    if client_time and previous and client_time < datetime.fromisoformat(previous):
        # A late retry from the offline queue must not overwrite newer work.
        return DraftSaved(visit.draft_saved_at or now, True, previous)
    # The first time an answer was given is evidence: later saves never move it.
    times = {**_known_times(checklist, payload.answer_times), **stored.get("answer_times", {})}
    draft = write_draft(visit, payload.answers, times, client_saved_at=client_time.isoformat() if client_time else None,
                        saved_at=now)
    _mark_started(visit, None, now)
    return DraftSaved(now, False, draft["client_saved_at"])


# -- submission ---------------------------------------------------------------------------------


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Return the sha256 of the canonical JSON of the submitted fields (key order and spacing ignored).

    Computed on the body as the phone sent it, so a retry queued before an upgrade still matches.
    """
    content = {name: payload.get(name) for name in SUBMIT_FIELDS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _resolve_photos(visit: Visit, checklist: Checklist, answers: dict[str, Any]
                    ) -> tuple[dict[str, Any], list[AnswerProblem]]:
    """Return answers with photo ids (or the phone's client_photo_ids) turned into photo ids, and problems."""
    photo_questions = [q for q in checklist.questions if q.type == "photo" and q.id in answers]
    if not photo_questions:
        return answers, []
    by_token = {p.token: p for p in visit.photos}
    by_client = {p.client_photo_id: p for p in visit.photos}
    resolved, problems = dict(answers), []
    for question in photo_questions:
        item = answers[question.id]
        value = item.get("value") if isinstance(item, dict) else item
        if not isinstance(value, list):
            continue  # scoring reports the wrong type
        tokens: list[str] = []
        for ref in value:
            photo = by_token.get(str(ref)) or by_client.get(str(ref))
            if photo is None or photo.question_id != question.id:
                problems.append(AnswerProblem.of(question.id, "photo %(ref)s was not uploaded for this question",
                                                 ref=ref))
            elif photo.status == "rejected":
                problems.append(AnswerProblem.of(question.id, "photo %(ref)s could not be read; take it again",
                                                 ref=ref))
            elif photo.token not in tokens:
                tokens.append(photo.token)
        resolved[question.id] = {**item, "value": tokens} if isinstance(item, dict) else tokens
    return resolved, problems


def _replay(visit: Visit, client_submission_id: str, digest: str) -> dict[str, Any] | None:
    """Return the stored response of an earlier submission with this id, or raise a conflict when it differs."""
    for snapshot in reversed(submissions(visit)):
        if snapshot["client_submission_id"] == client_submission_id:
            if snapshot["submission_hash"] != digest:
                raise VisitError(_l("This submission id was already used for different answers."), code="conflict")
            return snapshot["response"]
    return None


@dataclass(frozen=True)
class Submitted:
    created: bool
    body: dict[str, Any]


def submit_visit(visit: Visit, payload: SubmitPayload, digest: str, *, user: User | None = None,
                 now: datetime | None = None) -> Submitted:
    """Validate, score and store a submission once; a retry with the same id and digest replays the response.

    `digest` is payload_hash() of the body as sent.
    :raise VisitError: invalid answers, conflict or already submitted.
    :raise SubmissionRace: another request submitted first; the caller rolls back and calls again.
    """
    now = now or utcnow()
    client_id = payload.client_submission_id
    replayed = _replay(visit, client_id, digest)
    if replayed is not None:
        # The same submission again, or a late copy of one made before the visit was returned.
        return Submitted(False, replayed)
    if not allows(visit, "submit"):
        raise VisitError(_l("This visit was already submitted."), code="already_submitted")
    other = db.session.scalar(select(Visit.id).where(Visit.client_submission_id == client_id, Visit.id != visit.id))
    if other is not None:
        raise VisitError(_l("This submission id was already used for another visit."), code="conflict")

    checklist = visit.checklist
    answers, photo_problems = _resolve_photos(visit, checklist, payload.answers)
    try:
        result = score_visit(checklist, answers)
    except AnswersInvalid as exc:
        raise InvalidAnswers(exc.problems + photo_problems) from None
    if photo_problems:
        raise InvalidAnswers(photo_problems)

    # The claim: one conditional UPDATE. Of two racing requests only one sees an open visit;
    # the UNIQUE constraint on client_submission_id refuses the same id on two visits.
    previous_status = visit.status
    claimed = db.session.execute(
        update(Visit).where(Visit.id == visit.id, Visit.status.in_(TRANSITIONS["submit"][0]))
        .values(status=S.submitted, client_submission_id=client_id, submission_hash=digest)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's Result is a CursorResult
        raise SubmissionRace()
    visit.status = S.submitted

    submitted_at = believable(payload.submitted_at, now) or now
    visit.started_at = visit.started_at or believable(payload.started_at, now) or submitted_at
    visit.visited_at = visit.started_at
    visit.geolocation = payload.geolocation or visit.geolocation
    _set_submit_position(visit, payload.position)
    visit.draft, visit.draft_saved_at = None, None
    resubmission = previous_status == S.returned
    if resubmission:
        visit.review_comment, visit.review_marks = None, None
    snapshot = record_submission(
        visit, result, answers, _known_times(checklist, payload.answer_times), client_submission_id=client_id,
        digest=digest, submitted_at=submitted_at, received_at=now, user_id=getattr(user, "id", visit.shopper_id),
        action="resubmitted" if resubmission else "submitted",
    )
    webhooks.visit_event(webhooks.VISIT_SUBMITTED, visit)  # delivered once this commits
    return Submitted(True, snapshot["response"])


def _set_submit_position(visit: Visit, position: Position | None) -> None:
    if position:
        visit.submit_latitude, visit.submit_longitude = position.latitude, position.longitude
        visit.submit_accuracy = position.accuracy


# -- review -------------------------------------------------------------------------------------


def _require_staff_in_scope(visit: Visit, manager: User) -> None:
    if not scope_of(manager).sees_region(visit.location.region_id):  # never true for shoppers
        raise VisitError(_l("This visit is outside your regions."), code="forbidden")


def approve(visit: Visit, manager: User, comment: str = "", *, now: datetime | None = None) -> None:
    """Approve a submitted visit so that it counts in comparisons (not committed)."""
    _require_staff_in_scope(visit, manager)
    _move(visit, "approve")
    now = now or utcnow()
    text = (comment or "").strip() or None
    visit.reviewed_by_id, visit.reviewed_at, visit.review_comment = manager.id, now, text
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=now, action="approved", comment=text))
    record(manager, "visit.approve", visit, comment=text, score=visit.score)
    webhooks.visit_event(webhooks.VISIT_APPROVED, visit)  # delivered once this commits


#: The longest note a reviewer may leave beside one question.
MARK_LENGTH = 1000


def clean_marks(checklist: Checklist, marks: Mapping[str, str] | None) -> dict[str, str]:
    """Return the reviewer's notes per question, trimmed, empty ones dropped, in the checklist's order.

    Raise VisitError (field "marks") for a question the checklist does not ask or a note too long to read.
    """
    notes = {qid: (text or "").strip() for qid, text in (marks or {}).items()}
    notes = {qid: text for qid, text in notes.items() if text}
    unknown = sorted(qid for qid in notes if not checklist.has_question(qid))
    if unknown:
        raise VisitError(_l("The checklist has no question %(id)s.", id=unknown[0]), field="marks")
    if any(len(text) > MARK_LENGTH for text in notes.values()):
        raise VisitError(_l("A note on a question can be at most %(n)s characters.", n=MARK_LENGTH), field="marks")
    return {q.id: notes[q.id] for q in checklist.questions if q.id in notes}


def return_for_correction(visit: Visit, manager: User, comment: str, *, marks: Mapping[str, str] | None = None,
                          now: datetime | None = None) -> Visit:
    """Send a handed-in visit back to its shopper with a comment and/or notes on the questions to correct
    (`marks`: {question id: note}); the submitted answers become the draft (no commit)."""
    text = (comment or "").strip()
    notes = clean_marks(visit.checklist, marks)
    if not text and not notes:
        raise VisitError(_l("Say what the shopper should correct."), field="comment")
    _require_staff_in_scope(visit, manager)
    _move(visit, "return")
    now = now or utcnow()
    snapshot = last_submission(visit)
    visit.review_comment = text or None
    visit.review_marks = notes or None
    visit.reviewed_by_id, visit.reviewed_at = manager.id, now
    write_draft(visit, snapshot["answers"] if snapshot else {}, snapshot["answer_times"] if snapshot else {},
                client_saved_at=None, saved_at=now)
    # The event keeps this return's notes: the visit's own are cleared when it is handed in again.
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=now, action="returned", comment=text or None,
                              snapshot={"marks": notes} if notes else None))
    record(manager, "visit.return", visit, comment=text, **({"marks": notes} if notes else {}))
    notifications.visit_returned(visit)  # sent once this commits
    webhooks.visit_event(webhooks.VISIT_RETURNED, visit)
    return visit


def void(visit: Visit, manager: User, reason: str, *, now: datetime | None = None) -> None:
    """Void a handed-in or returned visit with a reason: it stops counting anywhere (not committed)."""
    text = (reason or "").strip()
    if not text:
        raise VisitError(_l("Say why the visit is voided."), field="comment")
    _require_staff_in_scope(visit, manager)
    previous = _move(visit, "void")
    now = now or utcnow()
    visit.void_reason = text
    visit.reviewed_by_id, visit.reviewed_at = manager.id, now
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=now, action="voided", comment=text))
    record(manager, "visit.void", visit, reason=text, previous=previous.value)


__all__ = [
    "HANDED_IN", "OPEN", "TRANSITIONS", "AnswerSet", "Draft", "DraftSaved", "InvalidAnswers", "NotAllowed",
    "SubmissionRace", "SubmissionSnapshot", "Submitted", "VisitError", "allows", "approve", "assign_visit",
    "cancel_visit", "critical_failures", "draft_of", "failed_questions", "last_submission",
    "payload_hash", "record_submission", "require", "return_for_correction", "save_draft", "start_visit",
    "store_result", "submissions", "submit_visit", "void", "write_draft",
]
