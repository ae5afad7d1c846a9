"""Admin pages: accounts, regions, locations and the audit log (administrators only)."""
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from app.access import roles_required
from app.admin import services
from app.admin.forms import (
    ROLE_LABELS,
    ConfirmForm,
    LocationForm,
    LocationImportForm,
    NewUserForm,
    PasswordResetForm,
    RegionForm,
    UserForm,
)
from app.admin.imports import import_locations
from app.extensions import db
from app.models import Location, Region, Role, User
from app.web import int_arg, page_arg, safe_next

#: The example file offered on the import page: every column, two zones.
LOCATIONS_EXAMPLE = (
    "code;name;region;address;latitude;longitude;timezone\r\n"
    "MSK-01;Тверская;MSK;ул. Тверская, 12, Москва;55.7616;37.6090;\r\n"
    "KGD-01;Калининград Центр;NW;Ленинский пр., 30, Калининград;54.7104;20.5101;Europe/Kaliningrad\r\n"
)

PER_PAGE = 50


def role_label(role: Role | str) -> str:
    """Return the human name of a role."""
    return str(ROLE_LABELS.get(Role(role), role))


def admin_value(value: object) -> str:
    """Format a value of an audit entry: lists joined, yes/no for booleans, a dash for nothing."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def rule_message(code: str) -> str:
    """Return the explanation of an AdminRuleError code."""
    return {
        "self_deactivate": _("You cannot deactivate your own account."),
        "self_demote": _("You cannot take away your own administrator role; ask another administrator."),
        "last_admin": _("This is the last active administrator: make someone else an administrator first."),
    }.get(code, code)


def get_user_or_404(user_id: int) -> User:
    """Return the user or :raise 404:."""
    return db.session.get(User, user_id) or abort(404)


def get_region_or_404(region_id: int) -> Region:
    """Return the region or :raise 404:."""
    return db.session.get(Region, region_id) or abort(404)


def get_location_or_404(location_id: int) -> Location:
    """Return the location or :raise 404:."""
    return db.session.get(Location, location_id) or abort(404)


def arg_state() -> bool | None:
    """Return the ?status= filter: True for active, False for inactive, None for all."""
    return {"active": True, "inactive": False}.get(request.args.get("status", ""))


def paginate(query: Select[Any]) -> Pagination:
    """Return one page of `query` at ?page= (an out-of-range page is empty, not an error)."""
    return db.paginate(query, page=page_arg(), per_page=PER_PAGE,
                       max_per_page=PER_PAGE, error_out=False)


@roles_required(Role.admin)
def index() -> ResponseReturnValue:
    """Show the counts of accounts, regions and locations with links to manage them."""
    recent = db.session.scalars(services.audit_query().limit(8)).all()
    return render_template("admin/index.html", overview=services.overview(), recent=recent)


# --- users -----------------------------------------------------------------------------------

@roles_required(Role.admin)
def users() -> ResponseReturnValue:
    """List accounts, filtered by role, region, status and a search text."""
    role_name = request.args.get("role", "")
    role = Role(role_name) if role_name in Role.__members__ else None
    region_id = int_arg("region")
    search = request.args.get("q", "").strip()
    page = paginate(services.user_query(role=role, region_id=region_id, active=arg_state(), search=search))
    regions = db.session.scalars(db.select(Region).order_by(Region.name)).all()
    return render_template("admin/users.html", page=page, regions=regions, role=role,
                           region_id=region_id, search=search, roles=ROLE_LABELS)


@roles_required(Role.admin)
def user_new() -> ResponseReturnValue:
    """Create an account with a role, a shopper code or regions, and a first password."""
    form = NewUserForm()
    suggested_code = services.next_shopper_code()
    if request.method == "GET":
        form.shopper_code.data = suggested_code
    if form.validate_on_submit():
        user = services.create_user(
            current_user, email=form.email.data or "", name=form.name.data or "", role=Role(form.role.data),
            password=form.password.data or "", shopper_code=form.shopper_code.data, region_ids=form.regions.data or [],
        )
        db.session.commit()
        flash(_("Account created for %(name)s. Give them the password over a safe channel.", name=user.name),
              "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None, suggested_code=suggested_code)


@roles_required(Role.admin)
def user_edit(user_id: int) -> ResponseReturnValue:
    """Edit an account's name, email, role, shopper code and regions."""
    user = get_user_or_404(user_id)
    form = UserForm(obj=user, user=user)
    if request.method == "GET":
        form.role.data = user.role.value
        form.regions.data = [r.id for r in user.regions]
    if form.validate_on_submit():
        try:
            changes = services.update_user(
                current_user, user, email=form.email.data or "", name=form.name.data or "", role=Role(form.role.data),
                shopper_code=form.shopper_code.data, region_ids=form.regions.data or [],
            )
        except services.AdminRuleError as error:
            db.session.rollback()
            form.role.errors = [*form.role.errors, rule_message(str(error))]
        else:
            db.session.commit()
            flash(_("Saved.") if changes else _("Nothing changed."), "success" if changes else "info")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, confirm=ConfirmForm(),
                           open_visits=services.open_visit_count(user), suggested_code=services.next_shopper_code())


@roles_required(Role.admin)
def user_deactivate(user_id: int) -> ResponseReturnValue:
    """Block an account; all its sessions end at once."""
    user = get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.deactivate_user(current_user, user)
        except services.AdminRuleError as error:
            db.session.rollback()
            flash(rule_message(str(error)), "error")
        else:
            db.session.commit()
            message = _("%(name)s is deactivated and signed out everywhere.", name=user.name)
            open_visits = services.open_visit_count(user)
            if open_visits:
                message += " " + _("%(count)d open visits are still assigned to them: reassign them in planning.",
                                   count=open_visits)
            flash(message, "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@roles_required(Role.admin)
def user_reactivate(user_id: int) -> ResponseReturnValue:
    """Let a deactivated account sign in again."""
    user = get_user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        services.reactivate_user(current_user, user)
        db.session.commit()
        flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@roles_required(Role.admin)
def user_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for an account; its sessions end."""
    user = get_user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        services.reset_password(current_user, user, form.password.data or "")
        db.session.commit()
        if user.id == current_user.id:
            login_user(user)  # keep this device signed in with the new session token
        flash(_("New password set for %(name)s; their other sessions ended.", name=user.name), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_password.html", form=form, user=user)


# --- regions ---------------------------------------------------------------------------------

@roles_required(Role.admin)
def regions() -> ResponseReturnValue:
    """List regions with their location and manager counts."""
    return render_template("admin/regions.html", rows=services.region_rows())


@roles_required(Role.admin)
def region_edit(region_id: int | None = None) -> ResponseReturnValue:
    """Create a region, or rename one."""
    region = get_region_or_404(region_id) if region_id is not None else None
    form = RegionForm(obj=region, region=region)
    if form.validate_on_submit():
        if region is None:
            services.create_region(current_user, code=form.code.data or "", name=form.name.data or "",
                                   timezone=form.timezone.data)
            flash(_("Region %(name)s created.", name=form.name.data), "success")
        else:
            services.update_region(current_user, region, code=form.code.data or "", name=form.name.data or "",
                                   timezone=form.timezone.data or region.timezone)
            flash(_("Saved."), "success")
        db.session.commit()
        return redirect(url_for("admin.regions"))
    return render_template("admin/region_form.html", form=form, region=region)


# --- locations -------------------------------------------------------------------------------

@roles_required(Role.admin)
def locations() -> ResponseReturnValue:
    """List locations, filtered by region, status and a search text."""
    region_id = int_arg("region")
    search = request.args.get("q", "").strip()
    page = paginate(services.location_query(region_id=region_id, active=arg_state(), search=search))
    regions = db.session.scalars(db.select(Region).order_by(Region.name)).all()
    return render_template("admin/locations.html", page=page, regions=regions, region_id=region_id,
                           search=search, confirm=ConfirmForm())


@roles_required(Role.admin)
def location_edit(location_id: int | None = None) -> ResponseReturnValue:
    """Create or edit a location."""
    location = get_location_or_404(location_id) if location_id is not None else None
    form = LocationForm(obj=location, location=location)
    planned_region = int_arg("region")
    if location is None and request.method == "GET" and planned_region:
        form.region_id.data = planned_region
    if form.validate_on_submit():
        fields = {name: form[name].data for name in services.LOCATION_FIELDS}
        if location is None:
            location = services.create_location(current_user, **fields)
            flash(_("Location %(code)s created.", code=location.code), "success")
        else:
            changes = services.update_location(current_user, location, **fields)
            flash(_("Saved.") if changes else _("Nothing changed."), "success" if changes else "info")
        db.session.commit()
        return redirect(url_for("admin.locations", region=location.region_id))
    return render_template("admin/location_form.html", form=form, location=location, confirm=ConfirmForm())


@roles_required(Role.admin)
def location_deactivate(location_id: int) -> ResponseReturnValue:
    """Take a location out of planning (its history stays), or bring it back."""
    location = get_location_or_404(location_id)
    active = request.endpoint == "admin.location_reactivate"
    if ConfirmForm().validate_on_submit() and services.set_location_active(current_user, location, active):
        db.session.commit()
        flash(_("%(code)s is active again.", code=location.code) if active
              else _("%(code)s is deactivated; its past visits stay in the reports.", code=location.code), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("admin.location_edit", location_id=location.id))


@roles_required(Role.admin)
def location_import() -> ResponseReturnValue:
    """Create or update locations from a CSV file; show each refused row and why (nothing saved then)."""
    form = LocationImportForm()
    report = None
    if form.validate_on_submit():
        report = import_locations(form.file.data.read(), current_user, dry_run=form.dry_run.data)
        if report.saved:
            db.session.commit()
        else:
            db.session.rollback()
    status = 400 if report is not None and (report.error or report.refused) else 200
    return render_template("admin/location_import.html", form=form, report=report), status


@roles_required(Role.admin)
def location_import_example() -> ResponseReturnValue:
    """Download an example file of locations with every column."""
    return Response(LOCATIONS_EXAMPLE, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=locations-example.csv"})


# --- audit log -------------------------------------------------------------------------------

@roles_required(Role.admin)
def audit_log() -> ResponseReturnValue:
    """Show who changed what, newest first, filtered by action and user."""
    action = request.args.get("action", "").strip()
    user_id = int_arg("user")
    page = paginate(services.audit_query(action=action, user_id=user_id))
    actions, users = services.audit_filter_choices()
    groups = sorted({a.split(".")[0] + "." for a in actions if "." in a})
    return render_template("admin/audit_log.html", page=page, actions=actions, groups=groups, users=users,
                           action=action, user_id=user_id)
