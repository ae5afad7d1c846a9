"""JSON API of the phone form (/api/v1): visit definition, start, draft, photos, submission. See docs/api.md."""
from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from app.access import get_visit_or_404, roles_required
from app.extensions import db, limiter
from app.field.pages import fill_url
from app.localtime import is_overdue
from app.models import OPEN_STATES, Photo, Role, Visit
from app.ops import metrics
from app.storage import storage
from app.visits import lifecycle, risk
from app.visits import photos as photo_service
from app.visits.errors import SubmissionRace, VisitError
from app.visits.payloads import DraftPayload, StartPayload, SubmitPayload, json_object, parse

#: HTTP status of each refusal code; every other code is 400 (see docs/api.md).
STATUS_OF = {"not_editable": 409, "conflict": 409, "already_submitted": 409, "forbidden": 403, "not_found": 404,
             "too_large": 413}


def visit_error(error: VisitError) -> tuple[Response, int]:
    """Answer a refused request with {"error", "message", ...}."""
    return jsonify(error=error.code, message=str(error.message), **error.extra), STATUS_OF.get(error.code, 400)


def too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
    """Answer an upload over the size limit with 413 too_large."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    return jsonify(error="too_large", message=str(_l("The photo is larger than %(mb)s MB.", mb=limit // 2**20)),
                   max_bytes=limit), 413


def _own_visit(visit_id: int) -> Visit:
    """Return the signed-in shopper's visit; 404 for any other (never reveal which exist)."""
    return get_visit_or_404(visit_id, current_user)


def _json_body() -> object:
    try:
        return request.get_json(silent=True)
    except RecursionError:  # JSON nested beyond the interpreter's limit: not a body any phone sends
        raise VisitError(_l("The request body is nested too deeply."), field="body") from None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _location(visit: Visit) -> dict[str, object]:
    loc = visit.location
    return {"code": loc.code, "name": loc.name, "address": loc.address,
            "latitude": loc.latitude, "longitude": loc.longitude, "timezone": loc.timezone_name}


def _photo(photo: Photo) -> dict[str, object]:
    ready = photo.ready
    return {"id": photo.token, "question_id": photo.question_id, "client_photo_id": photo.client_photo_id,
            "status": photo.status, "problem": photo_service.problem_message(photo),
            "url": url_for("field.photo", token=photo.token) if ready else None,
            "thumb_url": url_for("field.photo", token=photo.token, size="thumb") if ready else None,
            "width": photo.width, "height": photo.height, "taken_at": _iso(photo.taken_at),
            "time_source": photo.time_source, "taken_offset": photo.taken_offset, "source": photo.source,
            "latitude": photo.latitude, "longitude": photo.longitude, "geo_source": photo.geo_source}


def _submitted_body(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "detail_url": url_for("field.detail", visit_id=body["visit_id"])}


@roles_required(Role.shopper)
def csrf_token() -> ResponseReturnValue:
    """Return a CSRF token for the X-CSRFToken header (fetch one before flushing the offline queue)."""
    return jsonify(csrf_token=generate_csrf())


@roles_required(Role.shopper)
def visit_list() -> ResponseReturnValue:
    """Return the shopper's open visits so the phone can cache them for offline use."""
    visits = db.session.scalars(
        select(Visit).where(Visit.shopper_id == current_user.id, Visit.status.in_(OPEN_STATES))
        .order_by(Visit.window_end, Visit.id)
    ).unique().all()
    return jsonify(visits=[{
        "id": v.id, "status": v.status.value, "overdue": is_overdue(v), "location": _location(v),
        "checklist": {"id": v.checklist_version.checklist_id, "version": v.checklist_version.version,
                      "title": v.checklist_version.title},
        "window_start": v.window_start.isoformat(), "window_end": v.window_end.isoformat(),
        "url": url_for("api.visit_definition", visit_id=v.id), "fill_url": fill_url(v),
    } for v in visits])


@roles_required(Role.shopper)
def visit_definition(visit_id: int) -> ResponseReturnValue:
    """Return everything the form needs: the visit, its exact checklist version, draft, photos, submission."""
    visit = _own_visit(visit_id)
    submission = None
    if visit.client_submission_id and not visit.is_open:
        submission = {"client_submission_id": visit.client_submission_id, "submitted_at": _iso(visit.submitted_at)}
    return jsonify(
        visit={
            "id": visit.id, "status": visit.status.value, "location": _location(visit),
            "window_start": visit.window_start.isoformat(), "window_end": visit.window_end.isoformat(),
            "overdue": is_overdue(visit), "instructions": visit.instructions,
            "return_comment": visit.review_comment if visit.status.value == "returned" else None,
            "started_at": _iso(visit.started_at),
        },
        checklist=visit.checklist_version.definition,
        draft=lifecycle.draft_of(visit),
        photos=[_photo(p) for p in visit.photos],
        submission=submission,
        editable=visit.is_open,
    )


@roles_required(Role.shopper)
def start(visit_id: int) -> ResponseReturnValue:
    """Mark the visit started with the phone's time and position (idempotent)."""
    visit = _own_visit(visit_id)
    lifecycle.start_visit(visit, parse(StartPayload, _json_body()))
    db.session.commit()
    return jsonify(status=visit.status.value, started_at=_iso(visit.started_at))


@roles_required(Role.shopper)
def save_draft(visit_id: int) -> ResponseReturnValue:
    """Save the answers given so far (values checked, completeness not)."""
    visit = _own_visit(visit_id)
    saved = lifecycle.save_draft(visit, parse(DraftPayload, _json_body()))
    db.session.commit()
    return jsonify(saved_at=_iso(saved.saved_at), stale=saved.stale, client_saved_at=saved.client_saved_at)


def _upload_limit() -> str:
    return str(current_app.config["UPLOAD_RATE_LIMIT"])


def _uploader() -> str:
    return f"upload:{current_user.id}"


@roles_required(Role.shopper)
@limiter.limit(_upload_limit, key_func=_uploader)
def upload_photo(visit_id: int) -> ResponseReturnValue:
    """Store one photo for a photo question: 201 new, 200 when this client_photo_id was stored before."""
    visit = _own_visit(visit_id)
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if request.content_length and request.content_length > limit + 64 * 1024:
        raise RequestEntityTooLarge()
    upload = request.files.get("file")
    if upload is None:
        raise VisitError(_l("Attach the photo as the multipart field \"file\"."), code="invalid_photo", field="file")
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    exif_upload = request.files.get("exif")
    exif = exif_upload.stream.read(photo_service.MAX_EXIF_BYTES + 1) if exif_upload is not None else None
    if exif is not None and len(exif) > photo_service.MAX_EXIF_BYTES:
        raise VisitError(_l("The EXIF segment is larger than 64 KB."), code="invalid_photo", field="exif")
    form = request.form
    settings = photo_service.PhotoSettings.of(current_app.config)
    photo, created = photo_service.add_photo(
        visit, data, question_id=form.get("question_id", ""), client_photo_id=form.get("client_photo_id", ""),
        settings=settings, latitude=form.get("latitude"), longitude=form.get("longitude"),
        taken_at=form.get("taken_at"), source=form.get("source"), exif=exif,
    )
    db.session.commit()
    if created:
        photo_service.enqueue(photo, settings)
    if photo.status == "pending":
        return jsonify(_photo(photo)), 202
    return jsonify(_photo(photo)), 201 if created else 200


@roles_required(Role.shopper)
def delete_photo(visit_id: int, token: str) -> ResponseReturnValue:
    """Delete a photo of an editable visit."""
    visit = _own_visit(visit_id)
    photo = db.session.scalar(select(Photo).where(Photo.visit_id == visit.id, Photo.token == token))
    if photo is None:
        raise VisitError(_l("No such photo."), code="not_found")
    photo_service.delete_photo(visit, photo, storage())
    db.session.commit()
    return "", 204


#: Deadlock detected, serialization failure: the database undid the transaction, and it may simply be run again.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


@roles_required(Role.shopper)
def submit(visit_id: int) -> ResponseReturnValue:
    """Validate, score and store the visit once: 201 first time, 200 for an identical retry, 409 otherwise."""
    _own_visit(visit_id)  # someone else's visit is "not found", whatever the body says
    body = json_object(_json_body())
    payload = parse(SubmitPayload, body)
    try:
        digest = lifecycle.payload_hash(body)
    except ValueError:  # NaN or infinity somewhere in the answers
        raise VisitError(_l("The submission is not valid JSON data."), field="answers") from None
    for attempt in (1, 2, 3):
        visit = _own_visit(visit_id)
        try:
            outcome = lifecycle.submit_visit(visit, payload, digest, user=current_user)
            db.session.commit()
            metrics.count_submission(outcome.created)
            break
        except (SubmissionRace, IntegrityError):
            # Another request won the race; after a rollback the replay/409 checks see its result.
            db.session.rollback()
            if attempt > 1:
                raise VisitError(_l("This visit was already submitted."), code="already_submitted") from None
        except OperationalError as error:
            # PostgreSQL broke a deadlock with another submission's figures by aborting this one: the
            # submission is idempotent, so do it again rather than make the phone wait and retry.
            db.session.rollback()
            if getattr(error.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES or attempt == 3:
                raise
    try:
        risk.refresh_related()  # the visits sharing its photos or comments: after the commit, on their own
    except OperationalError:  # the submission is stored: a related visit's badge waits for its next refresh
        current_app.logger.warning("Risk of related visits not refreshed", exc_info=True)
    return jsonify(_submitted_body(outcome.body)), 201 if outcome.created else 200
