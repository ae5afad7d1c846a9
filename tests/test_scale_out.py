"""Two app servers behind no sticky sessions: two gunicorn instances on different ports sharing one database,
one Redis and one object store, with an RQ worker beside them. A shopper's requests alternate between them,
a photo uploaded through one is served by the other, an export started on one is downloaded from the other,
and rate limits count across both."""
import contextlib
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from app.models import Photo, VisitEvent
from app.storage import photo_key, storage_of
from tests.conftest import PASSWORD, TEST_DATABASE_URL
from tests.live_servers import REPO, gunicorn
from tests.reports_helpers import pdf_text
from tests.test_ops import redis_or_skip
from tests.test_photo_pipeline import ANSWERS, jpeg

REDIS_URL = "redis://127.0.0.1:6379/12"  # its own database (the benchmarks use 14): its queues and counters are ours


@pytest.fixture
def app_config(app_config, tmp_path, s3_bucket):
    redis = pytest.importorskip("redis")
    pytest.importorskip("gunicorn")
    redis_or_skip(REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    app_config.update({
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'shared.db'}",
        "STORAGE_URL": s3_bucket(), "REDIS_URL": REDIS_URL,
    })
    return app_config


@pytest.fixture
def environment(app, tmp_path) -> dict[str, str]:
    """What every process of the deployment runs with: the same database, Redis, store and secret key."""
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": REDIS_URL,
           "STORAGE_URL": app.config["STORAGE_URL"], "SECRET_KEY": "s" * 40, "PROXY_COUNT": "1",
           "UPLOAD_DIR": str(tmp_path / "no-photos-here"), "LOG_LEVEL": "WARNING"}
    env.pop("TEST_DATABASE_URL", None)
    return env


@pytest.fixture
def servers(environment, tmp_path):
    """Start two app servers; return their base URLs."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(gunicorn({**environment, "EXPORT_DIR": str(tmp_path / f"exports-{name}")},
                                            tmp_path, name))[1] for name in ("a", "b")]


def run_worker(environment, tmp_path) -> None:
    """Run the queued jobs (photo decoding, exports) on an RQ worker process of its own, until none is left."""
    env = {**environment, "EXPORT_DIR": str(tmp_path / "exports-worker")}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def sign_in(session: requests.Session, form_from: str, post_to: str, email: str, password: str = PASSWORD):
    page = session.get(f"{form_from}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return session.post(f"{post_to}/login", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False)


def test_a_shopper_and_a_manager_work_across_two_app_servers(
        app, db, servers, environment, tmp_path, shopper, manager, make_visit, make_checklist_version):
    a, b = servers
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    phone = requests.Session()
    phone.headers["X-Forwarded-For"] = "10.1.1.1"
    assert sign_in(phone, a, b, shopper.email).status_code == 302  # the form from one, the sign-in on the other
    phone.headers["X-CSRFToken"] = phone.get(f"{b}/api/v1/csrf").json()["csrf_token"]
    assert [v["id"] for v in phone.get(f"{a}/api/v1/visits").json()["visits"]] == [visit.id]

    api, now = f"/api/v1/visits/{visit.id}", datetime.now(UTC).isoformat()
    assert phone.post(f"{b}{api}/start", json={"started_at": now, "geolocation": "denied"}).status_code == 200
    draft = phone.put(f"{a}{api}/draft", json={"answers": {"greeted": "yes"}, "client_saved_at": now})
    assert draft.status_code == 200, draft.text
    uploaded = phone.post(f"{b}{api}/photos", files={"file": ("shelf.jpg", jpeg(), "image/jpeg")},
                          data={"question_id": "shelf", "client_photo_id": "p-1"})
    assert uploaded.status_code == 202 and uploaded.json()["status"] == "pending"
    run_worker(environment, tmp_path)
    photo = phone.get(f"{a}{api}").json()["photos"][0]
    assert photo["status"] == "ready"
    served = phone.get(f"{a}{photo['url']}")
    db.session.rollback()  # a fresh snapshot: the servers wrote meanwhile
    stored_name = db.session.scalar(select(Photo.stored_name))
    assert served.status_code == 200 and served.content == storage_of(app).read_bytes(photo_key(stored_name))
    assert not (tmp_path / "no-photos-here").exists()  # no server kept a file of its own

    body = {"client_submission_id": str(uuid.uuid4()), "answers": {**ANSWERS, "shelf": [photo["id"]]},
            "answer_times": {}, "started_at": now, "geolocation": "denied", "position": None}
    submitted = phone.post(f"{b}{api}/submit", json=body)
    assert submitted.status_code == 201, submitted.text
    assert phone.post(f"{a}{api}/submit", json=body).status_code == 200  # the phone's retry, to the other server
    db.session.rollback()
    assert db.session.scalar(select(func.count(VisitEvent.id)).where(
        VisitEvent.visit_id == visit.id, VisitEvent.action.in_(("submitted", "resubmitted")))) == 1

    desk = requests.Session()
    desk.headers["X-Forwarded-For"] = "10.2.2.2"
    assert sign_in(desk, b, b, manager.email).status_code == 302
    review = desk.get(f"{a}/review/visits/{visit.id}")
    assert review.status_code == 200 and f'src="{photo["url"]}"' in review.text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', review.text).group(1)
    decided = desk.post(f"{b}/review/visits/{visit.id}/decision", data={"decision": "approve", "csrf_token": token},
                        allow_redirects=False)
    assert decided.status_code == 302
    month = {"from": (date.today() - timedelta(days=30)).isoformat(), "to": date.today().isoformat()}
    started = desk.post(f"{a}/dashboard/export/table.csv", data={"csrf_token": token},
                        params=month, allow_redirects=False)
    assert started.status_code == 302, re.findall(r"<p[^>]*>(.*?)</p>", started.text)
    job = started.headers["Location"].rsplit("/", 1)[-1]
    run_worker(environment, tmp_path)
    assert desk.get(f"{b}/dashboard/exports/{job}.json").json()["status"] == "done"
    download = desk.get(f"{b}/dashboard/exports/{job}/download")
    assert download.status_code == 200 and visit.location.name in download.content.decode("utf-8-sig")
    report = desk.get(f"{b}/reports/visits/{visit.id}.pdf")  # rendered by the other server, photo from the store
    assert report.status_code == 200 and "Sample store visit" in pdf_text(report.content)


def test_sign_in_attempts_are_counted_across_both_servers(servers):
    guesser = requests.Session()
    guesser.headers["X-Forwarded-For"] = "10.9.9.9"
    statuses = [sign_in(guesser, url, url, "nobody@example.com", "wrong").status_code
                for url in servers * 6]  # a, b, a, b, ...: 12 attempts, 6 on each
    # 10 per minute in all: each server alone has seen only 6, so counting per server would let every one through.
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
