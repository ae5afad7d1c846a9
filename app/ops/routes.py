"""Probes for the load balancer and systemd: is the process up, and can it serve?"""
from flask import jsonify
from flask.typing import ResponseReturnValue

from app.access import public
from app.ops import health


@public
def healthz() -> ResponseReturnValue:
    """200 while the process answers at all; it touches nothing else, so a slow database never restarts it."""
    return jsonify(status="ok")


@public
def readyz() -> ResponseReturnValue:
    """200 when the database, Redis (where configured) and storage are reachable, else 503 naming which is not."""
    outcome = health.readiness()
    ready = all(outcome.values())
    body = {"status": "ready" if ready else "unavailable",
            "checks": {name: "ok" if ok else "unreachable" for name, ok in outcome.items()}}
    return jsonify(body), 200 if ready else 503
