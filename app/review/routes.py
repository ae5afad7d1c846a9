"""Review pages: the queue of submitted visits, the whole visit, decisions, the comment library."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.access import get_comment_or_404, get_staff_visit_or_404, roles_required
from app.extensions import db
from app.models import CorrectiveAction, Role, User, Visit
from app.review import services
from app.review.forms import BulkApproveForm, DecisionForm, LibraryForm, ReviewerForm
from app.visits import lifecycle, risk
from app.visits.errors import VisitError
from app.visits.proof import proof_of_visit
from app.visits.risk import RiskSettings
from app.web import page_of, safe_next

MANAGERS = (Role.manager, Role.admin)
PAGE_SIZE = 50


@roles_required(*MANAGERS)
def queue() -> ResponseReturnValue:
    """List the submitted visits waiting for review in the user's regions, filtered and sorted by the query string
    (a value not valid is ignored and said so on the page)."""
    programmes, regions = services.programme_choices(), services.region_choices(current_user)
    view, notes = services.read_view(request.args, programmes=[p for p, _title in programmes],
                                     regions=[r.id for r in regions])
    counts = services.queue_counts(current_user, view)
    page = page_of(counts.shown, PAGE_SIZE)
    visits = services.queue_page(current_user, view, page.size, page.start)
    return render_template("review/queue.html", visits=visits, counts=counts, page=page.number, pages=page.pages,
                           view=view, notes=notes, programmes=programmes, regions=regions,
                           bulk_form=BulkApproveForm(), age_choices=AGE_CHOICES)


#: The waiting times the queue's filter offers, in days (?age= takes any number of days).
AGE_CHOICES = (1, 2, 3, 7, 14, 30)


@roles_required(*MANAGERS)
def approve_selected() -> ResponseReturnValue:
    """Approve the ticked visits of the queue in one transaction; say how many, and which were left alone and why."""
    form = BulkApproveForm()
    back = safe_next(request.form.get("back")) or url_for("review.queue")
    ids = {int(raw) for raw in request.form.getlist("visit") if raw.isascii() and raw.isdigit() and len(raw) < 10}
    if not form.validate_on_submit() or not ids:
        flash(_("Tick the visits to approve first."), "error")
        return redirect(back)
    if len(ids) > services.MAX_BULK:
        abort(400, _("At most %(n)d visits can be approved at once.", n=services.MAX_BULK))
    try:
        result = services.approve_selected(current_user, ids, include_high_risk=bool(form.include_high_risk.data),
                                           settings=RiskSettings.current())
    except VisitError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back)
    db.session.commit()
    approved = len(result.approved)
    flash(ngettext("%(num)d visit approved.", "%(num)d visits approved.", approved),
          "success" if approved else "error")
    if result.changed:
        flash(_("Left alone, no longer waiting for review: %(names)s.",
                names=", ".join(services.visit_name(v) for v in result.changed)), "error")
    if result.high_risk:
        flash(_("Left alone, high risk (tick \"Include high-risk visits\" to approve them too): %(names)s.",
                names=", ".join(services.visit_name(v) for v in result.high_risk)), "error")
    if result.unavailable:
        flash(ngettext("%(num)d selected visit was not found in your regions.",
                       "%(num)d selected visits were not found in your regions.", result.unavailable), "error")
    return redirect(back)


@roles_required(*MANAGERS)
def assign_reviewer(visit_id: int) -> ResponseReturnValue:
    """Take a waiting visit for review ("me"), give it to another manager of its region (their id), or release it
    (empty)."""
    item = get_staff_visit_or_404(visit_id, current_user)
    ReviewerForm().validate_on_submit()  # the CSRF check ran before the view; the form only names the field
    back = safe_next(request.form.get("back")) or url_for("review.visit", visit_id=item.id)
    raw = (request.form.get("reviewer") or "").strip()
    reviewer: User | None
    if raw == "me":
        reviewer = current_user
    elif not raw:
        reviewer = None
    elif raw.isascii() and raw.isdigit() and len(raw) < 10 and (found := db.session.get(User, int(raw))):
        reviewer = found
    else:
        abort(400, _("Choose a manager of the visit's region."))
    try:
        changed = services.assign_reviewer(item, current_user, reviewer)
    except services.ReviewError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back)
    db.session.commit()
    if changed:
        flash(_("Nobody reviews %(visit)s now.", visit=services.visit_name(item)) if reviewer is None else
              _("%(name)s reviews %(visit)s.", name=reviewer.name, visit=services.visit_name(item)), "success")
    return redirect(back)


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
        reviewers=services.reviewer_choices(item), reviewer_form=ReviewerForm(),
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
