"""Shopper pages: my visits, a visit's status and history; stored photos for those allowed to see them."""
from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.access import get_photo_or_404, get_visit_or_404, roles_required
from app.extensions import db
from app.field.history import handed_in_visits
from app.models import HANDED_IN_STATES, OPEN_STATES, Role, Visit
from app.models import VisitStatus as S
from app.storage import photo_key, storage
from app.web import page_of

#: The sections of "My visits", in the order shown.
SECTIONS = (
    ("returned", (S.returned,)),
    ("in_progress", (S.in_progress,)),
    ("upcoming", (S.planned,)),
    ("submitted", (S.submitted, S.approved)),
)
#: Handed-in visits per page of the history; the open ones above it are never paged.
SUBMITTED_PER_PAGE = 20


def fill_url(visit: Visit) -> str | None:
    """Return the phone form's URL when that page is installed and the visit is editable."""
    if visit.is_open and "field.fill" in current_app.view_functions:
        return url_for("field.fill", visit_id=visit.id)
    return None


@roles_required(Role.shopper)
def my_visits() -> ResponseReturnValue:
    """List the shopper's visits: the open ones (returned, in progress, upcoming) on top of every page, then
    the handed-in history, searched with ?q= and paged with ?page=."""
    open_visits = db.session.scalars(
        select(Visit).options(joinedload(Visit.location), joinedload(Visit.checklist_version))
        .where(Visit.shopper_id == current_user.id, Visit.status.in_(OPEN_STATES))
        .order_by(Visit.window_end, Visit.id)
    ).unique().all()
    search = request.args.get("q", "").strip()[:100]
    history = handed_in_visits(current_user.id, search)
    total = db.session.scalar(select(func.count()).select_from(history.order_by(None).subquery())) or 0
    page = page_of(total, SUBMITTED_PER_PAGE)
    done = db.session.scalars(history.limit(page.size).offset(page.start)).unique().all()
    groups: dict[str, list[Visit]] = {name: [] for name, _states in SECTIONS}
    for visit in [*open_visits, *done]:
        for name, states in SECTIONS:
            if visit.status in states:
                groups[name].append(visit)
    return render_template("field/my_visits.html", groups=groups, sections=[n for n, _s in SECTIONS],
                           fill_url=fill_url, search=search, page=page, submitted_total=total)


@roles_required(Role.shopper)
def detail(visit_id: int) -> ResponseReturnValue:
    """Show the shopper one visit: status, window, instructions, history, return comment, score if allowed.

    :raise 404: for someone else's visit.
    """
    visit = get_visit_or_404(visit_id, current_user)
    checklist = visit.checklist
    events = [e for e in visit.events if e.action in ("assigned", "submitted", "resubmitted", "returned", "approved")]
    show_score = checklist.shopper_sees_score and visit.status in HANDED_IN_STATES
    return render_template("field/detail.html", visit=visit, checklist=checklist, events=events,
                           show_score=show_score, fill_url=fill_url(visit),
                           just_submitted=request.args.get("submitted") == "1")


@roles_required(Role.shopper, Role.manager, Role.admin)
def photo(token: str) -> ResponseReturnValue:
    """Serve a stored photo (EXIF-free JPEG) or its thumbnail (?size=thumb).

    :raise 404: unknown photo, or a visit the user may not see.
    """
    stored = get_photo_or_404(token, current_user)
    if not stored.ready:  # still being decoded, or refused: there is no clean copy to show
        abort(404)
    size = "thumb" if request.args.get("size") == "thumb" else None
    try:
        response = storage().send(photo_key(stored.stored_name, size), mimetype="image/jpeg")
    except FileNotFoundError:
        abort(404)
    # Evidence of a real visit: never in shared caches.
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
