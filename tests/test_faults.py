"""A dependency down (database, Redis): a clear 503 the phone retries, never a traceback or a bare 500."""
import pytest

from tests.test_ops import closed_port


@pytest.fixture
def app_without_database(make_app, app_config):
    return make_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"postgresql://nobody@127.0.0.1:{closed_port()}/x"})


@pytest.mark.parametrize("language, words", [
    ("en", "briefly unavailable, and nothing was saved"),
    ("ru", "временно недоступен, ничего не сохранено"),
])
def test_a_page_while_the_database_is_down_says_so_in_the_users_language(app_without_database, language, words):
    client = app_without_database.test_client()
    response = client.post("/login", data={"email": "anna@example.com", "password": "x"},
                           headers={"Accept-Language": language})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and words in page
    assert response.headers["Retry-After"] == "30"
    assert "Traceback" not in page and "OperationalError" not in page and "127.0.0.1" not in page
    # The reference on the page is the request id in the logs, so support can find what happened.
    assert response.headers["X-Request-ID"] in page


def test_a_signed_in_page_while_the_database_is_down_answers_503_not_500(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"  # the user cannot be loaded: the database is the thing that is down
    response = client.get("/dashboard/")
    assert response.status_code == 503 and "briefly unavailable" in response.get_data(as_text=True)


def test_the_phones_submission_while_the_database_is_down_gets_a_retryable_json_503(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
    response = client.post("/api/v1/visits/1/submit", json={"client_submission_id": "x", "answers": {}})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.json["error"] == "unavailable" and "nothing was saved" in response.json["message"]


def test_sign_in_while_redis_is_down_answers_503(make_app, app_config):
    port = closed_port()
    app = make_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
                      "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    with app.app_context():
        from app.extensions import db

        db.create_all()
    response = app.test_client().post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 503 and "briefly unavailable" in response.get_data(as_text=True)


class Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg reports when PostgreSQL aborts one side of a deadlock


@pytest.mark.parametrize("sqlstate, status", [("40P01", 201), ("08006", 503)])
def test_a_submission_aborted_by_a_deadlock_is_run_again_while_a_lost_connection_is_a_503(
        client, login, make_visit, make_checklist_version, shopper, monkeypatch, sqlstate, status):
    from sqlalchemy.exc import OperationalError

    from app.visits import lifecycle
    from tests.test_photo_pipeline import ANSWERS

    real, calls = lifecycle.submit_visit, []

    def aborted_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            orig = Deadlock("deadlock detected")
            orig.sqlstate = sqlstate
            raise OperationalError("UPDATE locations ...", {}, orig)
        return real(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "submit_visit", aborted_once)
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    login(shopper)
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json={
        "client_submission_id": "a1b2c3d4-0000-4000-8000-000000000001", "answers": {**ANSWERS, "shelf": []},
        "answer_times": {}, "started_at": None, "geolocation": "denied", "position": None})
    assert response.status_code == status
    assert len(calls) == (2 if status == 201 else 1)


def test_a_full_upload_disk_answers_503_keeps_nothing_and_the_phones_retry_lands(
        app, client, db, login, make_visit, make_checklist_version, shopper, monkeypatch):
    import errno
    import io
    import pathlib

    from sqlalchemy import select

    from app.models import Photo
    from tests.test_photo_pipeline import jpeg

    real_write = pathlib.Path.write_bytes

    def disk_full(path, data):
        if str(path).startswith(app.config["UPLOAD_DIR"]):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    login(shopper)

    def upload():
        return client.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data={
            "file": (io.BytesIO(jpeg()), "shelf.jpg"), "question_id": "shelf", "client_photo_id": "p-1"})

    monkeypatch.setattr(pathlib.Path, "write_bytes", disk_full)
    response = upload()
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "nothing was saved" in response.json["message"]
    assert db.session.scalar(select(Photo)) is None
    assert client.get("/readyz").json["checks"]["photos"] == "unreachable"
    monkeypatch.setattr(pathlib.Path, "write_bytes", real_write)  # space freed: the phone sends it again
    assert upload().status_code == 201
    assert len(db.session.scalars(select(Photo)).all()) == 1


def test_a_database_host_that_never_answers_is_given_up_on_within_seconds(make_app, app_config):
    import socket
    import time

    with socket.socket() as silent:  # takes connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://nobody@127.0.0.1:{silent.getsockname()[1]}/x"
        app = make_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
        started = time.monotonic()
        response = app.test_client().get("/readyz")
        waited = time.monotonic() - started
    assert response.status_code == 503 and response.json["checks"]["database"] == "unreachable"
    assert waited < 15  # pre-ping and connect each give up after connect_timeout (5 s), not minutes
