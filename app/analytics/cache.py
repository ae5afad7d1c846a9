"""A cache of computed figures that can never serve a stale one.

A figure is stored under its filter, its settings, the analytics code that computed it and the data
version: every region's `figures_version` (app.analytics.versions), which changes in the same
transaction as anything a figure is made of. A reader that sees a committed change therefore sees a
new version and misses; one that read the version before the commit may still get the figures of
just before it, as it would have without a cache. Every region's version is in every key: a
region's page and a location's compare against the whole network, so a visit anywhere changes them.

The store is a small LRU in the process, in front of Redis when REDIS_URL is set (shared by every
worker and app server). Redis unreachable or failing: the process's LRU alone for a while, and never
an error page; what can go wrong costs a computation, not a wrong figure.
"""
from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, current_app, has_app_context

from app.analytics.versions import data_version

if TYPE_CHECKING:
    from app.analytics.filters import Filters

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Seconds Redis is left alone after a failure (each try would otherwise wait for its timeout).
REDIS_RETRY_SECONDS = 30.0
#: Seconds a Redis call may take before the figures are computed instead.
REDIS_TIMEOUT_SECONDS = 0.25


# -- the store ------------------------------------------------------------------------------------------


class _LocalStore:
    """The most recently used figures of this process (objects as they are: no copy, no pickling)."""

    def __init__(self, size: int) -> None:
        self._size, self._items, self._lock = size, OrderedDict[str, Any](), threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class FiguresCache:
    """This process's LRU in front of Redis when configured (the LRU alone without it).

    A key names one data version, so what is stored under it never changes: a copy in the process is
    as true as the one in Redis, and spares unpickling a league table on every request (~10 ms).
    """

    def __init__(self, redis_url: str | None, *, size: int, seconds: int, namespace: str) -> None:
        self.local = _LocalStore(size)
        self.seconds, self.namespace = seconds, namespace
        self._redis: Any = None
        self._redis_down_until = 0.0
        if redis_url:
            from redis import Redis

            self._redis = Redis.from_url(redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                         socket_connect_timeout=REDIS_TIMEOUT_SECONDS)

    def _use_redis(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: Exception) -> None:
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        log.warning("figures cache: Redis failed (%s); computing figures, with this process's cache, for %.0f s",
                    exc, REDIS_RETRY_SECONDS)

    def get(self, key: str) -> tuple[bool, Any]:
        """Return (True, figures) when stored, else (False, None)."""
        found = self.local.get(key)
        if found[0] or not self._use_redis():
            return found
        try:
            raw = self._redis.get(self.namespace + key)
        except Exception as exc:  # noqa: BLE001  (any failure of the cache is a miss, never an error page)
            self._redis_failed(exc)
            return False, None
        if raw is None:
            return False, None
        try:
            value = pickle.loads(raw)  # noqa: S301  (our own Redis, written by this code version: see the namespace)
        except Exception as exc:  # noqa: BLE001  (an unreadable entry is a miss)
            log.warning("figures cache: unreadable entry %s (%s)", key, exc)
            return False, None
        self.local.set(key, value)
        return True, value

    def set(self, key: str, value: Any) -> None:
        """Store figures here and in Redis (there for `seconds`)."""
        self.local.set(key, value)
        if self._use_redis():
            try:
                self._redis.set(self.namespace + key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL),
                                ex=self.seconds)
            except Exception as exc:  # noqa: BLE001  (as in get)
                self._redis_failed(exc)


def _code_version() -> str:
    """Return a digest of the code that computes figures: a deploy that changes it never reads older figures."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted([*root.joinpath("analytics").glob("*.py"), *root.joinpath("checklists").glob("*.py"),
                        root / "scoring.py"]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_of(app: Flask) -> FiguresCache:
    found: FiguresCache | None = app.extensions.get("figures_cache")
    if found is None:
        # The database in the namespace: two deployments may share one Redis.
        database = hashlib.sha256(str(app.config.get("SQLALCHEMY_DATABASE_URI")).encode()).hexdigest()[:12]
        found = FiguresCache(app.config.get("REDIS_URL"), size=int(app.config["FIGURES_CACHE_SIZE"]),
                             seconds=int(app.config["FIGURES_CACHE_SECONDS"]),
                             namespace=f"fieldaudit:figures:{database}:{_code_version()}:")
        app.extensions["figures_cache"] = found
    return found


def key_of(name: str, filters: Filters, extra: Any = None) -> str:
    """Return the cache key of a figure: its name, filter, settings and every region's data version."""
    scope = sorted(filters.scope) if filters.scope is not None else None
    parts = {
        "figure": name, "extra": extra,
        "filters": [filters.period.start.isoformat(), filters.period.end.isoformat(), scope, filters.region_id,
                    filters.location_id, filters.programme, filters.channel],
        # The settings figures read: which states count (filters.counted_statuses) and the minimum to rank.
        "settings": [bool(current_app.config.get("COUNT_SUBMITTED_VISITS")), current_app.config.get("RANK_MIN_VISITS")],
        "data": data_version(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def cached(name: str, filters: Filters, build: Callable[[], T], extra: Any = None) -> T:
    """Return build() for this figure and filter, computed once per data version.

    `extra`: anything else the figures depend on (JSON-ready), such as the number of trend points.
    Outside an app, or with FIGURES_CACHE off, build() every time.
    """
    if not has_app_context() or not current_app.config.get("FIGURES_CACHE", True):
        return build()
    store = _cache_of(current_app._get_current_object())  # type: ignore[attr-defined]
    key = key_of(name, filters, extra)
    found, value = store.get(key)
    if found:
        return value
    value = build()
    store.set(key, value)
    return value
