"""Background jobs on RQ: queueing one, and `flask worker`, which runs them inside the app so every job has
its context."""
import logging
import threading
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)

PHOTO_QUEUE, MAIL_QUEUE, REPORT_QUEUE = "fieldaudit-photos", "fieldaudit-mail", "fieldaudit-reports"
WEBHOOK_QUEUE = "fieldaudit-webhooks"
#: Photos first: a shopper is waiting; then mail and webhooks (seconds each), before exports that take minutes.
QUEUES = (PHOTO_QUEUE, MAIL_QUEUE, WEBHOOK_QUEUE, REPORT_QUEUE)


def enqueue(redis_url: str, queue: str, job: Callable[..., Any], *args: Any, **options: Any) -> bool:
    """Queue `job(*args)` on RQ (options as Queue.enqueue takes them); return False when Redis is unreachable,
    so the caller can do the work itself."""
    try:
        from redis import Redis
        from rq import Queue

        Queue(queue, connection=Redis.from_url(redis_url)).enqueue(job, *args, **options)
        return True
    except Exception:  # Redis down: the work must still happen
        log.exception("Could not queue %s on Redis at %s", getattr(job, "__name__", job), queue)
        return False


def run_in_background(items: list[Any], job: Callable[[Any], None], *, queue: str, retries: int,
                      intervals: list[int], job_timeout: int, in_thread: Callable[[list[Any]], None],
                      name: str) -> None:
    """Queue `job(item)` for each item on RQ, retried after each of `intervals`, when REDIS_URL is set; what Redis
    does not take (not configured, or down) goes to a thread of this process: `in_thread(items)`, in the app."""
    url = current_app.config.get("REDIS_URL")
    left = items
    if url:
        from rq import Retry

        retry = Retry(max=retries, interval=intervals)
        left = [item for item in items
                if not enqueue(url, queue, job, item, retry=retry, job_timeout=job_timeout)]
    if left:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
        threading.Thread(target=_in_app, args=(app, in_thread, left), name=name, daemon=True).start()


def _in_app(app: Flask, work: Callable[[list[Any]], None], items: list[Any]) -> None:
    with app.app_context():
        work(items)


def in_job() -> bool:
    """Return True inside an RQ job, whose work horse RQ kills from outside once its job_timeout has passed."""
    try:
        from rq import get_current_job
    except ImportError:
        return False
    return get_current_job() is not None


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty (tests, cron).")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker on REDIS_URL for the queues of background jobs."""
    from redis import Redis
    from rq import Queue, Worker

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in the web process")
    connection = Redis.from_url(url)
    # The scheduler runs the retries that wait (a photo's job is retried after 5, 30 and 120 seconds, a mail after
    # MAIL_RETRY_INTERVALS, a webhook after WEBHOOK_RETRY_INTERVALS).
    Worker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
        burst=burst, with_scheduler=True)
