"""Delivering webhooks: kept until the commit, then on RQ with back-off retries or on a thread; signed; logged.

On RQ an attempt that gets no 2xx raises, and RQ tries again after each of WEBHOOK_RETRY_INTERVALS (the scheduler
of `flask worker` runs them); on a thread (no Redis) there is one attempt, and a failure is logged. Every attempt
is a WebhookDelivery row. A redirect is an answer like any other (not followed: it could lead inside our
network); an endpoint deactivated or deleted meanwhile gets nothing more.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask, current_app
from sqlalchemy import func, select

from app import aftercommit, worker
from app.extensions import db
from app.models import WebhookDelivery, WebhookEndpoint
from app.models.types import utcnow
from app.webhooks.urls import url_problem

log = logging.getLogger(__name__)

#: Where a session keeps the deliveries of its open transaction.
PENDING = "fieldaudit_webhooks_pending"
#: The most of an answer's body kept in the log.
EXCERPT_BYTES = 1024
USER_AGENT = "Fieldaudit-Webhooks/1"


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint, its body already written: what RQ carries to the worker."""

    endpoint_id: int
    event: str
    delivery_id: str
    body: bytes


class DeliveryFailed(Exception):
    """An attempt that got no 2xx answer: raised inside an RQ job so that RQ tries again."""


def signature(secret: str, body: bytes) -> str:
    """Return the X-Fieldaudit-Signature of `body`: "sha256=" and the hex HMAC-SHA256 keyed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    """Return a new random endpoint secret (256 bits, hex)."""
    return secrets.token_hex(32)


def body_of(event_name: str, delivery_id: str, data: dict[str, Any]) -> bytes:
    """Return the JSON body of one delivery."""
    payload = {"event": event_name, "delivery_id": delivery_id,
               "occurred_at": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def fire(event_name: str, data: Callable[[], dict[str, Any]]) -> None:
    """Deliver `event_name` to every active endpoint subscribed to it once the transaction commits; `data()`
    builds the object part of the body (called only when someone listens)."""
    endpoints = [e for e in db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active))
                 if event_name in (e.events or [])]
    if not endpoints:
        return
    try:
        built = data()
    except Exception:  # a broken body must not undo the change it tells of
        log.exception("Could not build the webhook body of %s", event_name)
        return
    for endpoint in endpoints:
        delivery_id = str(uuid.uuid4())
        body = body_of(event_name, delivery_id, built)
        aftercommit.hold(PENDING, Delivery(endpoint.id, event_name, delivery_id, body))


def ping(endpoint: WebhookEndpoint) -> str:
    """Send the test event to `endpoint` now (deactivated or not subscribed, it is still asked); return the
    delivery id."""
    delivery_id = str(uuid.uuid4())
    data = {"endpoint": {"id": endpoint.id, "events": list(endpoint.events or [])}}
    _dispatch([Delivery(endpoint.id, "ping", delivery_id, body_of("ping", delivery_id, data))])
    return delivery_id


def init_app(app: Flask) -> None:
    """Webhooks wait for the commit of the change they tell of (called by the factory)."""
    aftercommit.register(PENDING, "Webhooks", _dispatch, lambda one: one.event)


def _dispatch(deliveries: list[Delivery]) -> None:
    """Queue each delivery on RQ when REDIS_URL is set (a thread if Redis is down), else a thread."""
    config = current_app.config
    intervals = [int(s) for s in config["WEBHOOK_RETRY_INTERVALS"]]
    worker.run_in_background(deliveries, deliver_job, queue=worker.WEBHOOK_QUEUE, retries=len(intervals),
                             intervals=intervals, job_timeout=int(float(config["WEBHOOK_TIMEOUT"]) * 2 + 30),
                             in_thread=_deliver_in_thread, name="webhook")


def _deliver_in_thread(deliveries: list[Delivery]) -> None:
    for one in deliveries:
        try:
            if not attempt(one):
                log.error("Webhook %s %s failed and is not retried (no Redis)", one.event, one.delivery_id)
        except Exception:  # nobody waits for this thread: say it in the log
            log.exception("Webhook %s %s could not be attempted", one.event, one.delivery_id)
        finally:
            db.session.remove()


def deliver_job(one: Delivery) -> None:
    """RQ job: one attempt; no 2xx raises, so that RQ tries again later."""
    if not attempt(one):
        log.warning("Webhook %s %s failed, RQ retries it", one.event, one.delivery_id)
        raise DeliveryFailed(one.delivery_id)


def attempt(one: Delivery) -> bool:
    """POST the delivery to its endpoint once and log the attempt; return True when done with it (2xx, or the
    endpoint is gone, deactivated or its address is no longer accepted), False when it should be tried again."""
    config = current_app.config
    endpoint = db.session.get(WebhookEndpoint, one.endpoint_id)
    if endpoint is None:
        log.info("Webhook %s %s not sent: its endpoint was deleted", one.event, one.delivery_id)
        return True
    if not endpoint.active and one.event != "ping":
        log.info("Webhook %s %s not sent: endpoint %s is deactivated", one.event, one.delivery_id, endpoint.id)
        return True
    number = (db.session.scalar(select(func.count()).where(WebhookDelivery.delivery_id == one.delivery_id)) or 0) + 1
    row = WebhookDelivery(endpoint_id=endpoint.id, event=one.event, delivery_id=one.delivery_id, attempt=number)
    problem = url_problem(endpoint.url, allow_loopback=bool(config.get("WEBHOOKS_ALLOW_LOOPBACK")))
    done = True
    started = time.monotonic()
    if problem:
        row.error = f"refused address: {problem}"
    else:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Fieldaudit-Event": one.event, "X-Fieldaudit-Delivery": one.delivery_id,
                   "X-Fieldaudit-Signature": signature(endpoint.secret, one.body)}
        try:
            with requests.post(endpoint.url, data=one.body, headers=headers, timeout=float(config["WEBHOOK_TIMEOUT"]),
                               allow_redirects=False, stream=True) as response:
                row.status_code = response.status_code
                excerpt = next(response.iter_content(EXCERPT_BYTES), b"")[:EXCERPT_BYTES]
                row.response_excerpt = excerpt.decode("utf-8", "replace").replace("\x00", "") or None
            done = row.delivered
        except requests.RequestException as exc:
            row.error = f"{type(exc).__name__}: {exc}"[:1000]
            done = False
    row.duration_ms = int((time.monotonic() - started) * 1000)
    db.session.add(row)
    db.session.commit()
    log.info("Webhook %s %s to endpoint %s, attempt %s: %s", one.event, one.delivery_id, endpoint.id, number,
             row.status_code or row.error)
    return done
