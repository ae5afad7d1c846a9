"""PDF downloads (visit, location, region, network) and the batch ZIP export with its progress page."""
import io
from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, Optional, ValidationError

from app import jobs
from app.access import (
    get_location_or_404,
    get_region_or_404,
    get_staff_visit_or_404,
    region_scope,
    roles_required,
)
from app.analytics.filters import ALL_PROGRAMMES, Filters
from app.analytics.periods import Period, PeriodError
from app.extensions import db
from app.models import ExportJob, Region, Role, User, Visit
from app.models.audit import AuditLog
from app.pdf import RenderTimeout
from app.reports import documents
from app.reports import jobs as batch_jobs
from app.web import job_or_404, request_filters, send_job_file

STAFF = (Role.manager, Role.admin)


def _filters(location_id: int | None = None) -> Filters:
    """Return the filter of the page a report was asked from; :raise 400: when it is not valid."""
    return request_filters(location_id=location_id, strict=True)[0]


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def _send(built: tuple[str, str]) -> Response:
    """Render the document and send it as a download; :raise 503: when rendering times out."""
    # The HTML holds everything the PDF shows: end the read transaction now, not after seconds of rendering
    # (an open transaction keeps PostgreSQL's snapshot, and a pooled connection, for nothing).
    db.session.rollback()
    try:
        document = documents.to_pdf(built)
    except RenderTimeout:
        abort(503, _("The report took too long to build. Try a shorter period."))
    response = send_file(io.BytesIO(document.pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=document.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def get_scored_visit_or_404(visit_id: int, user: User) -> Visit:
    """Return a submitted visit the user may see; :raise 404: when missing, out of scope or not yet scored."""
    visit = get_staff_visit_or_404(visit_id, user)
    if not visit.answers:
        abort(404, _("This visit has no submitted answers yet."))
    return visit


@roles_required(*STAFF)
def visit_pdf(visit_id: int) -> ResponseReturnValue:
    """Download a visit's report; ?shopper_name=1 adds the shopper's name (staff in scope only)."""
    visit = get_scored_visit_or_404(visit_id, current_user)
    # Everyone who gets this far may see the name (404 above otherwise); it stays out unless asked.
    return _send(documents.visit_html(visit, include_shopper_name=_flag("shopper_name"),
                                      lang=request.args.get("lang")))


@roles_required(*STAFF)
def location_pdf(location_id: int) -> ResponseReturnValue:
    """Download a location's report for the filter of the page it came from (default: the last 90 days)."""
    location = get_location_or_404(location_id, current_user)
    return _send(documents.location_html(_filters(location.id), location, include_shopper_name=_flag("shopper_name"),
                                         lang=request.args.get("lang")))


@roles_required(*STAFF)
def region_pdf(region_id: int) -> ResponseReturnValue:
    """Download a region's league table and section heatmap for the page's filter."""
    region = get_region_or_404(region_id, current_user)
    return _send(documents.summary_html(_filters(), region=region, lang=request.args.get("lang")))


@roles_required(*STAFF)
def network_pdf() -> ResponseReturnValue:
    """Download the whole network's summary; :raise 404: for managers limited to some regions."""
    if region_scope(current_user) is not None:
        abort(404)
    return _send(documents.summary_html(_filters(), lang=request.args.get("lang")))


# -- batch export ------------------------------------------------------------------------------


class BatchForm(FlaskForm):
    """Period, region and programme of a batch export (the programme comes from the page it was opened from)."""

    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To"), validators=[DataRequired()])
    region = SelectField(_l("Region"), coerce=int, validators=[Optional()])
    checklist = HiddenField()

    def validate_end(self, field: DateField) -> None:
        if self.start.data and field.data:
            try:
                Period.checked(self.start.data, field.data)
            except PeriodError as exc:
                raise ValidationError(str(exc)) from None


def _batch_form() -> BatchForm:
    scope = region_scope(current_user)
    form = BatchForm(meta={"locales": None})
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    choices = [(r.id, r.name) for r in regions if scope is None or r.id in scope]
    form.region.choices = ([(0, _("All my regions") if scope is not None else _("Whole network"))] + choices)
    if request.method == "GET":
        filters = _filters()
        form.start.data, form.end.data = filters.period.start, filters.period.end
        form.region.data = filters.region_id or 0
        form.checklist.data = filters.programme or ALL_PROGRAMMES
    return form


@roles_required(*STAFF)
def batch() -> ResponseReturnValue:
    """Show the batch export form; on POST queue the job and go to its progress page."""
    form = _batch_form()
    start, end = form.start.data, form.end.data
    if form.validate_on_submit() and start and end:  # DataRequired has made sure of both dates
        scope = region_scope(current_user)
        region_id = form.region.data or None
        if region_id is not None:
            get_region_or_404(region_id, current_user)
        programme = form.checklist.data if form.checklist.data and form.checklist.data != ALL_PROGRAMMES else None
        job = batch_jobs.create_job(current_user, Filters(Period(start, end), scope=scope,
                                                          region_id=region_id, programme=programme))
        db.session.flush()
        # ExportJob ids are UUIDs and audit target ids are integers: the job id goes into the details.
        db.session.add(AuditLog(user_id=current_user.id, action="reports.batch", target_type="exportjob",
                                details={"job_id": job.id, **job.params}))
        db.session.commit()
        batch_jobs.start(job)
        return redirect(url_for("reports.batch_status", job_id=job.id))
    recent = db.session.scalars(
        select(ExportJob).where(ExportJob.user_id == current_user.id, ExportJob.kind == batch_jobs.KIND)
        .order_by(ExportJob.created_at.desc()).limit(5)
    ).all()
    return render_template("reports/batch.html", form=form, recent=recent), (400 if form.errors else 200)


def _job_json(job: ExportJob) -> dict[str, Any]:
    state = jobs.state(job)
    return {**state, "download_url": url_for("reports.batch_download", job_id=job.id) if state["ready"] else None}


@roles_required(*STAFF)
def batch_status(job_id: str) -> ResponseReturnValue:
    """Show a batch job's progress bar, updated by polling batch_status_json."""
    job = job_or_404(job_id, batch_jobs.KIND)
    return render_template("reports/batch_status.html", job=job, status=_job_json(job))


@roles_required(*STAFF)
def batch_status_json(job_id: str) -> ResponseReturnValue:
    """Return a batch job's state as JSON: status, progress, total, percent, download_url."""
    return jsonify(_job_json(job_or_404(job_id, batch_jobs.KIND)))


@roles_required(*STAFF)
def batch_download(job_id: str) -> ResponseReturnValue:
    """Download a finished batch's ZIP; :raise 404: when it is not ready (or the file is gone)."""
    job = job_or_404(job_id, batch_jobs.KIND)
    period = f"{job.params['from']}_{job.params['to']}"
    return send_job_file(job, f"location-reports-{period}.zip", "application/zip")
