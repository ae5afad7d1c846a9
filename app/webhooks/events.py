"""The events webhooks tell, and what each one says.

A body names ids, codes, states, scores and links, never people: no shopper's name or e-mail address, nor the
owner of a corrective action. `visit.appealed` is a registered name an endpoint may subscribe to; nothing fires
it until appeals exist (issue #15), and docs/webhooks.md says so.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from werkzeug.routing import BuildError

from app.models import CorrectiveAction, Visit
from app.webhooks import delivery

VISIT_SUBMITTED, VISIT_APPROVED, VISIT_RETURNED, VISIT_APPEALED = (
    "visit.submitted", "visit.approved", "visit.returned", "visit.appealed")
ACTION_CREATED, ACTION_DONE = "action.created", "action.done"
#: The events an endpoint may subscribe to, in the order the admin page lists them.
EVENTS = (VISIT_SUBMITTED, VISIT_APPROVED, VISIT_RETURNED, VISIT_APPEALED, ACTION_CREATED, ACTION_DONE)
#: Sent by the "send a test event" button to one endpoint, whatever it subscribed to.
PING = "ping"


def _link(endpoint: str, **values: Any) -> str | None:
    """Return an absolute link on PUBLIC_BASE_URL (else this server's name), or None outside a request when
    neither is known (a CLI run without SERVER_NAME)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    try:
        if base:
            return str(base).rstrip("/") + url_for(endpoint, **values)
        return url_for(endpoint, _external=True, **values)
    except (BuildError, RuntimeError):
        return None


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def visit_data(visit: Visit) -> dict[str, Any]:
    """Return what an event says of a visit (no shopper)."""
    location, version = visit.location, visit.checklist_version
    return {"visit": {
        "id": visit.id, "status": visit.status.value,
        "location": {"id": location.id, "code": location.code, "region_code": location.region.code},
        "checklist": {"id": version.checklist_id, "version": version.version},
        "score": visit.score, "grade": visit.grade,
        "visited_at": _iso(visit.visited_at), "reviewed_at": _iso(visit.reviewed_at),
        "url": _link("review.visit", visit_id=visit.id), "pdf_url": _link("reports.visit_pdf", visit_id=visit.id),
    }}


def action_data(action: CorrectiveAction) -> dict[str, Any]:
    """Return what an event says of a corrective action (no owner: a person)."""
    location = action.location
    return {"action": {
        "id": action.id, "status": action.status.value, "visit_id": action.visit_id,
        "question_id": action.question_id, "description": action.description,
        "location": {"id": location.id, "code": location.code, "region_code": location.region.code},
        "due_date": action.due_date.isoformat(), "created_at": _iso(action.created_at),
        "done_at": _iso(action.done_at),
        "url": _link("dashboard.actions"), "visit_url": _link("review.visit", visit_id=action.visit_id),
    }}


def visit_event(event: str, visit: Visit) -> None:
    """Tell the endpoints subscribed to `event` about `visit` once the transaction commits."""
    delivery.fire(event, lambda: visit_data(visit))


def action_event(event: str, action: CorrectiveAction) -> None:
    """Tell the endpoints subscribed to `event` about `action` once the transaction commits."""
    delivery.fire(event, lambda: action_data(action))
