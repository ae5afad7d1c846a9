"""Fieldaudit: mystery-shopper and quality-audit field app."""
import sqlite3
from collections.abc import Mapping

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import labels, localtime, models, web  # noqa: F401  (models: every table registered with SQLAlchemy)
from app.access import refuse_undeclared_routes
from app.analytics import rollups
from app.config import load_config
from app.extensions import babel, csrf, db, limiter, login_manager, migrate, talisman
from app.mail import outbox
from app.ops import logs as ops_logs
from app.ops import metrics
from app.storage import StorageError
from app.web import wants_json
from app.webhooks import delivery as webhook_delivery

#: Seconds a client is asked to wait before retrying while the database or Redis is unreachable.
RETRY_AFTER_SECONDS = 30

#: How long an SQLite writer waits for another one to commit (ms); a request, not a phone's retry loop.
SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Set up every SQLite connection: WAL, a busy timeout, and a lower() that folds Cyrillic.

    In the default rollback journal one long read (an export) locks out every writer, and phones'
    drafts fail with "database is locked"; in WAL readers and the one writer never wait on each
    other. lower() folds Cyrillic like PostgreSQL's, so case-insensitive search and checks agree.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")  # "memory" for in-memory databases
        dbapi_connection.create_function("lower", 1, lambda v: v.lower() if isinstance(v, str) else v,
                                         deterministic=True)


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Create and configure the application; no queries, no I/O beyond reading config."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)

    if app.config["PROXY_COUNT"]:
        # Behind nginx or a load balancer: take the client's address and scheme from the proxy's
        # headers, or every customer would share one IP for the rate limits.
        hops = int(app.config["PROXY_COUNT"])
        # Flask's documented way to add WSGI middleware; its stubs declare wsgi_app a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    ops_logs.register(app)  # first, so that every request, refused ones too, has its id
    db.init_app(app)
    rollups.install()  # figures' sums kept with the facts, in the same transaction
    outbox.init_app(app)  # Flask-Mailman; mail waits for the commit of the change it tells of
    webhook_delivery.init_app(app)  # webhooks wait for the commit too
    # Batch mode lets Alembic alter tables on SQLite, which has no ALTER COLUMN.
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    init_security_headers(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    # "basic" only marks a session non-fresh when the network changes, so a shopper whose
    # phone moves from Wi-Fi to mobile data stays signed in; "strong" would log them out.
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(unauthorized)

    app.before_request(refuse_undeclared_routes)
    app.before_request(web.refuse_unstorable_input)
    metrics.register(app)
    labels.register(app)
    localtime.register(app)
    web.register(app)
    register_blueprints(app)
    register_cli(app)
    register_error_handlers(app)

    @app.context_processor
    def inject_globals() -> dict[str, object]:
        return {"languages": app.config["LANGUAGES"], "current_locale": str(get_locale() or "en")}

    return app


#: No inline script or event handler anywhere: scripts come from the app's own static files. Photos on
#: the phone are previewed from blob: URLs; charts are inline SVG. Inline style attributes remain
#: (the print templates and a few pages set colours per value), so styles allow 'unsafe-inline'.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def init_security_headers(app: Flask) -> None:
    """Send the security headers on every response (HSTS and Secure cookies in production only)."""
    production = app.config["ENV_NAME"] == "production"
    # TLS ends at the reverse proxy, which redirects plain HTTP; the app never redirects itself.
    talisman.init_app(
        app, force_https=False, strict_transport_security=production, session_cookie_secure=production,
        content_security_policy=CONTENT_SECURITY_POLICY, frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
    )


def register_blueprints(app: Flask) -> None:
    from app.admin.blueprint import bp as admin
    from app.auth.blueprint import bp as auth
    from app.dashboard.blueprint import bp as dashboard
    from app.dashboard.blueprint import figures_api
    from app.field.blueprint import api as phone_api
    from app.field.blueprint import bp as field
    from app.main.blueprint import bp as main
    from app.ops.blueprint import bp as ops
    from app.planning.blueprint import bp as planning
    from app.reports.blueprint import bp as reports
    from app.review.blueprint import bp as review
    from app.surveys.blueprint import bp as surveys

    for bp in (auth, main, admin, field, phone_api, planning, dashboard, figures_api, reports, review,
               surveys, ops):
        app.register_blueprint(bp)


def register_cli(app: Flask) -> None:
    from app.analytics.cli import figures_cli
    from app.auth.cli import users_cli
    from app.backup.cli import backup_cli
    from app.checklists.cli import checklists_cli
    from app.demo.cli import demo_cli
    from app.reports.cli import reports_cli
    from app.surveys.cli import surveys_cli
    from app.visits.cli import risk_cli
    from app.worker import worker_command

    for group in (users_cli, checklists_cli, reports_cli, demo_cli, surveys_cli, figures_cli, risk_cli,
                  worker_command, backup_cli):
        app.cli.add_command(group)


def select_locale() -> str:
    """Pick the page language: the user's choice, else the browser's, else English."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs: no session, no browser
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    # Only read a user that is already loaded: loading one here can itself need a translation.
    user = g.get("_login_user")
    if not chosen and getattr(user, "is_authenticated", False):
        chosen = user.locale
    if chosen is None or chosen not in languages:
        chosen = request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    g.locale = chosen
    return chosen


def unauthorized() -> ResponseReturnValue:
    """Send anonymous page requests to the login form; API calls get a JSON 401."""
    if wants_json():
        return jsonify(error="unauthorized", message=str(_l("Your session has expired; sign in again."))), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


GENERIC_ERRORS = {
    400: _l("The request could not be understood. Check what you entered and try again."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action cannot be done this way."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
}


def register_error_handlers(app: Flask) -> None:

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        if wants_json():
            return jsonify(error="csrf", message=error.description), 400
        return render_template("errors/error.html", code=400, message=_l(
            "Your form expired or was sent twice. Nothing was lost: go back, reload the page and send it again."
        )), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code is None or error.code < 400:  # routing redirects pass through
            return error
        message = error.description
        if message == type(error).description:  # Werkzeug's English default: say it in the user's language
            message = GENERIC_ERRORS.get(error.code, message)
        if wants_json():
            return jsonify(error=error.name.lower().replace(" ", "_"), message=str(message)), error.code
        return render_template("errors/error.html", code=error.code, message=message), error.code

    @app.errorhandler(OperationalError)
    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(StorageError)
    def dependency_down(error: Exception) -> ResponseReturnValue:
        # The database, Redis or the object store is down or overloaded: a 503 the phone's queue retries, not a 500.
        app.logger.error("A dependency is unreachable: %s", type(error).__name__, exc_info=error)
        try:
            db.session.rollback()
        except Exception:  # the connection itself is gone; the pool replaces it on the next request
            app.logger.warning("Rollback after a lost connection failed", exc_info=True)
        # The page must not try to load the signed-in user from the database that just failed.
        login_manager._update_request_context_with_user()
        message = _l("The service is briefly unavailable, and nothing was saved. Try again in a minute: "
                     "the phone keeps unsent answers and sends them by itself.")
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if wants_json():
            return jsonify(error="unavailable", message=str(message)), 503, headers
        return render_template("errors/error.html", code=503, message=message), 503, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        # Never a bare 500 page: log it, undo half-done work, and say so plainly.
        app.logger.exception("Unhandled error")
        db.session.rollback()
        if wants_json():
            return jsonify(error="server_error", message=str(_l("Something went wrong; nothing was saved."))), 500
        return render_template("errors/error.html", code=500, message=_l(
            "Something went wrong on our side; nothing was saved. Please try again."
        )), 500
