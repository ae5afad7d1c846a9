"""Shared fixtures: app, db, client, users per role, locations, checklists and visits.

Every test gets a fresh database: SQLite in memory by default, or the PostgreSQL database
named by TEST_DATABASE_URL (schema created once, tables emptied after each test).
"""
import hashlib
import os
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.extensions import db as _db
from app.models import ChecklistVersion, Location, Region, Role, User, Visit, VisitStatus

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The object-store tests talk to a local S3 endpoint (moto); these keys are all it asks for. Set before any process
# starts, so that the PDF render workers, spawned from this one, hold them too.
for _name, _value in (("AWS_ACCESS_KEY_ID", "test-key"), ("AWS_SECRET_ACCESS_KEY", "test-secret"),
                      ("AWS_DEFAULT_REGION", "us-east-1")):
    os.environ.setdefault(_name, _value)
REPO_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"

SAMPLE_CHECKLIST = textwrap.dedent("""\
    id: sample-visit
    version: 1
    title: Sample store visit
    sections:
      - id: greeting
        title: Greeting
        weight: 2
        questions:
          - id: greeted
            text: Greeted within 30 seconds?
            type: yes_no
            weight: 2
            critical: true
          - id: tone
            text: Friendly tone
            type: scale
            min: 1
            max: 5
            labels: {1: Rude, 5: Warm}
      - id: service
        title: Service
        questions:
          - id: wait
            text: Waiting time
            type: duration
            target: 60
            limit: 300
          - id: offer
            text: Offered a bag
            type: choice
            options:
              - {value: full, label: Offered and packed, score: 1}
              - {value: asked, label: Only when asked, score: 0.5}
              - {value: none, label: Not offered, score: 0}
          - id: purchased
            text: Did you buy something?
            type: yes_no
            weight: 0
          - id: receipt
            text: Receipt given
            type: yes_no
            allow_na: true
            show_if: {question: purchased, equals: "yes"}
          - id: notes
            text: Notes
            type: text
          - id: shelf
            text: Photo of the shelf
            type: photo
""")


def _wipe(database) -> None:
    """Empty every table (PostgreSQL runs keep the schema between tests)."""
    tables = ", ".join(t.name for t in reversed(database.metadata.sorted_tables))
    database.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.session.commit()


@pytest.fixture(scope="session")
def _postgres_schema():
    """Create the schema once per run on PostgreSQL."""
    if not TEST_DATABASE_URL:
        yield
        return
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL, "SECRET_KEY": "t"})
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        _db.engine.dispose()
    yield


@pytest.fixture
def app_config(tmp_path) -> dict:
    """The test configuration; tests may change it before `app` is built."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or "sqlite:///:memory:",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path / "photos"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "SERVER_NAME": "localhost",
    }


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, requests reuse the test's app context: `g` (the signed-in user, the locale)
    and the database session would leak from one request into the next. Objects the test
    loaded before a request may be stale afterwards: use db.session.refresh(obj) or
    db.session.expire_all() before asserting on what a request changed.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config, _postgres_schema):
    """A fresh app with an empty database."""
    app = create_app(app_config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        if TEST_DATABASE_URL:
            _wipe(_db)
        else:
            _db.create_all()
        yield app
        _db.session.remove()
        if TEST_DATABASE_URL:
            _wipe(_db)
        # Each test app has its own engine; close its pool so connections do not pile up.
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 endpoint on loopback (moto's server mode), for the whole run: its URL."""
    import socket

    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint):
    """Return a factory of empty buckets on the S3 endpoint: each call gives the STORAGE_URL of a new one."""
    import uuid

    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)

    def make(prefix: str = "fieldaudit") -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=name)
        return f"s3://{name}/{prefix}?endpoint_url={s3_endpoint}"

    return make


@pytest.fixture
def make_app():
    """Return a factory of further apps with other settings; their connection pools are closed afterwards
    (on PostgreSQL a pool left to the garbage collector warns of unclosed connections in a later test)."""
    made = []

    def make(config):
        made.append(create_app(config))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_region(db):
    """Return a factory of regions."""
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, code: str | None = None, **fields) -> Region:
        n = next(counter)
        region = Region(name=name or f"Region {n}", code=code or f"R{n}", **fields)
        db.session.add(region)
        db.session.commit()
        return region

    return make


@pytest.fixture
def make_location(db, make_region):
    """Return a factory of locations (a region is made when none is given)."""
    counter = iter(range(1, 10_000))

    def make(region: Region | None = None, **fields) -> Location:
        n = next(counter)
        fields.setdefault("code", f"L{n:03d}")
        fields.setdefault("name", f"Store {n}")
        fields.setdefault("address", f"{n} Main Street")
        location = Location(region=region or make_region(), **fields)
        db.session.add(location)
        db.session.commit()
        return location

    return make


@pytest.fixture
def make_user(db):
    """Return a factory of users; the password is PASSWORD unless given."""
    counter = iter(range(1, 10_000))

    def make(role: str = "shopper", email: str | None = None, password: str = PASSWORD,
             regions=(), active: bool = True, **fields) -> User:
        n = next(counter)
        user = User(
            email=email or f"{role}{n}@example.com",
            name=fields.pop("name", f"{role.title()} {n}"),
            role=Role(role),
            active=active,
            shopper_code=fields.pop("shopper_code", f"MS-{n:03d}" if role == "shopper" else None),
            **fields,
        )
        user.set_password(password)
        user.regions = list(regions)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Max Manager")


@pytest.fixture
def shopper(make_user):
    return make_user("shopper", name="Sam Shopper")


@pytest.fixture
def login(client):
    """Return a function that signs `user` in on the test client."""

    def do_login(user: User, test_client=None):
        with (test_client or client).session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return do_login


@pytest.fixture
def make_checklist_version(db):
    """Return a factory that parses checklist YAML and stores it as a version."""
    from app.checklists.loader import parse_checklist

    def make(source: str = SAMPLE_CHECKLIST, path: str = "checklists/sample.yaml") -> ChecklistVersion:
        checklist = parse_checklist(source, path)
        version = ChecklistVersion(
            checklist_id=checklist.id,
            version=checklist.version,
            title=checklist.title,
            channel=checklist.channel,
            definition=checklist.model_dump(mode="json"),
            source_text=source,
            source_hash=hashlib.sha256(source.encode()).hexdigest(),
            source_path=path,
        )
        db.session.add(version)
        db.session.commit()
        return version

    return make


@pytest.fixture
def make_visit(db, make_location, make_checklist_version, make_user):
    """Return a factory of visits; missing parts are made on the fly."""

    def make(location=None, checklist_version=None, shopper=None, status=VisitStatus.planned, **fields) -> Visit:
        today = date.today()
        visit = Visit(
            location=location or make_location(),
            checklist_version=checklist_version or make_checklist_version(),
            shopper=shopper or make_user("shopper"),
            status=status,
            window_start=fields.pop("window_start", today - timedelta(days=1)),
            window_end=fields.pop("window_end", today + timedelta(days=7)),
            **fields,
        )
        db.session.add(visit)
        db.session.commit()
        return visit

    return make


class Mailbox:
    """What a real SMTP server on loopback received: each message parsed (email.policy.default), with its envelope."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.received: list = []  # (envelope recipients, parsed message)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook  # noqa: N802
        from email import message_from_bytes, policy

        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"

    @property
    def messages(self) -> list:
        return [message for _to, message in self.received]

    def wait(self, count: int = 1, timeout: float = 10.0) -> list:
        """Return the messages once `count` have arrived (mail leaves on a thread or a job); fail after `timeout`."""
        import time

        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"{len(self.received)} of {count} messages arrived"
        return self.messages


def wait_for_mail_threads(timeout: float = 15.0) -> None:
    """Wait until every mail thread of the web process has finished (to check that nothing more arrives)."""
    import threading

    for thread in [t for t in threading.enumerate() if t.name == "mail"]:
        thread.join(timeout)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port for one test: its Mailbox."""
    controller_module = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed")
    from tests.live_servers import free_port

    mailbox = Mailbox("127.0.0.1", free_port())
    controller = controller_module.Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    yield mailbox
    wait_for_mail_threads()
    controller.stop()


@pytest.fixture
def mailbox(app, smtp_server):
    """The app sends its mail to the test's SMTP server: the Mailbox that receives it."""
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5,
                      MAIL_DEFAULT_SENDER="Fieldaudit <noreply@fieldaudit.test>")
    return smtp_server
