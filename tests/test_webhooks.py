"""Webhooks end to end: a real HTTP endpoint on loopback receives what the app posts, and the tests check the
signature, the body, the moment (after the commit only), the retries on RQ, the log and the admin pages."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.models import ActionStatus, AuditLog, Role, User, VisitStatus, WebhookDelivery, WebhookEndpoint
from app.visits import lifecycle
from app.webhooks import delivery
from app.webhooks.events import EVENTS
from app.webhooks.urls import url_problem
from tests.factories_scored import SOME_LOSS, make_scored_visit
from tests.live_servers import free_port
from tests.test_ops import redis_or_skip
from tests.test_visits_api import submission

HOOKS_REDIS = "redis://127.0.0.1:6379/11"  # a database number no other test uses
SECRET = "s3cret-for-tests"


class Receiver:
    """A small HTTP server on loopback that records every request and answers 500 while told to fail."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures = 0  # answer 500 to the next this-many requests
        self.redirect = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  # http.server's hook
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.redirect:
                    self.send_response(302)
                    self.send_header("Location", "http://10.0.0.1/")
                    self.end_headers()
                    return
                failing = receiver.failures > 0
                receiver.failures -= failing
                answer = b"boom" if failing else b'{"ok": true}'
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= count, f"{len(self.requests)} of {count} requests arrived"
        return self.requests


def wait_for_webhook_threads(timeout: float = 15.0) -> None:
    """Wait until every delivery thread of the web process has finished."""
    for thread in [t for t in threading.enumerate() if t.name == "webhook"]:
        thread.join(timeout)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WEBHOOKS_ALLOW_LOOPBACK": True}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    wait_for_webhook_threads()
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def endpoint(db, receiver):
    hook = WebhookEndpoint(url=receiver.url, secret=SECRET, events=list(EVENTS), active=True)
    db.session.add(hook)
    db.session.commit()
    return hook


@pytest.fixture
def scored(db, make_location, make_checklist_version, make_user):
    shopper = make_user("shopper", name="Sam Shopperson", email="sam.shopperson@example.com")
    return make_scored_visit(db, make_location(code="MSK-07"), make_checklist_version(), shopper, SOME_LOSS,
                             status=VisitStatus.submitted)


def verified(request: dict, secret: str = SECRET) -> dict:
    """Return the body of a recorded request after checking its signature as a receiver would."""
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request["headers"]["X-Fieldaudit-Signature"])
    return json.loads(request["body"])


def deliveries(db) -> list[WebhookDelivery]:
    db.session.expire_all()
    return db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


# -- addresses ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "loopback", "accepted"), [
    ("https://example.com", False, True),
    ("https://hooks.example.com:8443/fieldaudit?x=1", False, True),
    ("https://203.0.113.9/hook", False, False),  # documentation range: reserved
    ("https://8.8.8.8/hook", False, True),
    ("http://example.com", False, False),
    ("http://10.0.0.1", False, False),
    ("https://10.0.0.1", False, False),
    ("https://192.168.1.5/hook", False, False),
    ("https://169.254.169.254/latest/meta-data", False, False),
    ("https://[::1]/", False, False),
    ("https://[fe80::1]/", False, False),
    ("https://localhost/", False, False),
    ("http://127.0.0.1:8000/hook", False, False),
    ("http://127.0.0.1:8000/hook", True, True),
    ("http://localhost:8000/hook", True, True),
    ("http://10.0.0.1", True, False),
    ("https://[::ffff:10.0.0.1]/", False, False),
    ("https://167772161/", False, False),  # 10.0.0.1 as one number: the resolver reads it so
    ("https://0x7f000001/", False, False),
    ("https://10.1/", False, False),
    ("https://user:pw@example.com/", False, False),
    ("ftp://example.com/", False, False),
    ("example.com", False, False),
    ("https://example.com:99999/", False, False),
])
def test_only_https_addresses_outside_our_network_are_accepted(app, url, loopback, accepted):
    assert (url_problem(url, allow_loopback=loopback) is None) == accepted


# -- deliveries --------------------------------------------------------------------------------------------------


def test_an_approved_visit_is_posted_signed_without_the_shopper_and_logged(app, db, manager, scored, endpoint,
                                                                         receiver):
    lifecycle.approve(scored, manager)
    assert receiver.requests == []  # nothing before the commit
    db.session.commit()
    (request,) = receiver.wait(1)
    wait_for_webhook_threads()
    body = verified(request)
    assert request["path"] == "/hook"
    assert request["headers"]["X-Fieldaudit-Event"] == "visit.approved" == body["event"]
    assert request["headers"]["X-Fieldaudit-Delivery"] == body["delivery_id"]
    assert request["headers"]["Content-Type"] == "application/json"
    assert body["occurred_at"].endswith("Z")
    visit = body["data"]["visit"]
    assert visit["id"] == scored.id and visit["status"] == "approved"
    assert visit["location"]["code"] == "MSK-07"
    assert visit["checklist"] == {"id": scored.checklist_version.checklist_id,
                                  "version": scored.checklist_version.version}
    assert visit["score"] == pytest.approx(scored.score) and visit["grade"] == scored.grade
    assert visit["url"] == f"http://localhost/review/visits/{scored.id}"
    raw = request["body"].decode()
    assert "Sam Shopperson" not in raw and "sam.shopperson" not in raw and "shopper" not in raw
    (row,) = deliveries(db)
    assert (row.endpoint_id, row.event, row.delivery_id, row.attempt, row.status_code) == (
        endpoint.id, "visit.approved", body["delivery_id"], 1, 200)
    assert row.response_excerpt == '{"ok": true}' and row.duration_ms >= 0 and row.error is None


def test_a_rolled_back_change_sends_nothing(app, db, manager, scored, endpoint, receiver):
    lifecycle.approve(scored, manager)
    db.session.rollback()
    wait_for_webhook_threads()
    time.sleep(0.2)
    assert receiver.requests == [] and deliveries(db) == []
    visit = db.session.get(type(scored), scored.id)
    lifecycle.return_for_correction(visit, manager, "The photo of the shelf is missing")
    db.session.commit()
    (request,) = receiver.wait(1)
    assert verified(request)["event"] == "visit.returned"


def test_only_subscribed_active_endpoints_hear_an_event(app, db, manager, scored, receiver):
    other = Receiver()
    try:
        db.session.add_all([
            WebhookEndpoint(url=receiver.url, secret=SECRET, events=["action.created"], active=True),
            WebhookEndpoint(url=other.url, secret="other", events=["visit.approved"], active=False),
        ])
        db.session.commit()
        lifecycle.approve(scored, manager)
        db.session.commit()
        wait_for_webhook_threads()
        time.sleep(0.2)
        assert receiver.requests == [] and other.requests == []
    finally:
        other.server.shutdown()
        other.server.server_close()


def test_a_submission_from_the_phone_is_posted(app, client, db, login, make_visit, endpoint, receiver):
    visit = make_visit()
    login(visit.shopper)
    response = client.post(f"/api/v1/visits/{visit.id}/submit", json=submission())
    assert response.status_code == 201
    (request,) = receiver.wait(1)
    body = verified(request)
    assert body["event"] == "visit.submitted" and body["data"]["visit"]["status"] == "submitted"
    assert body["data"]["visit"]["score"] is not None


def test_corrective_actions_created_and_done_are_posted(app, client, db, login, manager, make_location,
                                                        make_checklist_version, make_user, endpoint, receiver):
    visit = make_scored_visit(db, make_location(), make_checklist_version(), make_user("shopper"), SOME_LOSS)
    login(manager)
    response = client.post(f"/dashboard/visits/{visit.id}/actions/new", data={
        "question": "tone", "description": "Train staff to greet warmly", "owner_name": "Ольга Петрова",
        "owner_email": "olga@example.com", "due_date": "2099-01-01"})
    assert response.status_code == 302
    (created,) = receiver.wait(1)
    action = verified(created)["data"]["action"]
    assert verified(created)["event"] == "action.created"
    assert (action["visit_id"], action["question_id"], action["status"]) == (visit.id, "tone", "open")
    assert "Ольга" not in created["body"].decode() and "olga@" not in created["body"].decode()
    response = client.post(f"/dashboard/actions/{action['id']}/status", data={"status": ActionStatus.done.value})
    assert response.status_code == 302
    done = receiver.wait(2)[1]
    assert verified(done)["event"] == "action.done" and verified(done)["data"]["action"]["done_at"]


def test_without_redis_a_failure_is_tried_once_and_logged(app, db, manager, scored, endpoint, receiver, caplog):
    receiver.failures = 5
    lifecycle.approve(scored, manager)
    db.session.commit()
    receiver.wait(1)
    wait_for_webhook_threads()
    time.sleep(0.2)
    assert len(receiver.requests) == 1
    (row,) = deliveries(db)
    assert row.status_code == 500 and row.response_excerpt == "boom" and not row.delivered
    assert "not retried (no Redis)" in caplog.text


def test_a_redirect_is_not_followed(app, db, manager, scored, endpoint, receiver):
    receiver.redirect = True
    lifecycle.approve(scored, manager)
    db.session.commit()
    receiver.wait(1)
    wait_for_webhook_threads()
    assert len(receiver.requests) == 1
    (row,) = deliveries(db)
    assert row.status_code == 302


def test_an_unreachable_endpoint_is_logged_with_the_error(app, db, manager, scored, endpoint):
    endpoint.url = f"http://127.0.0.1:{free_port()}/hook"
    db.session.commit()
    lifecycle.approve(scored, manager)
    db.session.commit()
    wait_for_webhook_threads()
    (row,) = deliveries(db)
    assert row.status_code is None and "ConnectionError" in row.error


def test_with_redis_a_delivery_is_retried_with_back_off_until_it_lands(app, db, manager, scored, endpoint, receiver):
    redis = pytest.importorskip("redis")
    from rq import Queue, SimpleWorker

    from app import worker

    url = redis_or_skip(HOOKS_REDIS)
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    app.config.update(REDIS_URL=url, WEBHOOK_RETRY_INTERVALS=[1, 1, 1])
    queue = Queue(worker.WEBHOOK_QUEUE, connection=connection)
    receiver.failures = 2
    try:
        lifecycle.approve(scored, manager)
        db.session.commit()
        (job,) = queue.get_jobs()
        assert job.retries_left == 3
        assert receiver.requests == []  # queued, not sent by the web process

        SimpleWorker([queue], connection=connection).work(burst=True)  # 500: the attempt fails
        job.refresh()
        assert job.get_status() == "scheduled" and job.retries_left == 2
        for _ in range(2):
            time.sleep(1.2)
            SimpleWorker([queue], connection=connection).work(burst=True, with_scheduler=True)
        job.refresh()
        assert job.get_status() == "finished"
        assert len(receiver.requests) == 3
        ids = {r["headers"]["X-Fieldaudit-Delivery"] for r in receiver.requests}
        assert len(ids) == 1  # one delivery, three attempts: the receiver can drop repeats
        for request in receiver.requests:
            verified(request)
        rows = deliveries(db)
        assert [(r.attempt, r.status_code) for r in rows] == [(1, 500), (2, 500), (3, 200)]
        assert {r.delivery_id for r in rows} == ids
        assert not [t for t in threading.enumerate() if t.name == "webhook"]
    finally:
        connection.flushdb()


def test_a_deactivated_or_deleted_endpoint_gets_no_retry(app, db, endpoint, receiver):
    one = delivery.Delivery(endpoint.id, "visit.approved", "d-1", b"{}")
    endpoint.active = False
    db.session.commit()
    assert delivery.attempt(one) is True and receiver.requests == []
    db.session.delete(endpoint)
    db.session.commit()
    assert delivery.attempt(one) is True and deliveries(db) == []


def test_an_address_refused_later_is_not_called(app, db, endpoint, receiver):
    app.config["WEBHOOKS_ALLOW_LOOPBACK"] = False
    one = delivery.Delivery(endpoint.id, "visit.approved", "d-2", b"{}")
    assert delivery.attempt(one) is True and receiver.requests == []
    (row,) = deliveries(db)
    assert row.error.startswith("refused address")


# -- admin pages -------------------------------------------------------------------------------------------------


def _form(url, events=("visit.approved",), active=True, description=""):
    data = {"complete": "1", "url": url, "description": description, "events": list(events)}
    if active:
        data["active"] = "y"
    return data


def test_an_admin_registers_an_endpoint_and_sees_its_secret(client, login, admin, db):
    login(admin)
    assert client.get("/admin/webhooks").status_code == 200
    for bad in ("http://10.0.0.1", "http://example.com", "https://169.254.169.254/"):
        response = client.post("/admin/webhooks/new", data=_form(bad))
        assert response.status_code == 200
        assert "field-error" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    response = client.post("/admin/webhooks/new", data=_form("https://example.com", events=()))
    assert "Choose at least one event." in response.get_data(as_text=True)

    response = client.post("/admin/webhooks/new", data=_form("https://example.com/hook",
                                                             events=("visit.approved", "action.done")))
    assert response.status_code == 302 and "new=1" in response.location
    hook = db.session.scalars(select(WebhookEndpoint)).one()
    assert hook.events == ["visit.approved", "action.done"] and hook.active
    assert len(hook.secret) == 64 and int(hook.secret, 16) >= 0
    page = client.get(response.location).get_data(as_text=True)
    assert hook.secret in page and "<details class=\"secret\" open>" in page
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "https://example.com/hook" in listing and "Visit approved" in listing
    assert hook.secret not in listing
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.target_type == "webhookendpoint")) == \
        "webhook.create"


def test_an_admin_edits_deactivates_replaces_the_secret_and_deletes(client, login, admin, db, endpoint):
    login(admin)
    old = endpoint.secret
    response = client.post(f"/admin/webhooks/{endpoint.id}", data=_form(endpoint.url, active=False,
                                                                        description="ERP"))
    assert response.status_code == 302
    db.session.expire_all()
    assert not endpoint.active and endpoint.description == "ERP" and endpoint.events == ["visit.approved"]
    assert client.post(f"/admin/webhooks/{endpoint.id}/secret").status_code == 302
    db.session.expire_all()
    assert endpoint.secret != old
    db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event="ping", delivery_id="x", status_code=200))
    db.session.commit()
    assert client.post(f"/admin/webhooks/{endpoint.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"webhook.update", "webhook.secret", "webhook.delete"} <= actions


def test_the_test_event_lands_in_the_log_in_words(client, login, admin, db, endpoint, receiver):
    login(admin)
    receiver.failures = 1
    for _ in range(2):
        assert client.post(f"/admin/webhooks/{endpoint.id}/ping").status_code == 302
        wait_for_webhook_threads()
    bodies = [verified(r) for r in receiver.wait(2)]
    assert [b["event"] for b in bodies] == ["ping", "ping"]
    assert bodies[0]["data"]["endpoint"]["id"] == endpoint.id
    with client.session_transaction() as session:
        session["lang"] = "ru"
    page = client.get(f"/admin/webhooks/{endpoint.id}/deliveries").get_data(as_text=True)
    assert "Доставлено (HTTP 200)" in page and "Отклонено получателем (HTTP 500)" in page
    assert page.index("Доставлено (HTTP 200)") < page.index("Отклонено получателем (HTTP 500)")  # newest first
    assert "Тестовое событие" in page
    assert "webhook.ping" in set(db.session.scalars(select(AuditLog.action)))


def test_the_log_is_paged(client, login, admin, db, endpoint):
    db.session.add_all([WebhookDelivery(endpoint_id=endpoint.id, event="visit.approved", delivery_id=f"d{i}",
                                        status_code=200, response_excerpt=f"answer {i}") for i in range(60)])
    db.session.commit()
    login(admin)
    first = client.get(f"/admin/webhooks/{endpoint.id}/deliveries").get_data(as_text=True)
    second = client.get(f"/admin/webhooks/{endpoint.id}/deliveries?page=2").get_data(as_text=True)
    assert "answer 59" in first and "answer 10" in first and "answer 9<" not in first
    assert "answer 9<" in second and "answer 0<" in second and "answer 59" not in second


@pytest.mark.parametrize("role", ["manager", "shopper"])
def test_only_admins_reach_the_webhook_pages(client, login, make_user, endpoint, role):
    login(make_user(role))
    for url in ("/admin/webhooks", "/admin/webhooks/new", f"/admin/webhooks/{endpoint.id}",
                f"/admin/webhooks/{endpoint.id}/deliveries"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/webhooks/{endpoint.id}/ping").status_code == 403


def test_the_forms_need_a_csrf_token(make_app, app_config, db, receiver):
    app = make_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    with app.app_context():
        db.create_all()  # the app's own database (SQLite in memory); PostgreSQL has its tables already
        admin = User(email="a@example.com", name="A", role=Role.admin)
        admin.set_password("a long enough password")
        hook = WebhookEndpoint(url=receiver.url, secret=SECRET, events=["visit.approved"])
        db.session.add_all([admin, hook])
        db.session.commit()
        admin_id, hook_id = admin.get_id(), hook.id
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = admin_id, True
    assert client.post("/admin/webhooks/new", data=_form("https://example.com")).status_code == 400
    assert client.post(f"/admin/webhooks/{hook_id}/ping").status_code == 400
    assert receiver.requests == []

