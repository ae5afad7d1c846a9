"""Photo evidence: take an upload, decode it within bounds (in the request, or in a job when Redis is there),
keep its GPS position and time, store a metadata-free JPEG and a thumbnail.
"""
import atexit
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import worker
from app.checklists.questions import PhotoQuestion
from app.extensions import db
from app.localtime import format_local
from app.models import Location, Photo, Visit
from app.storage import ORIGINAL, Storage, StorageSpec, photo_key, remove_photo_files
from app.timelimit import ProcessPool, TimeLimitExceeded, can_use_alarm, time_limit
from app.visits import risk
from app.visits.errors import VisitError
from app.visits.images import (
    Capture,
    ImageRefused,
    VerifiedImage,
    capture_from_segment,
    perceptual_hash,
    plausible_position,
    read_header,
    utc_offset,
    verify_image,
)
from app.visits.lifecycle import require
from app.visits.payloads import parse_time
from app.visits.proof import distance_m

QUEUE_NAME = worker.PHOTO_QUEUE
#: How a picture reached the form, as the phone tells it (anything else is "unknown").
SOURCES = ("camera", "gallery")
#: The largest EXIF segment accepted with an upload (a JPEG APP1 segment holds at most 64 KB).
MAX_EXIF_BYTES = 65_535

#: Why a photo is refused, for the shopper (ImageRefused.problem -> message).
PROBLEMS = {
    "not_a_photo": _l("This file is not a photo we can read (JPEG, PNG or WebP)."),
    "format": _l("Only JPEG, PNG and WebP photos are accepted."),
    "too_many_pixels": _l("The photo has too many pixels; take it at a lower resolution."),
    "damaged": _l("The photo file is damaged or incomplete; take it again."),
    "too_slow": _l("The photo took too long to read; take it again at a lower resolution."),
    "lost": _l("The photo was lost on the server before it could be read; take it again."),
}


class PhotoRejected(VisitError):
    code = "invalid_photo"

    def __init__(self, refused: ImageRefused) -> None:
        params = refused.params
        if refused.problem == "too_many_pixels" and params:
            message = _l("The photo has too many pixels (%(w)s × %(h)s); take it at a lower resolution.", **params)
        else:
            message = PROBLEMS[refused.problem]
        super().__init__(message, problem=refused.problem)
        self.problem = refused.problem


@dataclass(frozen=True)
class PhotoSettings:
    store: StorageSpec
    max_pixels: int
    #: Seconds one photo may take to decode and re-encode before it is refused.
    timeout: float
    redis_url: str | None = None

    @property
    def deferred(self) -> bool:
        """Decode in an RQ job (the upload answers at once) rather than in the request."""
        return bool(self.redis_url)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> "PhotoSettings":
        return cls(store=StorageSpec.of(config), max_pixels=int(config["PHOTO_MAX_PIXELS"]),
                   timeout=float(config["PHOTO_DECODE_TIMEOUT"]), redis_url=config.get("REDIS_URL"))


_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


def _decoder_pool() -> ProcessPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPool(workers=1)
            atexit.register(_pool.kill)
        return _pool


def verify_in_time(data: bytes, max_pixels: int, timeout: float) -> VerifiedImage:
    """verify_image under a SIGALRM time limit (in a main thread: a job, a CLI, a pool worker)."""
    with time_limit(timeout):
        return verify_image(data, max_pixels)


def decode_within(data: bytes, settings: PhotoSettings) -> VerifiedImage:
    """Return the verified image, decoded within the pixel limit and the time limit; raise PhotoRejected.

    The alarm interrupts Python only between steps, not inside one call into C, so the limit is a true
    one only where something outside can stop the process: in an RQ job (RQ kills its work horse past
    the job timeout), or in the pool worker, which is killed once it overruns the grace period. Anywhere
    else (a request without Redis, the CLI) the decoding goes to the pool.
    """
    try:
        if can_use_alarm() and worker.in_job():
            return verify_in_time(data, settings.max_pixels, settings.timeout)
        pool = _decoder_pool()
        return pool.wait(pool.submit(verify_in_time, data, settings.max_pixels, settings.timeout), settings.timeout)
    except ImageRefused as exc:
        raise PhotoRejected(exc) from None
    except TimeLimitExceeded:
        raise PhotoRejected(ImageRefused("too_slow")) from None


def _store_verified(photo: Photo, image: VerifiedImage, store: Storage) -> None:
    """Write the clean copies and record what the photo is; the photo becomes ready."""
    store.put_bytes(photo_key(photo.stored_name), image.jpeg)
    store.put_bytes(photo_key(photo.stored_name, "thumb"), image.thumbnail)
    photo.status, photo.problem = "ready", None
    photo.width, photo.height, photo.byte_size = image.width, image.height, len(image.jpeg)
    risk.set_photo_hash(photo, image.phash)
    record_capture(photo, image.capture)


def record_capture(photo: Photo, capture: Capture) -> None:
    """Take what the camera recorded over what the phone said at upload."""
    if capture.latitude is not None and capture.longitude is not None:
        photo.latitude, photo.longitude, photo.geo_source = capture.latitude, capture.longitude, "exif"
    if capture.taken_at is not None:
        photo.taken_at, photo.time_source, photo.taken_offset = capture.taken_at, "exif", capture.offset


def find_photo(visit: Visit, client_photo_id: str) -> Photo | None:
    """Return the visit's photo uploaded with this client id, or None."""
    return db.session.scalar(
        select(Photo).where(Photo.visit_id == visit.id, Photo.client_photo_id == client_photo_id)
    )


def _float(value: str | None, field: str, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise VisitError(_l("%(field)s must be a number from %(low)s to %(high)s.", field=field, low=low, high=high),
                         field=field)
    return number


def add_photo(visit: Visit, data: bytes, *, question_id: str, client_photo_id: str, settings: PhotoSettings,
              latitude: str | None = None, longitude: str | None = None, taken_at: str | None = None,
              source: str | None = None, exif: bytes | None = None) -> tuple[Photo, bool]:
    """Store a photo for a photo question; return (photo, created). Same client id = same photo.

    Refuses at once what its header shows is no photo, too big or cut off; the decoding itself runs
    here, or, when `settings.deferred`, in a job (call `enqueue` after the commit) with the photo pending.
    Evidence, weakest first: the phone's position and clock when the photo was attached, the EXIF
    segment of the original file that the phone read before downscaling (`exif`), the file's own EXIF.
    """
    if not isinstance(client_photo_id, str) or not 1 <= len(client_photo_id) <= 64:
        raise VisitError(_l("client_photo_id is required (at most 64 characters)."), field="client_photo_id")
    existing = find_photo(visit, client_photo_id)
    if existing is not None:
        return existing, False
    require(visit, "upload")
    checklist = visit.checklist
    question = checklist.question(question_id) if checklist.has_question(question_id or "") else None
    if not isinstance(question, PhotoQuestion):
        raise VisitError(_l("%(qid)s is not a photo question of this checklist.", qid=question_id),
                         code="unknown_question", question_id=question_id)
    taken = set(db.session.scalars(select(Photo.slot).where(Photo.visit_id == visit.id,
                                                         Photo.question_id == question.id)))
    free = [n for n in range(question.max_photos) if n not in taken]
    if not free:
        raise _too_many(question)
    device_lat = _float(latitude, "latitude", -90, 90)
    device_lon = _float(longitude, "longitude", -180, 180)
    try:
        device_time = parse_time(taken_at)
    except ValueError:
        raise VisitError(_l("%(field)s is not a valid ISO 8601 time.", field="taken_at"), field="taken_at") from None
    try:
        read_header(data, settings.max_pixels)
    except ImageRefused as exc:
        raise PhotoRejected(exc) from None

    device_position = plausible_position(device_lat, device_lon)
    photo = Photo(
        visit_id=visit.id, question_id=question.id, client_photo_id=client_photo_id,
        stored_name=f"{secrets.token_hex(16)}.jpg", content_type="image/jpeg", taken_at=device_time,
        time_source="device" if device_time else None, source=source if source in SOURCES else "unknown",
    )
    if device_position is not None:
        photo.latitude, photo.longitude = device_position
        photo.geo_source = "device"
    if exif:
        record_capture(photo, capture_from_segment(exif))
    store = settings.store.open()
    if settings.deferred:
        photo.status = "pending"
        store.put_bytes(photo_key(photo.stored_name, ORIGINAL), data)
    else:
        _store_verified(photo, decode_within(data, settings), store)
    # The database decides who gets each place: an upload that loses a race for one tries the next.
    for slot in free:
        photo.slot = slot
        try:
            with db.session.begin_nested():
                db.session.add(photo)
            return photo, True
        except IntegrityError:
            if photo in db.session:
                db.session.expunge(photo)
            stored = find_photo(visit, client_photo_id)
            if stored is not None:  # the same photo, sent twice at once: the other copy won
                remove_photo_files(store, photo.stored_name)
                return stored, False
    remove_photo_files(store, photo.stored_name)
    raise _too_many(question)


def enqueue(photo: Photo, settings: PhotoSettings) -> None:
    """Queue the decoding of a pending (committed) photo; without a reachable Redis, decode it now."""
    if photo.status != "pending":
        return
    if settings.redis_url:
        from rq import Retry

        if worker.enqueue(settings.redis_url, QUEUE_NAME, run_photo_job, photo.id, job_id=f"photo-{photo.id}",
                          job_timeout=int(settings.timeout) + 30, retry=Retry(max=3, interval=[5, 30, 120])):
            return
    process_photo(photo, settings)  # no Redis, or Redis down: decoded in this request
    db.session.commit()
    risk.refresh_related()


def process_photo(photo: Photo, settings: PhotoSettings) -> None:
    """Decode a pending photo: it becomes ready (clean copies written) or rejected; the original goes.

    A photo of a visit already handed in changes its risk (its hash is known now): recomputed here.
    """
    if photo.status != "pending":
        return
    store = settings.store.open()
    original = photo_key(photo.stored_name, ORIGINAL)
    try:
        data = store.read_bytes(original)
    except FileNotFoundError:
        photo.status, photo.problem = "rejected", "lost"
        return
    try:
        _store_verified(photo, decode_within(data, settings), store)
    except PhotoRejected as exc:
        photo.status, photo.problem = "rejected", exc.problem
    db.session.flush()
    risk.refresh(photo.visit)
    store.delete(original)


def run_photo_job(photo_id: int) -> None:
    """RQ job: decode one pending photo (in `flask worker`, inside the app context)."""
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        return
    process_photo(photo, PhotoSettings.of(current_app.config))
    db.session.commit()
    risk.refresh_related()


def problem_message(photo: Photo) -> str | None:
    """Return why a rejected photo was refused, in the user's language."""
    if photo.status != "rejected":
        return None
    return str(PROBLEMS.get(photo.problem or "", PROBLEMS["damaged"]))


def _too_many(question: PhotoQuestion) -> VisitError:
    return VisitError(_l("This question takes at most %(n)s photos.", n=question.max_photos),
                      code="too_many_photos", question_id=question.id, max_photos=question.max_photos)


def delete_photo(visit: Visit, photo: Photo, store: Storage) -> None:
    """Remove a photo of an open visit and drop it from the draft's answers."""
    require(visit, "upload")
    draft = visit.draft or {}
    answers = dict(draft.get("answers", {}))
    item = answers.get(photo.question_id)
    value = item.get("value") if isinstance(item, dict) else item
    if isinstance(value, list):
        kept = [ref for ref in value if ref not in (photo.token, photo.client_photo_id)]
        answers[photo.question_id] = {**item, "value": kept} if isinstance(item, dict) else kept
        visit.draft = {**draft, "answers": answers}
    db.session.delete(photo)
    db.session.flush()
    remove_photo_files(store, photo.stored_name)


#: How the picture reached the form, for people.
SOURCE_LABELS = {
    "camera": _l("taken with the phone's camera"),
    "gallery": _l("chosen from the phone's gallery"),
    "unknown": _l("source unknown"),
}


def evidence(photo: Photo, location: Location) -> list[str]:
    """Return what is known of how, when and where the photo was taken, as short phrases for people.

    The camera's clock is shown in the UTC offset it recorded (its local time, as the shopper saw
    it); the phone's clock in the location's local time, with the zone named.
    """
    phrases = [str(SOURCE_LABELS.get(photo.source or "unknown", SOURCE_LABELS["unknown"]))]
    if photo.taken_at is not None:
        if photo.time_source == "exif":
            offset = utc_offset(photo.taken_offset)
            if offset is not None:
                moment = format_datetime(photo.taken_at, "short", tzinfo=offset, locale=get_locale())
                phrases.append(_("camera clock %(time)s (UTC%(offset)s)", time=moment, offset=photo.taken_offset))
            else:
                moment = format_datetime(photo.taken_at, "short", tzinfo=UTC, locale=get_locale())
                phrases.append(_("camera clock %(time)s (no time zone recorded)", time=moment))
        else:
            phrases.append(_("attached %(time)s (phone clock)", time=format_local(photo.taken_at, location, "short")))
    point = (photo.latitude, photo.longitude) if photo.latitude is not None else None
    distance = distance_m(point, location.point)
    if point is None:
        phrases.append(_("no position"))
    elif photo.geo_source == "exif":
        phrases.append(_("photo's GPS: %(distance)s m from the location", distance=f"{distance:,.0f}")
                       if distance is not None else _("photo's GPS: %(lat).5f, %(lon).5f", lat=point[0], lon=point[1]))
    else:
        phrases.append(_("phone's position when attached: %(distance)s m from the location",
                         distance=f"{distance:,.0f}") if distance is not None
                       else _("phone's position when attached: %(lat).5f, %(lon).5f", lat=point[0], lon=point[1]))
    return phrases


def hash_stored_photo(photo: Photo, store: Storage) -> bool:
    """Give a ready photo stored before photos were hashed its perceptual hash; return False when its file is gone."""
    try:
        with store.open(photo_key(photo.stored_name)) as stream, Image.open(stream) as image:
            image.load()
            risk.set_photo_hash(photo, perceptual_hash(image.convert("RGB")))
    except (FileNotFoundError, OSError, ValueError):
        return False
    return True
