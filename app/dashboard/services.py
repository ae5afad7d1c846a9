"""Corrective actions: create, change state, list, overdue."""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from app.access import visible_actions
from app.extensions import db
from app.models import ActionStatus, CorrectiveAction, Location, User, Visit
from app.models.audit import record
from app.models.types import utcnow
from app.visits.lifecycle import failed_questions
from app.webhooks import events as webhooks


class ActionError(ValueError):
    """A corrective action that cannot be created or changed as asked."""


def create_action(visit: Visit, question_id: str, *, description: str, owner_name: str, owner_email: str,
                  due_date: date, user: User) -> CorrectiveAction:
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
    webhooks.action_event(webhooks.ACTION_CREATED, action)  # delivered once this commits
    return action


#: Allowed state changes: a verified action is closed; done can be reopened if the fix did not hold.
TRANSITIONS = {
    ActionStatus.open: {ActionStatus.done},
    ActionStatus.done: {ActionStatus.verified, ActionStatus.open},
    ActionStatus.verified: set(),
}


def set_action_status(action: CorrectiveAction, status: ActionStatus, user: User) -> None:
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
    if status == ActionStatus.done:
        webhooks.action_event(webhooks.ACTION_DONE, action)


def actions_query(user: User, *, location_id: int | None = None, status: ActionStatus | None = None,
                  overdue_only: bool = False, today: date | None = None) -> Select[CorrectiveAction]:
    """Return a select of the corrective actions `user` may see, most urgent first (location loaded)."""
    today = today or date.today()
    stmt = (select(CorrectiveAction).join(Location, Location.id == CorrectiveAction.location_id)
            .options(contains_eager(CorrectiveAction.location)).where(visible_actions(user)))
    if location_id is not None:
        stmt = stmt.where(CorrectiveAction.location_id == location_id)
    if status is not None:
        stmt = stmt.where(CorrectiveAction.status == status)
    if overdue_only:
        stmt = stmt.where(CorrectiveAction.status == ActionStatus.open, CorrectiveAction.due_date < today)
    order_open = func.coalesce(CorrectiveAction.status == ActionStatus.verified, False)
    return stmt.order_by(order_open, CorrectiveAction.due_date, CorrectiveAction.id)


def overdue_counts(user: User, today: date | None = None, *, region_id: int | None = None) -> dict[int, int]:
    """Return {location id: number of open actions past their due date} in one query."""
    today = today or date.today()
    stmt = (
        select(CorrectiveAction.location_id, func.count())
        .join(Location, Location.id == CorrectiveAction.location_id)
        .where(CorrectiveAction.status == ActionStatus.open, CorrectiveAction.due_date < today,
               visible_actions(user))
        .group_by(CorrectiveAction.location_id)
    )
    if region_id is not None:
        stmt = stmt.where(Location.region_id == region_id)
    return dict(db.session.execute(stmt).all())


def is_overdue(action: CorrectiveAction, today: date | None = None) -> bool:
    """Return True when an open action is past its due date."""
    return action.status == ActionStatus.open and action.due_date < (today or date.today())
