"""Benchmark: server time of a photo upload decoded in the request, against one queued for an RQ job.

Usage: python bench/bench_photos.py [ROUNDS]   (needs Redis on 127.0.0.1:6379 for the queued half)
Prints medians in milliseconds: the upload request inline, the upload request queued, the job per photo,
and the ratio of the inline request to the queued one (what a shopper waits for).
"""
import io
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from app import create_app  # noqa: E402
from app.checklists.loader import parse_checklist  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ChecklistVersion, Location, Region, Role, User, Visit  # noqa: E402

CHECKLIST = """id: bench-photos
version: 1
title: Photos
sections:
  - id: s
    title: Evidence
    questions:
      - id: shelf
        text: Shelf
        type: photo
        max_photos: 10
"""
REDIS_URL = "redis://127.0.0.1:6379/14"


def phone_photo() -> bytes:
    """A photo as the phone sends it: 1600 x 1200 JPEG of a busy scene (about 1 MB)."""
    out = io.BytesIO()
    Image.effect_noise((1600, 1200), 30).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def run(tmp: str, rounds: int, redis_url: str | None) -> tuple[list[float], list[float]]:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": f"{tmp}/photos",
        "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": "memory://",
    })
    data = phone_photo()
    with app.app_context():
        db.drop_all()
        db.create_all()
        checklist = parse_checklist(CHECKLIST, "bench.yaml")
        version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel=None,
                                   definition=checklist.model_dump(mode="json"), source_text=CHECKLIST,
                                   source_hash="bench", source_path="bench.yaml")
        region = Region(code="R", name="Region")
        location = Location(code="L1", name="Store", region=region, latitude=55.75, longitude=37.61)
        shopper = User(email="s@example.com", name="Shopper", role=Role.shopper, password_hash="x")
        visits = [Visit(location=location, checklist_version=version, shopper=shopper,
                        window_start=date.today(), window_end=date.today() + timedelta(days=7))
                  for _ in range(rounds // 10 + 1)]
        db.session.add_all([version, region, location, shopper, *visits])
        db.session.commit()
        ids, user_id = [v.id for v in visits], shopper.get_id()
        db.session.remove()

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user_id, True
    requests, jobs = [], []
    for n in range(rounds):
        form = {"file": (io.BytesIO(data), "p.jpg"), "question_id": "shelf", "client_photo_id": f"c-{n}"}
        start = time.perf_counter()
        response = client.post(f"/api/v1/visits/{ids[n // 10]}/photos", data=form, content_type="multipart/form-data")
        requests.append((time.perf_counter() - start) * 1000)
        assert response.status_code == (202 if redis_url else 201), response.get_data(as_text=True)
    if redis_url:
        from redis import Redis
        from rq import Queue, SimpleWorker

        from app.visits.photos import QUEUE_NAME

        queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
        with app.app_context():
            start = time.perf_counter()
            SimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
            jobs.append((time.perf_counter() - start) * 1000 / rounds)
            from app.models import Photo

            assert db.session.query(Photo).filter_by(status="ready").count() == rounds
    return requests, jobs


def main(rounds: int = 30) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inline, _ = run(tmp, rounds, None)
    print(f"photo upload decoded in the request: median {statistics.median(inline):.1f} ms "
          f"(p90 {statistics.quantiles(inline, n=10)[-1]:.1f} ms), {rounds} uploads of 1600x1200")
    try:
        from redis import Redis

        Redis.from_url(REDIS_URL).ping()
    except Exception:  # noqa: BLE001
        print("queued: skipped (no Redis on 127.0.0.1:6379)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        queued, jobs = run(tmp, rounds, REDIS_URL)
    print(f"photo upload queued for a job:       median {statistics.median(queued):.1f} ms "
          f"(p90 {statistics.quantiles(queued, n=10)[-1]:.1f} ms); the job {jobs[0]:.1f} ms per photo")
    print(f"ratio request inline / queued: {statistics.median(inline) / statistics.median(queued):.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
