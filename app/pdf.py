"""HTML to PDF with WeasyPrint: a URL fetcher that serves only our own files, and a time limit.

Report templates reference resources through two internal schemes only:
``fa-static:PATH`` (a file under the app's static folders) and ``fa-photo:NAME`` (a stored photo
in the app's storage, served as a downscaled JPEG thumbnail). Every other URL (``file:``, ``http(s):``,
``data:``, ``ftp:``, relative paths, ...) is refused, whether it comes from ``<img>``, ``@import``,
``@font-face``, an SVG ``href``, an attachment link or a ``<base>`` element. ``data:`` is refused
too: our templates never need it (charts are inline SVG), so allowing it would only add surface.

Rendering runs with a time limit (app.timelimit): a SIGALRM timer in a process's main thread,
elsewhere a pool of spawned worker processes, killed with the worker that overruns.
"""
import io
import logging
import mimetypes
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from pathlib import Path
from urllib.parse import unquote

from flask import Flask
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.storage import PHOTOS, StorageError, StorageSpec
from app.timelimit import ProcessPool, TimeLimitExceeded, can_use_alarm, time_limit

log = logging.getLogger(__name__)

STATIC_SCHEME = "fa-static:"
PHOTO_SCHEME = "fa-photo:"
#: The base URL of report documents: relative references resolve to nothing we serve.
BASE_URL = "fa-static:/"
STATIC_SUFFIXES = {".css", ".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp", ".woff", ".woff2", ".ttf", ".otf"}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class RenderError(Exception):
    """The document could not be rendered."""


class RenderTimeout(RenderError):
    """Rendering took longer than the time limit."""


class RefusedURL(ValueError):
    """A URL the report fetcher does not serve."""


@dataclass(frozen=True)
class FetchRoots:
    """The only places the fetcher reads from (plain strings so it pickles to workers)."""

    static_dirs: tuple[str, ...]
    store: StorageSpec
    thumb_dir: str
    thumb_px: int = 600


def roots_for(app: Flask) -> FetchRoots:
    """Return the fetch roots of `app`: its static folders, its storage's photos and the thumbnail cache."""
    static_dirs = [app.static_folder] + [
        bp.static_folder for bp in app.blueprints.values() if bp.static_folder
    ]
    return FetchRoots(
        static_dirs=tuple(str(Path(d).resolve()) for d in static_dirs if d),
        store=StorageSpec.of(app.config),
        thumb_dir=str(Path(app.config["EXPORT_DIR"]).resolve() / "thumbs"),
        thumb_px=int(app.config.get("REPORT_THUMB_PX", 600)),
    )


def _inside(root: str, relative: str, suffixes: set[str]) -> Path:
    """Return root/relative as an existing file strictly inside root; raise RefusedURL otherwise."""
    relative = unquote(relative.split("?", 1)[0].split("#", 1)[0]).lstrip("/")
    if not relative or "\\" in relative or "\x00" in relative or any(p == ".." for p in relative.split("/")):
        raise RefusedURL(f"bad path {relative!r}")
    base = Path(root).resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or path == base:
        raise RefusedURL(f"{relative!r} is outside {base}")
    if path.suffix.lower() not in suffixes or not path.is_file():
        raise RefusedURL(f"{relative!r} is not a servable file")
    return path


def photo_key(name: str) -> str:
    """Return the storage key of a fa-photo: URL's name ("ab/ab12….jpg"); raise RefusedURL for anything else."""
    name = unquote(name.split("?", 1)[0].split("#", 1)[0])
    parts = name.split("/")
    if len(parts) != 2 or not parts[1].startswith(parts[0]) or any(p in ("", ".", "..") for p in parts) \
            or "\\" in name or "\x00" in name or Path(name).suffix.lower() not in PHOTO_SUFFIXES:
        raise RefusedURL(f"bad photo name {name!r}")
    return f"{PHOTOS}/{name}"


def thumbnail(key: str, roots: FetchRoots) -> bytes:
    """Return a JPEG of the stored photo `key` at most thumb_px wide/high, cached on this server's disk.

    A stored photo never changes (a new upload gets a new name), so a cached copy stays right.
    """
    from PIL import Image, ImageOps

    size = roots.thumb_px
    cache = Path(roots.thumb_dir) / str(size) / (key.removeprefix(f"{PHOTOS}/").replace("/", "__") + ".jpg")
    try:
        return cache.read_bytes()
    except FileNotFoundError:
        pass
    with Image.open(io.BytesIO(roots.store.open().read_bytes(key))) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
        small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((size, size), Image.Resampling.LANCZOS)
        small.info.clear()  # no comment or XMP carried into the PDF
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=80, optimize=True)
    data = buffer.getvalue()
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(cache)  # atomic: parallel workers never read half a file
    return data


class StrictFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves fa-static: and fa-photo: URLs and refuses all else."""

    def __init__(self, roots: FetchRoots) -> None:
        super().__init__(timeout=1, allowed_protocols=(), allow_redirects=False)
        self.roots = roots
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        try:
            response = self._serve(url)
        except RefusedURL:
            self.refused.append(url)
            log.warning("PDF render refused to fetch %.200s", url)
            raise
        self.served.append(url)
        return response

    def _serve(self, url: str) -> URLFetcherResponse:
        if url.startswith(STATIC_SCHEME):
            for root in self.roots.static_dirs:
                try:
                    path = _inside(root, url[len(STATIC_SCHEME):], STATIC_SUFFIXES)
                except RefusedURL:
                    continue
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
            raise RefusedURL(url)
        if url.startswith(PHOTO_SCHEME):
            key = photo_key(url[len(PHOTO_SCHEME):])
            try:
                data = thumbnail(key, self.roots)
            except (OSError, ValueError, StorageError) as exc:  # missing or unreadable: leave a gap, not a crash
                raise RefusedURL(f"unreadable photo {key}: {exc}") from None
            return URLFetcherResponse(url, data, {"Content-Type": "image/jpeg"})
        raise RefusedURL(url)


def photo_url(stored_name: str) -> str:
    """Return the internal URL of a stored photo for report templates."""
    return f"{PHOTO_SCHEME}{stored_name[:2]}/{stored_name}"


def render_here(html: str, roots: FetchRoots, timeout: float, base_url: str = BASE_URL) -> bytes:
    """Render `html` to PDF bytes in this process (main thread only) under a SIGALRM time limit."""
    fetcher = StrictFetcher(roots)
    try:
        with time_limit(timeout):
            return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    except TimeLimitExceeded:
        raise RenderTimeout(f"rendering took longer than {timeout:g} s") from None
    except Exception as exc:  # pragma: no cover - WeasyPrint bugs surface as a clear error
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


def _warm_worker() -> None:
    """Pool initializer: import and exercise WeasyPrint once so the first report is fast."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which cleans up
    HTML(string="<p>.</p>").render()


class RenderPool(ProcessPool):
    """A pool of spawned processes that render PDFs, killed and rebuilt on a hang."""

    def __init__(self, workers: int = 2) -> None:
        super().__init__(workers, initializer=_warm_worker)

    def submit_render(self, html: str, roots: FetchRoots, timeout: float,
                      base_url: str = BASE_URL) -> AsyncResult[bytes]:
        """Start rendering; return an AsyncResult."""
        return self.submit(render_here, html, roots, timeout, base_url)

    def wait_render(self, result: AsyncResult[bytes], timeout: float) -> bytes:
        """Return the PDF bytes of `result`; kill the pool and raise RenderTimeout after `timeout` + grace."""
        try:
            return self.wait(result, timeout)
        except TimeLimitExceeded:
            raise RenderTimeout(f"rendering took longer than {timeout:g} s") from None


_shared_pool: RenderPool | None = None
_shared_lock = threading.Lock()


def shared_pool(workers: int = 2) -> RenderPool:
    """Return the process-wide render pool."""
    global _shared_pool
    with _shared_lock:
        if _shared_pool is None:
            _shared_pool = RenderPool(workers)
        return _shared_pool


def render(html: str, base_url: str = BASE_URL, *, roots: FetchRoots | None = None,
           timeout: float | None = None, isolate: bool | None = None) -> bytes:
    """Return the PDF of `html`, fetching only our own files, within the time limit.

    Renders in this process when SIGALRM can guard it (CLI, job workers), else in the render pool.
    :raise RenderTimeout: when it takes longer than `timeout` (default PDF_RENDER_TIMEOUT).
    """
    from flask import current_app

    if roots is None:
        roots = roots_for(current_app)
    if timeout is None:
        timeout = float(current_app.config["PDF_RENDER_TIMEOUT"])
    if isolate is None:
        isolate = not can_use_alarm()
    if not isolate:
        return render_here(html, roots, timeout, base_url)
    pool = shared_pool(int(current_app.config.get("PDF_RENDER_WORKERS", 2)))
    return pool.wait_render(pool.submit_render(html, roots, timeout, base_url), timeout)
