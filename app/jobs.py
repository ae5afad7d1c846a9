"""Background jobs a person watches (exports): queued on RQ or run on a thread, with progress, failure and cleanup.

A feature adds an ExportJob with `create`, commits, and calls `start(job, runner)`: with REDIS_URL the runner goes to
RQ (`flask worker` runs it inside the app, within REPORT_BATCH_TIMEOUT, and runs it again when its worker died); the
web process then never does the work itself, and a queue it cannot reach fails the job with a message to try again.
Without Redis (SQLite, `make run`) a thread of the web process runs it; never the request itself.
The runner calls `run(job_id, work)`, which marks the job running and hands `work` a
`Progress`. Progress is written on a connection of its own, so the work's transaction (a server-side cursor, a
snapshot) is never committed under it. The work writes its file to this server's scratch folder (`job_file`);
`run` moves it into the storage (app.storage: a folder, or the object store every app server reads), so any
server can hand it out. The outcome is stored on the job: done with its file's storage key, or failed with a
message a person can act on; nothing raises out of a job. A job whose worker died and that RQ gave up on, or
that stalled, is reported by `fail_if_interrupted`; files older than EXPORT_KEEP_HOURS go when the next job starts.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import text, update

from app import worker
from app.extensions import db
from app.models import ExportJob, User
from app.models.types import utcnow
from app.storage import EXPORTS, StorageError, scratch_dir, storage

log = logging.getLogger(__name__)

QUEUE_NAME = worker.REPORT_QUEUE
#: Where finished files are kept in the storage.
FILES = f"{EXPORTS}/jobs/"
#: Times RQ runs a job again after its worker died under it.
RQ_RETRIES = 2
#: Seconds between two progress writes: the page polls every second, no need for every row.
PROGRESS_EVERY = 0.5


class JobFailed(Exception):
    """A job that cannot finish, with the reason in words for the person who started it."""


@dataclass(frozen=True)
class JobRun:
    """What the work of a job knows of it (read before the work's own transaction begins)."""

    id: str
    kind: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Finished:
    """What finished work produced: its file (in the scratch folder), and a note for the person (what was left
    out, and why)."""

    path: Path
    note: str | None = None


class Progress:
    """How far a job is: written on a connection of its own, at most every PROGRESS_EVERY seconds."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.done = 0
        self.total = 0
        self._written = 0.0

    def set_total(self, total: int) -> None:
        """Record how many steps (rows, documents) the job has."""
        self.total = total
        self._write()

    def advance(self, done: int) -> None:
        """Record that `done` steps are done (cheap enough to call for every row)."""
        self.done = done
        if time.monotonic() - self._written >= PROGRESS_EVERY:
            self._write()

    def _write(self) -> None:
        self._written = time.monotonic()
        with db.engine.begin() as connection:
            connection.execute(update(ExportJob).where(ExportJob.id == self.job_id)
                               .values(progress=self.done, total=self.total, updated_at=utcnow()))


def create(user: User, kind: str, params: dict[str, Any]) -> ExportJob:
    """Add a queued job for `user` (not committed); it runs in the language of the page it was asked from."""
    job = ExportJob(user_id=user.id, kind=kind, status="queued", params={**params, "lang": str(get_locale() or "en")})
    db.session.add(job)
    return job


def start(job: ExportJob, runner: Callable[[str], None]) -> str:
    """Start a committed job, `runner(job.id)`, on RQ when configured, else on a thread; return which ("rq",
    "thread", or "failed" when the queue is configured but unreachable: the job says so).

    Files of old jobs are deleted first, so the export directory holds only recent ones.
    """
    prune_files()
    config = current_app.config
    url = config.get("REDIS_URL")
    if url:
        from rq import Retry

        # Retried when the worker running it dies (a crash, a deploy, the kernel's OOM killer); a failure of the
        # work itself is stored on the job by `run` and not retried: it would fail the same way again.
        if worker.enqueue(url, QUEUE_NAME, runner, job.id, job_id=f"export-{job.id}", retry=Retry(max=RQ_RETRIES),
                          job_timeout=int(config.get("REPORT_BATCH_TIMEOUT", 3600))):
            return "rq"
        # Rendering a batch in the web process would starve the requests of every shopper on this server.
        job.status, job.finished_at = "failed", utcnow()
        job.error = _("The export could not be queued: the job queue is unavailable. Try again in a minute.")
        db.session.commit()
        return "failed"
    # No Redis (one server, SQLite): the export happens in this process, but outside the request.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is a LocalProxy, typed as Flask
    threading.Thread(target=_run_in_thread, args=(app, runner, job.id), name=f"export-{job.id}", daemon=True).start()
    return "thread"


def _run_in_thread(app: Flask, runner: Callable[[str], None], job_id: str) -> None:
    with app.app_context():
        runner(job_id)


def run(job_id: str, work: Callable[[JobRun, Progress], Finished]) -> None:
    """Run a queued job's work and store how it ended; never raises (a failure is stored on the job)."""
    found = db.session.get(ExportJob, job_id)
    # "running" here is a job whose worker died under it, handed again by RQ: it starts over.
    if found is None or not (found.status == "queued" or (found.status == "running" and worker.in_job())):
        return
    job: ExportJob = found
    lang = job.params.get("lang")
    with force_locale(lang) if lang else contextlib.nullcontext():
        about = JobRun(job.id, job.kind, dict(job.params))
        job.status, job.progress, job.total = "running", 0, 0
        db.session.commit()
        progress = Progress(job_id)
        finished: Finished | None = None
        try:
            finished = work(about, progress)
            db.session.commit()  # ends the work's reads; the job row was written only by Progress
            key = FILES + finished.path.name
            storage().put_file(key, finished.path)
        except Exception as exc:
            db.session.rollback()
            if finished is not None:  # written, but not stored: nobody will ask for this copy
                finished.path.unlink(missing_ok=True)
            _failed(job_id, exc)
            return
        job.status, job.result_path, job.error = "done", key, finished.note
        job.progress, job.total = progress.done, progress.total
        job.finished_at = utcnow()
        db.session.commit()


def _failed(job_id: str, exc: Exception) -> None:
    """Mark the job failed with a message a person can act on (details go to the log)."""
    if isinstance(exc, JobFailed):
        message = str(exc)
    elif type(exc).__name__ == "JobTimeoutException":  # RQ's time limit (rq.timeouts), without importing RQ
        log.error("Export %s ran past its time limit", job_id)
        minutes = max(1, int(current_app.config.get("REPORT_BATCH_TIMEOUT", 3600)) // 60)
        message = ngettext("The export took longer than its time limit of %(num)d minute. Choose a shorter period or "
                           "fewer locations.",
                           "The export took longer than its time limit of %(num)d minutes. Choose a shorter period or "
                           "fewer locations.", minutes)
    elif isinstance(exc, StorageError):
        log.error("Export %s could not store its file: %s", job_id, exc)
        message = _("The file could not be stored: the file store is unavailable. Try again later.")
    elif isinstance(exc, OSError):
        log.exception("Export %s could not write its file", job_id)
        message = _("The file could not be written (%(reason)s). Try again later or ask an administrator.",
                    reason=exc.strerror or type(exc).__name__)
    else:
        log.exception("Export %s failed", job_id)
        message = _("The export failed (%(error)s). Try again later or ask an administrator.",
                    error=f"{type(exc).__name__}: {exc}")
    job = db.session.get(ExportJob, job_id)
    if job is None:  # the job was deleted meanwhile: there is nothing left to mark failed
        return
    job.status, job.error, job.finished_at = "failed", message, utcnow()
    db.session.commit()


@contextlib.contextmanager
def read_snapshot() -> Iterator[None]:
    """Read inside one snapshot of the data, so that a count and the rows it counts agree; call it first thing.

    PostgreSQL: a REPEATABLE READ transaction. SQLite: an explicit BEGIN (the driver begins only before writes), and
    WAL keeps the snapshot of the first read until the end.
    """
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        db.session.execute(text("BEGIN"))
    try:
        yield
    finally:
        db.session.rollback()  # read only: nothing to keep, and the connection goes back to the pool clean


def fail_if_interrupted(job: ExportJob) -> bool:
    """Mark a job failed when its worker stopped (restart, crash); return True if it changed.

    A running job writes progress at least every document or every PROGRESS_EVERY seconds of rows; a queued one
    that no worker picked up within the job time limit will not run either.
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


def job_file(job_id: str, suffix: str) -> Path:
    """Return where a job writes its file on this server, before `run` stores it."""
    return scratch_dir(current_app.config) / f"{job_id}{suffix}"


def ready_file(job: ExportJob) -> str | None:
    """Return the storage key of the finished job's file, or None when it is not done or its file was deleted."""
    if job.status != "done" or not job.result_path or not job.result_path.startswith(FILES):
        return None  # (a path of an older version's folder layout: expired long ago)
    return job.result_path if storage().exists(job.result_path) else None


def prune_files(now: float | None = None) -> int:
    """Delete job files, and leftovers of interrupted jobs, older than EXPORT_KEEP_HOURS; return how many."""
    cutoff = (now if now is not None else time.time()) - float(current_app.config["EXPORT_KEEP_HOURS"]) * 3600
    store = storage()
    removed = 0
    for found in list(store.list(FILES)):
        if found.modified < cutoff:
            store.delete(found.key)
            removed += 1
    for path in scratch_dir(current_app.config).iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process removed it first
            continue
    return removed


def state(job: ExportJob) -> dict[str, Any]:
    """Return what a progress page shows of a job: status, progress, total, percent, error, whether its file is
    ready, and whether it expired (done, but its file deleted)."""
    percent = 100 if job.status == "done" else (min(100, int(100 * job.progress / job.total)) if job.total else 0)
    ready = ready_file(job) is not None
    return {"id": job.id, "status": job.status, "progress": job.progress, "total": job.total, "percent": percent,
            "error": job.error, "ready": ready, "expired": job.status == "done" and not ready}
