"""Benchmark of customer surveys: metrics over many answers, and the public page.

    python bench/bench_surveys.py --db sqlite --answers 300000
    python bench/bench_surveys.py --db postgres --answers 300000

Data: 500 locations in 10 regions, answers spread over the last 12 months (10% flagged).
Prints the time of survey_metrics for every location over 90 days and a year, of the network
figures, and of the public page: GET (render) and POST (checks + insert), with the page size.
Targets: metrics for 500 locations over a year < 300 ms on PostgreSQL; page GET < 20 ms,
page < 30 KB.
"""
import argparse
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import ensure_postgres_database  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.analytics.periods import Period  # noqa: E402
from app.analytics.surveys import network_survey_metrics, survey_metrics  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Location, Region, SurveyResponse  # noqa: E402

URLS = {"sqlite": "sqlite:////tmp/fa_bench_surveys.sqlite",
        "postgres": "postgresql://postgres@127.0.0.1:5432/fa_bench_surveys"}


def generate(answers: int) -> None:
    """Fill an empty database with regions, locations and survey answers."""
    db.drop_all()
    db.create_all()
    rng = random.Random(7)
    regions = [Region(code=f"R{i}", name=f"Region {i}") for i in range(10)]
    db.session.add_all(regions)
    db.session.flush()
    locations = [Location(code=f"L{i:04d}", name=f"Store {i}", region_id=regions[i % 10].id) for i in range(500)]
    db.session.add_all(locations)
    db.session.commit()
    ids = [loc.id for loc in locations]
    now = datetime.now(UTC)
    batch = []
    for n in range(answers):
        base = rng.randint(4, 10)
        batch.append({
            "location_id": rng.choice(ids), "survey_id": "customer-feedback", "survey_version": 1,
            "submitted_at": now - timedelta(seconds=rng.randint(0, 365 * 86400)),
            "nps": min(10, max(0, base + rng.randint(-2, 1))), "csat": rng.randint(1, 5) if n % 2 else None,
            "ces": rng.randint(1, 7) if n % 3 else None, "extra": {}, "source": "web",
            "flagged": n % 10 == 0, "created_at": now,
        })
        if len(batch) == 5000:
            db.session.execute(insert(SurveyResponse), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(SurveyResponse), batch)
    db.session.commit()


def timed(label: str, function, runs: int = 5):
    """Run `function` several times and print the median wall time."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    print(f"  {label:<48} {statistics.median(times):8.1f} ms (median of {runs})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--answers", type=int, default=300_000)
    parser.add_argument("--skip-generate", action="store_true")
    args = parser.parse_args()
    if args.db == "postgres":
        ensure_postgres_database(URLS["postgres"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": URLS[args.db], "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SURVEY_MIN_FILL_SECONDS": 0})
    with app.app_context():
        if not args.skip_generate:
            started = time.perf_counter()
            generate(args.answers)
            print(f"generated {args.answers:,} answers in {time.perf_counter() - started:.1f} s ({args.db})")
        today = datetime.now(UTC).date()
        quarter, year = Period.last_days(90, today), Period.last_days(365, today)
        ids = list(db.session.scalars(db.select(Location.id)))
        print(f"{args.db}: {args.answers:,} answers, {len(ids)} locations")
        timed("survey_metrics, 500 locations, 90 days", lambda: survey_metrics(quarter, location_ids=ids))
        timed("survey_metrics, 500 locations, 365 days", lambda: survey_metrics(year, location_ids=ids))
        timed("network_survey_metrics, 365 days", lambda: network_survey_metrics(year))
        timed("network_survey_metrics, 2 regions, 365 days", lambda: network_survey_metrics(year, {1, 2}))
        token = db.session.get(Location, ids[0]).survey_token
        client = app.test_client()
        page = timed("public page GET (render)", lambda: client.get(f"/s/{token}"), runs=20)
        print(f"  {'public page size':<48} {len(page.data):8,} bytes")
        started = re.search(rb'name="started" value="([^"]+)"', page.data).group(1).decode()
        timed("public page POST (checks + insert + commit)", lambda: client.post(
            f"/s/{token}", data={"nps": "9", "csat": "4", "ces": "6", "started": started,
                                 "why": f"bench {random.random()}"}), runs=20)


if __name__ == "__main__":
    main()
