"""Spreadsheet exports: the button that starts one as a background job, its progress page and its download."""
from typing import Any

from flask import jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app import jobs
from app.access import roles_required
from app.analytics.filters import Filters
from app.dashboard import exports
from app.dashboard.routes import MANAGERS
from app.extensions import db
from app.models import ExportJob
from app.models.audit import AuditLog
from app.web import job_or_404, request_filters, send_job_file


@roles_required(*MANAGERS)
def export(what: str, fmt: str) -> ResponseReturnValue:
    """POST: start the export of the filter's league table or raw answers and go to its progress page.

    GET (an old bookmark, a shared link): show what would be exported and the button that starts it.
    :raise 400: when the filter is not valid.
    """
    filters, _form = request_filters(strict=True)
    if request.method == "GET":
        return render_template("dashboard/export_start.html", what=what, fmt=fmt, filters=filters)
    job = exports.create_job(current_user, filters, what, fmt)
    db.session.flush()
    # ExportJob ids are UUIDs and audit target ids are integers: the job id goes into the details.
    db.session.add(AuditLog(user_id=current_user.id, action="dashboard.export", target_type="exportjob",
                            details={"job_id": job.id, **job.params}))
    db.session.commit()
    exports.start(job)
    return redirect(url_for("dashboard.export_status", job_id=job.id))


def _state(job: ExportJob) -> dict[str, Any]:
    state = jobs.state(job)
    return {**state, "download_url": url_for("dashboard.export_download", job_id=job.id) if state["ready"] else None}


@roles_required(*MANAGERS)
def export_status(job_id: str) -> ResponseReturnValue:
    """Show an export's progress (rows written of the total), updated by polling export_status_json."""
    job = job_or_404(job_id, exports.KIND)
    filters = Filters.from_params(job.params)
    return render_template("dashboard/export_status.html", job=job, status=_state(job), period=filters.period,
                           sheets=len(exports.sheet_names("", job.total)), sheet_rows=exports.SHEET_ROWS,
                           filename=exports.filename(job.params), back_args=filters.args())


@roles_required(*MANAGERS)
def export_status_json(job_id: str) -> ResponseReturnValue:
    """Return an export's state as JSON: status, progress, total, percent, error, download_url."""
    return jsonify(_state(job_or_404(job_id, exports.KIND)))


@roles_required(*MANAGERS)
def export_download(job_id: str) -> ResponseReturnValue:
    """Download a finished export's file; :raise 404: for anyone but its owner, or when it is not ready."""
    job = job_or_404(job_id, exports.KIND)
    return send_job_file(job, exports.filename(job.params), exports.FORMATS[job.params["fmt"]])
