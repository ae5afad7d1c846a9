"""HTML to PDF with WeasyPrint: a URL fetcher that serves only our own files, and a time limit.

Report templates reference resources through two internal schemes only:
``fa-static:PATH`` (a file under the app's static folders) and ``fa-photo:NAME`` (a stored photo
under UPLOAD_DIR, served as a downscaled JPEG thumbnail). Every other URL (``file:``, ``http(s):``,
``data:``, ``ftp:``, relative paths, ...) is refused, whether it comes from ``<img>``, ``@import``,
``@font-face``, an SVG ``href``, an attachment link or a ``<base>`` element. ``data:`` is refused
too: our templates never need it (charts are inline SVG), so allowing it would only add surface.

Rendering runs with a time limit: in a process's main thread a SIGALRM timer interrupts it;
elsewhere (web request threads) the work goes to a small pool of spawned worker processes, and a
worker that overruns is killed with its pool.
"""
import gc
import io
import logging
import mimetypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from types import FrameType
from urllib.parse import unquote

from flask import Flask
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

STATIC_SCHEME = "fa-static:"
PHOTO_SCHEME = "fa-photo:"
#: The base URL of report documents: relative references resolve to nothing we serve.
BASE_URL = "fa-static:/"
STATIC_SUFFIXES = {".css", ".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp", ".woff", ".woff2", ".ttf", ".otf"}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
#: Extra seconds the parent waits for a worker before it kills it (the worker's own alarm fires first).
HARD_KILL_GRACE = 5.0


class RenderError(Exception):
    """The document could not be rendered."""


class RenderTimeout(RenderError):
    """Rendering took longer than the time limit."""


#: Seconds between repeated alarms once the deadline has passed.
ALARM_REPEAT = 0.05


class _Deadline(BaseException):
    """Raised by the alarm; a BaseException so that WeasyPrint's `except Exception` cannot swallow it."""


class RefusedURL(ValueError):
    """A URL the report fetcher does not serve."""


@dataclass(frozen=True)
class FetchRoots:
    """The only places the fetcher reads from (plain strings so it pickles to workers)."""

    static_dirs: tuple[str, ...]
    photo_dir: str
    thumb_dir: str
    thumb_px: int = 600


def roots_for(app: Flask) -> FetchRoots:
    """Return the fetch roots of `app`: its static folders, UPLOAD_DIR and the thumbnail cache."""
    static_dirs = [app.static_folder] + [
        bp.static_folder for bp in app.blueprints.values() if bp.static_folder
    ]
    return FetchRoots(
        static_dirs=tuple(str(Path(d).resolve()) for d in static_dirs if d),
        photo_dir=str(Path(app.config["UPLOAD_DIR"]).resolve()),
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


def thumbnail(source: Path, roots: FetchRoots) -> bytes:
    """Return a JPEG of `source` at most thumb_px wide/high, cached on disk between renders."""
    from PIL import Image, ImageOps

    size = roots.thumb_px
    cache = Path(roots.thumb_dir) / str(size) / (source.relative_to(roots.photo_dir).as_posix().replace("/", "__")
                                                 + ".jpg")
    try:
        if cache.stat().st_mtime_ns >= source.stat().st_mtime_ns:
            return cache.read_bytes()
    except FileNotFoundError:
        pass
    with Image.open(source) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
        small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((size, size), Image.Resampling.LANCZOS)
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
            path = _inside(self.roots.photo_dir, url[len(PHOTO_SCHEME):], PHOTO_SUFFIXES)
            try:
                data = thumbnail(path, self.roots)
            except (OSError, ValueError) as exc:  # unreadable image: leave a gap, not a crash
                raise RefusedURL(f"unreadable photo {path.name}: {exc}") from None
            return URLFetcherResponse(url, data, {"Content-Type": "image/jpeg"})
        raise RefusedURL(url)


def photo_url(stored_name: str) -> str:
    """Return the internal URL of a stored photo for report templates."""
    return PHOTO_SCHEME + stored_name


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise _Deadline in this (main) thread after `seconds`; restores any outer timer.

    A signal handler's exception that lands inside a garbage-collector callback is printed and
    dropped by Python, so one alarm alone could be lost and the render run forever: the cyclic
    collector is paused while the timer is armed, and the timer repeats every ALARM_REPEAT seconds
    after the deadline in case a refcount-triggered callback still swallows one.
    """
    armed = [True]
    collecting = gc.isenabled()
    gc.disable()

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if armed[0]:
            raise _Deadline()

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds, ALARM_REPEAT)
    try:
        yield
    finally:
        while True:  # an alarm may still strike while disarming; keep going until it is off
            try:
                armed[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except _Deadline:
                continue
        signal.signal(signal.SIGALRM, previous_handler)
        if collecting:
            gc.enable()
        if outer_delay:  # an outer timer (RQ's job timeout) keeps running with what it had left
            remaining = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001))


def can_use_alarm() -> bool:
    """Return True when SIGALRM can interrupt the current thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def render_here(html: str, roots: FetchRoots, timeout: float, base_url: str = BASE_URL) -> bytes:
    """Render `html` to PDF bytes in this process (main thread only) under a SIGALRM time limit."""
    fetcher = StrictFetcher(roots)
    try:
        with _alarm(timeout):
            return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    except _Deadline:
        raise RenderTimeout(f"rendering took longer than {timeout:g} s") from None
    except Exception as exc:  # pragma: no cover - WeasyPrint bugs surface as a clear error
        raise RenderError(f"{type(exc).__name__}: {exc}") from None


def _warm_worker() -> None:
    """Pool initializer: import and exercise WeasyPrint once so the first report is fast."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which cleans up
    HTML(string="<p>.</p>").render()


class RenderPool:
    """A pool of spawned worker processes that render PDFs, killed and rebuilt on a hang."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._pool: Pool | None = None
        self._lock = threading.Lock()
        #: Bumped on every kill, so callers can tell which submitted tasks died with the old pool.
        self.generation = 0

    def pool(self) -> Pool:
        """Return the live multiprocessing pool, starting it when needed."""
        with self._lock:
            if self._pool is None:
                # spawn, not fork: forking a threaded web process with open DB connections is unsafe
                context = multiprocessing.get_context("spawn")
                self._pool = context.Pool(self.workers, initializer=_warm_worker, maxtasksperchild=100)
            return self._pool

    def submit(self, html: str, roots: FetchRoots, timeout: float, base_url: str = BASE_URL) -> AsyncResult[bytes]:
        """Start rendering; return an AsyncResult."""
        return self.pool().apply_async(render_here, (html, roots, timeout, base_url))

    def wait(self, result: AsyncResult[bytes], timeout: float) -> bytes:
        """Return the PDF bytes of `result`; kill the pool and raise RenderTimeout after `timeout` + grace."""
        try:
            return result.get(timeout + HARD_KILL_GRACE)
        except multiprocessing.TimeoutError:
            self.kill()
            raise RenderTimeout(f"rendering took longer than {timeout:g} s") from None

    def kill(self) -> None:
        """Terminate every worker (hung ones included); the next submit starts a fresh pool."""
        with self._lock:
            pool, self._pool = self._pool, None
            self.generation += 1
        if pool is not None:
            pool.terminate()
            pool.join()

    def close(self) -> None:
        """Stop the workers gracefully."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            pool.join()


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
    return pool.wait(pool.submit(html, roots, timeout, base_url), timeout)
