"""Batch export: every location report of a period in one ZIP, built in the background.

The job runs as every export job does (app.jobs: on RQ with REDIS_URL, run by `flask --app wsgi worker`;
without it on a thread of the web process). Either way the HTML is built here, one document at a time (it
needs the database), and the PDFs are laid out by a pool of worker processes, so both cores work; progress
goes into the ExportJob row that the progress page polls.
"""
from __future__ import annotations

import logging
import zipfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.analytics.filters import Filters
from app.extensions import db
from app.models import ExportJob, Location, User, Visit
from app.pdf import RenderError, RenderPool, roots_for
from app.reports.documents import location_html

log = logging.getLogger(__name__)

QUEUE_NAME = jobs.QUEUE_NAME
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
    return jobs.create(user, KIND, filters.to_params())


def start(job: ExportJob) -> str:
    """Start a committed batch job on RQ when configured, else on a background thread; return which."""
    return jobs.start(job, run_batch)


def run_batch(job_id: str) -> None:
    """Build the job's ZIP, recording progress; never raises (a failure is stored on the job)."""
    jobs.run(job_id, _build)


def _build(job: jobs.JobRun, progress: jobs.Progress) -> jobs.Finished:
    filters = Filters.from_params(job.params)
    locations = batch_locations(filters)
    progress.set_total(len(locations))
    target = jobs.job_file(job.id, ".zip")
    result = build_zip(locations, filters, target, progress=lambda done, name: progress.advance(done))
    errors = "\n".join(f"{n}: {m}" for n, m in result.failures) or None
    if errors and not result.written:
        raise jobs.JobFailed(errors)
    return jobs.Finished(target, errors)
