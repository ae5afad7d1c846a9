"""Admin pages of the webhooks: the endpoints (list, add, edit, secret, delete) and each one's delivery log."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.access import roles_required
from app.admin import services
from app.admin.forms import ConfirmForm, WebhookForm
from app.extensions import db
from app.models import Role, WebhookEndpoint
from app.models.audit import record
from app.web import page_of
from app.webhooks import delivery

#: Delivery attempts on one page of the log.
LOG_PAGE_SIZE = 50


def get_webhook_or_404(endpoint_id: int) -> WebhookEndpoint:
    """Return the endpoint or :raise 404:."""
    return db.session.get(WebhookEndpoint, endpoint_id) or abort(404)


@roles_required(Role.admin)
def webhooks() -> ResponseReturnValue:
    """List the endpoints with their events, state and latest delivery."""
    endpoints = db.session.scalars(services.webhook_query()).all()
    latest = services.last_deliveries(e.id for e in endpoints)
    return render_template("admin/webhooks.html", endpoints=endpoints, latest=latest)


@roles_required(Role.admin)
def webhook_edit(endpoint_id: int | None = None) -> ResponseReturnValue:
    """Register an endpoint (its secret is made here and shown on its page), or change one."""
    endpoint = get_webhook_or_404(endpoint_id) if endpoint_id is not None else None
    form = WebhookForm(obj=endpoint)
    if form.validate_on_submit():
        values: services.WebhookValues = {"url": form.url.data or "", "description": form.description.data or "",
                  "events": list(form.events.data or []), "active": bool(form.active.data)}
        if endpoint is None:
            endpoint = services.create_webhook(current_user, **values)
            flash(_("Endpoint added. Copy its secret below into the receiving system: it verifies the "
                    "signatures with it."), "success")
        else:
            services.update_webhook(current_user, endpoint, **values)
            flash(_("Saved."), "success")
        db.session.commit()
        # A new endpoint's page opens with its secret shown, to be copied; later it is shown on demand.
        return redirect(url_for("admin.webhook_edit", endpoint_id=endpoint.id, new=1 if endpoint_id is None else None))
    return render_template("admin/webhook_form.html", form=form, endpoint=endpoint, confirm=ConfirmForm(),
                           reveal=request.args.get("new") == "1")


@roles_required(Role.admin)
def webhook_secret(endpoint_id: int) -> ResponseReturnValue:
    """Replace an endpoint's secret (the old one stops verifying at once)."""
    endpoint = get_webhook_or_404(endpoint_id)
    if ConfirmForm().validate_on_submit():
        services.replace_webhook_secret(current_user, endpoint)
        db.session.commit()
        flash(_("New secret made: give it to the receiving system, the old one no longer matches."), "success")
    return redirect(url_for("admin.webhook_edit", endpoint_id=endpoint.id))


@roles_required(Role.admin)
def webhook_delete(endpoint_id: int) -> ResponseReturnValue:
    """Delete an endpoint with its delivery log."""
    endpoint = get_webhook_or_404(endpoint_id)
    if ConfirmForm().validate_on_submit():
        services.delete_webhook(current_user, endpoint)
        db.session.commit()
        flash(_("Endpoint deleted."), "success")
        return redirect(url_for("admin.webhooks"))
    return redirect(url_for("admin.webhook_edit", endpoint_id=endpoint.id))


@roles_required(Role.admin)
def webhook_log(endpoint_id: int) -> ResponseReturnValue:
    """Show an endpoint's delivery attempts, newest first, a page at a time."""
    endpoint = get_webhook_or_404(endpoint_id)
    query = services.webhook_deliveries(endpoint)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = page_of(total, LOG_PAGE_SIZE)
    rows = db.session.scalars(query.limit(page.size).offset(page.start)).all()
    return render_template("admin/webhook_log.html", endpoint=endpoint, rows=rows, page=page, total=total,
                           confirm=ConfirmForm())


@roles_required(Role.admin)
def webhook_ping(endpoint_id: int) -> ResponseReturnValue:
    """Send the test event (`ping`) to an endpoint now; its attempt appears in the log."""
    endpoint = get_webhook_or_404(endpoint_id)
    if ConfirmForm().validate_on_submit():
        record(current_user, "webhook.ping", endpoint, url=endpoint.url)
        db.session.commit()
        delivery.ping(endpoint)
        flash(_("Test event sent: reload this page in a few seconds to see how it went."), "success")
    return redirect(url_for("admin.webhook_log", endpoint_id=endpoint.id))
