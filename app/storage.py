"""Where stored files live: photos, their thumbnails and the files of finished exports, behind one interface.

Files are named by keys such as ``photos/ab/ab12….jpg`` or ``exports/jobs/<id>.zip``. STORAGE_URL picks the backend:
empty (the default, for SQLite and one server) keeps them in folders, ``photos/`` below UPLOAD_DIR and ``exports/``
below EXPORT_DIR; ``s3://bucket/prefix?endpoint_url=…&region=…`` keeps them in an S3-compatible object store (AWS,
MinIO, Yandex Object Storage; credentials from the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), so that every
app server reads what another wrote. Downloads stream in chunks: no file is read whole into memory to be sent.
"""
from __future__ import annotations

import errno
import functools
import os
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, Response, current_app, request, send_file

PHOTOS = "photos"
EXPORTS = "exports"
#: The uploaded file, kept only until its photo is decoded: never served (it still has its metadata).
ORIGINAL = "original"
CHUNK = 256 * 1024


class StorageError(Exception):
    """The store could not be reached or refused the operation (a 503: try again later), in words for the log."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    modified: float  # seconds since the epoch


def photo_key(stored_name: str, size: str | None = None) -> str:
    """Return the key of a stored photo, of its thumbnail (size "thumb"), or of the upload (ORIGINAL)."""
    if size == "thumb":
        name = stored_name.replace(".jpg", "_thumb.jpg")
    elif size == ORIGINAL:
        name = stored_name.replace(".jpg", ".upload")
    else:
        name = stored_name
    return f"{PHOTOS}/{name[:2]}/{name}"


def _check_key(key: str) -> str:
    parts = key.split("/")
    if parts[0] not in (PHOTOS, EXPORTS) or len(parts) < 2 or any(p in ("", ".", "..") for p in parts) \
            or "\\" in key or "\x00" in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage:
    """The operations every backend offers. Missing files raise FileNotFoundError; an unreachable store StorageError."""

    def put_bytes(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def put_file(self, key: str, path: Path) -> None:
        """Store the local file `path` under `key` and remove `path` (the caller's scratch copy)."""
        raise NotImplementedError

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def open(self, key: str) -> IO[bytes]:
        """Return a readable binary stream of the file (close it when done)."""
        raise NotImplementedError

    def stat(self, key: str) -> StoredFile | None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Delete a file; a missing one is fine."""
        raise NotImplementedError

    def list(self, prefix: str) -> Iterator[StoredFile]:
        """Yield every file whose key starts with `prefix` (a folder such as "photos/" or "exports/jobs/")."""
        raise NotImplementedError

    def send(self, key: str, *, mimetype: str, download_name: str | None = None) -> Response:
        """Return a streamed response of the file, conditional on its ETag; :raise FileNotFoundError: when missing."""
        raise NotImplementedError

    def check(self, top: str) -> None:
        """Write, read back and delete a small file below `top` (PHOTOS, EXPORTS); raise StorageError or OSError
        when that fails."""
        key = f"{top}/.ready-{os.getpid()}-{time.monotonic_ns()}"
        self.put_bytes(key, b"ok")
        try:
            if self.read_bytes(key) != b"ok":
                raise StorageError("the store returned other bytes than were written")
        finally:
            self.delete(key)

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None


class LocalStorage(Storage):
    """Files in folders: photos/ below `photo_dir`, exports/ below `export_dir`, written atomically."""

    def __init__(self, photo_dir: str, export_dir: str) -> None:
        self.roots = {PHOTOS: Path(photo_dir), EXPORTS: Path(export_dir)}

    def path(self, key: str) -> Path:
        top, rest = _check_key(key).split("/", 1)
        return self.roots[top] / rest

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self.path(key)
        temp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
            os.replace(temp, path)  # readers never see half a file
        except OSError as error:  # a full or read-only disk: like a store that is down, try again later
            raise StorageError(f"cannot write {path} ({error.strerror or error})") from None
        finally:
            temp.unlink(missing_ok=True)

    def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)
        if target == path:
            return
        temp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(path, target)
            except OSError as error:  # another file system: copy, then swap in atomically
                if error.errno != errno.EXDEV:
                    raise
                shutil.copyfile(path, temp)
                os.replace(temp, target)
                path.unlink(missing_ok=True)
        except OSError as error:
            raise StorageError(f"cannot write {target} ({error.strerror or error})") from None
        finally:
            temp.unlink(missing_ok=True)

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def open(self, key: str) -> IO[bytes]:
        return self.path(key).open("rb")

    def stat(self, key: str) -> StoredFile | None:
        try:
            found = self.path(key).stat()
        except FileNotFoundError:
            return None
        return StoredFile(key, found.st_size, found.st_mtime)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[StoredFile]:
        top, _, rest = prefix.partition("/")
        root = self.roots[top]
        folder = root / rest if rest.endswith("/") or not rest else (root / rest).parent
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            key = f"{top}/{path.relative_to(root).as_posix()}"
            if key.startswith(prefix) and not path.name.endswith(".part"):
                try:
                    found = path.stat()
                except FileNotFoundError:  # removed by another process meanwhile
                    continue
                if path.is_file():
                    yield StoredFile(key, found.st_size, found.st_mtime)

    def send(self, key: str, *, mimetype: str, download_name: str | None = None) -> Response:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return send_file(path, mimetype=mimetype, conditional=True, as_attachment=download_name is not None,
                         download_name=download_name)


class S3Storage(Storage):
    """Files in one bucket of an S3-compatible store, under an optional key prefix."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, addressing_style: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        # A custom endpoint (MinIO, a local test server) rarely resolves bucket names as host names: path style.
        style = addressing_style or ("path" if endpoint_url else "auto")
        if style not in ("auto", "path", "virtual"):
            raise ValueError(f"addressing_style must be auto, path or virtual, not {style!r}")
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=Config(s3={"addressing_style": style}, connect_timeout=3, read_timeout=30,  # type: ignore[arg-type]
                          retries={"max_attempts": 3, "mode": "standard"}))

    def _name(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(params.get("Key", "")) from None
            raise StorageError(f"object store refused {operation}: {code or error}") from None
        except BotoCoreError as error:
            raise StorageError(f"object store unreachable ({type(error).__name__}: {error})") from None

    def put_bytes(self, key: str, data: bytes) -> None:
        self._call("put_object", Key=self._name(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError
        from s3transfer.exceptions import S3UploadFailedError

        try:  # multipart for big exports, in chunks: never the whole file in memory
            self.client.upload_file(str(path), self.bucket, self._name(key),
                                    Config=TransferConfig(multipart_chunksize=16 * 1024 * 1024, use_threads=False))
        except (BotoCoreError, ClientError, S3UploadFailedError) as error:
            raise StorageError(f"object store refused the upload of {key} ({error})") from None
        path.unlink(missing_ok=True)

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def open(self, key: str) -> IO[bytes]:
        body: IO[bytes] = self._call("get_object", Key=self._name(key))["Body"]
        return body

    def stat(self, key: str) -> StoredFile | None:
        try:
            head = self._call("head_object", Key=self._name(key))
        except FileNotFoundError:
            return None
        return StoredFile(key, int(head["ContentLength"]), head["LastModified"].timestamp())

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=self._name(key))

    def list(self, prefix: str) -> Iterator[StoredFile]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=self.prefix + prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredFile(item["Key"][len(self.prefix):], int(item["Size"]),
                                     item["LastModified"].timestamp())
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"object store refused the listing of {prefix} ({error})") from None

    def send(self, key: str, *, mimetype: str, download_name: str | None = None) -> Response:
        if request.if_none_match:  # a photo the browser has: a HEAD, not the whole object again
            head = self._call("head_object", Key=self._name(key))
            tag = head["ETag"].strip('"')
            if request.if_none_match.contains(tag):
                response = Response(status=304)
                response.set_etag(tag)
                return response
        found = self._call("get_object", Key=self._name(key))
        body = found["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        response = Response(chunks(), mimetype=mimetype, direct_passthrough=True)
        response.content_length = int(found["ContentLength"])
        response.set_etag(found["ETag"].strip('"'))
        response.last_modified = found["LastModified"]
        if download_name is not None:
            response.headers.set("Content-Disposition", "attachment", filename=download_name)
        return response


@dataclass(frozen=True)
class StorageSpec:
    """What selects and configures a backend, as plain strings: it pickles to the PDF render workers."""

    url: str
    photo_dir: str
    export_dir: str

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> StorageSpec:
        return cls(str(config.get("STORAGE_URL") or ""), str(config["UPLOAD_DIR"]), str(config["EXPORT_DIR"]))

    def open(self) -> Storage:
        return _open(self)


@functools.lru_cache(maxsize=8)
def _open(spec: StorageSpec) -> Storage:
    if not spec.url:
        return LocalStorage(spec.photo_dir, spec.export_dir)
    parts = urlsplit(spec.url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"STORAGE_URL must be empty (local folders) or s3://bucket/prefix, not {spec.url!r}")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    return S3Storage(parts.netloc, parts.path, endpoint_url=query.get("endpoint_url"),
                     region=query.get("region"), addressing_style=query.get("addressing_style"))


def storage_of(app: Flask) -> Storage:
    return StorageSpec.of(app.config).open()


def storage() -> Storage:
    """Return the storage of the current app."""
    return storage_of(current_app)


def remove_photo_files(store: Storage, stored_name: str) -> None:
    """Delete a photo's files (missing files are fine)."""
    for size in (None, "thumb", ORIGINAL):
        store.delete(photo_key(stored_name, size))


def scratch_dir(config: Mapping[str, Any], *, make: bool = True) -> Path:
    """Return this server's folder for files being written (a job's export before it is stored)."""
    directory = Path(config["EXPORT_DIR"]) / "scratch"
    if make:
        directory.mkdir(parents=True, exist_ok=True)
    return directory
