"""Shopper pages: my visits, a visit's status and history; stored photos for those allowed to see them."""
from datetime import date

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Photo, Role, Visit
from app.models import VisitStatus as S
from app.security import roles_required
from app.visits.blueprint import bp
from app.visits.photos import photo_path
from app.visits.services import can_see_visit, checklist_of, is_editable

#: The sections of "My visits", in the order shown.
SECTIONS = (
    ("returned", (S.returned,)),
    ("in_progress", (S.in_progress,)),
    ("upcoming", (S.planned,)),
    ("submitted", (S.submitted, S.approved)),
)
#: Finished visits shown on the list; older ones are history nobody scrolls to.
SUBMITTED_SHOWN = 30


def get_visit_or_404(visit_id: int, user) -> Visit:
    """Return the visit if `user` may see it (its shopper; admins; managers of its region).

    :raise 404: when it does not exist or is not theirs (never reveal which).
    """
    visit = db.session.get(Visit, visit_id)
    if visit is None or not can_see_visit(user, visit):
        abort(404)
    return visit


def fill_url(visit: Visit) -> str | None:
    """Return the phone form's URL when that page is installed and the visit is editable."""
    if is_editable(visit) and "visits.fill" in current_app.view_functions:
        return url_for("visits.fill", visit_id=visit.id)
    return None


@bp.route("/")
@roles_required(Role.shopper)
def my_visits():
    """List the shopper's visits: returned for correction, in progress, upcoming, submitted."""
    today = date.today()
    open_states = [S.planned, S.in_progress, S.returned]
    base = (
        select(Visit).options(joinedload(Visit.location), joinedload(Visit.checklist_version))
        .where(Visit.shopper_id == current_user.id)
    )
    open_visits = db.session.scalars(
        base.where(Visit.status.in_(open_states)).order_by(Visit.window_end, Visit.id)
    ).unique().all()
    done = db.session.scalars(
        base.where(Visit.status.in_([S.submitted, S.approved]))
        .order_by(case((Visit.submitted_at.is_(None), 1), else_=0), Visit.submitted_at.desc(), Visit.id.desc())
        .limit(SUBMITTED_SHOWN)
    ).unique().all()
    groups = {name: [] for name, _states in SECTIONS}
    for visit in [*open_visits, *done]:
        for name, states in SECTIONS:
            if visit.status in states:
                groups[name].append(visit)
    return render_template("visits/my_visits.html", groups=groups, sections=[n for n, _s in SECTIONS],
                           today=today, fill_url=fill_url)


@bp.route("/<int:visit_id>")
@roles_required(Role.shopper)
def detail(visit_id: int):
    """Show the shopper one visit: status, window, instructions, history, return comment, score if allowed.

    :raise 404: for someone else's visit.
    """
    visit = get_visit_or_404(visit_id, current_user)
    checklist = checklist_of(visit.checklist_version)
    events = [e for e in visit.events if e.action in ("assigned", "submitted", "resubmitted", "returned", "approved")]
    show_score = checklist.shopper_sees_score and visit.status in (S.submitted, S.approved)
    return render_template("visits/detail.html", visit=visit, checklist=checklist, events=events,
                           show_score=show_score, today=date.today(), fill_url=fill_url(visit),
                           just_submitted=request.args.get("submitted") == "1")


@bp.route("/photos/<token>")
@roles_required(Role.shopper, Role.manager, Role.admin)
def photo(token: str):
    """Serve a stored photo (EXIF-free JPEG) or its thumbnail (?size=thumb).

    :raise 404: unknown photo, or a visit the user may not see.
    """
    found = db.session.execute(
        select(Photo, Visit).join(Visit, Photo.visit_id == Visit.id)
        .where(Photo.token == token)
    ).first()
    if found is None or not can_see_visit(current_user, found.Visit):
        abort(404)
    size = "thumb" if request.args.get("size") == "thumb" else None
    path = photo_path(current_app.config["UPLOAD_DIR"], found.Photo.stored_name, size)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True)
    # Evidence of a real visit: never in shared caches.
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
