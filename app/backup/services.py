"""Create and restore backups: one tar archive holding the database, the photo files and a manifest.

SQLite is copied with its online backup API (a consistent copy while the app keeps writing);
PostgreSQL with pg_dump's custom format, restored with pg_restore. The manifest records what the
archive should hold (counts, the schema revision), so a restore can say whether it got it all.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Answer, Photo, User, Visit
from app.storage import PHOTOS, Storage, storage

MANIFEST, SQLITE_FILE, PG_FILE = "manifest.json", "database.sqlite", "database.pgdump"
FORMAT = 1


class BackupError(Exception):
    """A backup could not be made or restored; the message says why, in words."""


@dataclass(frozen=True)
class Contents:
    visits: int
    answers: int
    photos: int
    users: int

    @classmethod
    def of_database(cls) -> "Contents":
        def count(column: Any) -> int:
            return db.session.scalar(select(func.count(column))) or 0

        return cls(count(Visit.id), count(Answer.id), count(Photo.id), count(User.id))


def _engine_name() -> str:
    return db.engine.dialect.name


def _libpq_url() -> str:
    """The database URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return make_url(str(db.engine.url)).set(drivername="postgresql").render_as_string(hide_password=False)


def _revision() -> str | None:
    if not inspect(db.engine).has_table("alembic_version"):
        return None
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603  (our own argument list)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")


def _dump_database(folder: Path) -> str:
    if _engine_name() == "sqlite":
        target = sqlite3.connect(folder / SQLITE_FILE)
        source = db.engine.raw_connection()
        try:
            source.driver_connection.backup(target)  # type: ignore[union-attr]  # sqlite3.Connection
        finally:
            source.close()
            target.close()
        return SQLITE_FILE
    if _engine_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={folder / PG_FILE}",
              f"--dbname={_libpq_url()}"])
        return PG_FILE
    raise BackupError(f"Backups of {_engine_name()} databases are not supported")


def create(archive: Path) -> Contents:
    """Write a backup of the database and the photo files (from the folder or the object store) to `archive`
    (atomically); return what it holds."""
    store = storage()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".backup-") as work:
        folder = Path(work)
        contents = Contents.of_database()  # counted before the copy: a visit added meanwhile is extra, never missing
        database_file = _dump_database(folder)
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "engine": _engine_name(),
                    "database_file": database_file, "revision": _revision(), "contents": vars(contents)}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial = folder / "archive.tar"
        with tarfile.open(partial, "w") as tar:  # photos are JPEGs already: compressing gains nothing
            tar.add(folder / MANIFEST, MANIFEST)
            tar.add(folder / database_file, database_file)
            tar.addfile(_folder_entry(PHOTOS))  # even when empty, so a restore finds one
            _add_photos(tar, store)
        os.replace(partial, archive)
    return contents


def _add_photos(tar: tarfile.TarFile, store: Storage) -> None:
    """Stream every stored photo file (clean copies, thumbnails, uploads not yet decoded) into the archive."""
    for found in store.list(f"{PHOTOS}/"):
        entry = tarfile.TarInfo(found.key)
        entry.size, entry.mtime, entry.mode = found.size, int(found.modified), 0o644
        with store.open(found.key) as stream:
            tar.addfile(entry, stream)


def _restore_photos(folder: Path, store: Storage) -> None:
    """Replace every stored photo file with the archive's."""
    for found in list(store.list(f"{PHOTOS}/")):
        store.delete(found.key)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            store.put_bytes(f"{PHOTOS}/{path.relative_to(folder).as_posix()}", path.read_bytes())


def _folder_entry(name: str) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.type, entry.mode = tarfile.DIRTYPE, 0o755
    return entry


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.load(member)
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise BackupError(f"{archive} is not a Fieldaudit backup ({error})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is a backup of an unknown format {manifest.get('format')!r}")
    return manifest


def restore(archive: Path, *, replace: bool = False) -> tuple[Contents, Contents]:
    """Restore `archive` into this app's database and photo folder; return (expected, restored) contents.

    Refuses a database that already has accounts unless `replace`: a restore replaces everything.
    """
    manifest = read_manifest(archive)
    if manifest["engine"] != _engine_name():
        raise BackupError(f"This backup is of a {manifest['engine']} database; this app uses {_engine_name()}")
    if not replace and inspect(db.engine).has_table("users") and Contents.of_database().users:
        raise BackupError("This database already has accounts; restore with --replace to overwrite it all")
    db.session.remove()
    store = storage()
    with tempfile.TemporaryDirectory(prefix="fieldaudit-restore-") as work:
        folder = Path(work)
        try:
            with tarfile.open(archive, "r") as tar:
                tar.extractall(folder, filter="data")  # no absolute paths, links out or devices
        except (OSError, tarfile.TarError) as error:
            raise BackupError(f"{archive} cannot be unpacked safely, nothing was restored ({error})") from None
        if not (folder / manifest["database_file"]).is_file() or not (folder / PHOTOS).is_dir():
            raise BackupError(f"{archive} lacks its database or its photos; nothing was restored")
        _load_database(folder / manifest["database_file"], manifest["engine"])
        _restore_photos(folder / PHOTOS, store)
    expected = Contents(**manifest["contents"])
    return expected, Contents.of_database()


def _load_database(dump: Path, engine: str) -> None:
    if engine == "sqlite":
        source = sqlite3.connect(dump)
        target = db.engine.raw_connection()
        try:
            source.backup(target.driver_connection)  # type: ignore[arg-type]  # sqlite3.Connection
        finally:
            target.close()
            source.close()
    else:
        if shutil.which("pg_restore") is None:
            raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
        db.engine.dispose()  # no connection of ours holds a lock pg_restore's DROPs would wait for
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
              f"--dbname={_libpq_url()}", str(dump)])
    db.engine.dispose()
