"""Start page: sends each role to where its work is."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models import Role, VisitStatus
from app.security import roles_required

bp = Blueprint("main", __name__, template_folder="templates")

#: (endpoint, label, roles) of the main navigation; items of features not installed are skipped.
NAVIGATION = [
    ("visits.my_visits", _l("My visits"), {Role.shopper}),
    ("dashboard.index", _l("Dashboard"), {Role.manager, Role.admin}),
    ("review.queue", _l("Review"), {Role.manager, Role.admin}),
    ("planning.index", _l("Planning"), {Role.manager, Role.admin}),
    ("dashboard.actions", _l("Actions"), {Role.manager, Role.admin}),
    ("surveys.index", _l("Surveys"), {Role.manager, Role.admin}),
    ("admin.index", _l("Admin"), {Role.admin}),
]

HOME_BY_ROLE = {
    Role.shopper: "visits.my_visits",
    Role.manager: "dashboard.index",
    Role.admin: "dashboard.index",
}


@bp.app_template_global()
def nav_items() -> list[dict]:
    """Return the navigation entries the signed-in user may use."""
    items = []
    for endpoint, label, roles in NAVIGATION:
        if current_user.role in roles and endpoint in current_app.view_functions:
            items.append({
                "url": url_for(endpoint),
                "label": label,
                "active": (request.endpoint or "").split(".")[0] == endpoint.split(".")[0],
            })
    return items


@bp.app_template_global()
def score_class(value: float | None) -> str:
    """Return the CSS class that colours a score band."""
    if value is None:
        return "score-none"
    if value >= 90:
        return "score-excellent"
    if value >= 75:
        return "score-good"
    if value >= 60:
        return "score-fair"
    return "score-poor"


#: The one wording of each visit state, used wherever a status is shown or put into a sentence.
STATUS_LABELS = {
    VisitStatus.planned: _l("Planned"),
    VisitStatus.in_progress: _l("In progress"),
    VisitStatus.submitted: _l("Submitted"),
    VisitStatus.returned: _l("Returned for correction"),
    VisitStatus.approved: _l("Approved"),
    VisitStatus.voided: _l("Voided"),
}


@bp.app_template_global()
def status_label(status: VisitStatus | str) -> str:
    """Return a visit state (enum or its value) in the page language."""
    return str(STATUS_LABELS[VisitStatus(status)])


#: What happened to a visit (VisitEvent.action) in words.
EVENT_LABELS = {
    "assigned": _l("Assigned"),
    "submitted": _l("Submitted"),
    "resubmitted": _l("Corrected and resubmitted"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved"),
    "voided": _l("Voided"),
}


@bp.app_template_global()
def event_label(action: str) -> str:
    """Return a visit event's action in the page language (unknown actions as stored)."""
    return str(EVENT_LABELS.get(action, action))


@bp.app_template_filter("period")
def period_filter(period) -> str:
    """Format a date range (anything with .start and .end dates) in the page language."""
    from babel.dates import format_interval
    from flask_babel import get_locale

    return format_interval(period.start, period.end, "yMMMd", locale=get_locale())


@bp.app_template_filter("datetime")
def datetime_filter(value, fmt="medium"):
    """Format a timestamp in the page language, or an em dash when missing."""
    return format_datetime(value, fmt) if value else "—"


@bp.route("/")
@roles_required(*Role)
def home():
    """Redirect to the role's main page, or show the role's overview."""
    endpoint = HOME_BY_ROLE[current_user.role]
    if endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    return render_template("main/home.html")
