"""The messages the app sends, one function each: who gets it, in which language, with which words and link."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from app.mail import outbox
from app.mail.messages import compose, language_of, page_language
from app.models import User


def password_reset(user: User, link: str, minutes: int) -> None:
    """Send `user` the link that sets a new password (in their language, else the page's); no commit needed."""
    if not outbox.configured():
        outbox.not_sent("password_reset", user.email)
        return
    message = compose("password_reset", user, lambda: _("Set a new password"), "password_reset",
                      language=language_of(user, page_language()), link=link, minutes=minutes,
                      company=current_app.config["COMPANY_NAME"])
    outbox.send_now(message)
