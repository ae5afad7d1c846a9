"""Faults of a running deployment: an app server's worker killed in the middle of a submission, PostgreSQL and
Redis restarting during a run (played by a proxy that drops every connection). The phone's retry lands exactly
once, and while a dependency is down every request gets a 503 with Retry-After, never a traceback."""
import io
import os
import signal
import sqlite3
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.models import Photo, VisitEvent
from tests.conftest import PASSWORD, TEST_DATABASE_URL
from tests.live_servers import Proxy, gunicorn, wait_ready, worker_pids
from tests.test_ops import redis_or_skip
from tests.test_photo_pipeline import ANSWERS, jpeg


@pytest.fixture
def app_config(app_config, tmp_path):
    """A database other processes can open: the PostgreSQL test database, or an SQLite file."""
    if not TEST_DATABASE_URL:
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'faults.db'}"
    return app_config


def submission(visit_id: int) -> dict:
    return {"client_submission_id": str(uuid.uuid4()), "answers": {**ANSWERS, "shelf": []}, "answer_times": {},
            "started_at": None, "geolocation": "denied", "position": None}


def submissions(db, visit_id: int) -> int:
    db.session.rollback()  # a fresh snapshot: other processes wrote
    return db.session.scalar(select(func.count(VisitEvent.id)).where(
        VisitEvent.visit_id == visit_id, VisitEvent.action.in_(("submitted", "resubmitted"))))


class VisitLocked:
    """Hold a write lock on a visit from another connection, so that a submission of it waits."""

    def __init__(self, database_url: str, visit_id: int) -> None:
        self.url, self.visit_id = database_url, visit_id

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.connection = sqlite3.connect(make_url(self.url).database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")  # SQLite locks the whole file for writing
        else:
            self.engine = create_engine(make_url(self.url).set(drivername="postgresql+psycopg"))
            self.connection = self.engine.connect()
            self.connection.execute(text("SELECT id FROM visits WHERE id = :id FOR UPDATE"), {"id": self.visit_id})
        return self

    def __exit__(self, *exc):
        self.connection.rollback()
        self.connection.close()
        if hasattr(self, "engine"):
            self.engine.dispose()


def test_a_worker_killed_in_the_middle_of_a_submission_loses_nothing_and_the_retry_lands_once(
        app, db, tmp_path, shopper, make_visit, make_checklist_version):
    pytest.importorskip("gunicorn")
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "s" * 40, "LOG_LEVEL": "WARNING",
           "UPLOAD_DIR": str(tmp_path / "photos"), "EXPORT_DIR": str(tmp_path / "exports")}
    with gunicorn(env, tmp_path) as (master, base):
        phone = requests.Session()
        page = phone.get(f"{base}/login").text
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        assert phone.post(f"{base}/login", data={"email": shopper.email, "password": PASSWORD, "csrf_token": token},
                          allow_redirects=False).status_code == 302
        phone.headers["X-CSRFToken"] = phone.get(f"{base}/api/v1/csrf").json()["csrf_token"]
        body, outcome = submission(visit.id), {}

        def send():
            try:
                outcome["status"] = phone.post(f"{base}/api/v1/visits/{visit.id}/submit", json=body,
                                               timeout=60).status_code
            except requests.RequestException as error:
                outcome["error"] = error

        with VisitLocked(url, visit.id):
            sending = threading.Thread(target=send)
            sending.start()
            time.sleep(2)  # the submission is in the worker, waiting for the visit
            assert "status" not in outcome
            (worker,) = worker_pids(master)
            os.kill(worker, signal.SIGKILL)
            sending.join(timeout=30)
        assert "error" in outcome  # the phone saw the connection drop: it keeps the submission queued
        assert submissions(db, visit.id) == 0  # nothing half-saved

        wait_ready(base, tmp_path / "app.log")  # gunicorn has started a new worker
        retry = phone.post(f"{base}/api/v1/visits/{visit.id}/submit", json=body, timeout=60)
        assert retry.status_code == 201, retry.text
        assert phone.post(f"{base}/api/v1/visits/{visit.id}/submit", json=body, timeout=60).status_code == 200
        assert submissions(db, visit.id) == 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs a PostgreSQL server (TEST_DATABASE_URL) to lose")
def test_postgresql_restarting_during_a_run_gives_503s_then_the_retry_lands_once(
        app, db, make_app, app_config, login, shopper, make_visit, make_checklist_version):
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    database = make_url(TEST_DATABASE_URL)
    proxy = Proxy(database.port or 5432, database.host or "127.0.0.1")
    proxy.up()
    try:
        server = make_app({**app_config, "SQLALCHEMY_DATABASE_URI": database.set(port=proxy.port).render_as_string(
            hide_password=False)})
        phone = server.test_client()
        login(shopper, phone)
        api, body = f"/api/v1/visits/{visit.id}", submission(visit.id)
        assert phone.put(f"{api}/draft", json={"answers": {"greeted": "yes"}}).status_code == 200

        proxy.down()  # the server restarts: every connection in the pool is gone
        for response in (phone.post(f"{api}/submit", json=body), phone.put(f"{api}/draft", json={"answers": {}}),
                         phone.get("/visits/")):
            assert response.status_code == 503 and response.headers["Retry-After"] == "30"
            assert b"Traceback" not in response.data and b"OperationalError" not in response.data
        assert phone.get("/readyz").json["checks"]["database"] == "unreachable"

        proxy.up()  # back: the pool reconnects, the phone's queue sends the same submission again
        assert phone.post(f"{api}/submit", json=body).status_code == 201
        assert phone.post(f"{api}/submit", json=body).status_code == 200
        assert submissions(db, visit.id) == 1
    finally:
        proxy.down()


def test_redis_restarting_during_a_run_gives_503s_to_what_needs_it_then_everything_works(
        app, db, make_app, app_config, make_user, shopper, make_visit, make_checklist_version, login):
    redis_or_skip()
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    proxy = Proxy(6379)
    proxy.up()
    try:
        through = f"redis://127.0.0.1:{proxy.port}/15"
        server = make_app({**app_config, "REDIS_URL": through, "RATELIMIT_STORAGE_URI": through,
                           "RATELIMIT_ENABLED": True})
        manager = make_user("manager")
        desk = server.test_client()
        assert desk.post("/login", data={"email": manager.email, "password": PASSWORD}).status_code == 302

        proxy.down()
        other = server.test_client()
        refused = other.post("/login", data={"email": manager.email, "password": PASSWORD})
        assert refused.status_code == 503 and "briefly unavailable" in refused.get_data(as_text=True)
        assert desk.get("/dashboard/").status_code == 200  # pages that need no Redis keep working
        assert desk.get("/readyz").json["checks"]["redis"] == "unreachable"

        proxy.up()
        assert other.post("/login", data={"email": manager.email, "password": PASSWORD}).status_code == 302
        phone = server.test_client()
        login(shopper, phone)
        uploaded = phone.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data={
            "file": (io.BytesIO(jpeg()), "shelf.jpg"), "question_id": "shelf", "client_photo_id": "p"})
        assert uploaded.status_code == 202 and uploaded.json["status"] == "pending"  # queued on Redis again
        assert db.session.scalar(select(func.count(Photo.id))) == 1
    finally:
        proxy.down()
