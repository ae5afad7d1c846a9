"""The messages the app sends, one function each: who gets it, in which language, with which words and link."""
from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _

from app.mail import outbox
from app.mail.messages import compose, external_url, language_of, page_language
from app.models import User, Visit

log = logging.getLogger(__name__)


def visit_assigned(visit: Visit) -> None:
    """Tell the shopper of a newly planned visit (or one moved to them) about it, after the commit."""
    shopper = visit.shopper
    if not outbox.configured():
        outbox.not_sent("visit_assigned", shopper.email)
        return
    try:
        message = compose(
            "visit_assigned", shopper,
            lambda: _("New visit: %(location)s", location=visit.location.name),
            "visit_assigned", visit=visit, link=external_url("field.detail", visit_id=visit.id),
            company=current_app.config["COMPANY_NAME"])
    except Exception:  # a broken message must not undo the assignment
        log.exception("Could not compose the assignment mail of visit %s", visit.id)
        return
    outbox.send_after_commit(message)


def visit_returned(visit: Visit) -> None:
    """Tell the shopper that a visit came back for correction, with the manager's comment, after the commit."""
    shopper = visit.shopper
    if not outbox.configured():
        outbox.not_sent("visit_returned", shopper.email)
        return
    try:
        message = compose(
            "visit_returned", shopper,
            lambda: _("Visit returned for correction: %(location)s", location=visit.location.name),
            "visit_returned", visit=visit, comment=visit.review_comment or "",
            link=external_url("field.detail", visit_id=visit.id), company=current_app.config["COMPANY_NAME"])
    except Exception:  # a broken message must not undo the return
        log.exception("Could not compose the return mail of visit %s", visit.id)
        return
    outbox.send_after_commit(message)


def password_reset(user: User, link: str, minutes: int) -> None:
    """Send `user` the link that sets a new password (in their language, else the page's); no commit needed."""
    if not outbox.configured():
        outbox.not_sent("password_reset", user.email)
        return
    message = compose("password_reset", user, lambda: _("Set a new password"), "password_reset",
                      language=language_of(user, page_language()), link=link, minutes=minutes,
                      company=current_app.config["COMPANY_NAME"])
    outbox.send_now(message)
