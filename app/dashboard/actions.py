"""Corrective-action pages."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.access import get_action_or_404, get_staff_visit_or_404, roles_required
from app.dashboard.forms import ActionForm, ActionStatusForm
from app.dashboard.routes import MANAGERS
from app.dashboard.services import ActionError, actions_query, create_action, is_overdue, set_action_status
from app.extensions import db
from app.models import ActionStatus
from app.visits.lifecycle import failed_questions
from app.web import page_of, safe_next

PAGE_SIZE = 50


@roles_required(*MANAGERS)
def actions() -> ResponseReturnValue:
    """List corrective actions in the user's regions; overdue ones flagged and first."""
    status = request.args.get("status") or None
    if status not in (None, *(s.value for s in ActionStatus)):
        status = None
    overdue_only = request.args.get("overdue") == "1"
    stmt = actions_query(current_user, status=ActionStatus(status) if status else None, overdue_only=overdue_only)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = page_of(total, PAGE_SIZE)
    items = db.session.scalars(stmt.limit(page.size).offset(page.start)).all()
    return render_template(
        "dashboard/actions.html", actions=items, status=status, overdue_only=overdue_only, total=total,
        page=page, today=date.today(), is_overdue=is_overdue,
        status_form=ActionStatusForm(), statuses=list(ActionStatus),
    )


@roles_required(*MANAGERS)
def new_action(visit_id: int) -> ResponseReturnValue:
    """Create a corrective action for a failed question of a visit."""
    visit = get_staff_visit_or_404(visit_id, current_user)
    question_id = request.values.get("question", "")
    if question_id not in failed_questions(visit):
        abort(404)
    question = visit.checklist.question(question_id)
    form = ActionForm()
    due_date = form.due_date.data
    if form.validate_on_submit() and due_date:  # DataRequired has made sure of every field
        try:
            create_action(visit, question_id, description=form.description.data or "",
                          owner_name=form.owner_name.data or "", owner_email=form.owner_email.data or "",
                          due_date=due_date, user=current_user)
        except ActionError as exc:
            form.description.errors = [*form.description.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Corrective action created."), "success")
            return redirect(url_for("dashboard.location", location_id=visit.location_id) + "#actions")
    elif request.method == "GET":
        form.description.data = question.text
    return render_template("dashboard/action_form.html", form=form, visit=visit, question=question,
                           question_id=question_id)


@roles_required(*MANAGERS)
def action_status(action_id: int) -> ResponseReturnValue:
    """Move a corrective action to done / verified / open again."""
    action = get_action_or_404(action_id, current_user)
    form = ActionStatusForm()
    if not form.validate_on_submit():
        flash(_("Choose a valid state."), "error")
    else:
        try:
            set_action_status(action, ActionStatus(form.status.data), current_user)
        except ActionError:
            flash(_("This change of state is not allowed."), "error")
        else:
            db.session.commit()
            flash(_("Action updated."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.actions"))
