"""Readiness: can this process serve requests, i.e. reach its database, its Redis and its storage?"""
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.storage import EXPORTS, PHOTOS, StorageError, scratch_dir, storage

#: Seconds a probe waits for Redis; a load balancer probes often and must get an answer quickly.
REDIS_TIMEOUT = 1.0


def database_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not ready", whatever its class
        current_app.logger.warning("Readiness: the database is unreachable", exc_info=True)
        db.session.rollback()
        return False


def redis_reachable() -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        redis = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=REDIS_TIMEOUT,
                               socket_connect_timeout=REDIS_TIMEOUT)
        return bool(redis.ping())
    except (RedisError, OSError, ValueError):
        current_app.logger.warning("Readiness: Redis is unreachable", exc_info=True)
        return False


def folder_writable(folder: str) -> bool:
    """Return True when a file can be created in `folder` (made if missing), as uploads and exports will."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".ready-")
        os.close(fd)
        os.unlink(name)
        return True
    except OSError:
        current_app.logger.warning("Readiness: %s is not writable", folder, exc_info=True)
        return False


def storage_works(top: str) -> bool:
    """Return True when a file can be written below `top` of the storage (a folder, or the object store)."""
    try:
        storage().check(top)
        return True
    except (StorageError, OSError):
        current_app.logger.warning("Readiness: the storage of %s refuses writes", top, exc_info=True)
        return False


def checks() -> dict[str, Callable[[], bool]]:
    """Return the named checks this configuration needs (Redis only where it is configured)."""
    config = current_app.config
    found: dict[str, Callable[[], bool]] = {"database": database_reachable}
    if config.get("REDIS_URL"):
        found["redis"] = redis_reachable
    found["photos"] = lambda: storage_works(PHOTOS)
    # Exports are written on this server's disk first, then stored.
    found["exports"] = lambda: folder_writable(str(scratch_dir(config, make=False))) and storage_works(EXPORTS)
    return found


def readiness() -> dict[str, bool]:
    """Run every check; return each one's outcome."""
    return {name: check() for name, check in checks().items()}
