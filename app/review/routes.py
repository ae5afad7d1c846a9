"""Review pages: the queue of submitted visits, the whole visit, decisions, the comment library."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import get_comment_or_404, get_staff_visit_or_404, roles_required
from app.extensions import db
from app.models import CorrectiveAction, Role, Visit
from app.review import services
from app.review.forms import DecisionForm, LibraryForm
from app.visits import lifecycle, risk
from app.visits.errors import VisitError
from app.visits.proof import proof_of_visit
from app.visits.risk import RiskSettings
from app.web import page_of, safe_next

MANAGERS = (Role.manager, Role.admin)
PAGE_SIZE = 50


def _queue_view() -> services.QueueView:
    """Return the queue's order and risk filter from ?sort=risk and ?risk=high (anything else: the default)."""
    sort = request.args.get("sort", "oldest")
    high = request.args.get("risk") == "high"
    return services.QueueView(sort=sort if sort in services.SORTS else "oldest",
                              min_risk=RiskSettings.current().high if high else None)


@roles_required(*MANAGERS)
def queue() -> ResponseReturnValue:
    """List the submitted visits waiting for review in the user's regions, oldest or riskiest first."""
    view = _queue_view()
    total = services.queue_count(current_user, view)
    waiting = total if view.min_risk is None else services.queue_count(current_user)
    page = page_of(total, PAGE_SIZE)
    queue = services.queue_query(current_user, view)
    visits = db.session.scalars(queue.limit(page.size).offset(page.start)).all()
    return render_template("review/queue.html", visits=visits, total=total, waiting=waiting, page=page.number,
                           pages=page.pages, view=view)


@roles_required(*MANAGERS)
def visit(visit_id: int) -> ResponseReturnValue:
    """Show the whole visit: answers, photos, timings, score breakdown, proof of visit, decisions."""
    item = get_staff_visit_or_404(visit_id, current_user)
    return render_visit(item, DecisionForm())


def render_visit(item: Visit, form: DecisionForm, status: int = 200,
                 marks: dict[str, str] | None = None) -> tuple[str, int]:
    """Render the review page of a visit (also after a refused decision, with the form's errors and the
    notes typed beside the questions, so none is lost)."""
    actions = db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.visit_id == item.id)
                                 .order_by(CorrectiveAction.id)).all()
    next_id = db.session.scalar(services.queue_query(current_user)
                                .where(Visit.id != item.id).with_only_columns(Visit.id).limit(1))
    return render_template(
        "review/visit.html", visit=item, form=form, sections=services.visit_sections(item),
        proof=proof_of_visit(item) if item.submitted_at else None, library=services.library(current_user),
        library_form=LibraryForm(), actions=actions, failed=lifecycle.failed_questions(item), next_id=next_id,
        decidable=lifecycle.allows(item, "approve"), voidable=lifecycle.allows(item, "void"),
        returnable=lifecycle.allows(item, "return"), critical_failures=lifecycle.critical_failures(item),
        risk_reasons=risk.explain(item, current_user), marks=marks or {},
    ), status


@roles_required(*MANAGERS)
def decide(visit_id: int) -> ResponseReturnValue:
    """Approve, return for correction (with a comment) or void (with a reason) a visit."""
    item = get_staff_visit_or_404(visit_id, current_user)
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_visit(item, form, 400)
    decision, text = form.decision.data, form.comment.data or ""
    marks = services.marks_from(request.form)
    if marks and decision != "return":
        # Notes on questions reach the shopper only with a return: approving or voiding would drop them unseen.
        form.comment.errors = [_("Notes beside questions are sent with a return for correction only: return the "
                                 "visit, or clear the notes.")]
        return render_visit(item, form, 400, marks)
    try:
        if decision == "approve":
            lifecycle.approve(item, current_user, text)
            message = _("Visit approved.")
        elif decision == "return":
            lifecycle.return_for_correction(item, current_user, text, marks=marks)
            message = _("Visit returned to the shopper for correction.")
        elif decision == "void":
            lifecycle.void(item, current_user, text)
            message = _("Visit voided.")
        else:
            abort(400)
    except VisitError as exc:
        db.session.rollback()
        form.comment.errors = [str(exc.message)]
        return render_visit(item, form, 400, marks)
    db.session.commit()
    flash(message, "success")
    following = db.session.scalar(services.queue_query(current_user)
                                  .with_only_columns(Visit.id).limit(1))
    if following is not None and request.form.get("next") == "queue":
        return redirect(url_for("review.visit", visit_id=following))
    return redirect(url_for("review.visit", visit_id=item.id))


@roles_required(*MANAGERS)
def add_comment() -> ResponseReturnValue:
    """Add a comment to the reviewer's library."""
    form = LibraryForm()
    if form.validate_on_submit():
        try:
            services.add_comment(current_user, form.text.data or "")
        except services.ReviewError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Comment added to your library."), "success")
    else:
        flash(_("Write the comment first."), "error")
    return redirect(_back())


@roles_required(*MANAGERS)
def delete_comment(comment_id: int) -> ResponseReturnValue:
    """Remove a comment from the reviewer's library."""
    comment = get_comment_or_404(comment_id, current_user)
    db.session.delete(comment)
    db.session.commit()
    flash(_("Comment removed from your library."), "success")
    return redirect(_back())


def _back() -> str:
    return safe_next(request.form.get("back")) or url_for("review.queue")
