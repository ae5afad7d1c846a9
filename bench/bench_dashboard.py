"""Benchmark of the manager workspace: generate a network of scored visits, time the pages and the export.

    python bench/bench_dashboard.py --db sqlite --visits 100000          # generate + measure
    python bench/bench_dashboard.py --db postgres --visits 100000
    python bench/bench_dashboard.py --db both --skip-generate             # measure existing data
    python bench/bench_dashboard.py --db postgres --skip-generate --pages-only [--redis redis://127.0.0.1:6379/14]

Data: 500 locations in 10 regions, a 50-question checklist (5 sections), visits spread over the
last 24 months; each location has its own quality level and each question its own difficulty,
so scores spread realistically (critical failures included). Rows go in with COPY on PostgreSQL
and executemany on SQLite, in batches, so memory stays flat.
After loading, the rollups are rebuilt from the facts (`flask figures rebuild-rollups` does the same).
Pages are timed cold (the figures cache emptied before each request: the first page after any
submission, approval or void) and warm (served from the cache). Targets (PostgreSQL): dashboard for
3 months < 100 ms and within 2x of the bare aggregate over the rollup table behind its league table,
location page < 150 ms, XLSX export of one quarter < 30 s and < 300 MB
(as a background job, timed to the finished file, beside the bare SELECT written to the same writer):

    python bench/bench_dashboard.py --db postgres --export-only job-xlsx   # or bare-xlsx, job-csv, bare-csv
"""
import argparse
import hashlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib import ensure_postgres_database  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.storage import storage_of  # noqa: E402

URLS = {
    "sqlite": "sqlite:////tmp/fa_bench.sqlite",
    "postgres": "postgresql://postgres@127.0.0.1:5432/fa_bench",
}
SECTIONS, PER_SECTION = 5, 10
SEED = 20240601


def checklist_yaml() -> str:
    """Return a 50-question checklist: yes/no, scales, a choice and a stopwatch per section."""
    sections = []
    for s in range(SECTIONS):
        questions = []
        for n in range(PER_SECTION):
            qid = f"s{s}_q{n}"
            if n < 6:
                q = {"id": qid, "text": f"Вопрос {s}.{n}: сотрудник выполнил стандарт?", "type": "yes_no",
                     "weight": 1 + n % 3}
                if s == 0 and n == 0:
                    q["critical"] = True
            elif n < 8:
                q = {"id": qid, "text": f"Оценка {s}.{n}", "type": "scale", "min": 1, "max": 5}
            elif n == 8:
                q = {"id": qid, "text": f"Выбор {s}.{n}", "type": "choice", "options": [
                    {"value": "full", "label": "Полностью", "score": 1},
                    {"value": "part", "label": "Частично", "score": 0.5},
                    {"value": "none", "label": "Нет", "score": 0}]}
            else:
                q = {"id": qid, "text": f"Время ожидания {s}", "type": "duration", "target": 60, "limit": 300}
            questions.append(q)
        sections.append({"id": f"section_{s}", "title": f"Раздел {s + 1}", "weight": 1 + s % 2,
                         "questions": questions})
    return yaml.safe_dump({"id": "bench-visit", "version": 1, "title": "Bench store visit", "channel": "store",
                           "sections": sections}, allow_unicode=True, sort_keys=False)


def answer_for(question, quality: float, difficulty: float, rng: random.Random):
    """Return a plausible answer: better locations and easier questions fail less."""
    p_ok = max(0.02, min(0.995, quality - difficulty))
    kind = question.type
    if kind == "yes_no":
        return "yes" if rng.random() < p_ok else "no"
    if kind == "scale":
        return max(1, min(5, round(1 + 4 * p_ok + rng.gauss(0, 0.8))))
    if kind == "choice":
        r = rng.random()
        return "full" if r < p_ok else ("part" if r < (1 + p_ok) / 2 else "none")
    return max(5, int(rng.gauss(35 + (1 - p_ok) * 250, 20)))


def generate(app, visits: int, locations: int) -> None:
    """Fill the database with regions, locations, users, one checklist and scored visits."""
    from app.checklists.loader import parse_checklist
    from app.models import ChecklistVersion, Location, Region, Role, User
    from app.scoring import score_visit

    rng = random.Random(SEED)
    with app.app_context():
        db.drop_all()
        db.create_all()
        regions = [Region(code=f"R{r:02d}", name=f"Регион {r + 1}") for r in range(10)]
        db.session.add_all(regions)
        locs = [Location(code=f"L{n:04d}", name=f"Магазин {n + 1}", region=regions[n % 10],
                         latitude=55 + rng.random(), longitude=37 + rng.random()) for n in range(locations)]
        db.session.add_all(locs)
        shoppers = [User(email=f"ms{n}@bench.test", name=f"Shopper {n}", role=Role.shopper, shopper_code=f"MS-{n:03d}",
                         password_hash="x") for n in range(50)]
        admin = User(email="admin@bench.test", name="Admin", role=Role.admin, password_hash="x")
        manager = User(email="manager@bench.test", name="Manager", role=Role.manager, password_hash="x",
                       regions=[regions[0]])
        db.session.add_all([*shoppers, admin, manager])
        source = checklist_yaml()
        checklist = parse_checklist(source, "bench.yaml")
        version = ChecklistVersion(checklist_id=checklist.id, version=1, title=checklist.title, channel="store",
                                   definition=checklist.model_dump(mode="json"), source_text=source,
                                   source_hash=hashlib.sha256(source.encode()).hexdigest(), source_path="bench.yaml")
        db.session.add(version)
        db.session.commit()
        loc_ids = [loc.id for loc in locs]
        shopper_ids = [s.id for s in shoppers]
        quality = {lid: min(0.99, max(0.4, rng.gauss(0.82, 0.09))) for lid in loc_ids}
        difficulty = {q.id: abs(rng.gauss(0.05, 0.08)) for q in checklist.questions}
        section_of = {q.id: checklist.section_of(q.id).id for q in checklist.questions}
        writer = Writer(db.engine)
        start_day = datetime.now(UTC) - timedelta(days=730)
        answer_id = section_id = 0
        batch_v, batch_a, batch_s = [], [], []
        started = time.perf_counter()
        for visit_id in range(1, visits + 1):
            lid = rng.choice(loc_ids)
            # Locations drift: some improve over the two years, some get worse.
            trend = (hash(lid) % 7 - 3) * 0.01
            when = start_day + timedelta(seconds=rng.randrange(730 * 86400))
            q_level = quality[lid] + trend * (when - start_day).days / 365
            # The critical question (greeting) is the one staff are drilled on: it fails rarely.
            answers = {q.id: answer_for(q, q_level + (0.15 if q.critical else 0), difficulty[q.id], rng)
                       for q in checklist.questions}
            result = score_visit(checklist, answers)
            r = rng.random()
            status = "approved" if r < 0.9 else ("submitted" if r < 0.95 else "voided")
            batch_v.append((visit_id, lid, version.id, rng.choice(shopper_ids), status, when.date(), when.date(), "",
                            when, when, when, when + timedelta(minutes=25), result.score, result.grade,
                            bool(result.critical_failures)))
            for offset, (qid, qr) in enumerate(result.questions.items()):
                answer_id += 1
                batch_a.append((answer_id, visit_id, qid, section_of[qid], json.dumps(qr.value), qr.status,
                                qr.fraction, qr.points, qr.max, qr.critical_failed,
                                when + timedelta(seconds=20 * offset), when))
            for sid, sr in result.sections.items():
                section_id += 1
                batch_s.append((section_id, visit_id, sid, sr.score, sr.points, sr.max, sr.weight, when))
            if len(batch_v) >= 2000:
                writer.write(batch_v, batch_a, batch_s)
                batch_v, batch_a, batch_s = [], [], []
                print(f"\r  {visit_id:,} visits ({time.perf_counter() - started:.0f} s)", end="", flush=True)
        writer.write(batch_v, batch_a, batch_s)
        writer.finish()
        print(f"\r  {visits:,} visits, {answer_id:,} answers in {time.perf_counter() - started:.0f} s")
        from app.analytics import rollups

        started = time.perf_counter()
        scores, questions = rollups.rebuild()
        db.session.commit()
        print(f"  rollups rebuilt from the facts: {scores:,} score rows, {questions:,} question rows "
              f"in {time.perf_counter() - started:.1f} s")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE score_rollups")
                conn.exec_driver_sql("VACUUM ANALYZE question_rollups")


VISIT_COLS = ("id", "location_id", "checklist_version_id", "shopper_id", "status", "window_start", "window_end",
              "instructions", "created_at", "started_at", "visited_at", "submitted_at", "score", "grade",
              "critical_failed")
ANSWER_COLS = ("id", "visit_id", "question_id", "section_id", "value", "status", "fraction", "points", "max_points",
               "critical_failed", "first_answered_at", "visited_at")
# visited_at is copied onto answers and section scores, as store_result does.
SECTION_COLS = ("id", "visit_id", "section_id", "score", "points", "max_points", "weight", "visited_at")


class Writer:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite (same formats SQLAlchemy writes)."""

    def __init__(self, engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.conn = engine.raw_connection()

    def write(self, visits, answers, sections) -> None:
        cur = self.conn.cursor()
        for table, cols, rows in (("visits", VISIT_COLS, visits), ("answers", ANSWER_COLS, answers),
                                  ("visit_section_scores", SECTION_COLS, sections)):
            if not rows:
                continue
            if self.postgres:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                rows = [tuple(_sqlite(v) for v in row) for row in rows]
                cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                rows)
        self.conn.commit()

    def finish(self) -> None:
        cur = self.conn.cursor()
        if self.postgres:
            for table in ("visits", "answers", "visit_section_scores"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            self.conn.commit()
            self.conn.driver_connection.autocommit = True
            cur = self.conn.driver_connection.cursor()
            cur.execute("VACUUM ANALYZE")
            # A second pass sets the visibility map that the first leaves unset for freshly loaded rows:
            # without it the covering indexes cannot answer index-only, as they do on a settled database.
            cur.execute("VACUUM")
        else:
            cur.execute("ANALYZE")
            self.conn.commit()
        self.conn.close()


def _sqlite(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(client, url: str, runs: int = 7, *, cold: bool = False, shared: bool = False) -> tuple[float, float]:
    """Return (median, best) milliseconds of GET url after one warm-up.

    cold: the figures cache is emptied before each request, so every one computes its figures (as
    the first request after any submission, approval or void does); otherwise they come from it.
    shared: only this process's copy is emptied, so the figures come from Redis (another server's).
    """
    assert client.get(url).status_code == 200, url
    times = []
    for _ in range(runs):
        if cold:
            empty_figures_cache(client.application)
        elif shared:
            store = client.application.extensions["figures_cache"]
            store.local = type(store.local)(1)
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return statistics.median(times), min(times)


def empty_figures_cache(app) -> None:
    """Forget every cached figure: this process's, and those in Redis under this database's namespace."""
    store = app.extensions.pop("figures_cache", None)
    if store is not None and store._redis is not None:
        for key in store._redis.scan_iter(store.namespace + "*"):
            store._redis.delete(key)


def make_app(name: str, redis_url: str | None = None):
    return create_app({"SQLALCHEMY_DATABASE_URI": URLS[name], "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "EXPORT_DIR": "/tmp/fa_bench_exports", "REDIS_URL": redis_url})


def login(app, client, email: str):
    from sqlalchemy import select

    from app.models import User

    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True


def quarter_args() -> str:
    end = date.today()
    return f"period=custom&start={(end - timedelta(days=90)).isoformat()}&end={end.isoformat()}"


BARE_LEAGUE_SQL = """
SELECT v.location_id, v.visited_at >= :start AS current, count(v.score), sum(v.score), sum(v.score * v.score)
FROM visits v JOIN checklist_versions cv ON cv.id = v.checklist_version_id
WHERE v.status = 'approved' AND v.score IS NOT NULL AND v.visited_at >= :previous AND v.visited_at < :end
  AND cv.checklist_id = :programme
GROUP BY v.location_id, v.visited_at >= :start
"""


def bare_rollup_league(start: date, end: date):
    """The league table's one aggregate over the rollups: each period's whole months and edge days."""
    from sqlalchemy import func, or_, select

    from app.analytics.rollups import period_rows
    from app.models import ChecklistVersion
    from app.models import ScoreRollup as R

    previous = (start - timedelta(days=91), start - timedelta(days=1))
    current = R.day >= start
    return (
        select(R.location_id, current, func.sum(R.n), func.sum(R.total), func.sum(R.squares))
        .join(ChecklistVersion, ChecklistVersion.id == R.checklist_version_id)
        .where(R.status == "approved", R.part == "", ChecklistVersion.checklist_id == "bench-visit",
               or_(period_rows(R, *previous), period_rows(R, start, end)))
        .group_by(R.location_id, current)
    )


def bare_league_table_ms(app, runs: int = 7, sql: object = BARE_LEAGUE_SQL) -> float:
    """Return the median milliseconds of the one SQL aggregate behind the league table (both periods)."""
    from sqlalchemy import text

    end = date.today()
    start = end - timedelta(days=90)
    params = {"start": datetime.combine(start, datetime.min.time(), tzinfo=UTC),
              "previous": datetime.combine(start - timedelta(days=91), datetime.min.time(), tzinfo=UTC),
              "end": datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
              "programme": "bench-visit"}
    statement = text(sql) if isinstance(sql, str) else bare_rollup_league(start, end)
    times = []
    with app.app_context():
        db.session.execute(statement, params).all()
        for _ in range(runs):
            t = time.perf_counter()
            db.session.execute(statement, params).all()
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(name: str, *, exports: bool = True, redis_url: str | None = None, runs: int = 7) -> None:
    """Print the page timings for one database, and run the export in a fresh process.

    Pages are timed cold (every request computes its figures) and warm (from the figures cache: in
    this process, or in Redis with --redis); the bare aggregate is timed beside them in the same run.
    """
    from sqlalchemy import func, select

    from app.models import Answer, Location, Visit

    app = make_app(name, redis_url)
    client = app.test_client()
    login(app, client, "admin@bench.test")
    with app.app_context():
        counts = (db.session.scalar(select(func.count(Visit.id))), db.session.scalar(select(func.count(Answer.id))))
        location_id = db.session.scalar(select(Location.id).order_by(Location.id).limit(1))
    store = f"Redis {redis_url}" if redis_url else "this process"
    print(f"[{name}] {counts[0]:,} visits, {counts[1]:,} answers; warm = figures cache in {store}")
    q = quarter_args()
    # The pair in alternation, one of each per round, so that the other load on the machine weighs on both alike.
    rounds = [(bare_league_table_ms(app, 1, sql=bare_rollup_league), timed(client, f"/dashboard/?{q}", 1, cold=True)[0],
               timed(client, f"/dashboard/?{q}", 1)[0]) for _ in range(runs)]
    bare, cold, warm = (statistics.median(r[i] for r in rounds) for i in range(3))
    facts = bare_league_table_ms(app, runs)
    print(f"[{name}] {'dashboard page vs bare SQL of its table':40s} cold {cold:7.1f} ms ({cold / bare:4.1f}x)   "
          f"warm {warm:7.1f} ms ({warm / bare:4.1f}x)   bare SQL over the rollups {bare:7.1f} ms "
          f"(target < 100 ms and < 2x); the same over the visits {facts:7.1f} ms")
    if redis_url:
        shared, _best = timed(client, f"/dashboard/?{q}", runs, shared=True)
        print(f"[{name}] {'dashboard, figures from Redis':40s} median {shared:7.1f} ms ({shared / bare:4.1f}x): "
              "another app server's entry, unpickled")
    for label, url in (
        ("dashboard, 3 months, whole network", f"/dashboard/?{q}"),
        ("dashboard, 1 year, whole network", "/dashboard/?period=year"),
        ("location page, 3 months", f"/dashboard/locations/{location_id}?{q}"),
        ("region page, 3 months", f"/dashboard/regions/1?{q}"),
        ("drill-down visits list", f"/dashboard/visits?{q}&location={location_id}&section=section_1"),
    ):
        cold, cold_best = timed(client, url, runs, cold=True)
        warm, warm_best = timed(client, url, runs)
        print(f"[{name}] {label:40s} cold median {cold:7.1f} ms   best {cold_best:7.1f} ms   "
              f"warm median {warm:7.1f} ms   best {warm_best:7.1f} ms")
    login(app, client, "manager@bench.test")
    cold, cold_best = timed(client, f"/dashboard/?{q}", runs, cold=True)
    warm, warm_best = timed(client, f"/dashboard/?{q}", runs)
    print(f"[{name}] {'dashboard, 3 months, one-region manager':40s} cold median {cold:7.1f} ms   "
          f"best {cold_best:7.1f} ms   warm median {warm:7.1f} ms   best {warm_best:7.1f} ms")
    if not exports:
        return
    for mode in EXPORT_MODES:  # each in a fresh process, so that its peak memory is its own
        out = subprocess.run([sys.executable, __file__, "--db", name, "--export-only", mode], capture_output=True,
                             text=True, check=True)
        print(out.stdout.strip())


EXPORT_MODES = ("job-xlsx", "bare-xlsx", "job-csv", "bare-csv")


def export_only(name: str, mode: str) -> None:
    """Time one export of a quarter of raw answers to a finished file; report the process's peak memory.

    job-*: the path people take: an ExportJob started as the dashboard's button starts it (on a thread without
    Redis, as under `make run`; the same code RQ runs), polled until done as its page does. bare-*: the same
    SELECT's rows as the database returns them (server-side cursor, no answer words, no question texts), counted
    and written straight to the same writer. The job row and the files are deleted afterwards.
    """
    from sqlalchemy import delete

    from app.analytics.filters import Filters
    from app.analytics.periods import Period
    from app.dashboard import exports
    from app.models import ExportJob

    kind, fmt = mode.split("-")
    app = make_app(name)
    end = date.today()
    filters = Filters(Period(end - timedelta(days=90), end), programme="bench-visit")
    with app.test_request_context():
        before = peak_rss_mb()
        t = time.perf_counter()
        if kind == "job":
            admin = db.session.scalars(select_admin()).one()
            job = exports.create_job(admin, filters, "answers", fmt)
            db.session.commit()
            exports.start(job)
            while True:
                time.sleep(0.2)
                db.session.expire_all()
                found = db.session.get(ExportJob, job.id)
                if found.status in ("done", "failed"):
                    break
            elapsed = time.perf_counter() - t
            assert found.status == "done", found.error
            path, rows = storage_of(app).path(found.result_path), found.total  # the local folder
            db.session.execute(delete(ExportJob).where(ExportJob.id == job.id))
            db.session.commit()
        else:
            path = Path(app.config["EXPORT_DIR"]) / f"bare.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = exports.answer_count(filters)
            statement = exports._answers_statement(filters).execution_options(yield_per=exports.BATCH)
            # The stored columns as they are: no local time, question text or answer in words.
            records = ([row[0], row[1].replace(tzinfo=None), row[2], row[3].value, *row[4:]]
                       for row in db.session.execute(statement))
            header = [h for h in exports.answers_header() if h not in ("visited_at_local", "question", "answer")]
            if fmt == "csv":
                exports.write_csv(path, header, records)
            else:
                exports.write_xlsx(path, "Answers", header, records, rows)
            elapsed = time.perf_counter() - t
        size = path.stat().st_size
        path.unlink()
    label = {"job": "job, to the finished file", "bare": "bare SELECT -> same writer"}[kind]
    print(f"[{name}] {fmt.upper():4s} {label:27s} {rows:,} rows: {elapsed:6.1f} s, {size / 1e6:6.1f} MB file, "
          f"peak RSS {peak_rss_mb():4.0f} MB (before {before:.0f} MB)")


def select_admin():
    from sqlalchemy import select

    from app.models import User

    return select(User).where(User.email == "admin@bench.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--pages-only", action="store_true", help="time the pages, not the exports")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page and mode (median, best)")
    parser.add_argument("--redis", metavar="URL", help="keep the figures cache in this Redis (as several app "
                        "servers would), not in the process")
    parser.add_argument("--export-only", choices=EXPORT_MODES, nargs="?", const="job-xlsx",
                        help="only time one export of a quarter of raw answers (job-xlsx when no mode is given)")
    args = parser.parse_args()
    names = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    if args.export_only:
        export_only(names[0], args.export_only)
        return
    for name in names:
        if not args.skip_generate:
            print(f"[{name}] generating {args.visits:,} visits x {SECTIONS * PER_SECTION} answers ...")
            if name == "postgres":
                ensure_postgres_database(URLS["postgres"])
            if name == "sqlite" and os.path.exists("/tmp/fa_bench.sqlite"):
                os.unlink("/tmp/fa_bench.sqlite")
            generate(make_app(name), args.visits, args.locations)
        measure(name, exports=not args.pages_only, redis_url=args.redis, runs=args.runs)


if __name__ == "__main__":
    io.DEFAULT_BUFFER_SIZE = 1 << 16
    main()
