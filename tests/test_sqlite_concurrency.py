"""SQLite as the embedded database: a long read (an export, a report) never locks the phones out."""
import io
import sqlite3
import uuid

import pytest
from PIL import Image
from sqlalchemy import text

from app import SQLITE_BUSY_TIMEOUT_MS
from app.models import VisitStatus
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="WAL and busy timeouts are SQLite's; "
                                "PostgreSQL readers never block writers")

ANSWERS = {"greeted": "yes", "tone": 4, "wait": 90, "offer": "full", "purchased": "no"}


@pytest.fixture
def database_file(tmp_path):
    return tmp_path / "fieldaudit.db"


@pytest.fixture
def app_config(app_config, database_file):
    """The test app on a database file, as `make run` uses, instead of an in-memory one."""
    return {**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_file}"}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def test_every_connection_uses_wal_and_waits_for_a_writer(db):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS


def test_phone_writes_go_through_while_a_long_read_is_open(client, db, database_file, login, shopper, make_visit,
                                                             make_checklist_version):
    login(shopper)
    version = make_checklist_version()
    visits = [make_visit(shopper=shopper, checklist_version=version).id for _ in range(3)]
    db.session.remove()  # the test's own session holds nothing open

    # Another process reading the whole database in one transaction, as an export does.
    reader = sqlite3.connect(database_file, isolation_level=None)
    reader.execute("BEGIN")
    submitted_before = reader.execute("SELECT count(*) FROM visits WHERE status = 'submitted'").fetchone()[0]
    try:
        answers = []
        for visit in visits:
            draft = client.put(f"/api/v1/visits/{visit}/draft", json={"answers": {"greeted": "yes"}})
            photo = client.post(f"/api/v1/visits/{visit}/photos", content_type="multipart/form-data", data={
                "file": (io.BytesIO(jpeg()), "shelf.jpg"), "question_id": "shelf", "client_photo_id": "p1"})
            submit = client.post(f"/api/v1/visits/{visit}/submit", json={
                "client_submission_id": str(uuid.uuid4()), "answers": ANSWERS, "answer_times": {},
                "started_at": None, "geolocation": "denied", "position": None, "photos": ["p1"]})
            answers.append((draft.status_code, photo.status_code, submit.status_code))
        # The reader still sees the database as it was when it began.
        still = reader.execute("SELECT count(*) FROM visits WHERE status = 'submitted'").fetchone()[0]
    finally:
        reader.execute("COMMIT")
        reader.close()

    assert answers == [(200, 201, 201)] * 3
    assert still == submitted_before == 0
    statuses = db.session.execute(text("SELECT status FROM visits")).scalars().all()
    assert statuses == [VisitStatus.submitted.name] * 3
