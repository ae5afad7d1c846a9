"""Planning pages: the list of open and planned visits, assigning, changing or cancelling one, CSV import."""
from collections.abc import Sequence
from datetime import date

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # types-WTForms 3.2 lacks it (3.3)

from app.access import get_visit_or_404, region_scope, roles_required, visible_locations, visible_regions
from app.analytics.figures import sample_plan
from app.analytics.filters import Filters
from app.analytics.periods import Period
from app.extensions import db
from app.models import Location, Region, Role, User, Visit, VisitStatus
from app.planning.forms import AssignForm, CancelVisitForm, EditVisitForm, ImportForm
from app.planning.services import (
    VisitFilters,
    edit_visit,
    filter_visits,
    import_assignments,
    latest_versions_by_id,
    lockout_days,
    lockout_of,
    record_lockout_override,
    status_counts,
)
from app.visits.errors import VisitError
from app.visits.lifecycle import OPEN, NotAllowed, allows, assign_visit, cancel_visit
from app.web import int_arg, page_of

PER_PAGE = 50
#: The sample plan: the spread of scores over this many past days, and the default precision (± points).
PLAN_DAYS = 90
DEFAULT_PRECISION = 5.0
CSV_EXAMPLE = (
    "location_code,checklist_id,shopper_email,from,to,instructions\n"
    "MSK-01,retail-store-visit,shopper@example.com,2025-06-02,2025-06-08,Buy a coffee and ask for a receipt\n"
)


def _locations() -> Sequence[Location]:
    return db.session.scalars(select(Location).where(Location.active.is_(True), visible_locations(current_user))
                              .order_by(Location.code)).all()


def _active_shoppers() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.shopper, User.active.is_(True)).order_by(User.name)
    ))


@roles_required(Role.manager, Role.admin)
def index() -> ResponseReturnValue:
    """List visits in the manager's regions: open by default, filterable, overdue ones marked."""
    today = date.today()
    precision = request.args.get("precision", type=float) or DEFAULT_PRECISION
    precision = precision if 0.5 <= precision <= 50 else DEFAULT_PRECISION  # NaN fails both and falls back
    status = request.args.get("status", "open")
    if status not in {"open", "all", *(s.value for s in VisitStatus)}:
        status = "open"
    filters: VisitFilters = {
        "status": status, "region_id": int_arg("region"), "shopper_id": int_arg("shopper"),
        "overdue": request.args.get("overdue") == "1", "q": request.args.get("q", "").strip() or None,
    }
    query = filter_visits(current_user, **filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = page_of(total, PER_PAGE)
    visits = db.session.scalars(query.limit(page.size).offset(page.start)).unique().all()
    regions_query = select(Region).where(visible_regions(current_user)).order_by(Region.name)
    return render_template(
        "planning/index.html", visits=visits, total=total, page=page.number, pages=page.pages,
        filters=filters, counts=status_counts(current_user),
        regions=db.session.scalars(regions_query).all(), shoppers=_active_shoppers(), statuses=list(VisitStatus),
        page_args={k: v for k, v in request.args.items() if k != "page"}, open_statuses=OPEN,
        plan=sample_plan(Filters(Period.last_days(PLAN_DAYS, today), scope=region_scope(current_user)), precision),
        precision=precision, plan_days=PLAN_DAYS,
    )


@roles_required(Role.manager, Role.admin)
def assign() -> ResponseReturnValue:
    """Assign one visit (the checklist's latest version) to a shopper."""
    form = AssignForm()
    locations = _locations()
    versions = latest_versions_by_id()
    shoppers = _active_shoppers()
    # Each list starts on an empty placeholder (see AssignForm): nothing is chosen for the manager.
    form.location.choices = [SelectChoice("", _("Choose a location…")), *(
        SelectChoice(loc.id, f"{loc.code} — {loc.name}") for loc in locations)]
    form.checklist.choices = [SelectChoice("", _("Choose a checklist…")), *(
        SelectChoice(cid, f"{v.title} (v{v.version})") for cid, v in sorted(
            versions.items(), key=lambda item: item[1].title))]
    form.shopper.choices = [SelectChoice("", _("Choose a shopper…")), *(
        SelectChoice(u.id, f"{u.name} ({u.shopper_code or u.email})") for u in shoppers)]
    if request.method == "GET":
        form.shopper.data = int_arg("shopper")
        form.location.data = int_arg("location")
    start, end = form.window_start.data, form.window_end.data
    lockout = None
    if form.validate_on_submit() and start and end:  # DataRequired has made sure of both dates
        location = next(loc for loc in locations if loc.id == form.location.data)
        shopper = next(u for u in shoppers if u.id == form.shopper.data)
        version = versions[form.checklist.data]
        lockout = lockout_of(location, shopper, start, lockout_days(version.checklist_id, current_app.config))
        overridden = lockout is not None and form.override_lockout.data and \
            form.lockout_visit.data == str(lockout.previous.id)
        if lockout is not None and not overridden:
            form.shopper.errors = [*form.shopper.errors, str(lockout.message)]
            form.override_lockout.data, form.lockout_visit.data = False, str(lockout.previous.id)
        else:
            try:
                visit = assign_visit(location, version, shopper, start, end, form.instructions.data or "",
                                     manager=current_user)
                if lockout is not None:
                    record_lockout_override(current_user, visit, lockout)
            except VisitError as exc:
                db.session.rollback()
                flash(str(exc.message), "error")
            else:
                db.session.commit()
                flash(_("Visit assigned to %(name)s at %(location)s.", name=shopper.name, location=location.name),
                      "success")
                return redirect(url_for("planning.index", status="open", _anchor=f"visit-{visit.id}"))
    return render_template("planning/assign.html", form=form, lockout=lockout,
                           has_choices=bool(locations and versions and shoppers))


def _closed(visit: Visit, title: str) -> tuple[str, int]:
    """Explain that a handed-in or voided visit can no longer be changed (409 to a POST)."""
    page = render_template("planning/closed.html", visit=visit, message=NotAllowed(visit, "edit").message,
                           title=title)
    return page, 409 if request.method == "POST" else 200


def _refuse(form: FlaskForm, error: VisitError) -> None:
    """Show a refused change next to its field, or at the top of the page."""
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        flash(str(error.message), "error")


@roles_required(Role.manager, Role.admin)
def edit(visit_id: int) -> ResponseReturnValue:
    """Change the shopper (until the visit is started), the window and the instructions of an open visit."""
    visit = get_visit_or_404(visit_id, current_user)
    if not allows(visit, "edit"):
        return _closed(visit, _("Edit the visit"))
    form = EditVisitForm(data={"shopper": visit.shopper_id, "window_start": visit.window_start,
                               "window_end": visit.window_end, "instructions": visit.instructions})
    if visit.status == VisitStatus.planned:
        shoppers = _active_shoppers()
        if visit.shopper not in shoppers:
            shoppers.append(visit.shopper)  # a deactivated shopper stays shown until someone else is chosen
        form.shopper.choices = [SelectChoice(u.id, f"{u.name} ({u.shopper_code or u.email})") for u in shoppers]
    else:
        del form.shopper  # started: the answers, photos and position so far are this shopper's
        shoppers = [visit.shopper]
    start, end = form.window_start.data, form.window_end.data
    if form.validate_on_submit() and start and end:  # InputRequired has made sure of both dates
        shopper = next(u for u in shoppers if u.id == (form.shopper.data if "shopper" in form else visit.shopper_id))
        try:
            changes = edit_visit(visit, current_user, shopper=shopper, window_start=start, window_end=end,
                                 instructions=form.instructions.data or "")
        except VisitError as exc:
            db.session.rollback()
            _refuse(form, exc)
        else:
            db.session.commit()
            flash(_("Visit changed.") if changes else _("Nothing changed."), "success" if changes else "info")
            return redirect(url_for("planning.index", _anchor=f"visit-{visit.id}"))
    return render_template("planning/edit.html", form=form, visit=visit), 400 if form.errors else 200


@roles_required(Role.manager, Role.admin)
def cancel(visit_id: int) -> ResponseReturnValue:
    """Cancel an open visit with a reason: it is voided and leaves the shopper's list."""
    visit = get_visit_or_404(visit_id, current_user)
    if not allows(visit, "cancel"):
        return _closed(visit, _("Cancel the visit"))
    form = CancelVisitForm()
    if form.validate_on_submit():
        try:
            cancel_visit(visit, current_user, form.reason.data or "")
        except VisitError as exc:
            db.session.rollback()
            _refuse(form, exc)
        else:
            db.session.commit()
            flash(_("Visit cancelled: %(location)s, %(name)s.", location=visit.location.name,
                    name=visit.shopper.name), "success")
            return redirect(url_for("planning.index"))
    return render_template("planning/cancel.html", form=form, visit=visit), 400 if form.errors else 200


@roles_required(Role.manager, Role.admin)
def import_csv() -> ResponseReturnValue:
    """Assign visits from a CSV file and show which rows were accepted and which were refused, and why."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = import_assignments(form.file.data.read(), current_user, dry_run=form.dry_run.data)
        if report.dry_run or report.error:
            db.session.rollback()
        else:
            db.session.commit()
    return render_template("planning/import.html", form=form, report=report), 200 if report is None or \
        not report.error else 400


@roles_required(Role.manager, Role.admin)
def example_csv() -> ResponseReturnValue:
    """Download an example file with the expected columns."""
    return Response(CSV_EXAMPLE, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=assignments-example.csv"})
