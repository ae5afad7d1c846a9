"""Loading with region scoping, and corrective actions: create, change state, list, overdue."""
from datetime import date

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.models import ActionStatus, CorrectiveAction, Location, Region, Visit
from app.models.audit import record
from app.models.types import utcnow
from app.security import region_scope


def in_scope(user, region_id: int) -> bool:
    """Return True when `user` may see data of region `region_id`."""
    scope = region_scope(user)
    return scope is None or region_id in scope


def get_location_or_404(location_id: int, user) -> Location:
    """Return the location; :raise 404: when missing or outside the user's regions."""
    location = db.session.get(Location, location_id)
    if location is None or not in_scope(user, location.region_id):
        abort(404)
    return location


def get_region_or_404(region_id: int, user) -> Region:
    """Return the region; :raise 404: when missing or outside the user's regions."""
    region = db.session.get(Region, region_id)
    if region is None or not in_scope(user, region.id):
        abort(404)
    return region


def get_visit_or_404(visit_id: int, user) -> Visit:
    """Return a visit a manager may see; :raise 404: when missing or outside the user's regions."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or not in_scope(user, visit.location.region_id):
        abort(404)
    return visit


def get_action_or_404(action_id: int, user) -> CorrectiveAction:
    """Return a corrective action; :raise 404: when missing or outside the user's regions."""
    action = db.session.get(CorrectiveAction, action_id)
    if action is None or not in_scope(user, action.location.region_id):
        abort(404)
    return action


class ActionError(ValueError):
    """A corrective action that cannot be created or changed as asked."""


def failed_questions(visit: Visit) -> set[str]:
    """Return the ids of the questions that lost points in the visit (from stored answers)."""
    return {a.question_id for a in visit.answers if a.fraction is not None and a.fraction < 1}


def create_action(visit: Visit, question_id: str, *, description: str, owner_name: str, owner_email: str,
                  due_date: date, user) -> CorrectiveAction:
    """Create an open corrective action for a failed question of a visit (not committed).

    :raise ActionError: when the question did not fail in this visit.
    """
    if question_id not in failed_questions(visit):
        raise ActionError(_l("Only a question that lost points in this visit can get a corrective action."))
    action = CorrectiveAction(
        visit=visit, location_id=visit.location_id, question_id=question_id, description=description.strip(),
        owner_name=owner_name.strip(), owner_email=owner_email.strip(), due_date=due_date,
        status=ActionStatus.open, created_by_id=user.id,
    )
    db.session.add(action)
    db.session.flush()
    record(user, "action.create", action, visit_id=visit.id, question_id=question_id, due=due_date.isoformat())
    return action


#: Allowed state changes: a verified action is closed; done can be reopened if the fix did not hold.
TRANSITIONS = {
    ActionStatus.open: {ActionStatus.done},
    ActionStatus.done: {ActionStatus.verified, ActionStatus.open},
    ActionStatus.verified: set(),
}


def set_action_status(action: CorrectiveAction, status: ActionStatus, user) -> None:
    """Move the action to `status` (not committed); :raise ActionError: on a disallowed change."""
    if status not in TRANSITIONS[action.status]:
        raise ActionError(f"an action that is {action.status.value} cannot become {status.value}")
    previous = action.status
    action.status = status
    if status == ActionStatus.done:
        action.done_at = utcnow()
    elif status == ActionStatus.verified:
        action.verified_at = utcnow()
    else:
        action.done_at = None
    record(user, "action.status", action, previous=previous.value, status=status.value)


def actions_query(scope, *, location_id: int | None = None, status: ActionStatus | None = None,
                  overdue_only: bool = False, today: date | None = None):
    """Return a select of corrective actions in scope, most urgent first (location loaded)."""
    today = today or date.today()
    stmt = (select(CorrectiveAction).join(Location, Location.id == CorrectiveAction.location_id)
            .options(contains_eager(CorrectiveAction.location)))
    if scope is not None:
        stmt = stmt.where(Location.region_id.in_(sorted(scope)))
    if location_id is not None:
        stmt = stmt.where(CorrectiveAction.location_id == location_id)
    if status is not None:
        stmt = stmt.where(CorrectiveAction.status == status)
    if overdue_only:
        stmt = stmt.where(CorrectiveAction.status == ActionStatus.open, CorrectiveAction.due_date < today)
    order_open = func.coalesce(CorrectiveAction.status == ActionStatus.verified, False)
    return stmt.order_by(order_open, CorrectiveAction.due_date, CorrectiveAction.id)


def overdue_counts(scope, today: date | None = None) -> dict[int, int]:
    """Return {location id: number of open actions past their due date} in one query."""
    today = today or date.today()
    stmt = (
        select(CorrectiveAction.location_id, func.count())
        .join(Location, Location.id == CorrectiveAction.location_id)
        .where(CorrectiveAction.status == ActionStatus.open, CorrectiveAction.due_date < today)
        .group_by(CorrectiveAction.location_id)
    )
    if scope is not None:
        stmt = stmt.where(Location.region_id.in_(sorted(scope)))
    return dict(db.session.execute(stmt).all())


def is_overdue(action: CorrectiveAction, today: date | None = None) -> bool:
    """Return True when an open action is past its due date."""
    return action.status == ActionStatus.open and action.due_date < (today or date.today())
