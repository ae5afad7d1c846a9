"""Logs a machine can read: one JSON object per line, each with the request id it belongs to.

A request id comes from the proxy's X-Request-ID (nginx's $request_id) when it is a sane token, or
is made here; it is sent back in the response, so a shopper's "it failed" screenshot, the nginx
log and the app's log lines of that request can be matched.
"""
import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestContext(logging.Filter):
    """Add the request id (and the signed-in user's id) to every record logged during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        user = g.get("_login_user") if has_request_context() else None  # only a user already loaded
        record.user_id = getattr(user, "id", None)
        return True


def json_handler() -> logging.Handler:
    handler = logging.StreamHandler()  # stderr, which gunicorn and systemd's journal collect
    handler.setFormatter(JsonFormatter("{levelname}{name}{message}", style="{", timestamp="time",
                                       rename_fields={"levelname": "level", "name": "logger"}))
    handler.addFilter(RequestContext())
    return handler


def _start() -> None:
    sent = request.headers.get(HEADER, "")
    g.request_id = sent if _SANE.fullmatch(sent) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[HEADER] = g.get("request_id", "")
    if "request_started" in g:
        logging.getLogger("app.requests").info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={"method": request.method, "path": request.path, "endpoint": request.endpoint,
                   "status": response.status_code,
                   "ms": round((time.perf_counter() - g.request_started) * 1000, 1)})
    return response


def register(app: Flask) -> None:
    """Give every request an id; with LOG_FORMAT "json", log as JSON lines, one per request among them."""
    app.before_request(_start)
    app.after_request(_finish)
    if app.config["LOG_FORMAT"] == "json":
        logger = logging.getLogger("app")  # the app's own loggers (app.*) and Flask's app.logger
        logger.handlers[:] = [json_handler()]
        logger.setLevel(app.config["LOG_LEVEL"])
        logger.propagate = False
