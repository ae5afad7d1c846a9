"""Request helpers every page shares: JSON or HTML errors, safe redirects, figures' filters, navigation, the pages of
export jobs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import IntegerConverter, Map

from app import jobs
from app.access import get_job_or_404, get_region_or_404, region_scope, scope_of
from app.analytics.filters import FilterError, FilterForm, Filters, read_args
from app.extensions import db
from app.models import ExportJob, Role
from app.storage import storage

#: (endpoint, label, roles) of the main navigation; items of features not installed are skipped.
NAVIGATION = [
    ("field.my_visits", _l("My visits"), {Role.shopper}),
    ("dashboard.index", _l("Dashboard"), {Role.manager, Role.admin}),
    ("review.queue", _l("Review"), {Role.manager, Role.admin}),
    ("planning.index", _l("Planning"), {Role.manager, Role.admin}),
    ("dashboard.actions", _l("Actions"), {Role.manager, Role.admin}),
    ("surveys.index", _l("Surveys"), {Role.manager, Role.admin}),
    ("admin.index", _l("Admin"), {Role.admin}),
]


#: Largest id a database integer column holds: a bigger number in a URL is "not found", not an overflow.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route: a positive id the database can hold, anything else is a 404."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def int_arg(name: str, default: int | None = None, *, high: int = MAX_ID) -> int | None:
    """Return a query-string number from 1 to `high` written in ASCII digits, else `default` (never an error)."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return default
    value = int(raw)
    return value if 1 <= value <= high else default


def page_arg() -> int:
    """Return ?page= as a page number (1 when missing or not a sensible number)."""
    return int_arg("page", 1, high=MAX_PAGE) or 1


@dataclass(frozen=True)
class Page:
    """One page of a list already in memory: which page, of how many, and where it starts."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(-(-self.total // self.size), 1)

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    @property
    def end(self) -> int:
        return min(self.start + self.size, self.total)


def page_of(total: int, size: int) -> Page:
    """Return the ?page= of a list of `total` items, `size` to a page; past the end is the last page."""
    return Page(min(page_arg(), Page(1, size, total).pages), size, total)


def _unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)


def refuse_unstorable_input() -> None:
    """before_request hook: a NUL character (or half a surrogate pair) in the path, the query or a form
    field is never something a person typed, and the database could not store or even search for it.

    :raise 404: in the path; :raise 400: in the query string or the form.
    """
    if any(isinstance(v, str) and _unstorable(v) for v in (request.view_args or {}).values()):
        abort(404)
    values = [*request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any(isinstance(value, str) and _unstorable(value) for value in values):
        abort(400, _l("The request contains characters that cannot be stored (a NUL byte?)."))


def wants_json() -> bool:
    """Return True when the client should get errors as JSON (the phone's API calls)."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else None (no open redirects).

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so "/\\t/evil.example"
    would leave the site: any control character or backslash makes the target unsafe.
    """
    if not target or any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def request_filters(*, location_id: int | None = None, strict: bool = False) -> tuple[Filters, FilterForm]:
    """Return the figures' filter of the query string for the signed-in manager, and the filter bar.

    :raise 404: for a region outside the user's scope (never an empty page of its figures);
    :raise 400: with strict=True (downloads, the API) when the filter is not valid.
    """
    region = int_arg("region")
    if region is not None:
        get_region_or_404(region, current_user)
    try:
        return read_args(request.args, scope=region_scope(current_user), location_id=location_id, strict=strict)
    except FilterError as exc:
        abort(400, str(exc))


def nav_items() -> list[dict[str, Any]]:
    """Return the navigation entries the signed-in user may use."""
    items = []
    for endpoint, label, roles in NAVIGATION:
        if current_user.role in roles and endpoint in current_app.view_functions:
            items.append({
                "url": url_for(endpoint),
                "label": label,
                "active": (request.endpoint or "").split(".")[0] == endpoint.split(".")[0],
            })
    return items


def url_with(**overrides: Any) -> str:
    """Return the current page's URL with some query arguments replaced (None drops one)."""
    args: dict[str, Any] = request.args.to_dict()
    args.update(overrides)
    args = {k: v for k, v in args.items() if v is not None}
    return url_for(request.endpoint or "main.home", **(request.view_args or {}), **args)


def sees_whole_network() -> bool:
    """Return True when the signed-in user's figures cover the whole network."""
    return scope_of(current_user).whole_network


def register(app: Flask) -> None:
    """Bound every route's ids; make the navigation and link helpers template globals of every page."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.jinja_env.globals.update(nav_items=nav_items, url_with=url_with, sees_whole_network=sees_whole_network)


def job_or_404(job_id: str, kind: str) -> ExportJob:
    """Return the signed-in user's export job of `kind`, failed first if its worker stopped; :raise 404: otherwise."""
    job = get_job_or_404(job_id, kind, current_user)
    if jobs.fail_if_interrupted(job):
        db.session.commit()
    return job


def send_job_file(job: ExportJob, download_name: str, mimetype: str) -> Response:
    """Send a finished job's file as a download; :raise 404: when it is not ready or was deleted."""
    key = jobs.ready_file(job)
    try:
        if key is None:
            raise FileNotFoundError(job.result_path)
        response = storage().send(key, mimetype=mimetype, download_name=download_name)
    except FileNotFoundError:
        abort(404, _("This export is not ready, or its file was deleted. Start it again."))
    current_app.logger.info("Export %s downloaded by %s", job.id, current_user.id)
    response.headers["Cache-Control"] = "private, no-store"
    return response
