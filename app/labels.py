"""The words and colour bands people see for states, events and scores: one wording each, every page.

Services, pages and PDFs take their labels from here; `register(app)` makes them template helpers.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from babel.dates import format_interval
from flask import Flask
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.analytics.stats import format_rank
from app.checklists.questions import clock
from app.models import VisitStatus

#: (lowest score, band) of the score bands, best first. The colours of each band live in CSS and charts.
SCORE_BANDS = ((90.0, "excellent"), (75.0, "good"), (60.0, "fair"), (0.0, "poor"))


def score_band(value: float | None) -> str:
    """Return the band of a score: excellent, good, fair, poor, or none without a score."""
    if value is None:
        return "none"
    return next((band for low, band in SCORE_BANDS if value >= low), "poor")


def score_class(value: float | None) -> str:
    """Return the CSS class that colours a score band on pages."""
    return f"score-{score_band(value)}"


#: The one wording of each visit state, used wherever a status is shown or put into a sentence.
STATUS_LABELS = {
    VisitStatus.planned: _l("Planned"),
    VisitStatus.in_progress: _l("In progress"),
    VisitStatus.submitted: _l("Submitted"),
    VisitStatus.returned: _l("Returned for correction"),
    VisitStatus.approved: _l("Approved"),
    VisitStatus.voided: _l("Voided"),
}


def status_label(status: VisitStatus | str) -> str:
    """Return a visit state (enum or its value) in the current language."""
    return str(STATUS_LABELS[VisitStatus(status)])


def status_labels() -> dict[str, str]:
    """Return {state value: state in the current language}, for the phone form's script."""
    return {status.value: str(label) for status, label in STATUS_LABELS.items()}


#: What happened to a visit (VisitEvent.action) in words.
EVENT_LABELS = {
    "assigned": _l("Assigned"),
    "submitted": _l("Submitted"),
    "resubmitted": _l("Corrected and resubmitted"),
    "returned": _l("Returned for correction"),
    "approved": _l("Approved"),
    "voided": _l("Voided"),
}


def event_label(action: str) -> str:
    """Return a visit event's action in the current language (unknown actions as stored)."""
    return str(EVENT_LABELS.get(action, action))


#: The labels of the default grade bands (app.checklists.schema.DEFAULT_GRADES) in the reader's language.
#: Visits store the label as the checklist gave it; the default bands are the product's words, so they are
#: translated when shown. A checklist's own labels are its text and stay as written: the format gives a band
#: one label, in the checklist's language (docs/checklists.md).
DEFAULT_GRADE_LABELS = {
    "Excellent": _l("Excellent"),
    "Good": _l("Good"),
    "Needs improvement": _l("Needs improvement"),
    "Poor": _l("Poor"),
}


def grade_text(label: str | None) -> str:
    """Return a stored grade as the reader reads it: a default label translated, a checklist's own as written.

    An em dash when there is no grade (no score).
    """
    if not label:
        return "—"
    return str(DEFAULT_GRADE_LABELS.get(label, label))


def default_grade_texts() -> dict[str, str]:
    """Return {stored default label: label in the current language}, for the phone form's own display."""
    return {label: str(text) for label, text in DEFAULT_GRADE_LABELS.items()}



#: What an audit-log entry records (AuditLog.action), in words. Every code the app writes has its phrase here:
#: tests/test_admin.py reads the code for the codes written, so a new one cannot stay a raw code on the page.
AUDIT_ACTION_LABELS = {
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.deactivate": _l("Account deactivated"),
    "user.reactivate": _l("Account reactivated"),
    "user.password_reset": _l("Password reset by an admin"),
    "user.password_change": _l("Own password changed"),
    "user.password_reset_email": _l("Password reset through an e-mailed link"),
    "region.create": _l("Region created"),
    "region.update": _l("Region changed"),
    "location.create": _l("Location created"),
    "location.update": _l("Location changed"),
    "location.deactivate": _l("Location deactivated"),
    "location.reactivate": _l("Location reactivated"),
    "visit.assign": _l("Visit assigned"),
    "visit.lockout_override": _l("Visit assigned despite the lockout"),
    "visit.edit": _l("Planned visit changed"),
    "visit.approve": _l("Visit approved"),
    "visit.return": _l("Visit returned for correction"),
    "visit.void": _l("Visit voided"),
    "visit.reviewer": _l("Reviewer of a visit assigned"),
    "action.create": _l("Corrective action created"),
    "action.status": _l("Corrective action status changed"),
    "surveys.import": _l("Survey answers imported"),
    "reports.batch": _l("Batch of PDF reports started"),
    "dashboard.export": _l("Spreadsheet export started"),
    "webhook.create": _l("Webhook endpoint added"),
    "webhook.update": _l("Webhook endpoint changed"),
    "webhook.secret": _l("Webhook secret replaced"),
    "webhook.delete": _l("Webhook endpoint deleted"),
    "webhook.ping": _l("Webhook test event sent"),
}

#: The groups of audit actions (the part of the code before the dot), for the audit log's filter.
AUDIT_GROUP_LABELS = {
    "user": _l("Accounts"),
    "region": _l("Regions"),
    "location": _l("Locations"),
    "visit": _l("Visits"),
    "action": _l("Corrective actions"),
    "surveys": _l("Surveys"),
    "reports": _l("PDF reports"),
    "dashboard": _l("Spreadsheet exports"),
    "webhook": _l("Webhooks"),
}

#: What an audit entry was done to (AuditLog.target_type: the model's class name in lower case).
AUDIT_TARGET_LABELS = {
    "user": _l("Account"),
    "region": _l("Region"),
    "location": _l("Location"),
    "visit": _l("Visit"),
    "correctiveaction": _l("Corrective action"),
    "exportjob": _l("Export"),
    "webhookendpoint": _l("Webhook endpoint"),
}


def audit_action_label(action: str) -> str:
    """Return an audit-log action code in words, in the current language (an unknown code as stored)."""
    return str(AUDIT_ACTION_LABELS.get(action, action))


def audit_group_label(group: str) -> str:
    """Return a group of audit actions ("user" or "user.") in words (an unknown group as stored)."""
    key = group.removesuffix(".")
    return str(AUDIT_GROUP_LABELS.get(key, key))


def audit_target_label(target_type: str) -> str:
    """Return what an audit entry was done to in words (an unknown type as stored)."""
    return str(AUDIT_TARGET_LABELS.get(target_type, target_type))

class DateRange(Protocol):
    start: date
    end: date


def period_text(period: DateRange) -> str:
    """Format a date range (anything with .start and .end dates) in the current language."""
    return format_interval(period.start, period.end, "yMMMd", locale=get_locale())


def datetime_text(value: datetime | None, fmt: str = "medium") -> str:
    """Format a timestamp of no particular location (audit log, accounts, jobs) in UTC, saying so.

    Times of visits and photos are read in their location's zone: app.localtime.format_local.
    """
    return f"{format_datetime(value, fmt)} UTC" if value else "—"


def rank_text(rank: tuple[int, int] | None) -> str:
    """Return a rank range as people read it ("3", "3–6"), or an em dash when not ranked."""
    return format_rank(*rank) if rank else "—"


#: The events a webhook endpoint may receive (app.webhooks.events.EVENTS, and the test event), in words.
WEBHOOK_EVENT_LABELS = {
    "visit.submitted": _l("Visit submitted"),
    "visit.approved": _l("Visit approved"),
    "visit.returned": _l("Visit returned for correction"),
    "visit.appealed": _l("Visit appealed (once appeals exist)"),
    "action.created": _l("Corrective action created"),
    "action.done": _l("Corrective action done"),
    "ping": _l("Test event"),
}


def webhook_event_label(event: str) -> str:
    """Return a webhook event name in words (unknown names as stored)."""
    return str(WEBHOOK_EVENT_LABELS.get(event, event))


class DeliveryAttempt(Protocol):
    status_code: int | None
    error: str | None


def delivery_outcome(attempt: DeliveryAttempt) -> str:
    """Return how one webhook delivery attempt ended, in words: delivered, answered with an error, a redirect
    (not followed), or no answer (and why)."""
    code = attempt.status_code
    if code is None:
        if (attempt.error or "").startswith("refused address"):
            return _("Not sent: the address is no longer accepted")
        if "Timeout" in (attempt.error or ""):
            return _("No answer in time")
        return _("No answer: the endpoint could not be reached")
    if 200 <= code < 300:
        return _("Delivered (HTTP %(code)d)", code=code)
    if 300 <= code < 400:
        return _("Redirected (HTTP %(code)d), not followed", code=code)
    return _("Refused by the endpoint (HTTP %(code)d)", code=code)


def register(app: Flask) -> None:
    """Make the labels template helpers of every page."""
    helpers: dict[str, Any] = {
        "score_class": score_class,
        "status_label": status_label,
        "status_labels": status_labels,
        "event_label": event_label,
        "clock": clock,
        "default_grade_texts": default_grade_texts,
        "audit_action_label": audit_action_label,
        "audit_group_label": audit_group_label,
        "audit_target_label": audit_target_label,
        "webhook_event_label": webhook_event_label,
        "delivery_outcome": delivery_outcome,
    }
    app.jinja_env.globals.update(helpers)
    app.jinja_env.filters.update({"period": period_text, "datetime": datetime_text, "rank": rank_text,
                                  "grade": grade_text})
