"""Photo evidence: verify an upload, keep its GPS position and time, store an EXIF-free JPEG and a thumbnail."""
import io
import math
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import SupportsFloat

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.checklists.questions import PhotoQuestion
from app.extensions import db
from app.models import Photo, Visit
from app.storage import photo_path, remove_photo_files, write_file
from app.visits.errors import VisitError
from app.visits.lifecycle import require
from app.visits.payloads import parse_time

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_SIDE = 1600
#: PNG and WebP decode whole, with no cheaper scale: a small file can unpack to a huge bitmap, so they
#: get a lower limit than JPEG (phone cameras write JPEG; screenshots are a few megapixels).
LOSSLESS_MAX_PIXELS = 16_000_000
THUMB_SIDE = 320
JPEG_QUALITY = 85
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


class PhotoRejected(VisitError):
    code = "invalid_photo"


@dataclass(frozen=True)
class VerifiedImage:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    latitude: float | None
    longitude: float | None
    taken_at: datetime | None


def _degrees(values: Iterable[SupportsFloat], ref: object) -> float | None:
    """Return signed decimal degrees from EXIF (degrees, minutes, seconds) rationals and N/S/E/W."""
    try:
        d, m, s = (float(v) for v in values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode(errors="ignore")
    return -result if str(ref).strip().upper() in ("S", "W") else result


def read_exif(image: Image.Image) -> tuple[float | None, float | None, datetime | None]:
    """Return the GPS latitude, longitude and capture time recorded in the image's EXIF (each may be None)."""
    try:
        exif = image.getexif()
        gps = exif.get_ifd(GPS_IFD)
        details = exif.get_ifd(EXIF_IFD)
    except Exception:  # noqa: BLE001 - broken metadata is no reason to refuse the photo
        return None, None, None
    latitude, longitude = gps.get(2), gps.get(4)
    lat = _degrees(latitude, gps.get(1)) if latitude else None
    lon = _degrees(longitude, gps.get(3)) if longitude else None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    taken_at = None
    raw = details.get(DATETIME_ORIGINAL) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
    if isinstance(raw, str):
        try:
            taken_at = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken_at = None
    if taken_at is not None:
        offset = details.get(OFFSET_TIME_ORIGINAL)
        tz = UTC
        if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
            try:
                hours, minutes = int(offset[1:3]), int(offset[4:6])
                sign = -1 if offset[0] == "-" else 1
                tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
            except ValueError:
                pass
        # Without an offset the camera's local time is taken as UTC; managers see it as recorded.
        taken_at = taken_at.replace(tzinfo=tz).astimezone(UTC)
    return lat, lon, taken_at


def _jpeg(image: Image.Image, side: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif= argument: the new file carries no metadata at all.
    copy.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue(), copy.width, copy.height


def is_complete(data: bytes, fmt: str) -> bool:
    """Return True when the file ends as its format requires (a cut-off upload does not).

    Checked on the bytes because Pillow's LOAD_TRUNCATED_IMAGES is a process-wide switch that
    WeasyPrint turns on at import, after which Pillow silently pads truncated images with grey.
    """
    if fmt == "JPEG":
        return data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return b"IEND" in data[-16:]
    if fmt == "WEBP":
        return len(data) >= 12 and int.from_bytes(data[4:8], "little") + 8 <= len(data)
    return False


def verify_image(data: bytes, max_pixels: int) -> VerifiedImage:
    """Check an upload is a JPEG/PNG/WebP within the pixel limit and re-encode it; raise PhotoRejected."""
    with warnings.catch_warnings():
        # Pillow warns (and under 2x the limit only warns) on decompression bombs: treat as refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise PhotoRejected(_l("Only JPEG, PNG and WebP photos are accepted."))
            width, height = image.size
            if width * height > (max_pixels if image.format == "JPEG" else min(max_pixels, LOSSLESS_MAX_PIXELS)):
                raise PhotoRejected(_l("The photo has too many pixels (%(w)s × %(h)s); take it at a lower resolution.",
                                       w=width, h=height))
            if not is_complete(data, image.format):
                raise PhotoRejected(_l("The photo file is damaged or incomplete; take it again."))
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)
            lat, lon, taken_at = read_exif(image)
            if image.format == "JPEG":
                # Decode at the smallest power-of-two scale that still gives MAX_SIDE on the long side:
                # a 48 MP photo then costs a quarter or less of the time and memory.
                scale = MAX_SIDE / max(width, height)
                if scale < 1:
                    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                image = flat
            elif image.mode == "L":
                image = image.convert("RGB")
            jpeg, out_w, out_h = _jpeg(image, MAX_SIDE)
            thumb, _w, _h = _jpeg(image, THUMB_SIDE)
        except PhotoRejected:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(_l("This file is not a photo we can read (JPEG, PNG or WebP).")) from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
            raise PhotoRejected(_l("The photo file is damaged or incomplete; take it again.")) from None
    return VerifiedImage(jpeg, thumb, out_w, out_h, lat, lon, taken_at)


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


def add_photo(visit: Visit, data: bytes, *, question_id: str, client_photo_id: str, upload_dir: str,
              max_pixels: int, latitude: str | None = None, longitude: str | None = None,
              taken_at: str | None = None) -> tuple[Photo, bool]:
    """Store a verified photo for a photo question; return (photo, created). Same client id = same photo."""
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
    image = verify_image(data, max_pixels)

    stored_name = f"{secrets.token_hex(16)}.jpg"
    write_file(photo_path(upload_dir, stored_name), image.jpeg)
    write_file(photo_path(upload_dir, stored_name, "thumb"), image.thumbnail)
    from_exif = image.latitude is not None
    photo = Photo(
        visit_id=visit.id, question_id=question.id, client_photo_id=client_photo_id, stored_name=stored_name,
        content_type="image/jpeg", width=image.width, height=image.height, byte_size=len(image.jpeg),
        latitude=image.latitude if from_exif else (device_lat if device_lon is not None else None),
        longitude=image.longitude if from_exif else (device_lon if device_lat is not None else None),
        taken_at=image.taken_at or device_time,
    )
    if from_exif:
        photo.geo_source = "exif"
    elif photo.latitude is not None:
        photo.geo_source = "device"
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
                remove_photo_files(upload_dir, stored_name)
                return stored, False
    remove_photo_files(upload_dir, stored_name)
    raise _too_many(question)


def _too_many(question: PhotoQuestion) -> VisitError:
    return VisitError(_l("This question takes at most %(n)s photos.", n=question.max_photos),
                      code="too_many_photos", question_id=question.id, max_photos=question.max_photos)


def delete_photo(visit: Visit, photo: Photo, upload_dir: str) -> None:
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
    remove_photo_files(upload_dir, photo.stored_name)
