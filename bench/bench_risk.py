"""Benchmark: the risk score's look-ups and its share of a submission, on SQLite and PostgreSQL.

    python bench/bench_risk.py [--db sqlite|postgres|both] [--photos 100000] [--rounds 100]

1. Duplicate-photo search: `risk.near_photos` for one photo against PHOTOS stored perceptual hashes
   (four indexed 16-bit bands, then the Hamming distance in Python); half the probes have a planted
   near-duplicate (2 bits off), which must be found. Target: < 50 ms per photo.
2. The risk's added time per submission: a 60-question visit with a photo and four long comments
   submitted through the phone's API, with the risk computed and (alternating rounds) without it,
   in the same database (the stored photos above in 2,000 earlier visits of 20 stores by 20 shoppers, 1,000 of
   them with a comment). Target: < 20 ms added (median).
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import ensure_postgres_database  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from app import create_app  # noqa: E402
from app.checklists.loader import parse_checklist  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Answer, ChecklistVersion, Location, Photo, Region, Role, User, Visit, VisitStatus  # noqa: E402
from app.visits import lifecycle, risk  # noqa: E402

URLS = {"postgres": "postgresql://postgres@127.0.0.1:5432/fa_risk_bench"}
PHOTOS_PER_VISIT = 50
TYPES = ("yes_no", "scale", "choice", "duration", "number", "text")
COMMENTS = [
    "The consultant at the second till was chatting on the phone and ignored the queue.",
    "Nobody greeted me for three minutes while two staff members restocked the shelves.",
    "The price tag on the gift set did not match the price charged at the till.",
    "The fitting room was closed and nobody could say when it would open again.",
]


def checklist_yaml() -> str:
    """Return a checklist of 60 questions of every type in 6 sections and one photo question."""
    lines = ["id: bench-risk", "version: 1", "title: Benchmark visit", "sections:"]
    for s in range(6):
        lines += [f"  - id: s{s}", f"    title: Section {s}", "    questions:"]
        for i in range(10):
            qid, kind = f"q{s}_{i}", TYPES[i % len(TYPES)]
            lines += [f"      - id: {qid}", f"        text: Question {qid}", f"        type: {kind}"]
            if kind == "choice":
                lines += ["        options:", "          - {value: a, label: A, score: 1}",
                          "          - {value: b, label: B, score: 0}"]
            elif kind == "duration":
                lines += ["        target: 60", "        limit: 300"]
            elif kind == "number":
                lines += ["        target: 5", "        limit: 10"]
    lines += ["      - id: shelf", "        text: Shelf", "        type: photo"]
    return "\n".join(lines) + "\n"


def make_app(name: str, tmp: str):
    url = URLS["postgres"] if name == "postgres" else f"sqlite:///{tmp}/bench_risk.db"
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": f"{tmp}/photos"})


def rand64(rng: random.Random) -> int:
    return rng.getrandbits(64)


def near(value: int, rng: random.Random, bits: int = 2) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


def photo_row(visit_id: int, slot: int, value: int) -> dict:
    b0, b1, b2, b3 = risk.bands(value)
    return {"token": str(uuid.uuid4()), "visit_id": visit_id, "question_id": "shelf", "slot": slot,
            "client_photo_id": f"c{visit_id}-{slot}", "stored_name": f"{uuid.uuid4().hex}.jpg", "status": "ready",
            "source": "camera", "phash": risk.signed64(value), "phash_band0": b0, "phash_band1": b1,
            "phash_band2": b2, "phash_band3": b3, "uploaded_at": datetime.now(UTC)}


def setup(app, photos: int, rounds: int, rng: random.Random) -> dict:
    """Store the network: visits holding `photos` photos, earlier visits with comments, visits to submit."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        source = checklist_yaml()
        checklist = parse_checklist(source, "bench.yaml")
        version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel=None,
                                   definition=checklist.model_dump(mode="json"), source_text=source,
                                   source_hash="bench", source_path="bench.yaml")
        region = Region(code="R", name="Region")
        # 20 stores and 20 shoppers share the earlier visits; the visits timed are of the first pair.
        locations = [Location(code=f"L{n}", name=f"Store {n}", region=region, latitude=55.75, longitude=37.61)
                     for n in range(20)]
        shoppers = [User(email=f"s{n}@example.com", name=f"Shopper {n}", role=Role.shopper, password_hash="x")
                    for n in range(20)]
        db.session.add_all([version, region, *locations, *shoppers])
        db.session.commit()
        location, shopper = locations[0], shoppers[0]
        past = datetime.now(UTC) - timedelta(days=20)
        holders = photos // PHOTOS_PER_VISIT
        db.session.execute(insert(Visit), [{
            "location_id": rng.choice(locations).id, "checklist_version_id": version.id,
            "shopper_id": rng.choice(shoppers).id,
            "status": VisitStatus.approved, "window_start": date.today() - timedelta(days=30),
            "window_end": date.today(), "started_at": past, "submitted_at": past, "visited_at": past,
        } for _ in range(holders)])
        holder_ids = [i for (i,) in db.session.execute(text("SELECT id FROM visits ORDER BY id"))]
        stored: list[int] = []
        batch: list[dict] = []
        for n in range(photos):
            value = rand64(rng)
            stored.append(value)
            batch.append(photo_row(holder_ids[n // PHOTOS_PER_VISIT], n % PHOTOS_PER_VISIT, value))
            if len(batch) == 5000:
                db.session.execute(insert(Photo), batch)
                batch = []
        if batch:
            db.session.execute(insert(Photo), batch)
        # Earlier visits carry comments (the near-copy search reads those of the same shopper or location).
        db.session.execute(insert(Answer), [{
            "visit_id": holder_ids[n], "question_id": "q0_5", "section_id": "s0", "status": "answered",
            "value": "text", "comment": f"{COMMENTS[n % 4]} Visit {n}, {rng.randint(0, 10**6)}.",
            "comment_hash": risk.comment_hash(f"{COMMENTS[n % 4]} Visit {n}."), "visited_at": past,
        } for n in range(min(len(holder_ids), 1000))])
        to_submit = [Visit(location=location, checklist_version=version, shopper=shopper,
                           window_start=date.today() - timedelta(days=1), window_end=date.today() + timedelta(days=7))
                     for _ in range(rounds + 10)]
        db.session.add_all(to_submit)
        db.session.flush()
        # Each visit to submit has one ready photo of its own, hashed.
        db.session.execute(insert(Photo), [photo_row(v.id, 0, rand64(rng)) for v in to_submit])
        db.session.commit()
        tokens = dict(db.session.execute(text("SELECT visit_id, token FROM photos WHERE visit_id >= :first"),
                                         {"first": to_submit[0].id}).all())
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        else:
            db.session.execute(text("ANALYZE"))
        result = {"stored": stored, "submit": [(v.id, tokens[v.id]) for v in to_submit], "user": shopper.get_id(),
                  "checklist": checklist}
        db.session.remove()
        return result


def bench_search(app, name: str, stored: list[int], rng: random.Random, probes: int = 400) -> None:
    with app.app_context():
        timings, found, planted = [], 0, 0
        for n in range(probes):
            if n % 2 == 0:
                value, planted = near(rng.choice(stored), rng), planted + 1
            else:
                value = rand64(rng)
            start = time.perf_counter()
            matches = risk.near_photos([value], 3)
            timings.append((time.perf_counter() - start) * 1000)
            found += n % 2 == 0 and bool(matches)
        timings.sort()
        print(f"[{name}] duplicate-photo search, {len(stored):,} stored hashes, {probes} probes: "
              f"median {statistics.median(timings):.2f} ms, p90 {timings[int(probes * 0.9)]:.2f} ms, "
              f"max {timings[-1]:.2f} ms per photo (target < 50 ms); planted near-duplicates found {found}/{planted}")
        db.session.remove()


def bench_submit(app, name: str, data: dict) -> None:
    checklist = data["checklist"]
    values = {"yes_no": "yes", "scale": 4, "choice": "a", "duration": 95, "number": 6, "text": "Всё хорошо"}
    answers: dict = {q.id: values[q.type] for q in checklist.questions if q.type != "photo"}
    for n, qid in enumerate(["q0_1", "q1_1", "q2_1", "q3_1"]):
        answers[qid] = {"value": answers[qid], "comment": COMMENTS[n] + " Today it was different."}
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = data["user"], True
    real_refresh, real_assess = risk.refresh, risk.assess
    inside: list[float] = []
    rules: list[float] = []

    def timed_assess(*args, **kwargs):
        start = time.perf_counter()
        result = real_assess(*args, **kwargs)
        rules.append((time.perf_counter() - start) * 1000)
        return result

    risk.assess = timed_assess  # type: ignore[assignment]

    def timed_refresh(*args, **kwargs):
        start = time.perf_counter()
        result = real_refresh(*args, **kwargs)
        inside.append((time.perf_counter() - start) * 1000)
        return result

    timed: dict[bool, list[float]] = {True: [], False: []}
    for n, (visit_id, token) in enumerate(data["submit"]):
        with_risk = n % 2 == 0
        lifecycle.risk.refresh = timed_refresh if with_risk else (lambda *a, **k: None)  # type: ignore[assignment]
        body = {"client_submission_id": str(uuid.uuid4()), "answers": {**answers, "shelf": [token]},
                "answer_times": dict.fromkeys(answers, "2025-05-02T09:00:00Z"),
                "started_at": (datetime.now(UTC) - timedelta(minutes=40)).isoformat(), "geolocation": "granted",
                "position": {"latitude": 55.7501, "longitude": 37.6102, "accuracy": 12}}
        start = time.perf_counter()
        response = client.post(f"/api/v1/visits/{visit_id}/submit", json=body)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 201, response.get_data(as_text=True)
        if n >= 10:
            timed[with_risk].append(elapsed)
    lifecycle.risk.refresh, risk.assess = real_refresh, real_assess
    with_m, without_m = statistics.median(timed[True]), statistics.median(timed[False])
    print(f"[{name}] submit a 60-question visit with a photo and 4 comments, {len(timed[True])} rounds each:")
    print(f"[{name}]   without risk  median {without_m:6.1f} ms   p90 {p90(timed[False]):6.1f} ms")
    print(f"[{name}]   with risk     median {with_m:6.1f} ms   p90 {p90(timed[True]):6.1f} ms")
    print(f"[{name}]   added by risk median {with_m - without_m:6.1f} ms (target < 20 ms); time inside "
          f"risk.refresh itself: median {statistics.median(inside[5:]):.1f} ms, p90 {p90(inside[5:]):.1f} ms")
    print(f"[{name}]   of which the rules' queries and work (risk.assess): median {statistics.median(rules[5:]):.1f} ms"
          f" (the rest is the flush of the submission's own changes, which the commit would do anyway)")


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(len(ordered) * 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    for name in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        rng = random.Random(13)
        with tempfile.TemporaryDirectory() as tmp:
            if name == "postgres":
                ensure_postgres_database(URLS["postgres"])
            app = make_app(name, tmp)
            start = time.perf_counter()
            data = setup(app, args.photos, args.rounds * 2, rng)
            print(f"[{name}] stored {args.photos:,} photo hashes in {time.perf_counter() - start:.0f} s")
            bench_search(app, name, data["stored"], rng)
            bench_submit(app, name, data)
            with app.app_context():
                db.engine.dispose()
            if name == "sqlite" and os.path.exists(f"{tmp}/bench_risk.db"):
                os.unlink(f"{tmp}/bench_risk.db")


if __name__ == "__main__":
    main()
