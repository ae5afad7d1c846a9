"""Benchmark: server time of submitting a 60-question visit through the Flask test client on SQLite.

Usage: python bench/bench_submit.py [ROUNDS]   (prints median / p90 / max in milliseconds)
"""
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.checklists.loader import parse_checklist  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ChecklistVersion, Location, Region, Role, User, Visit  # noqa: E402

TYPES = ("yes_no", "scale", "choice", "duration", "number", "text")


def checklist_yaml(questions: int = 60) -> str:
    """Return a checklist of `questions` questions of every type in 6 sections."""
    lines = ["id: bench-visit", "version: 1", "title: Benchmark visit", "sections:"]
    per_section = questions // 6
    for s in range(6):
        lines += [f"  - id: s{s}", f"    title: Section {s}", "    questions:"]
        for i in range(per_section):
            qid, kind = f"q{s}_{i}", TYPES[i % len(TYPES)]
            lines += [f"      - id: {qid}", f"        text: Question {qid}", f"        type: {kind}"]
            if kind == "choice":
                lines += ["        options:", "          - {value: a, label: A, score: 1}",
                          "          - {value: b, label: B, score: 0}"]
            elif kind == "duration":
                lines += ["        target: 60", "        limit: 300"]
            elif kind == "number":
                lines += ["        target: 5", "        limit: 10"]
    return "\n".join(lines) + "\n"


def answers_for(checklist) -> dict:
    values = {"yes_no": "yes", "scale": 4, "choice": "a", "duration": 95, "number": 6, "text": "Всё хорошо"}
    return {q.id: values[q.type] for q in checklist.questions}


def main(rounds: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
            "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": f"{tmp}/photos",
        })
        with app.app_context():
            db.create_all()
            source = checklist_yaml()
            checklist = parse_checklist(source, "bench.yaml")
            version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel=None,
                                       definition=checklist.model_dump(mode="json"), source_text=source,
                                       source_hash="bench", source_path="bench.yaml")
            region = Region(code="R", name="Region")
            location = Location(code="L1", name="Store", region=region, latitude=55.75, longitude=37.61)
            shopper = User(email="s@example.com", name="Shopper", role=Role.shopper, password_hash="x")
            db.session.add_all([version, region, location, shopper])
            db.session.flush()
            visits = [Visit(location=location, checklist_version=version, shopper=shopper,
                            window_start=date.today(), window_end=date.today() + timedelta(days=7))
                      for _ in range(rounds + 10)]
            db.session.add_all(visits)
            db.session.commit()
            ids, user_id = [v.id for v in visits], shopper.get_id()
            answers = answers_for(checklist)
            db.session.remove()

        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user_id, True
        timings, retries = [], []
        for n, visit_id in enumerate(ids):
            body = {"client_submission_id": str(uuid.uuid4()), "answers": answers,
                    "answer_times": dict.fromkeys(answers, "2025-05-02T09:00:00Z"),
                    "started_at": "2025-05-02T08:40:00Z", "geolocation": "granted",
                    "position": {"latitude": 55.7501, "longitude": 37.6102, "accuracy": 12}}
            start = time.perf_counter()
            response = client.post(f"/api/v1/visits/{visit_id}/submit", json=body)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 201, response.get_data(as_text=True)
            start = time.perf_counter()
            again = client.post(f"/api/v1/visits/{visit_id}/submit", json=body)
            retry = (time.perf_counter() - start) * 1000
            assert again.status_code == 200
            if n >= 10:  # the first requests warm caches
                timings.append(elapsed)
                retries.append(retry)
        timings.sort()
        print(f"submit a 60-question visit, SQLite file, {len(timings)} rounds")
        print(f"  median {statistics.median(timings):6.1f} ms   p90 {timings[int(len(timings) * 0.9)]:6.1f} ms"
              f"   max {timings[-1]:6.1f} ms   (target: median < 50 ms)")
        print(f"identical retry (200 replay): median {statistics.median(retries):6.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
