"""Batch export: every location report of a period in one ZIP, built in the background.

With REDIS_URL configured the job goes to RQ (queue "fieldaudit-reports"; run `flask --app wsgi
worker`, which gives every job the app's context); without it (SQLite / development) a thread of the web process
runs it. Either way the HTML is built here, one document at a time (it needs the database), and
the PDFs are laid out by a pool of worker processes, so both cores work; progress goes into the
ExportJob row that the progress page polls.
"""
from __future__ import annotations

import logging
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.pool import AsyncResult
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import worker
from app.analytics.filters import Filters
from app.analytics.periods import Period
from app.extensions import db
from app.models import ExportJob, Location, User, Visit
from app.models.types import utcnow
from app.pdf import RenderError, RenderPool, roots_for
from app.reports.documents import location_html

log = logging.getLogger(__name__)

QUEUE_NAME = worker.REPORT_QUEUE
KIND = "location_reports"


@dataclass
class BatchResult:
    """What a batch produced: how many PDFs and which locations failed, with why."""

    written: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def batch_locations(filters: Filters) -> list[Location]:
    """Return the locations with at least one counted, scored visit under the filter, by code."""
    visited = select(Visit.location_id).where(*filters.conditions()).distinct()
    return list(db.session.scalars(select(Location).where(Location.id.in_(visited)).order_by(Location.code)))


def build_zip(locations: Iterable[Location], filters: Filters, target: Path, *,
              progress: Callable[[int, str], None] = lambda done, name: None,
              workers: int | None = None, timeout: float | None = None) -> BatchResult:
    """Write one location report per location into the ZIP `target`; call progress(done, name) after each.

    One failing or hanging document is recorded and skipped: the others are still delivered.
    """
    config = current_app.config
    workers = workers or int(config.get("REPORT_BATCH_WORKERS", 2))
    timeout = float(timeout or config["PDF_RENDER_TIMEOUT"])
    roots = roots_for(current_app)
    pool = RenderPool(workers)
    result = BatchResult()
    # (file name, html, async result, pool generation) of each document being rendered, oldest first
    pending: deque[tuple[str, str, AsyncResult[bytes], int]] = deque()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")

    def collect(archive: zipfile.ZipFile) -> None:
        name, html, job, generation = pending.popleft()
        if generation != pool.generation:  # its worker was killed with a hung neighbour: start it again
            job, generation = pool.submit_render(html, roots, timeout), pool.generation
        try:
            # Up to 2 x workers are queued, so the oldest may wait one document's turn before it starts.
            archive.writestr(name, pool.wait_render(job, 2 * timeout))
            result.written += 1
        except RenderError as exc:
            result.failures.append((name, str(exc)))
        progress(result.written + len(result.failures), name)

    try:
        # PDFs are compressed already: storing them is as small and much faster than deflating again.
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:
            for location in locations:
                try:
                    html, name = location_html(filters, location)
                except Exception as exc:  # a broken location must not sink the other 49 reports
                    log.exception("Location report %s failed", location.code)
                    result.failures.append((f"{location.code}.pdf", f"{type(exc).__name__}: {exc}"))
                    progress(result.written + len(result.failures), location.code)
                    continue
                pending.append((name, html, pool.submit_render(html, roots, timeout), pool.generation))
                while len(pending) >= 2 * workers:  # keep every worker fed while this thread builds HTML
                    collect(archive)
            while pending:
                collect(archive)
            if result.failures:
                lines = [f"{name}: {message}" for name, message in result.failures]
                archive.writestr("errors.txt", "Reports that could not be built:\n" + "\n".join(lines) + "\n")
        partial.replace(target)
    finally:
        pool.close()
        partial.unlink(missing_ok=True)
    return result


def create_job(user: User, filters: Filters) -> ExportJob:
    """Add a queued batch job for `user` (not committed): one location report per location under the filter."""
    period = filters.period
    job = ExportJob(user_id=user.id, kind=KIND, status="queued", params={
        "from": period.start.isoformat(), "to": period.end.isoformat(), "region_id": filters.region_id,
        "scope": sorted(filters.scope) if filters.scope is not None else None, "programme": filters.programme,
    })
    db.session.add(job)
    return job


def start(job: ExportJob) -> str:
    """Start a committed job on RQ when configured, else on a background thread; return which."""
    url = current_app.config.get("REDIS_URL")
    if url and worker.enqueue(url, QUEUE_NAME, run_batch, job.id, job_id=f"export-{job.id}",
                              job_timeout=int(current_app.config.get("REPORT_BATCH_TIMEOUT", 3600))):
        return "rq"
    # No Redis, or Redis down: the export still happens, in this process.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is a LocalProxy, typed as Flask
    threading.Thread(target=_run_in_thread, args=(app, job.id), name=f"export-{job.id}", daemon=True).start()
    return "thread"


def _run_in_thread(app: Flask, job_id: str) -> None:
    with app.app_context():
        run_batch(job_id)


def fail_if_interrupted(job: ExportJob) -> bool:
    """Mark a job failed when its worker stopped (restart, crash); return True if it changed.

    A running job reports progress after every document, each bounded by the render time limit;
    a queued one that no worker picked up within the batch time limit will not run either.
    """
    now = utcnow()
    config = current_app.config
    stalled = (
        job.status == "running"
        and (now - job.updated_at).total_seconds() > config["REPORT_JOB_STALLED_SECONDS"]
    ) or (
        job.status == "queued"
        and (now - job.created_at).total_seconds() > config.get("REPORT_BATCH_TIMEOUT", 3600)
    )
    if stalled:
        job.status = "failed"
        job.error = _("The export was interrupted (the server restarted or the worker stopped). Start it again.")
        job.finished_at = now
    return stalled


def export_path(job: ExportJob) -> Path:
    """Return where the job's ZIP is written."""
    return Path(current_app.config["EXPORT_DIR"]) / "batches" / f"location-reports-{job.id}.zip"


def run_batch(job_id: str) -> None:
    """Build the job's ZIP, recording progress; never raises (a failure is stored on the job)."""
    found = db.session.get(ExportJob, job_id)
    if found is None or found.status not in ("queued",):
        return
    job: ExportJob = found
    try:
        params = job.params
        scope = frozenset(params["scope"]) if params.get("scope") is not None else None
        filters = Filters(Period(date.fromisoformat(params["from"]), date.fromisoformat(params["to"])), scope=scope,
                          region_id=params.get("region_id"), programme=params.get("programme"))
        locations = batch_locations(filters)
        job.status, job.total, job.progress = "running", len(locations), 0
        db.session.commit()
        last_commit = [0.0]

        def progress(done: int, name: str) -> None:
            job.progress = done
            now = time.monotonic()
            if now - last_commit[0] > 0.3 or done == job.total:  # the page polls; no need for every tick
                db.session.commit()
                last_commit[0] = now

        target = export_path(job)
        result = build_zip(locations, filters, target, progress=progress)
        job.result_path = str(target)
        job.status = "done" if result.written or not result.failures else "failed"
        job.error = "\n".join(f"{n}: {m}" for n, m in result.failures) or None
    except Exception as exc:
        log.exception("Export %s failed", job_id)
        db.session.rollback()
        reloaded = db.session.get(ExportJob, job_id)
        if reloaded is None:  # the job was deleted meanwhile: there is nothing left to mark failed
            return
        job = reloaded
        job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
    job.finished_at = utcnow()
    db.session.commit()
