"""Load test: 100 shoppers and 10 managers against gunicorn on loopback, driven by locust, bounded in time.

    .venv/bin/pip install -r bench/requirements.txt   # locust (with gevent); `make bench` does it
    python bench/bench_load.py [--db postgres|sqlite] [--seconds 60] [--shoppers 100] [--managers 10]

The app runs as in production: `gunicorn wsgi:app` with gunicorn.conf.py (2 processes x 4 threads here),
Redis for rate limits and an RQ worker for photos, JSON logs (but no Secure cookies: no TLS on loopback),
the schema made by `flask db upgrade`, behind a simulated nginx (PROXY_COUNT=1, each phone with its own address).
Each shopper signs in through the login form, then visit after visit: start, three drafts, a photo,
submit (retrying a 5xx or a lost connection with the same body, as the phone's queue does). Each
manager opens the dashboard, a location page and a location PDF. Printed: requests/s and p50/p95/p99
per endpoint, then what the database holds: every acknowledged submission stored once, none lost,
none doubled. Targets: p95 < 300 ms for drafts and submits, zero errors.
"""
import argparse
import io
import itertools
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import gevent  # noqa: I001  (locust patches the standard library with gevent first)
from locust import HttpUser, between, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_submit import answers_for, checklist_yaml  # noqa: E402
from benchlib import ensure_postgres_database  # noqa: E402

PASSWORD = "load-test-password"
PG_URL = "postgresql://postgres@127.0.0.1:5432/fa_load"
REDIS_URL = "redis://127.0.0.1:6379/14"
VISITS_PER_SHOPPER = 40
LOCATIONS = 20

ACCOUNTS: dict[str, itertools.count] = {}
ACKNOWLEDGED: dict[int, str] = {}  # visit id -> the submission id the server acknowledged (201 or 200)
PHOTO = b""
TIMINGS: list[tuple[float, str, float, bool]] = []  # (seconds since start, endpoint, ms, failed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_jpeg() -> bytes:
    from PIL import Image

    image = Image.effect_noise((800, 600), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def prepare(database_url: str, env: dict[str, str]) -> dict:
    """Make the schema with the migrations, then the network, the accounts and the planned visits."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.checklists.loader import parse_checklist
    from app.extensions import db
    from app.models import ChecklistVersion, Location, Region, Role, User, Visit

    source = checklist_yaml() + "\n".join([
        "  - id: evidence", "    title: Evidence", "    questions:",
        "      - id: shelf", "        text: Photo of the shelf", "        type: photo"]) + "\n"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k" * 40})
    with app.app_context():
        checklist = parse_checklist(source, "load.yaml")
        version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel=None,
                                   definition=checklist.model_dump(mode="json"), source_text=source,
                                   source_hash="load", source_path="load.yaml")
        region = Region(code="R1", name="Регион")
        locations = [Location(code=f"L{n:03}", name=f"Магазин {n}", region=region, latitude=55.75, longitude=37.61)
                     for n in range(LOCATIONS)]
        hashed = generate_password_hash(PASSWORD)  # one hash for all: 110 hashings would take a minute
        shoppers = [User(email=f"shopper{n}@load.example.com", name=f"Shopper {n}", role=Role.shopper,
                         password_hash=hashed, shopper_code=f"S{n:03}") for n in range(args.shoppers)]
        managers = [User(email=f"manager{n}@load.example.com", name=f"Manager {n}", role=Role.manager,
                         password_hash=hashed) for n in range(args.managers)]
        db.session.add_all([version, region, *locations, *shoppers, *managers])
        db.session.flush()
        today = date.today()
        db.session.add_all([Visit(location=locations[(s + v) % LOCATIONS], checklist_version=version, shopper=shopper,
                                  window_start=today - timedelta(days=1), window_end=today + timedelta(days=7))
                            for s, shopper in enumerate(shoppers) for v in range(VISITS_PER_SHOPPER)])
        db.session.commit()
        without_photo = parse_checklist(checklist_yaml(), "answers.yaml")
        facts = {"answers": answers_for(without_photo), "location_ids": [location.id for location in locations]}
        db.session.remove()
        db.engine.dispose()
    return facts


def signed_in(user: HttpUser, email: str) -> None:
    """Sign in through the login form, as a person would, from the user's own address."""
    page = user.client.get("/login", name="login form").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    response = user.client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
                                name="login", allow_redirects=False)
    assert response.status_code == 302, (response.status_code, response.text[:300])


class Phone(HttpUser):
    """A shopper's phone: signs in once, then fills visit after visit."""

    weight = 1
    wait_time = between(0.5, 1.5)  # month-end, compressed: a real shopper takes minutes between steps

    def on_start(self) -> None:
        n = next(ACCOUNTS["shoppers"])
        self.client.headers["X-Forwarded-For"] = f"10.1.{n // 250}.{n % 250 + 1}"
        signed_in(self, f"shopper{n}@load.example.com")
        self.csrf = self.client.get("/api/v1/csrf", name="csrf").json()["csrf_token"]
        self.client.headers["X-CSRFToken"] = self.csrf
        self.visits = [v["id"] for v in self.client.get("/api/v1/visits", name="visit list").json()["visits"]]

    def send(self, method: str, url: str, name: str, **kwargs) -> int:
        """Send like the phone's queue: a lost connection or a 5xx is retried with the same body."""
        for attempt in range(4):
            with self.client.request(method, url, name=name, catch_response=True, **kwargs) as response:
                if response.status_code and response.status_code < 500:
                    if response.status_code >= 400:
                        response.failure(f"{response.status_code}: {response.text[:200]}")
                    return response.status_code
                response.failure(f"{response.status_code}, retrying")
            gevent.sleep(0.5 * (attempt + 1))
        return 0

    @task
    def fill_a_visit(self) -> None:
        if not self.visits:
            gevent.sleep(1)
            return
        visit_id = self.visits.pop(0)
        base = f"/api/v1/visits/{visit_id}"
        now = datetime.now(UTC).isoformat()
        position = {"latitude": 55.7501, "longitude": 37.6102, "accuracy": 12}
        self.send("POST", f"{base}/start", "start", json={"started_at": now, "geolocation": "granted",
                                                             "position": position})
        answers = FACTS["answers"]
        keys = list(answers)
        for part in (1, 2, 3):
            self.wait()
            so_far = {k: answers[k] for k in keys[: len(keys) * part // 3]}
            self.send("PUT", f"{base}/draft", "draft", json={"answers": so_far, "client_saved_at": now})
        photo = self.client.post(f"{base}/photos", name="photo", files={"file": ("shelf.jpg", PHOTO, "image/jpeg")},
                                 data={"question_id": "shelf", "client_photo_id": f"p-{visit_id}"})
        photo_ids = [photo.json()["id"]] if photo.status_code in (200, 201) else []
        submission = str(uuid.uuid4())
        body = {"client_submission_id": submission, "answers": {**answers, "shelf": photo_ids},
                "answer_times": dict.fromkeys(answers, now), "started_at": now, "submitted_at": now,
                "geolocation": "granted", "position": position}
        if self.send("POST", f"{base}/submit", "submit", json=body) in (200, 201):
            ACKNOWLEDGED[visit_id] = submission


class Manager(HttpUser):
    """A quality manager comparing branches while the month's visits arrive."""

    fixed_count = 10
    wait_time = between(1, 3)

    def on_start(self) -> None:
        n = next(ACCOUNTS["managers"])
        self.client.headers["X-Forwarded-For"] = f"10.2.0.{n + 1}"
        signed_in(self, f"manager{n}@load.example.com")

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="dashboard")

    @task(2)
    def location_page(self) -> None:
        location_id = FACTS["location_ids"][int(time.time() * 1000) % LOCATIONS]
        self.client.get(f"/dashboard/locations/{location_id}", name="location page")

    @task(1)
    def location_pdf(self) -> None:
        location_id = FACTS["location_ids"][int(time.time() * 1000) % LOCATIONS]
        self.client.get(f"/reports/locations/{location_id}.pdf", name="location PDF")


def count_in_database(database_url: str) -> tuple[int, int, int, int]:
    """Return (acknowledged, stored, lost, doubled) submissions, from the database's own rows."""
    from sqlalchemy import create_engine, text

    from app.config import database_url as sqlalchemy_url

    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as connection:
        stored = dict(connection.execute(text(
            "SELECT id, client_submission_id FROM visits WHERE client_submission_id IS NOT NULL")).all())
        doubled = connection.scalar(text(
            "SELECT count(*) FROM (SELECT visit_id, question_id FROM answers GROUP BY visit_id, question_id "
            "HAVING count(*) > 1) AS d")) or 0
        doubled += connection.scalar(text(
            "SELECT count(*) FROM (SELECT visit_id FROM photos GROUP BY visit_id HAVING count(*) > 1) AS d")) or 0
    engine.dispose()
    lost = sum(1 for visit_id, submission in ACKNOWLEDGED.items() if stored.get(visit_id) != submission)
    return len(ACKNOWLEDGED), len(stored), lost, doubled


def main() -> None:
    global FACTS, PHOTO
    work = Path(tempfile.mkdtemp(prefix="fa-load-"))
    if args.db == "postgres":
        ensure_postgres_database(PG_URL)
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        database_url = PG_URL
    else:
        database_url = f"sqlite:///{work / 'load.db'}"
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    # Production's settings but for FIELDAUDIT_ENV itself: its Secure cookies need the HTTPS nginx would give.
    env = {**os.environ, "FIELDAUDIT_ENV": "development", "LOG_FORMAT": "json", "SECRET_KEY": "k" * 40,
           "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "PROXY_COUNT": "1", "BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "2",
           "UPLOAD_DIR": str(work / "photos"), "EXPORT_DIR": str(work / "exports"), "LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics")}
    (work / "metrics").mkdir()
    FACTS = prepare(database_url, env)
    PHOTO = small_jpeg()
    ACCOUNTS["shoppers"], ACCOUNTS["managers"] = itertools.count(), itertools.count()
    log = (work / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    rq_worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        Manager.fixed_count = args.managers
        environment = Environment(user_classes=[Phone, Manager], host=f"http://127.0.0.1:{port}")
        runner = environment.create_local_runner()
        started = time.monotonic()

        def record(request_type, name, response_time, response_length, exception=None, **kwargs):
            TIMINGS.append((time.monotonic() - started, name, response_time, exception is not None))

        environment.events.request.add_listener(record)
        runner.start(args.shoppers + args.managers, spawn_rate=20)
        gevent.spawn_later(args.seconds, runner.quit)
        runner.greenlet.join()
    finally:
        server.terminate()
        rq_worker.terminate()
        server.wait(timeout=60)
        rq_worker.wait(timeout=60)
        log.close()
    stats = environment.stats
    print(f"[{args.db}] {args.shoppers} shoppers + {args.managers} managers for {args.seconds} s, gunicorn 2x4 "
          f"threads on {os.cpu_count()} cores, locust on the same machine")
    print(f"{'endpoint':16s} {'requests':>8s} {'errors':>6s} {'req/s':>6s} {'p50':>6s} {'p95':>6s} {'p99':>6s}  ms")
    for (name, _method), entry in sorted(stats.entries.items()):
        print(f"{name:16s} {entry.num_requests:8d} {entry.num_failures:6d} {entry.total_rps:6.1f} "
              f"{entry.get_response_time_percentile(0.5):6.0f} {entry.get_response_time_percentile(0.95):6.0f} "
              f"{entry.get_response_time_percentile(0.99):6.0f}")
    total = stats.total
    print(f"{'all':16s} {total.num_requests:8d} {total.num_failures:6d} {total.total_rps:6.1f} "
          f"{total.get_response_time_percentile(0.5):6.0f} {total.get_response_time_percentile(0.95):6.0f} "
          f"{total.get_response_time_percentile(0.99):6.0f}")
    steady, span = [t for t in TIMINGS if t[0] >= args.warmup], max(1, args.seconds - args.warmup)
    print(f"steady state, after the first {args.warmup} s (the sign-in burst of {args.shoppers + args.managers} "
          f"users at 20/s left out): {len(steady) / span:.1f} req/s")
    for name in sorted({t[1] for t in steady}):
        times = sorted(t[2] for t in steady if t[1] == name)
        cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        failed = sum(1 for t in steady if t[1] == name and t[3])
        print(f"{name:16s} {len(times):8d} {failed:6d} {len(times) / span:6.1f} {cuts[49]:6.0f} {cuts[94]:6.0f} "
              f"{cuts[98]:6.0f}")
    for error in list(stats.errors.values())[:5]:
        print(f"  error x{error.occurrences}: {error.method} {error.name}: {str(error.error)[:160]}")
    acknowledged, stored, lost, doubled = count_in_database(database_url)
    print(f"submissions acknowledged {acknowledged}, stored {stored}, lost {lost}, doubled {doubled} "
          f"(target: 0 lost, 0 doubled; p95 < 300 ms for draft and submit, 0 errors)")
    if total.num_failures:
        print(f"server and worker log kept: {work / 'server.log'}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--shoppers", type=int, default=100)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=15, help="seconds left out of the steady-state figures")
    args = parser.parse_args()
    main()
