"""Benchmark of the shopper calibration: fit one programme at 100 000 visits, and the pages that show it.

    python bench/bench_calibration.py --db sqlite                  # generate + measure
    python bench/bench_calibration.py --db both --skip-generate    # measure existing data

Data: 300 locations in 10 regions at their own level, 200 shoppers of whom one in seven has a bias (sd 6),
each scoring mostly in a home region (80 %) and anywhere else otherwise; one programme, visits over the
last 90 days with noise of sd 8 points, 90 % approved. Only visit scores are stored (no answers): the
fit reads (location, shopper, score) and nothing else.
Target: fitting a programme (its SQL and the solve) < 300 ms, so the Shoppers page and a location page
with calibrated=1 need no cache.
"""
import argparse
import hashlib
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_dashboard import Writer, login, timed  # noqa: E402
from benchlib import ensure_postgres_database  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

URLS = {
    "sqlite": "sqlite:////tmp/fa_bench_calibration.sqlite",
    "postgres": "postgresql://postgres@127.0.0.1:5432/fa_bench_calibration",
}
SEED = 20240613
CHECKLIST = """\
id: bench-calibration
version: 1
title: Bench calibration
sections:
  - id: all
    title: All
    questions:
      - {id: ok, text: Standard met?, type: yes_no}
"""


def make_app(name: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": URLS[name], "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False})


def generate(app, visits: int, locations: int, shoppers: int) -> None:
    """Fill the database with regions, locations, shoppers, one programme and scored visits."""
    from app.analytics import rollups
    from app.checklists.loader import parse_checklist
    from app.models import ChecklistVersion, Location, Region, Role, User

    rng = np.random.default_rng(SEED)
    with app.app_context():
        db.drop_all()
        db.create_all()
        regions = [Region(code=f"R{r:02d}", name=f"Регион {r + 1}") for r in range(10)]
        locs = [Location(code=f"L{n:04d}", name=f"Магазин {n + 1}", region=regions[n % 10]) for n in range(locations)]
        people = [User(email=f"ms{n}@bench.test", name=f"Shopper {n}", role=Role.shopper, shopper_code=f"MS-{n:03d}",
                       password_hash="x") for n in range(shoppers)]
        admin = User(email="admin@bench.test", name="Admin", role=Role.admin, password_hash="x")
        manager = User(email="manager@bench.test", name="Manager", role=Role.manager, password_hash="x",
                       regions=[regions[0]])
        checklist = parse_checklist(CHECKLIST, "bench.yaml")
        version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel="store",
                                   definition=checklist.model_dump(mode="json"), source_text=CHECKLIST,
                                   source_hash=hashlib.sha256(CHECKLIST.encode()).hexdigest(),
                                   source_path="bench.yaml")
        db.session.add_all([*regions, *locs, *people, admin, manager, version])
        db.session.commit()
        loc_ids = np.array([loc.id for loc in locs])
        loc_region = np.arange(locations) % 10
        shopper_ids = np.array([p.id for p in people])
        level = rng.normal(78, 8, locations)
        # Most shoppers score like the others; one in seven leans one way by some points.
        bias = np.where(rng.random(shoppers) < 1 / 7, rng.normal(0, 6, shoppers), 0.0)
        home = rng.integers(0, 10, shoppers)
        by_region = [np.flatnonzero(loc_region == r) for r in range(10)]
        who = rng.integers(0, shoppers, visits)
        anywhere = rng.random(visits) >= 0.8
        where = np.array([rng.choice(by_region[home[s]]) if not a else rng.integers(0, locations)
                          for s, a in zip(who, anywhere, strict=True)])
        scores = np.clip(level[where] + bias[who] + rng.normal(0, 8, visits), 0, 100)
        status = np.where(rng.random(visits) < 0.9, "approved", "submitted")
        start = datetime.now(UTC) - timedelta(days=89)
        seconds = rng.integers(0, 88 * 86400, visits)
        writer = Writer(db.engine)
        batch = []
        for i in range(visits):
            when = start + timedelta(seconds=int(seconds[i]))
            batch.append((i + 1, int(loc_ids[where[i]]), version.id, int(shopper_ids[who[i]]), str(status[i]),
                          when.date(), when.date(), "", when, when, when, when + timedelta(minutes=25),
                          float(scores[i]), None, False))
            if len(batch) >= 5000:
                writer.write(batch, [], [])
                batch = []
        writer.write(batch, [], [])
        writer.finish()
        rollups.rebuild()
        db.session.commit()
        print(f"  {visits:,} visits at {locations} locations by {shoppers} shoppers, {int((bias != 0).sum())} "
              "of them with a bias")


def median_ms(step, runs: int = 9) -> tuple[float, float]:
    """Return (median, best) milliseconds of step() after one warm-up."""
    step()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def measure(name: str) -> None:
    from sqlalchemy import func, select

    from app.analytics import calibration
    from app.analytics.filters import Filters
    from app.analytics.periods import Period
    from app.models import Location, Visit, VisitStatus

    app = make_app(name)
    today = date.today()
    filters = Filters(Period(today - timedelta(days=89), today), programme="bench-calibration")
    with app.app_context():
        counted = db.session.scalar(select(func.count(Visit.id)).where(Visit.status == VisitStatus.approved))
        pairs = calibration.pair_sums(filters)
        columns = ([p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs], [p[3] for p in pairs],
                   [p[4] for p in pairs])
        location_id = db.session.scalar(select(Location.id).order_by(Location.id).limit(1))
        print(f"[{name}] {counted:,} counted visits in {len(pairs):,} (location, shopper) pairs")
        sql, sql_best = median_ms(lambda: calibration.pair_sums(filters))
        solve, solve_best = median_ms(lambda: calibration.fit(*columns))
        whole, whole_best = median_ms(lambda: calibration.calibration(filters))
        fitted = calibration.calibration(filters)
    print(f"[{name}] {'SQL: GROUP BY location, shopper':40s} median {sql:7.1f} ms   best {sql_best:7.1f} ms")
    print(f"[{name}] {'solve (numpy)':40s} median {solve:7.1f} ms   best {solve_best:7.1f} ms")
    print(f"[{name}] {'fit a programme: SQL + solve':40s} median {whole:7.1f} ms   best {whole_best:7.1f} ms"
          f"   (target < 300 ms)")
    flagged = sum(1 for b in fitted.shoppers.values() if b.significant)
    print(f"[{name}] {len(fitted.shoppers)} shoppers, {flagged} flagged lenient or severe (simulated: one "
          f"in seven with a bias); residual sd {fitted.residual_sd:.2f} (simulated 8)")
    client = app.test_client()
    login(app, client, "admin@bench.test")
    q = f"period=custom&start={filters.period.start}&end={filters.period.end}&checklist=bench-calibration"
    for label, url in (
        ("Shoppers page", f"/dashboard/shoppers?{q}"),
        ("location page", f"/dashboard/locations/{location_id}?{q}"),
        ("location page, calibrated=1", f"/dashboard/locations/{location_id}?{q}&calibrated=1"),
        ("API location figures, calibrated=1", f"/api/v1/figures/locations/L0000?{q}&calibrated=1"),
    ):
        median, best = timed(client, url)
        print(f"[{name}] {label:40s} median {median:7.1f} ms   best {best:7.1f} ms")
    login(app, client, "manager@bench.test")
    median, best = timed(client, f"/dashboard/shoppers?{q}")
    print(f"[{name}] {'Shoppers page, one-region manager':40s} median {median:7.1f} ms   best {best:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=300)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--skip-generate", action="store_true")
    args = parser.parse_args()
    for name in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        if not args.skip_generate:
            print(f"[{name}] generating ...")
            if name == "postgres":
                ensure_postgres_database(URLS["postgres"])
            if name == "sqlite" and os.path.exists("/tmp/fa_bench_calibration.sqlite"):
                os.unlink("/tmp/fa_bench_calibration.sqlite")
            generate(make_app(name), args.visits, args.locations, args.shoppers)
        measure(name)


if __name__ == "__main__":
    main()
