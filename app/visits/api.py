"""JSON API of the phone form (/api/v1): visit definition, start, draft, photos, submission. See docs/api.md."""
from datetime import date

from flask import current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import db
from app.models import Photo, Role, Visit
from app.security import roles_required
from app.visits import photos as photo_service
from app.visits import services
from app.visits.blueprint import api
from app.visits.routes import fill_url, get_visit_or_404
from app.visits.services import EDITABLE, SubmissionRace, VisitError


@api.errorhandler(VisitError)
def visit_error(error: VisitError):
    """Answer a refused request with {"error", "message", ...}."""
    return jsonify(error=error.code, message=str(error.message), **error.extra), error.status


@api.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """Answer an upload over the size limit with 413 too_large."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    return jsonify(error="too_large", message=str(_l("The photo is larger than %(mb)s MB.", mb=limit // 2**20)),
                   max_bytes=limit), 413


def _own_visit(visit_id: int) -> Visit:
    """Return the signed-in shopper's visit; 404 for any other (never reveal which exist)."""
    return get_visit_or_404(visit_id, current_user)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise VisitError(_l("The request body must be a JSON object."), field="body")
    return body


def _iso(moment):
    return moment.isoformat() if moment else None


def _location(visit: Visit) -> dict:
    loc = visit.location
    return {"code": loc.code, "name": loc.name, "address": loc.address,
            "latitude": loc.latitude, "longitude": loc.longitude}


def _photo(photo: Photo) -> dict:
    url = url_for("visits.photo", token=photo.token)
    return {"id": photo.token, "question_id": photo.question_id, "client_photo_id": photo.client_photo_id,
            "url": url, "thumb_url": url_for("visits.photo", token=photo.token, size="thumb"),
            "width": photo.width, "height": photo.height, "taken_at": _iso(photo.taken_at),
            "latitude": photo.latitude, "longitude": photo.longitude}


def _submitted_body(body: dict) -> dict:
    return {**body, "detail_url": url_for("visits.detail", visit_id=body["visit_id"])}


@api.route("/csrf")
@roles_required(Role.shopper)
def csrf_token():
    """Return a CSRF token for the X-CSRFToken header (fetch one before flushing the offline queue)."""
    return jsonify(csrf_token=generate_csrf())


@api.route("/visits")
@roles_required(Role.shopper)
def visit_list():
    """Return the shopper's open visits so the phone can cache them for offline use."""
    today = date.today()
    visits = db.session.scalars(
        select(Visit).where(Visit.shopper_id == current_user.id, Visit.status.in_(EDITABLE))
        .order_by(Visit.window_end, Visit.id)
    ).unique().all()
    return jsonify(visits=[{
        "id": v.id, "status": v.status.value, "overdue": v.is_overdue(today), "location": _location(v),
        "checklist": {"id": v.checklist_version.checklist_id, "version": v.checklist_version.version,
                      "title": v.checklist_version.title},
        "window_start": v.window_start.isoformat(), "window_end": v.window_end.isoformat(),
        "url": url_for("api.visit_definition", visit_id=v.id), "fill_url": fill_url(v),
    } for v in visits])


@api.route("/visits/<int:visit_id>")
@roles_required(Role.shopper)
def visit_definition(visit_id: int):
    """Return everything the form needs: the visit, its exact checklist version, draft, photos, submission."""
    visit = _own_visit(visit_id)
    submission = None
    if visit.client_submission_id and visit.status not in EDITABLE:
        submission = {"client_submission_id": visit.client_submission_id, "submitted_at": _iso(visit.submitted_at)}
    return jsonify(
        visit={
            "id": visit.id, "status": visit.status.value, "location": _location(visit),
            "window_start": visit.window_start.isoformat(), "window_end": visit.window_end.isoformat(),
            "overdue": visit.is_overdue(date.today()), "instructions": visit.instructions,
            "return_comment": visit.review_comment if visit.status.value == "returned" else None,
            "started_at": _iso(visit.started_at),
        },
        checklist=visit.checklist_version.definition,
        draft=services.draft_of(visit),
        photos=[_photo(p) for p in visit.photos],
        submission=submission,
        editable=services.is_editable(visit),
    )


@api.route("/visits/<int:visit_id>/start", methods=["POST"])
@roles_required(Role.shopper)
def start(visit_id: int):
    """Mark the visit started with the phone's time and position (idempotent)."""
    visit = _own_visit(visit_id)
    body = _json_body()
    services.start_visit(visit, started_at=body.get("started_at"), geolocation=body.get("geolocation"),
                         position=body.get("position"))
    db.session.commit()
    return jsonify(status=visit.status.value, started_at=_iso(visit.started_at))


@api.route("/visits/<int:visit_id>/draft", methods=["PUT"])
@roles_required(Role.shopper)
def save_draft(visit_id: int):
    """Save the answers given so far (values checked, completeness not)."""
    visit = _own_visit(visit_id)
    body = _json_body()
    saved = services.save_draft(visit, body.get("answers"), body.get("answer_times"),
                                client_saved_at=body.get("client_saved_at"))
    db.session.commit()
    return jsonify(saved_at=_iso(saved.saved_at), stale=saved.stale, client_saved_at=saved.client_saved_at)


@api.route("/visits/<int:visit_id>/photos", methods=["POST"])
@roles_required(Role.shopper)
def upload_photo(visit_id: int):
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
    form = request.form
    upload_dir = current_app.config["UPLOAD_DIR"]
    photo, created = photo_service.add_photo(
        visit, data, question_id=form.get("question_id", ""), client_photo_id=form.get("client_photo_id", ""),
        upload_dir=upload_dir, max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
        latitude=form.get("latitude"), longitude=form.get("longitude"), taken_at=form.get("taken_at"),
    )
    if created:
        try:
            db.session.commit()
        except IntegrityError:
            # The same photo arrived twice at once: the unique (visit, client_photo_id) kept one.
            db.session.rollback()
            photo_service.remove_files(upload_dir, photo.stored_name)
            photo = photo_service.find_photo(_own_visit(visit_id), form.get("client_photo_id", ""))
            if photo is None:
                raise
            created = False
    return jsonify(_photo(photo)), 201 if created else 200


@api.route("/visits/<int:visit_id>/photos/<token>", methods=["DELETE"])
@roles_required(Role.shopper)
def delete_photo(visit_id: int, token: str):
    """Delete a photo of an editable visit."""
    visit = _own_visit(visit_id)
    photo = db.session.scalar(select(Photo).where(Photo.visit_id == visit.id, Photo.token == token))
    if photo is None:
        raise VisitError(_l("No such photo."), status=404, code="not_found")
    photo_service.delete_photo(visit, photo, current_app.config["UPLOAD_DIR"])
    db.session.commit()
    return "", 204


@api.route("/visits/<int:visit_id>/submit", methods=["POST"])
@roles_required(Role.shopper)
def submit(visit_id: int):
    """Validate, score and store the visit once: 201 first time, 200 for an identical retry, 409 otherwise."""
    body = _json_body()
    for attempt in (1, 2):
        visit = _own_visit(visit_id)
        try:
            outcome = services.submit_visit(visit, body, user=current_user)
            db.session.commit()
            break
        except (SubmissionRace, IntegrityError):
            # Another request won the race; after a rollback the replay/409 checks see its result.
            db.session.rollback()
            if attempt == 2:
                raise VisitError(_l("This visit was already submitted."), status=409,
                                 code="already_submitted") from None
    return jsonify(_submitted_body(outcome.body)), 201 if outcome.created else 200
