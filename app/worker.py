"""Background jobs on RQ: queueing one, and `flask worker`, which runs them inside the app so every job has
its context."""
import logging
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
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
