"""Benchmark of the PDF reports: prints timings and peak memory.

    /tmp/venv/bin/python bench/bench_reports.py [--locations 50] [--visits 12] [--keep DIR]

Builds a throw-away SQLite database: a 60-question visit with 10 photos (2400x1800 JPEGs),
and `--locations` locations with `--visits` scored visits each (retail checklist, demo answers).
Targets on a 2-core machine: visit report < 1 s, location report < 2 s, batch of 50 < 60 s.
"""
import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.analytics.filters import Filters, programmes  # noqa: E402
from app.analytics.periods import Period  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ChecklistVersion, Location, Region, Role, User  # noqa: E402
from app.reports import documents, jobs  # noqa: E402
from app.storage import storage_of  # noqa: E402
from tests.factories_scored import make_scored_visit  # noqa: E402
from tests.reports_helpers import add_photo, big_checklist, demo_answers, stored_version  # noqa: E402


def locations_programme(location) -> str | None:
    """Return the programme with the most visits in 2024 at the location (what its page shows first)."""
    found = programmes(Filters(Period(date(2024, 1, 1), date(2024, 12, 31)), location_id=location.id))
    return found[0].checklist_id if found else None


def timed(fn, repeat: int = 5) -> tuple[float, float, object]:
    """Return (first run s, median of the next `repeat` runs s, last result)."""
    started = time.perf_counter()
    result = fn()
    first = time.perf_counter() - started
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return first, statistics.median(runs), result


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=50)
    parser.add_argument("--visits", type=int, default=12)
    parser.add_argument("--keep", type=Path, help="write the sample PDFs and ZIP into this folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fa-bench-reports-"))
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.db'}", "SECRET_KEY": "bench",
        "UPLOAD_DIR": str(work / "photos"), "EXPORT_DIR": str(work / "exports"), "PDF_RENDER_TIMEOUT": 60,
    })
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        shopper = User(email="s@example.com", name="Bench Shopper", role=Role.shopper, shopper_code="MS-001",
                       password_hash="-")
        regions = [Region(code=f"R{i}", name=f"Region {i}") for i in range(5)]
        db.session.add_all([shopper, *regions])
        db.session.commit()
        retail = stored_version(db, ROOT / "checklists" / "retail-store-visit.yaml")
        big = ChecklistVersion(checklist_id="big-audit", version=1, title="Full store audit", channel=None,
                               definition={}, source_text="", source_hash="", source_path="bench")
        from app.checklists.loader import parse_checklist

        parsed = parse_checklist(big_checklist(60))
        big.definition = parsed.model_dump(mode="json")
        db.session.add(big)
        locations = [Location(code=f"L{i:03d}", name=f"Store {i}", address=f"{i} High Street", region=regions[i % 5])
                     for i in range(args.locations)]
        db.session.add_all(locations)
        db.session.commit()
        start_day = date(2024, 1, 3)
        n = 0
        for index, location in enumerate(locations):
            for k in range(args.visits):
                n += 1
                quality = 0.5 + 0.45 * ((index * 7 + k) % 10) / 10
                make_scored_visit(db, location, retail, shopper, demo_answers(retail.checklist, quality, n),
                                  datetime.combine(start_day + timedelta(days=30 * k + index % 28),
                                                   datetime.min.time(), tzinfo=UTC).replace(hour=11))
        answers = {f"q{i}": {"value": "no", "comment": "Staff were busy; nobody came."} if i % 6 == 0 else "yes"
                   for i in range(60)} | {"evidence": [f"p{i}" for i in range(10)]}
        big_visit = make_scored_visit(db, locations[0], big, shopper, answers, datetime(2024, 6, 1, 12, tzinfo=UTC))
        for i in range(10):
            add_photo(db, big_visit, "evidence", storage_of(app), i)
        print(f"data: {n} visits at {len(locations)} locations + a 60-question visit with 10 photos, "
              f"built in {time.perf_counter() - started:.1f} s")

        year = Filters(Period(date(2024, 1, 1), date(2024, 12, 31)), programme=locations_programme(locations[1]))
        first, warm, visit_doc = timed(lambda: documents.to_pdf(documents.visit_html(big_visit)))
        print(f"visit report (60 questions, 10 photos): first {first:.2f} s (thumbnails made), "
              f"then median {warm:.2f} s; {len(visit_doc.pdf) / 1024:.0f} KiB  target < 1 s")
        first, warm, location_doc = timed(lambda: documents.to_pdf(documents.location_html(year, locations[1])))
        print(f"location report ({args.visits} visits): first {first:.2f} s, then median {warm:.2f} s; "
              f"{len(location_doc.pdf) / 1024:.0f} KiB  target < 2 s")
        first, warm, _summary = timed(lambda: documents.to_pdf(documents.summary_html(year)), repeat=2)
        print(f"network summary ({len(locations)} locations): first {first:.2f} s, then median {warm:.2f} s")
        target = (args.keep or work) / "batch.zip"
        started = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = jobs.build_zip(jobs.batch_locations(year), year, target, workers=2)
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        print(f"batch of {result.written} location reports: {elapsed:.1f} s wall, {child_cpu:.1f} s CPU in the "
              f"2 render processes ({child_cpu / elapsed:.2f} cores busy on average), "
              f"{target.stat().st_size / 1024 / 1024:.1f} MiB ZIP, {len(result.failures)} failures  target < 60 s")
        print(f"peak memory: main process {mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}, "
              f"largest render process {mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "visit.pdf").write_bytes(visit_doc.pdf)
            (args.keep / "location.pdf").write_bytes(location_doc.pdf)
            print(f"sample PDFs in {args.keep}")


if __name__ == "__main__":
    main()
