"""Composing a message: in the recipient's language, plain text plus HTML, from templates/mail/<name>.txt|html."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, has_request_context, render_template, url_for
from flask_babel import force_locale, get_locale

from app.mail.outbox import Attachment, Message
from app.models import User


def language_of(user: User, fallback: str | None = None) -> str:
    """Return the language to write to `user` in: the one they last chose in the app, else `fallback` (the page's
    language when they asked for the mail themselves), else the default."""
    languages = current_app.config["LANGUAGES"]
    for choice in (user.locale, fallback):
        if choice in languages:
            return str(choice)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def page_language() -> str | None:
    """Return the language of the current page, or None outside a request."""
    return str(get_locale()) if has_request_context() else None


def external_url(endpoint: str, **values: Any) -> str:
    """Return an absolute link for a message: on PUBLIC_BASE_URL when set (never taken from the request's Host
    header, which whoever asks for a reset mail controls), else this server's own address."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return str(base).rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def compose(kind: str, user: User, subject: Callable[[], str], template: str, *, language: str | None = None,
            attachments: tuple[Attachment, ...] = (), **context: Any) -> Message:
    """Render the message `template` to `user` in their language (or `language`): `subject()` is called, and both
    parts rendered, with that language in force."""
    lang = language or language_of(user)
    # flask-babel's force_locale does nothing while `g` is still empty (a job's fresh app context).
    g.mail_language = lang
    with force_locale(lang):
        title = str(subject())
        values = {"recipient": user, "subject": title, "mail_language": lang, **context}
        text = render_template(f"mail/{template}.txt", **values)
        html = render_template(f"mail/{template}.html", **values)
    return Message(kind=kind, to=user.email, subject=title, text=text, html=html, attachments=attachments)
