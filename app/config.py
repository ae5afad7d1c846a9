"""Configuration defaults; instance/config.py and the environment override them."""
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

REPO_ROOT = Path(__file__).resolve().parent.parent


def database_url(url: str) -> str:
    """Return a SQLAlchemy URL that uses psycopg 3 for plain postgres:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(app: Flask, test_config: Mapping[str, object] | None = None) -> None:
    """Fill app.config: defaults, then instance/config.py, then environment, then test_config."""
    instance = Path(app.instance_path)
    app.config.from_mapping(
        ENV_NAME=os.environ.get("FIELDAUDIT_ENV", "development"),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'fieldaudit.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        CHECKLISTS_DIR=str(REPO_ROOT / "checklists"),
        MIGRATIONS_DIR=str(REPO_ROOT / "migrations"),
        SURVEYS_DIR=str(REPO_ROOT / "checklists" / "surveys"),
        UPLOAD_DIR=str(instance / "photos"),
        EXPORT_DIR=str(instance / "exports"),
        #: Empty: photos and export files in the two folders above (one server). s3://bucket/prefix?endpoint_url=…
        #: &region=…: in an S3-compatible object store that every app server shares (app/storage.py).
        STORAGE_URL="",
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        PHOTO_MAX_BYTES=10 * 1024 * 1024,
        PHOTO_MAX_PIXELS=40_000_000,
        #: Seconds one photo may take to decode and re-encode before it is refused.
        PHOTO_DECODE_TIMEOUT=15,
        COMPANY_NAME="Fieldaudit",
        #: IANA time zone of a region created without one (migrated regions get it too). Moscow suits
        #: a Russian network; set it to your head office's zone. Each region and location may differ.
        DEFAULT_TIMEZONE="Europe/Moscow",
        LANGUAGES=["en", "ru"],
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(app.root_path) / "translations"),
        REMEMBER_COOKIE_DURATION=30 * 24 * 3600,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=30 * 24 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        #: Where rate limits count: in memory (per process) in development; Redis in production, so
        #: that every worker and every app server counts together (REDIS_URL when not set).
        RATELIMIT_STORAGE_URI=None,
        LOGIN_RATE_LIMIT="10 per minute;50 per hour",
        #: Photo uploads per shopper (a visit takes a handful; a script takes thousands).
        UPLOAD_RATE_LIMIT="60 per minute;600 per hour",
        COUNT_SUBMITTED_VISITS=False,
        #: Days after a shopper's visit of a location before the manual assignment form lets the same shopper
        #: visit it again (a manager may override, audited); 0: no lockout. Per programme (checklist id):
        #: VISIT_LOCKOUT_DAYS_BY_PROGRAMME = {"retail-store-visit": 60}.
        VISIT_LOCKOUT_DAYS=30,
        VISIT_LOCKOUT_DAYS_BY_PROGRAMME={},
        #: A location with fewer visits in a period is listed apart in league tables, not ranked.
        RANK_MIN_VISITS=3,
        REDIS_URL=None,
        #: Cache computed figures (per process, and in Redis when REDIS_URL is set), keyed on the data
        #: version, so a figure is never stale; off: every page computes its figures.
        FIGURES_CACHE=True,
        #: Figures kept per process: a 500-location dashboard holds about 1.6 MB (290 KB pickled in Redis).
        FIGURES_CACHE_SIZE=32,
        #: Seconds an entry stays in Redis: keys of older data versions are never read again, and every
        #: submission makes new ones, so a short life bounds Redis to the pages computed in that time.
        FIGURES_CACHE_SECONDS=600,
        #: Number of reverse proxies in front of the app (0: clients connect directly).
        PROXY_COUNT=0,
        PDF_RENDER_TIMEOUT=60,
        #: A running export job (batch ZIP, spreadsheet) with no progress for this long was interrupted.
        REPORT_JOB_STALLED_SECONDS=600,
        #: Hours an export job's file is kept for its owner to download; older files go when the next job starts.
        EXPORT_KEEP_HOURS=24,
        PDF_RENDER_WORKERS=2,  # render processes for PDFs requested from web threads
        REPORT_BATCH_WORKERS=2,  # render processes of one batch export (one per core)
        REPORT_BATCH_TIMEOUT=3600,  # RQ job timeout of an export job (batch ZIP, spreadsheet), seconds
        REPORT_THUMB_PX=600,  # longest side of the photo thumbnails printed in reports
        # Customer surveys: which survey customers get (None = the first by id in SURVEYS_DIR), the
        # public base URL printed on QR posters (None = this server's), and the abuse guards.
        SURVEY_ID=None,
        PUBLIC_BASE_URL=None,
        SURVEY_MIN_FILL_SECONDS=3,
        SURVEY_DUPLICATE_HOURS=24,
        SURVEY_IP_RATE_LIMIT="20 per hour",  # a shop's Wi-Fi carries several customers
        SURVEY_DEVICE_RATE_LIMIT="5 per hour",
        # The risk score of a visit (app/visits/risk.py; what each signal means and how to tune: docs/risk.md).
        #: Metres from the location beyond which a position is far (None: the proof of visit's 300 m).
        RISK_FAR_METRES=None,
        #: A photo captured or attached this many minutes before the visit started counts as taken before it.
        RISK_PHOTO_EARLY_MINUTES=10,
        #: Photos whose perceptual hashes differ in at most this many of 64 bits are near-identical (0-3).
        RISK_PHOTO_HAMMING=3,
        #: Comments shorter than this (normalised) are never compared: "All fine." is written by everyone.
        RISK_COMMENT_MIN_CHARS=30,
        #: Trigram similarity (0-1) from which two comments count as near-identical.
        RISK_COMMENT_SIMILARITY=0.8,
        #: Near-identical comments are looked for in the same shopper's and location's visits of these days.
        RISK_COMMENT_DAYS=90,
        #: Seconds per answer, and seconds per visit, below which a visit was too fast (None: the proof's 5 and 120).
        RISK_MIN_SECONDS_PER_ANSWER=None,
        RISK_MIN_TOTAL_SECONDS=None,
        #: Visits of one location one shopper may make in 90 days before the next one counts as a repeat.
        RISK_REPEAT_VISITS_PER_90_DAYS=3,
        #: Points of each signal; the score is their sum, at most 100.
        RISK_POINTS={
            "photo_duplicate": 50, "comment_copied": 25, "start_far": 30, "submit_far": 20,
            "photo_before_start": 25, "photo_far": 20, "photo_from_gallery": 5, "too_fast": 20,
            "outside_window": 10, "repeat_visits": 15,
        },
        #: Scores from which a visit is high or medium risk (the queue's badge and its "High risk only").
        RISK_HIGH=50,
        RISK_MEDIUM=20,
        #: "json": one JSON object per log line with its request id (the default in production); "text": Flask's.
        LOG_FORMAT=None,
        LOG_LEVEL="INFO",
        #: Bearer token Prometheus sends to /metrics; without one, only this machine may scrape.
        METRICS_TOKEN=None,
        # E-mail (app/mail/): no MAIL_SERVER, no mail; every message is logged as not sent instead.
        MAIL_SERVER=None,
        MAIL_PORT=25,
        MAIL_USE_TLS=False,  # STARTTLS on a plain port (587)
        MAIL_USE_SSL=False,  # TLS from the first byte (465)
        MAIL_USERNAME=None,
        MAIL_PASSWORD=None,
        MAIL_DEFAULT_SENDER="Fieldaudit <noreply@localhost>",
        #: Seconds to connect to, and to wait for, the SMTP server before one attempt gives up.
        MAIL_TIMEOUT=10,
        #: Seconds before each retry of a mail that failed on RQ (three retries; without Redis, no retry).
        MAIL_RETRY_INTERVALS=[30, 300, 1800],
        #: Always SMTP, also under TESTING (Flask-Mailman's own default there keeps mail in memory).
        MAIL_BACKEND="smtp",
        #: Seconds a password-reset link works (it dies sooner: once used, or when the password changes).
        PASSWORD_RESET_MAX_AGE=3600,
        # Webhooks (app/webhooks/): https endpoints only; plain http to 127.0.0.1/localhost when this is on.
        WEBHOOKS_ALLOW_LOOPBACK=False,
        #: Seconds one delivery attempt may take (connect and each read).
        WEBHOOK_TIMEOUT=5,
        #: Seconds before each retry of a delivery that failed on RQ (without Redis, one attempt only).
        WEBHOOK_RETRY_INTERVALS=[10, 60, 300, 1800, 7200],
    )
    app.config.from_pyfile("config.py", silent=True)
    for key in ("SECRET_KEY", "REDIS_URL", "COMPANY_NAME", "RATELIMIT_STORAGE_URI", "PROXY_COUNT",
                "DEFAULT_TIMEZONE", "LOG_FORMAT", "LOG_LEVEL", "METRICS_TOKEN", "UPLOAD_DIR", "EXPORT_DIR",
                "STORAGE_URL"):
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    for key in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "PUBLIC_BASE_URL"):
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    for key in ("MAIL_PORT", "MAIL_TIMEOUT", "PASSWORD_RESET_MAX_AGE"):
        if os.environ.get(key):
            app.config[key] = int(os.environ[key])
    for key in ("MAIL_USE_TLS", "MAIL_USE_SSL", "WEBHOOKS_ALLOW_LOOPBACK"):
        if os.environ.get(key):
            app.config[key] = os.environ[key].strip().lower() in {"1", "true", "yes", "on"}
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database host that does not answer at all (not one that refuses) must not hold a request, or /readyz,
        # for the kernel's two-minute TCP timeout: a 503 after a few seconds lets the phone and the balancer act.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    try:
        ZoneInfo(app.config["DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(f"DEFAULT_TIMEZONE {app.config['DEFAULT_TIMEZONE']!r} is not an IANA time zone "
                           "(e.g. Europe/Moscow)") from None

    production = app.config["ENV_NAME"] == "production"
    app.config["LOG_FORMAT"] = app.config["LOG_FORMAT"] or ("json" if production else "text")
    if not app.config.get("SECRET_KEY"):
        # instance/secret_key is the development key `make run` writes: production never falls back to it.
        key_file = instance / "secret_key"
        if production:
            raise RuntimeError("SECRET_KEY must be set in production (environment or instance/config.py)")
        if key_file.exists():
            app.config["SECRET_KEY"] = key_file.read_text().strip()
        else:
            # A per-process key: sessions do not survive a restart, but nothing is hard-coded.
            # `make run` writes instance/secret_key so development logins persist.
            app.config["SECRET_KEY"] = secrets.token_hex(32)
    if production and len(app.config["SECRET_KEY"]) < 32:
        raise RuntimeError("SECRET_KEY is too short for production: use at least 32 random characters")
    if production:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        if production and not app.config.get("REDIS_URL"):
            raise RuntimeError("Production needs Redis (REDIS_URL or RATELIMIT_STORAGE_URI): rate limits kept in each "
                               "process let every worker allow the full limit")
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
