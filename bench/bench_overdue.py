"""Benchmark of "overdue" on each location's calendar against the old single-date rule.

    python bench/bench_overdue.py --db sqlite --visits 50000
    python bench/bench_overdue.py --db postgres --visits 50000

Data: 440 locations in 11 regions, one per Russian zone (UTC+2 to UTC+12), 20 of them in a zone of their own;
open visits with windows around today. Measured: the planning counter (status_counts), the overdue list's
count and first page, each beside the same query with the old rule `window_end < one date` (the
baseline: what one zone costs), at 06:00 UTC (all zones on one date) and 15:00 UTC (two dates).
Figures are medians of 15 runs after a warm-up, in milliseconds.
"""
import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import ensure_postgres_database  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.localtime import RUSSIAN_ZONES, overdue_condition  # noqa: E402
from app.models import OPEN_STATES, ChecklistVersion, Location, Region, Role, User, Visit, VisitStatus  # noqa: E402
from app.planning.services import filter_visits, status_counts  # noqa: E402

URLS = {"sqlite": "sqlite:////tmp/fa_tz_bench.sqlite", "postgres": "postgresql://postgres@127.0.0.1:5432/fa_tz_bench"}
ZONES = [z for z in RUSSIAN_ZONES if z not in ("Europe/Volgograd", "Asia/Krasnoyarsk", "Asia/Sakhalin")]


def median_ms(fn, runs: int = 15) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def generate(visits: int) -> User:
    rng = random.Random(7)
    db.drop_all()
    db.create_all()
    regions = [Region(code=f"R{i}", name=f"Регион {i}", timezone=zone) for i, zone in enumerate(ZONES)]
    db.session.add_all(regions)
    db.session.flush()
    locations = [Location(code=f"L{i:04d}", name=f"Точка {i}", region_id=regions[i % len(regions)].id,
                          timezone=rng.choice(ZONES) if i % 22 == 0 else None) for i in range(40 * len(regions))]
    db.session.add_all(locations)
    manager = User(email="m@example.com", name="M", role=Role.manager)
    shopper = User(email="s@example.com", name="S", role=Role.shopper, shopper_code="S1")
    for user in (manager, shopper):
        user.set_password("x" * 12)
    version = ChecklistVersion(checklist_id="c", version=1, title="C", definition={}, source_text="",
                               source_hash="h", source_path="c.yaml")
    db.session.add_all([manager, shopper, version])
    db.session.flush()
    today = date.today()
    rows = []
    for n in range(visits):
        end = today + timedelta(days=rng.randint(-20, 20))
        rows.append({"location_id": locations[n % len(locations)].id, "checklist_version_id": version.id,
                     "shopper_id": shopper.id, "status": rng.choice(list(VisitStatus)),
                     "window_start": end - timedelta(days=7), "window_end": end, "instructions": "",
                     "created_at": datetime.now(UTC)})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Visit), rows[start:start + 5000])
    db.session.commit()
    db.session.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would have them
    db.session.commit()
    return manager


def measure(manager: User, now: datetime) -> None:
    today = now.date()

    def old_count() -> int:
        return db.session.scalar(select(func.count(Visit.id)).where(
            Visit.status.in_(OPEN_STATES), Visit.window_end < today)) or 0

    def new_count() -> int:
        return db.session.scalar(select(func.count(Visit.id)).where(overdue_condition(now))) or 0

    def page() -> list[int]:
        stmt = filter_visits(manager, overdue=True, now=now).limit(50).with_only_columns(Visit.id)
        return list(db.session.scalars(stmt))

    def old_page() -> list[int]:
        stmt = filter_visits(manager, now=now).where(Visit.window_end < today).limit(50).with_only_columns(Visit.id)
        return list(db.session.scalars(stmt))

    print(f"  at {now:%H:%M} UTC: {new_count()} overdue on each location's calendar, {old_count()} on the UTC date")
    print(f"    overdue count      {median_ms(new_count):7.1f} ms   baseline one date {median_ms(old_count):7.1f} ms")
    print(f"    overdue first page {median_ms(page):7.1f} ms   baseline one date {median_ms(old_page):7.1f} ms")
    print(f"    planning counters  {median_ms(lambda: status_counts(manager, now)):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--visits", type=int, default=50_000)
    args = parser.parse_args()
    for name in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        url = URLS[name]
        if name == "postgres":
            ensure_postgres_database(url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
        with app.app_context():
            print(f"{name}: {args.visits} visits, {len(ZONES)} zones")
            manager = generate(args.visits)
            midnight = datetime.combine(date.today(), datetime.min.time(), UTC)
            # 06:00 UTC: every Russian zone is on the same date; 15:00 UTC: the east has turned, the west not.
            for hour in (6, 15):
                measure(manager, midnight + timedelta(hours=hour))
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
