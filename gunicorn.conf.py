"""gunicorn settings for production: `gunicorn wsgi:app` reads this file from the working directory.

Every value can be changed from the environment without editing it (the systemd unit in
docs/deploy.md sets them): BIND, WEB_CONCURRENCY, WEB_THREADS, WEB_TIMEOUT.
"""
import multiprocessing
import os
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")  # nginx in front terminates TLS
#: Processes: two per core is plenty, since requests mostly wait on PostgreSQL; threads serve the waits.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))
#: A PDF of a busy location takes seconds; nothing takes a minute. A worker stuck that long is restarted.
timeout = int(os.environ.get("WEB_TIMEOUT", 60))
#: On `systemctl reload` (HUP) or a deploy, requests in flight get this long to finish.
graceful_timeout = 30
keepalive = 5
#: Recycle workers now and then, so that a slow leak in a library never grows without bound.
max_requests = 2000
max_requests_jitter = 200
#: The app logs every request itself, as JSON with its request id; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus: each worker writes its figures to files here, and /metrics adds them all up.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="fieldaudit-metrics-"))


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
