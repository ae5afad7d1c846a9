"""Abuse limits: a per-account sign-in back-off, photo uploads per shopper, limits shared across workers."""
import io
import uuid
from datetime import timedelta

import pytest

from app import create_app
from app.models.types import utcnow
from tests.conftest import PASSWORD
from tests.test_visits_api import upload


def sign_in(client, email, password, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_make_the_account_wait_longer_each_time(client, db, manager):
    # From five addresses, so no per-address limit is involved: the account itself backs off.
    for attempt in range(5):
        assert sign_in(client, manager.email, "wrong", f"10.0.0.{attempt}").status_code == 200
    db.session.refresh(manager)
    assert manager.failed_logins == 5 and manager.login_blocked_until is not None
    first_block = manager.login_blocked_until - utcnow()
    refused = sign_in(client, manager.email, PASSWORD, "10.0.1.1")  # even the right password waits
    assert refused.status_code == 429
    assert "Too many wrong passwords for this account. Try again in 1 minute." in refused.get_data(as_text=True)

    manager.login_blocked_until = utcnow() - timedelta(seconds=1)  # the wait is over
    db.session.commit()
    assert sign_in(client, manager.email, "wrong again", "10.0.1.2").status_code == 200
    db.session.refresh(manager)
    assert manager.login_blocked_until - utcnow() > first_block + timedelta(seconds=20)  # twice as long

    manager.login_blocked_until = None
    db.session.commit()
    assert sign_in(client, manager.email, PASSWORD, "10.0.1.3").status_code == 302
    db.session.refresh(manager)
    assert manager.failed_logins == 0 and manager.login_blocked_until is None


def test_an_unknown_address_gets_the_usual_answer(client):
    for _ in range(7):
        response = sign_in(client, "nobody@example.com", "x")
        assert response.status_code == 200 and "Wrong email or password." in response.get_data(as_text=True)


@pytest.fixture
def limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, UPLOAD_RATE_LIMIT="3 per minute",
                      RATELIMIT_KEY_PREFIX=f"fa-test-{uuid.uuid4().hex[:8]}")
    return app_config


def test_photo_uploads_are_limited_per_shopper(limited, app, client, make_visit, make_checklist_version, shopper,
                                               login):
    login(shopper)
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    codes = [upload(client, visit, client_photo_id=f"p-{n}").status_code for n in range(4)]
    assert codes == [201, 201, 201, 429]


def test_limits_count_across_app_servers_in_redis(limited, app, tmp_path):
    """Two app instances (two workers, or two servers) sharing one Redis refuse the fourth sign-in in all."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    config = {**limited, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15", "LOGIN_RATE_LIMIT": "3 per minute"}
    if config["SQLALCHEMY_DATABASE_URI"].endswith(":memory:"):  # two servers share one database
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'shared.db'}"
        with create_app(config).app_context():
            from app.extensions import db

            db.create_all()
    first, second = create_app(config), create_app(config)
    codes = []
    for n in range(4):
        client = (first if n % 2 else second).test_client()
        codes.append(client.post("/login", data={"email": "x@example.com", "password": "x"}).status_code)
    for server in (first, second):
        with server.app_context():
            from app.extensions import db

            db.engine.dispose()
    assert codes == [200, 200, 200, 429]


@pytest.fixture
def shared_database(app_config, tmp_path):
    """A database every thread's connection sees (SQLite in memory is private to one connection)."""
    if app_config["SQLALCHEMY_DATABASE_URI"].endswith(":memory:"):
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'race.db'}"
    return app_config


def test_concurrent_uploads_never_exceed_max_photos(shared_database, app, db, make_visit, make_checklist_version,
                                                    shopper, login):
    """Regression: 20 uploads at once stored more photos than the question allows (max_photos: 5)."""
    from concurrent.futures import ThreadPoolExecutor

    from app.models import Photo
    from tests.test_visits_api import jpeg_bytes

    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    image = jpeg_bytes((400, 300))
    clients = [app.test_client() for _ in range(20)]
    for client in clients:
        login(shopper, client)

    url = f"/api/v1/visits/{visit.id}/photos"

    def send(n):
        form = {"file": (io.BytesIO(image), "p.jpg"), "question_id": "shelf", "client_photo_id": f"race-{n}"}
        return clients[n].post(url, data=form, content_type="multipart/form-data").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(send, range(20)))
    db.session.expire_all()
    stored = db.session.query(Photo).filter_by(visit_id=visit.id, question_id="shelf").all()
    assert len(stored) == 5 and sorted(p.slot for p in stored) == [0, 1, 2, 3, 4]
    assert codes.count(201) == 5 and set(codes) <= {201, 400}, codes
