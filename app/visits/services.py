"""Visit operations: assign, start, save drafts, submit (idempotently), store results, return for correction.

Plain functions: they change the session and log who did what, but never commit and know nothing
of requests. Callers (views, the demo data, the CLI) commit once.
"""
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, inspect, select, update

from app.checklists.schema import Checklist
from app.extensions import db
from app.models import Answer, ChecklistVersion, Location, Photo, Role, User, Visit, VisitEvent, VisitSectionScore
from app.models import VisitStatus as S
from app.models.audit import record
from app.models.types import utcnow
from app.scoring import AnswersInvalid, VisitResult, score_visit, validate_answers

EDITABLE = (S.planned, S.in_progress, S.returned)
GEOLOCATION_STATES = ("granted", "denied", "unavailable")
#: Phones' clocks drift; a time this far ahead of the server is not believed.
CLOCK_SKEW = timedelta(minutes=5)
SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: The submitted fields that make a payload "identical" (the id itself is the key, not content).
SUBMIT_FIELDS = ("answers", "answer_times", "started_at", "submitted_at", "geolocation", "position")


class VisitError(Exception):
    """A request the visit rules refuse: HTTP status, machine code, human message and extra fields."""

    status = 400
    code = "bad_request"

    def __init__(self, message, *, status: int | None = None, code: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.code = code or self.code
        self.extra = extra


class NotEditable(VisitError):
    status, code = 409, "not_editable"

    def __init__(self, visit: Visit):
        from app.main.routes import status_label

        super().__init__(_l("This visit can no longer be changed (status: %(status)s).",
                            status=status_label(visit.status)), visit_status=visit.status.value)


class InvalidAnswers(VisitError):
    code = "invalid_answers"

    def __init__(self, problems):
        from app.visits.answer_messages import answer_message

        super().__init__(_l("Some answers need attention."), problems=[
            {"question_id": p.question_id, "message": answer_message(p)} for p in problems
        ])


class SubmissionRace(Exception):
    """Another request changed the visit between our read and our write; reload and try again."""


# -- lookups ---------------------------------------------------------------------------------

_CHECKLISTS: dict[tuple[int, str], Checklist] = {}


def checklist_of(version: ChecklistVersion) -> Checklist:
    """Return the parsed checklist of a stored version, parsed once per process (versions are immutable)."""
    key = (version.id, version.source_hash)
    checklist = _CHECKLISTS.get(key)
    if checklist is None:
        if len(_CHECKLISTS) > 500:
            _CHECKLISTS.clear()
        checklist = _CHECKLISTS[key] = Checklist.model_validate(version.definition)
    return checklist


def latest_version(checklist_id: str) -> ChecklistVersion | None:
    """Return the newest stored version of a checklist, or None."""
    return db.session.scalar(
        select(ChecklistVersion).where(ChecklistVersion.checklist_id == checklist_id)
        .order_by(ChecklistVersion.version.desc()).limit(1)
    )


def can_see_visit(user: User, visit: Visit) -> bool:
    """Return True when `user` may see `visit`: its shopper, an admin, or a manager of its region."""
    if user.role == Role.shopper:
        return visit.shopper_id == user.id
    scope = user.region_ids
    return scope is None or visit.location.region_id in scope


def is_editable(visit: Visit) -> bool:
    """Return True while the shopper may still change the visit."""
    return visit.status in EDITABLE


# -- parsing of phone data ---------------------------------------------------------------------

def parse_time(value: Any, field: str) -> datetime | None:
    """Return an aware UTC datetime from ISO text (naive = UTC) or None; raise VisitError naming `field`."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise VisitError(_l("%(field)s is not a valid ISO 8601 time.", field=field), field=field) from None
    else:
        raise VisitError(_l("%(field)s must be an ISO 8601 time.", field=field), field=field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def believable(moment: datetime | None, now: datetime) -> datetime | None:
    """Return the phone's time unless it lies in the future beyond clock skew; then the server time."""
    if moment is not None and moment > now + CLOCK_SKEW:
        return now
    return moment


def parse_position(value: Any, field: str = "position") -> dict | None:
    """Return {"latitude", "longitude", "accuracy"} checked for range, or None; raise VisitError."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise VisitError(_l("%(field)s must be an object with latitude and longitude.", field=field), field=field)
    numbers = {}
    for key, low, high in (("latitude", -90, 90), ("longitude", -180, 180), ("accuracy", 0, 10_000_000)):
        number = value.get(key)
        if number is None and key == "accuracy":
            numbers[key] = None
            continue
        if isinstance(number, bool) or not isinstance(number, int | float) or not low <= number <= high:
            raise VisitError(_l("%(field)s.%(key)s must be a number from %(low)s to %(high)s.",
                                field=field, key=key, low=low, high=high), field=f"{field}.{key}")
        numbers[key] = float(number)
    return numbers


def parse_geolocation(value: Any) -> str | None:
    """Return the geolocation permission state or None; raise VisitError on anything else."""
    if value is None or value in GEOLOCATION_STATES:
        return value
    raise VisitError(_l("geolocation must be granted, denied or unavailable."), field="geolocation")


def parse_answer_times(checklist: Checklist, value: Any) -> dict[str, str]:
    """Return {question_id: ISO UTC time} for known questions; raise VisitError on bad values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VisitError(_l("answer_times must map question ids to times."), field="answer_times")
    known = {q.id for q in checklist.questions}
    times = {}
    for qid, raw in value.items():
        moment = parse_time(raw, f"answer_times.{qid}")
        if qid in known and moment is not None:
            times[qid] = moment.isoformat()
    return times


def _require_mapping(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise VisitError(_l("%(field)s must be an object.", field=field), field=field)
    return value


# -- planning ----------------------------------------------------------------------------------

def assign_visit(location: Location, checklist_version: ChecklistVersion, shopper: User, window_start: date,
                 window_end: date, instructions: str = "", *, manager: User | None = None) -> Visit:
    """Plan a visit (no commit); raise VisitError for an inactive shopper, a reversed window, a foreign region."""
    if shopper.role != Role.shopper or not shopper.active:
        raise VisitError(_l("%(email)s is not an active shopper.", email=shopper.email), field="shopper")
    if window_start > window_end:
        raise VisitError(_l("The window starts after it ends."), field="window_end")
    if manager is not None and manager.region_ids is not None and location.region_id not in manager.region_ids:
        raise VisitError(_l("Location %(code)s is outside your regions.", code=location.code),
                         status=403, code="forbidden", field="location")
    visit = Visit(location=location, checklist_version=checklist_version, shopper=shopper,
                  window_start=window_start, window_end=window_end, instructions=(instructions or "").strip(),
                  created_by_id=getattr(manager, "id", None), status=S.planned)
    db.session.add(visit)
    db.session.flush()
    db.session.add(VisitEvent(visit=visit, user_id=getattr(manager, "id", None), action="assigned"))
    record(manager, "visit.assign", visit, location=location.code, checklist=checklist_version.checklist_id,
           version=checklist_version.version, shopper=shopper.email,
           window=[window_start.isoformat(), window_end.isoformat()])
    return visit


# -- filling in ---------------------------------------------------------------------------------

def _ensure_editable(visit: Visit) -> None:
    if not is_editable(visit):
        raise NotEditable(visit)


def _mark_started(visit: Visit, started_at: datetime | None, now: datetime) -> None:
    if visit.started_at is None:
        visit.started_at = believable(started_at, now) or now
    if visit.status == S.planned:
        visit.status = S.in_progress


def start_visit(visit: Visit, *, started_at: Any = None, geolocation: Any = None, position: Any = None,
                now: datetime | None = None) -> Visit:
    """Mark the visit started, keeping the first start time and position (idempotent)."""
    now = now or utcnow()
    started_at = parse_time(started_at, "started_at")
    geolocation = parse_geolocation(geolocation)
    position = parse_position(position)
    _ensure_editable(visit)
    first_start = visit.started_at is None
    _mark_started(visit, started_at, now)
    if first_start or visit.geolocation is None:
        visit.geolocation = visit.geolocation or geolocation
    if position and visit.start_latitude is None:
        visit.start_latitude, visit.start_longitude = position["latitude"], position["longitude"]
        visit.start_accuracy = position["accuracy"]
    return visit


@dataclass(frozen=True)
class DraftSaved:
    saved_at: datetime
    stale: bool
    client_saved_at: str | None = None


def save_draft(visit: Visit, answers: Any, answer_times: Any = None, *, client_saved_at: Any = None,
               now: datetime | None = None) -> DraftSaved:
    """Store the work in progress after checking each value; raise InvalidAnswers or NotEditable."""
    now = now or utcnow()
    _ensure_editable(visit)
    checklist = checklist_of(visit.checklist_version)
    answers = _require_mapping(answers, "answers")
    times = parse_answer_times(checklist, answer_times)
    client_time = parse_time(client_saved_at, "client_saved_at")
    problems = validate_answers(checklist, answers, complete=False)
    if problems:
        raise InvalidAnswers(problems)
    stored = visit.draft or {}
    previous = parse_time(stored.get("client_saved_at"), "client_saved_at")
    if client_time and previous and client_time < previous:
        # A late retry from the offline queue must not overwrite newer work.
        return DraftSaved(visit.draft_saved_at or now, True, stored.get("client_saved_at"))
    # The first time an answer was given is evidence: later saves never move it.
    merged_times = {**times, **stored.get("answer_times", {})}
    visit.draft = {
        "answers": answers,
        "answer_times": merged_times,
        "client_saved_at": client_time.isoformat() if client_time else None,
    }
    visit.draft_saved_at = now
    _mark_started(visit, None, now)
    return DraftSaved(now, False, visit.draft["client_saved_at"])


def draft_of(visit: Visit) -> dict:
    """Return the draft as the API shows it."""
    draft = visit.draft or {}
    return {
        "answers": draft.get("answers", {}),
        "answer_times": draft.get("answer_times", {}),
        "saved_at": visit.draft_saved_at.isoformat() if visit.draft_saved_at else None,
        "client_saved_at": draft.get("client_saved_at"),
    }


# -- submission ---------------------------------------------------------------------------------

def payload_hash(payload: dict) -> str:
    """Return the sha256 of the canonical JSON of the submitted fields (key order and spacing ignored)."""
    content = {name: payload.get(name) for name in SUBMIT_FIELDS}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _resolve_photos(visit: Visit, checklist: Checklist, answers: dict) -> tuple[dict, list]:
    """Return answers with photo ids (or the phone's client_photo_ids) turned into photo ids, and problems."""
    from app.scoring import AnswerProblem

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
        tokens = []
        for ref in value:
            photo = by_token.get(str(ref)) or by_client.get(str(ref))
            if photo is None or photo.question_id != question.id:
                problems.append(AnswerProblem.of(question.id, "photo %(ref)s was not uploaded for this question",
                                                 ref=ref))
            elif photo.token not in tokens:
                tokens.append(photo.token)
        resolved[question.id] = {**item, "value": tokens} if isinstance(item, dict) else tokens
    return resolved, problems


def _replay(visit: Visit, client_submission_id: str, digest: str) -> dict | None:
    """Return the stored response of an earlier submission with this id, or raise a 409 when it differs."""
    for event in reversed(visit.events):
        snapshot = event.snapshot or {}
        if snapshot.get("client_submission_id") == client_submission_id:
            if snapshot.get("submission_hash") != digest:
                raise VisitError(_l("This submission id was already used for different answers."),
                                 status=409, code="conflict")
            return snapshot["response"]
    return None


@dataclass(frozen=True)
class Submitted:
    created: bool
    body: dict


def submit_visit(visit: Visit, payload: Any, *, user: User | None = None, now: datetime | None = None) -> Submitted:
    """Validate, score and store a submission once; a retry with the same id and payload replays the response.

    :raise VisitError: bad fields (400), invalid answers (400), conflict or already submitted (409).
    :raise SubmissionRace: another request submitted first; the caller rolls back and calls again.
    """
    now = now or utcnow()
    payload = _require_mapping(payload, "body")
    client_id = payload.get("client_submission_id")
    if not isinstance(client_id, str) or not SUBMISSION_ID.match(client_id):
        raise VisitError(_l("client_submission_id must be 8 to 64 letters, digits, - or _."),
                         field="client_submission_id")
    try:
        digest = payload_hash(payload)
    except (TypeError, ValueError):
        raise VisitError(_l("The submission is not valid JSON data."), field="answers") from None

    if visit.client_submission_id == client_id or not is_editable(visit):
        replayed = _replay(visit, client_id, digest)
        if replayed is not None:
            return Submitted(False, replayed)
    elif visit.events and any((e.snapshot or {}).get("client_submission_id") == client_id for e in visit.events):
        # A late copy of a submission made before the visit was returned: already stored once.
        return Submitted(False, _replay(visit, client_id, digest))
    if not is_editable(visit):
        raise VisitError(_l("This visit was already submitted."), status=409, code="already_submitted")
    other = db.session.scalar(select(Visit.id).where(Visit.client_submission_id == client_id, Visit.id != visit.id))
    if other is not None:
        raise VisitError(_l("This submission id was already used for another visit."), status=409, code="conflict")

    checklist = checklist_of(visit.checklist_version)
    answers = _require_mapping(payload.get("answers"), "answers")
    times = parse_answer_times(checklist, payload.get("answer_times"))
    started_at = believable(parse_time(payload.get("started_at"), "started_at"), now)
    submitted_at = believable(parse_time(payload.get("submitted_at"), "submitted_at"), now) or now
    geolocation = parse_geolocation(payload.get("geolocation"))
    position = parse_position(payload.get("position"))

    answers, photo_problems = _resolve_photos(visit, checklist, answers)
    try:
        result = score_visit(checklist, answers)
        problems = []
    except AnswersInvalid as exc:
        problems = exc.problems
    if problems or photo_problems:
        raise InvalidAnswers(list(problems) + photo_problems)

    # The claim: one conditional UPDATE. Of two racing requests only one sees an editable visit;
    # the UNIQUE constraint on client_submission_id refuses the same id on two visits.
    previous_status = visit.status
    claimed = db.session.execute(
        update(Visit).where(Visit.id == visit.id, Visit.status.in_(EDITABLE))
        .values(status=S.submitted, client_submission_id=client_id, submission_hash=digest)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise SubmissionRace()
    visit.status, visit.client_submission_id, visit.submission_hash = S.submitted, client_id, digest

    visit.started_at = visit.started_at or started_at or submitted_at
    visit.submitted_at = submitted_at
    visit.visited_at = visit.started_at
    visit.geolocation = geolocation or visit.geolocation
    if position:
        visit.submit_latitude, visit.submit_longitude = position["latitude"], position["longitude"]
        visit.submit_accuracy = position["accuracy"]
    visit.draft, visit.draft_saved_at = None, None
    resubmission = previous_status == S.returned
    if resubmission:
        visit.review_comment = None
    store_result(visit, result, answers, times)

    body = {"status": S.submitted.value, "visit_id": visit.id, "client_submission_id": client_id,
            "submitted_at": submitted_at.isoformat()}
    if checklist.shopper_sees_score:
        body.update(score=result.score, grade=result.grade)
    db.session.add(VisitEvent(
        visit=visit, user_id=getattr(user, "id", visit.shopper_id), at=now,
        action="resubmitted" if resubmission else "submitted",
        snapshot={"client_submission_id": client_id, "submission_hash": digest, "answers": answers,
                  "answer_times": times, "score": result.score, "grade": result.grade,
                  "critical_failures": list(result.critical_failures), "submitted_at": submitted_at.isoformat(),
                  "received_at": now.isoformat(), "response": body},
    ))
    return Submitted(True, body)


def store_result(visit: Visit, result: VisitResult, answers: dict, answer_times: dict | None = None) -> None:
    """Write Answer and VisitSectionScore rows and the visit's score, grade and result (no commit)."""
    checklist = checklist_of(visit.checklist_version)
    if visit.id is None:
        db.session.flush()  # the rows below need the visit's id
    elif visit.result is not None:
        # A resubmission replaces the rows; the history snapshot keeps the old ones.
        db.session.execute(delete(Answer).where(Answer.visit_id == visit.id))
        db.session.execute(delete(VisitSectionScore).where(VisitSectionScore.visit_id == visit.id))
    times = {qid: parse_time(value, f"answer_times.{qid}") for qid, value in (answer_times or {}).items()}
    # visited_at is copied onto the rows: the dashboards' period aggregates range-scan them by date.
    # Bulk INSERTs: a 60-question visit is two statements, not 66 ORM objects.
    db.session.execute(insert(Answer), [{
        "visit_id": visit.id, "question_id": qid, "section_id": checklist.section_of(qid).id, "value": q.value,
        "comment": q.comment, "status": q.status, "fraction": q.fraction, "points": q.points, "max_points": q.max,
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
    visit.result = result.to_json()


# -- review -------------------------------------------------------------------------------------

def last_submission(visit: Visit) -> dict | None:
    """Return the snapshot of the visit's latest submission, or None."""
    for event in reversed(visit.events):
        if event.snapshot and event.snapshot.get("client_submission_id"):
            return event.snapshot
    return None


def return_for_correction(visit: Visit, manager: User, comment: str, *, now: datetime | None = None) -> Visit:
    """Send a submitted visit back to its shopper with a comment; the submitted answers become the draft."""
    now = now or utcnow()
    comment = (comment or "").strip()
    if not comment:
        raise VisitError(_l("Say what the shopper should correct."), field="comment")
    if visit.status not in (S.submitted, S.approved):
        raise VisitError(_l("Only a submitted visit can be returned for correction."), status=409,
                         code="not_returnable")
    if not can_see_visit(manager, visit) or manager.role == Role.shopper:
        raise VisitError(_l("This visit is outside your regions."), status=403, code="forbidden")
    snapshot = last_submission(visit) or {}
    visit.status = S.returned
    visit.review_comment = comment
    visit.reviewed_by_id, visit.reviewed_at = manager.id, now
    visit.draft = {"answers": snapshot.get("answers", {}), "answer_times": snapshot.get("answer_times", {}),
                   "client_saved_at": None}
    visit.draft_saved_at = now
    db.session.add(VisitEvent(visit=visit, user_id=manager.id, at=now, action="returned", comment=comment))
    record(manager, "visit.return", visit, comment=comment)
    return visit


def photo_count(visit: Visit, question_id: str) -> int:
    """Return how many photos the visit has for a question."""
    return db.session.scalar(
        select(func.count(Photo.id)).where(Photo.visit_id == visit.id, Photo.question_id == question_id)
    )
