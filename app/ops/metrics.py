"""Prometheus metrics: requests and latency per endpoint (prometheus-flask-exporter), submissions, queue depth.

Under gunicorn set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does), so that /metrics adds up every
worker process; a scrape needs METRICS_TOKEN as a bearer token, or comes from the machine itself.
"""
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, request
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_flask_exporter import PrometheusMetrics

from app import worker
from app.access import public

LOOPBACK = {"127.0.0.1", "::1"}


def _scraper_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let only Prometheus in: the bearer token when one is set, else a request from this machine."""

    @public  # anonymous by design: Prometheus has no session; the token or the address is the check
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        token = current_app.config.get("METRICS_TOKEN")
        if token:
            sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(sent.encode(), token.encode()):
                abort(404)
        elif request.remote_addr not in LOOPBACK:
            abort(404)
        _refresh_queue_depth()
        return view(*args, **kwargs)

    return guarded


class Metrics:
    """One app's metrics, each app with its own registry (the test suite creates many apps in one process)."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.exporter = PrometheusMetrics(app, path="/metrics", registry=self.registry, group_by="endpoint",
                                          metrics_decorator=_scraper_only, excluded_paths=["^/static/"],
                                          defaults_prefix="fieldaudit")
        self.submissions = Counter("fieldaudit_submissions", "Visits submitted from the phone, by outcome "
                                   "(accepted: stored now; replayed: a retry of one already stored)",
                                   ["outcome"], registry=self.registry)
        self.queue_depth = Gauge("fieldaudit_queue_depth", "Jobs waiting in each RQ queue", ["queue"],
                                 registry=self.registry, multiprocess_mode="mostrecent")


def register(app: Flask) -> None:
    app.extensions["fieldaudit_metrics"] = Metrics(app)


def of_app() -> Metrics:
    metrics: Metrics = current_app.extensions["fieldaudit_metrics"]
    return metrics


def count_submission(created: bool) -> None:
    of_app().submissions.labels(outcome="accepted" if created else "replayed").inc()


def _refresh_queue_depth() -> None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        connection = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        for name in worker.QUEUES:
            of_app().queue_depth.labels(queue=name).set(Queue(name, connection=connection).count)
    except (RedisError, OSError):
        current_app.logger.warning("Metrics: could not read the queue depth from Redis", exc_info=True)
