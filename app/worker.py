"""`flask worker`: the RQ worker of background jobs, running inside the app so every job has its context."""
import click
from flask import current_app
from flask.cli import with_appcontext

QUEUES = ("fieldaudit-photos", "fieldaudit-reports")  # photos first: a shopper is waiting


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
    Worker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(burst=burst)
