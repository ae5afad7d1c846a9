"""Review pages: the queue of submitted visits, the whole visit, decisions, the comment library."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.checklists.questions import clock
from app.dashboard.services import failed_questions, get_visit_or_404
from app.extensions import db
from app.models import CorrectiveAction, Role, VisitStatus
from app.review import services
from app.review.forms import DecisionForm, LibraryForm
from app.security import region_scope, roles_required

bp = Blueprint("review", __name__, url_prefix="/review", template_folder="templates")
MANAGERS = (Role.manager, Role.admin)
PAGE_SIZE = 50


@bp.route("/")
@roles_required(*MANAGERS)
def queue():
    """List the submitted visits waiting for review in the user's regions, oldest first."""
    scope = region_scope(current_user)
    total = services.queue_count(scope)
    page = max(request.args.get("page", 1, type=int), 1)
    visits = db.session.scalars(services.queue_query(scope).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("review/queue.html", visits=visits, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@bp.route("/visits/<int:visit_id>")
@roles_required(*MANAGERS)
def visit(visit_id: int):
    """Show the whole visit: answers, photos, timings, score breakdown, proof of visit, decisions."""
    item = get_visit_or_404(visit_id, current_user)
    return render_visit(item, DecisionForm())


def render_visit(item, form, status=200):
    """Render the review page of a visit (also after a refused decision, with the form's errors)."""
    from app.visits.proof import proof_of_visit

    actions = db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.visit_id == item.id)
                                 .order_by(CorrectiveAction.id)).all()
    next_id = db.session.scalar(services.queue_query(region_scope(current_user))
                                .where(services.Visit.id != item.id).with_only_columns(services.Visit.id).limit(1))
    return render_template(
        "review/visit.html", visit=item, form=form, sections=services.visit_sections(item),
        proof=proof_of_visit(item) if item.submitted_at else None, library=services.library(current_user),
        library_form=LibraryForm(), actions=actions, failed=failed_questions(item), next_id=next_id,
        decidable=item.status == VisitStatus.submitted, voidable=item.status in services.VOIDABLE,
        returnable=item.status in (VisitStatus.submitted, VisitStatus.approved), clock=clock,
    ), status


@bp.route("/visits/<int:visit_id>/decision", methods=["POST"])
@roles_required(*MANAGERS)
def decide(visit_id: int):
    """Approve, return for correction (with a comment) or void (with a reason) a visit."""
    item = get_visit_or_404(visit_id, current_user)
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_visit(item, form, 400)
    decision, text = form.decision.data, form.comment.data or ""
    try:
        if decision == "approve":
            services.approve(item, current_user, text)
            message = _("Visit approved.")
        elif decision == "return":
            services.return_visit(item, current_user, text)
            message = _("Visit returned to the shopper for correction.")
        elif decision == "void":
            services.void(item, current_user, text)
            message = _("Visit voided.")
        else:
            abort(400)
    except services.ReviewError as exc:
        db.session.rollback()
        form.comment.errors = [str(exc)]
        return render_visit(item, form, 400)
    db.session.commit()
    flash(message, "success")
    following = db.session.scalar(services.queue_query(region_scope(current_user))
                                  .with_only_columns(services.Visit.id).limit(1))
    if following is not None and request.form.get("next") == "queue":
        return redirect(url_for("review.visit", visit_id=following))
    return redirect(url_for("review.visit", visit_id=item.id))


@bp.route("/comments", methods=["POST"])
@roles_required(*MANAGERS)
def add_comment():
    """Add a comment to the reviewer's library."""
    form = LibraryForm()
    if form.validate_on_submit():
        try:
            services.add_comment(current_user, form.text.data)
        except services.ReviewError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Comment added to your library."), "success")
    else:
        flash(_("Write the comment first."), "error")
    return redirect(_back())


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def delete_comment(comment_id: int):
    """Remove a comment from the reviewer's library."""
    comment = services.get_comment_or_404(comment_id, current_user)
    db.session.delete(comment)
    db.session.commit()
    flash(_("Comment removed from your library."), "success")
    return redirect(_back())


def _back() -> str:
    target = request.form.get("back", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("review.queue")
