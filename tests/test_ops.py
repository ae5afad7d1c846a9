"""Operations: the probes a load balancer asks, the metrics Prometheus scrapes, the logs, under real gunicorn."""
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.live_servers import free_port as closed_port  # a port nobody listens on
from tests.test_photo_pipeline import ANSWERS

REPO = Path(__file__).resolve().parent.parent




def redis_or_skip(url="redis://127.0.0.1:6379/15"):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return url


def test_healthz_answers_while_the_database_is_down(make_app, app_config):
    app = make_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"postgresql://nobody@127.0.0.1:{closed_port()}/x"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_ready_when_database_and_storage_are_reachable(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "photos": "ok", "exports": "ok"}}


def test_readyz_checks_redis_where_it_is_configured(make_app, app_config):
    app = make_app({**app_config, "REDIS_URL": redis_or_skip()})
    assert app.test_client().get("/readyz").json["checks"]["redis"] == "ok"


@pytest.mark.parametrize("broken", ["database", "redis", "photos"])
def test_readyz_answers_503_naming_what_is_unreachable(make_app, app_config, tmp_path, broken):
    config = dict(app_config)
    if broken == "database":
        config["SQLALCHEMY_DATABASE_URI"] = f"postgresql://nobody@127.0.0.1:{closed_port()}/x"
    elif broken == "redis":
        config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    else:
        (tmp_path / "a-file").write_text("")
        config["UPLOAD_DIR"] = str(tmp_path / "a-file" / "photos")  # below a file: nothing can be written
    app = make_app(config)
    started = time.perf_counter()
    response = app.test_client().get("/readyz")
    assert time.perf_counter() - started < 5  # a probe must answer, not hang on a dead dependency
    assert response.status_code == 503 and response.json["status"] == "unavailable"
    assert response.json["checks"][broken] == "unreachable"
    assert [name for name, state in response.json["checks"].items() if state != "ok"] == [broken]
    assert "Traceback" not in response.get_data(as_text=True) and "127.0.0.1" not in response.get_data(as_text=True)


def test_every_response_carries_a_request_id_and_a_sane_one_sent_by_the_proxy_is_kept(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["X-Request-ID"] != made
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-5f2b9c01"}).headers["X-Request-ID"]
    assert kept == "nginx-5f2b9c01"
    forged = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1 " + "a" * 80}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)
    assert client.get("/no-such-page").headers["X-Request-ID"]  # refused requests too


@pytest.fixture
def restore_app_logger():
    logger = logging.getLogger("app")
    saved = (logger.handlers[:], logger.level, logger.propagate, logger.disabled)
    yield
    logger.handlers[:], logger.level, logger.propagate, logger.disabled = saved


def test_json_logs_give_each_request_one_line_with_its_id_and_tie_the_apps_own_lines_to_it(make_app,
        app_config, capsys, restore_app_logger, make_user):
    app = make_app({**app_config, "LOG_FORMAT": "json"})

    @app.get("/_warn")
    def warn():
        app.logger.warning("stock photo suspected")
        return "ok"

    warn.access = "public"
    client = app.test_client()
    client.get("/_warn", headers={"X-Request-ID": "req-0000abcd"})
    client.get("/healthz")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    warning = next(line for line in lines if line["message"] == "stock photo suspected")
    assert warning["level"] == "WARNING" and warning["request_id"] == "req-0000abcd" and warning["logger"] == "app"
    requests = [line for line in lines if line["logger"] == "app.requests"]
    assert [(r["method"], r["path"], r["status"], r["endpoint"]) for r in requests] == [
        ("GET", "/_warn", 200, "warn"), ("GET", "/healthz", 200, "ops.healthz")]
    assert requests[0]["request_id"] == "req-0000abcd" and requests[0]["ms"] >= 0
    assert "time" in requests[0]


def metric(text: str, name: str, **labels) -> float | None:
    """Return the value of one sample in Prometheus' text format (labels matched as a subset)."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


def test_metrics_count_requests_per_endpoint_and_only_prometheus_may_read_them(client):
    for _ in range(3):
        client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "fieldaudit_http_request_duration_seconds_count", endpoint="ops.healthz", status="200") == 3
    assert metric(text, "fieldaudit_http_request_total", method="GET", status="200") == 3
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404


def test_metrics_need_the_token_when_one_is_set(make_app, app_config):
    client = make_app({**app_config, "METRICS_TOKEN": "s3cret-scrape-token"}).test_client()
    assert client.get("/metrics").status_code == 404  # not even from this machine
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"},
                          environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200 and "fieldaudit_submissions_total" in response.get_data(as_text=True)


def test_metrics_count_submissions_accepted_and_replayed(client, login, make_visit, make_checklist_version,
                                                          shopper):
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    login(shopper)
    body = {"client_submission_id": str(uuid.uuid4()), "answers": {**ANSWERS, "shelf": []}, "answer_times": {},
            "started_at": None, "geolocation": "denied", "position": None}
    assert client.post(f"/api/v1/visits/{visit.id}/submit", json=body).status_code == 201
    assert client.post(f"/api/v1/visits/{visit.id}/submit", json=body).status_code == 200  # the phone's retry
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "fieldaudit_submissions_total", outcome="accepted") == 1
    assert metric(text, "fieldaudit_submissions_total", outcome="replayed") == 1


def test_metrics_show_the_depth_of_each_job_queue(make_app, app_config):
    from redis import Redis
    from rq import Queue

    from app import worker

    url = redis_or_skip()
    text = make_app({**app_config, "REDIS_URL": url}).test_client().get("/metrics").get_data(as_text=True)
    for name in worker.QUEUES:
        assert metric(text, "fieldaudit_queue_depth", queue=name) == Queue(name, connection=Redis.from_url(url)).count


# -- under gunicorn, with its config file -------------------------------------------------------------------


def get(url: str, **headers) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  (a loopback URL)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_gunicorn_with_its_config_file_serves_probes_metrics_of_all_workers_and_json_logs(tmp_path):
    pytest.importorskip("gunicorn")
    redis_url = redis_or_skip()
    port = closed_port()
    env = {**os.environ, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "WEB_THREADS": "2",
           "FIELDAUDIT_ENV": "production", "SECRET_KEY": "k" * 40, "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "METRICS_TOKEN": "scrape-token-for-test"}
    env.pop("TEST_DATABASE_URL", None)
    (tmp_path / "metrics").mkdir()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=REPO, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail((tmp_path / "gunicorn.log").read_text())
        for _ in range(30):  # spread over both workers by the kernel
            assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        status, body, _ = get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200 and json.loads(body)["checks"] == {"database": "ok", "redis": "ok", "photos": "ok",
                                                                 "exports": "ok"}
        status, text, _ = get(f"http://127.0.0.1:{port}/metrics", Authorization="Bearer scrape-token-for-test")
        assert status == 200
        # Both workers' counts added up: the first probe and the 30 after it.
        assert metric(text, "fieldaudit_http_request_duration_seconds_count", endpoint="ops.healthz") == 31
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 404
        status, _, headers = get(f"http://127.0.0.1:{port}/healthz", **{"X-Request-ID": "probe-12345678"})
        assert headers["X-Request-ID"] == "probe-12345678"
        assert headers["X-Frame-Options"] == "DENY"  # the app's headers (HSTS only over HTTPS, behind nginx)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0  # a graceful stop
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines()
             if line.startswith("{")]
    probe = [line for line in lines if line.get("request_id") == "probe-12345678"]
    assert [(line["path"], line["status"]) for line in probe] == [("/healthz", 200)]
