"""Who may see what, decided in one place.

Every route declares its roles (`roles_required`, `public`; undeclared routes are refused), and
every route that takes an id loads it through a `get_<thing>_or_404(id, user)` here, so access
cannot be forgotten. Queries that list things filter with `visible_<things>(user)`. A user's
`Scope` says which part of the network they see: a manager limited to some regions sees only
those, admins and unrestricted managers the whole network, a shopper only their own visits.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import ColumnElement, select, true

from app.extensions import db, login_manager
from app.models import CorrectiveAction, ExportJob, Location, Photo, Region, ReviewComment, Role, User, Visit

PUBLIC = "public"
View = TypeVar("View", bound=Callable[..., Any])


def roles_required(*roles: Role | str) -> Callable[[View], View]:
    """Allow the decorated view only to signed-in users with one of `roles`.

    :raise 401: (redirect to login) when anonymous; :raise 403: for other roles.
    """
    allowed = frozenset(Role(r) for r in roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = allowed  # type: ignore[attr-defined]  # mypy cannot declare attributes of functions
        return cast(View, wrapped)

    return decorator


def public(view: View) -> View:
    """Mark a view as open to anonymous visitors (login, public survey pages)."""
    view.access = PUBLIC  # type: ignore[attr-defined]  # mypy cannot declare attributes of functions
    return view


def refuse_undeclared_routes() -> None:
    """before_request hook: refuse any endpoint that forgot to declare its access rule."""
    if request.endpoint is None or request.endpoint == "static" or request.endpoint.endswith(".static"):
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "access", None) is None:
        abort(403)


# -- scope ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The part of the network a user sees: region ids (None = every region), or one shopper's own visits."""

    regions: frozenset[int] | None
    shopper_id: int | None = None

    @property
    def whole_network(self) -> bool:
        """Return True for admins and managers not limited to regions."""
        return self.regions is None and self.shopper_id is None

    def sees_region(self, region_id: int) -> bool:
        """Return True when figures and places of this region are visible (never to shoppers)."""
        return self.shopper_id is None and (self.regions is None or region_id in self.regions)


def scope_of(user: User) -> Scope:
    """Return the user's scope."""
    if user.role == Role.shopper:
        return Scope(frozenset(), shopper_id=user.id)
    if user.role == Role.manager and user.regions:
        return Scope(frozenset(region.id for region in user.regions))
    return Scope(None)


def region_scope(user: User) -> frozenset[int] | None:
    """Return the region ids whose figures `user` may see (None = the whole network, empty for shoppers)."""
    return scope_of(user).regions


def _located(regions: frozenset[int]) -> Any:
    return select(Location.id).where(Location.region_id.in_(sorted(regions)))


def visible_locations(user: User) -> ColumnElement[bool]:
    """Return the condition on Location that keeps what `user` may see."""
    scope = scope_of(user)
    return true() if scope.regions is None else Location.region_id.in_(sorted(scope.regions))


def visible_regions(user: User) -> ColumnElement[bool]:
    """Return the condition on Region that keeps what `user` may see."""
    scope = scope_of(user)
    return true() if scope.regions is None else Region.id.in_(sorted(scope.regions))


def visible_visits(user: User) -> ColumnElement[bool]:
    """Return the condition on Visit that keeps what `user` may see: own visits for shoppers."""
    scope = scope_of(user)
    if scope.shopper_id is not None:
        return Visit.shopper_id == scope.shopper_id
    return true() if scope.regions is None else Visit.location_id.in_(_located(scope.regions))


def visible_actions(user: User) -> ColumnElement[bool]:
    """Return the condition on CorrectiveAction that keeps what `user` may see (none for shoppers)."""
    scope = scope_of(user)
    return true() if scope.regions is None else CorrectiveAction.location_id.in_(_located(scope.regions))


def can_see_visit(user: User, visit: Visit) -> bool:
    """Return True when `user` may see `visit`: its shopper, an admin, or a manager of its region."""
    scope = scope_of(user)
    if scope.shopper_id is not None:
        return visit.shopper_id == scope.shopper_id
    return scope.sees_region(visit.location.region_id)


def can_review(user: User, visit: Visit) -> bool:
    """Return True when `user` may review `visit`: an active manager or admin whose scope holds its region."""
    return (user.active and user.role in (Role.manager, Role.admin)
            and scope_of(user).sees_region(visit.location.region_id))


# -- loaders -------------------------------------------------------------------------------------
# Each returns the thing or answers 404, never 403: nobody learns what exists outside their scope.


def get_visit_or_404(visit_id: int, user: User) -> Visit:
    """Return the visit if `user` may see it; :raise 404: otherwise."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or not can_see_visit(user, visit):
        abort(404)
    return visit


def get_staff_visit_or_404(visit_id: int, user: User) -> Visit:
    """Return a visit for review and reports: managers and admins in scope; :raise 404: otherwise."""
    visit = get_visit_or_404(visit_id, user)
    if user.role == Role.shopper:
        abort(404)
    return visit


def get_location_or_404(location_id: int, user: User) -> Location:
    """Return the location if it lies in the user's regions; :raise 404: otherwise."""
    location = db.session.get(Location, location_id)
    if location is None or not scope_of(user).sees_region(location.region_id):
        abort(404)
    return location


def get_region_or_404(region_id: int, user: User) -> Region:
    """Return the region if it is one of the user's; :raise 404: otherwise."""
    region = db.session.get(Region, region_id)
    if region is None or not scope_of(user).sees_region(region.id):
        abort(404)
    return region


def get_photo_or_404(token: str, user: User) -> Photo:
    """Return the photo of a visit `user` may see; :raise 404: otherwise."""
    photo = db.session.scalar(select(Photo).where(Photo.token == token))
    if photo is None or not can_see_visit(user, photo.visit):
        abort(404)
    return photo


def get_action_or_404(action_id: int, user: User) -> CorrectiveAction:
    """Return a corrective action of a location in scope; :raise 404: otherwise."""
    action = db.session.get(CorrectiveAction, action_id)
    if action is None or not scope_of(user).sees_region(action.location.region_id):
        abort(404)
    return action


def get_job_or_404(job_id: str, kind: str, user: User) -> ExportJob:
    """Return an export job of `kind` started by `user` (admins see every one); :raise 404: otherwise."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.kind != kind or (job.user_id != user.id and user.role != Role.admin):
        abort(404)
    return job


def get_comment_or_404(comment_id: int, user: User) -> ReviewComment:
    """Return a comment of the user's own library; :raise 404: for anyone else's."""
    comment = db.session.get(ReviewComment, comment_id)
    if comment is None or comment.user_id != user.id:
        abort(404)
    return comment

