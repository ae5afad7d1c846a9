"""Sending: a message waits for its transaction's commit, then goes to RQ (retried) or a thread; SMTP is spoken here.

A slow or unreachable SMTP server never blocks or fails a request: the request only queues. On RQ a failed attempt
raises, and RQ tries again after each of MAIL_RETRY_INTERVALS (the scheduler of `flask worker` runs them); on a
thread a failure is logged, not retried.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives

from app import aftercommit, worker
from app.extensions import mail

log = logging.getLogger(__name__)

#: Where a session keeps the messages of its open transaction.
PENDING = "fieldaudit_mail_pending"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the visit PDF, later)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """A rendered message to one recipient: what RQ carries to the worker (no database needed to send it)."""

    kind: str  # what it is about, for the log: "visit_assigned", "password_reset", ...
    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default=())


def configured() -> bool:
    """Return True when an SMTP server is set (MAIL_SERVER): without one, mail is logged, not sent."""
    return bool(current_app.config.get("MAIL_SERVER"))


def not_sent(kind: str, to: str) -> None:
    """Log that a message was not sent because no SMTP server is configured."""
    log.info("Mail not sent (MAIL_SERVER is not set): %s to %s", kind, to)


def send_after_commit(message: Message) -> None:
    """Send `message` once the current transaction commits; nothing is sent if it rolls back."""
    if not configured():
        not_sent(message.kind, message.to)
        return
    aftercommit.hold(PENDING, message)


def send_now(message: Message) -> None:
    """Send `message` outside the request without waiting for a commit (nothing in the database depends on it)."""
    if not configured():
        not_sent(message.kind, message.to)
        return
    _dispatch([message])


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman to the app; mail waits for the commit of the change it tells of (called by the factory)."""
    mail.init_app(app)
    aftercommit.register(PENDING, "Mail", _dispatch, lambda message: message.kind)


def _dispatch(messages: list[Message]) -> None:
    """Queue each message on RQ when REDIS_URL is set (falling back to a thread if Redis is down), else a thread."""
    config = current_app.config
    worker.run_in_background(messages, deliver_job, queue=worker.MAIL_QUEUE, retries=3,
                             intervals=[int(s) for s in config["MAIL_RETRY_INTERVALS"]],
                             job_timeout=int(config["MAIL_TIMEOUT"]) * 3 + 30, in_thread=_deliver_in_thread,
                             name="mail")


def _deliver_in_thread(messages: list[Message]) -> None:
    for message in messages:
        try:
            deliver(message)
        except Exception as exc:  # nobody waits for this thread: say it in the log
            log.error("Mail %s to %s failed and is not retried (no Redis): %s: %s",
                      message.kind, message.to, type(exc).__name__, exc)


def deliver_job(message: Message) -> None:
    """RQ job: send one message; an SMTP failure raises, so that RQ tries again later."""
    try:
        deliver(message)
    except Exception as exc:
        log.warning("Mail %s to %s failed, RQ retries it: %s: %s", message.kind, message.to, type(exc).__name__, exc)
        raise


def deliver(message: Message) -> None:
    """Send one message over SMTP now, with the current settings; raise when the server refuses or cannot be
    reached within MAIL_TIMEOUT."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        not_sent(message.kind, message.to)
        return
    connection = mail.get_connection(
        backend=config.get("MAIL_BACKEND") or "smtp", host=config["MAIL_SERVER"], port=int(config["MAIL_PORT"]),
        username=config.get("MAIL_USERNAME") or "", password=config.get("MAIL_PASSWORD") or "",
        use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
        timeout=float(config["MAIL_TIMEOUT"]))
    email = EmailMultiAlternatives(subject=message.subject, body=message.text,
                                   from_email=config["MAIL_DEFAULT_SENDER"], to=[message.to], connection=connection)
    email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment.filename, attachment.content, attachment.mimetype)
    email.send()
    log.info("Mail sent: %s to %s", message.kind, message.to)
