"""Photo files, without the database: read the header, decode within bounds, keep EXIF facts, write clean JPEGs.

Pure functions on bytes, so that a worker process can run them under a time limit. Every copy
written here carries no metadata at all: no EXIF, XMP, IPTC, ICC, comments or text chunks.
"""
import io
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import SupportsFloat

import imagehash
import simplejpeg
from PIL import Image, ImageCms, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_SIDE = 1600
#: PNG and WebP decode whole, with no cheaper scale: a small file can unpack to a huge bitmap, so they
#: get a lower limit than JPEG (phone cameras write JPEG; screenshots are a few megapixels).
LOSSLESS_MAX_PIXELS = 16_000_000
THUMB_SIDE = 320
JPEG_QUALITY = 85
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
ORIENTATION, DATETIME, DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x0112, 0x0132, 0x9003, 0x9011
#: EXIF orientation -> the transposition that shows the picture upright.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageRefused(Exception):
    """The file is not a photo we accept; `problem` says why (a key of app.visits.photos.PROBLEMS)."""

    def __init__(self, problem: str, **params: object) -> None:
        super().__init__(problem)
        self.problem = problem
        self.params = params

    def __reduce__(self) -> tuple[object, ...]:  # crosses process boundaries intact
        return (_refused, (self.problem, self.params))


def _refused(problem: str, params: dict[str, object]) -> ImageRefused:
    return ImageRefused(problem, **params)


@dataclass(frozen=True)
class Header:
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Capture:
    """What the camera recorded about the picture, from its EXIF."""

    latitude: float | None = None
    longitude: float | None = None
    taken_at: datetime | None = None
    #: The camera's UTC offset at capture, as recorded ("+03:00"), when it recorded one.
    offset: str | None = None


@dataclass(frozen=True)
class VerifiedImage:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    capture: Capture
    #: Perceptual hash of the upright picture (64 bits, unsigned), to find the same photo again.
    phash: int | None = None


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


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageRefused("not_a_photo") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise ImageRefused("damaged") from None


def read_header(data: bytes, max_pixels: int) -> Header:
    """Refuse what is not a complete JPEG/PNG/WebP within the pixel limit, reading only its header."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _open(data)
        except Image.DecompressionBombWarning:
            raise ImageRefused("too_many_pixels") from None
        except Image.DecompressionBombError:
            raise ImageRefused("too_many_pixels") from None
    if image.format not in ALLOWED_FORMATS:
        raise ImageRefused("format")
    width, height = image.size
    if width * height > (max_pixels if image.format == "JPEG" else min(max_pixels, LOSSLESS_MAX_PIXELS)):
        raise ImageRefused("too_many_pixels", w=width, h=height)
    if not is_complete(data, image.format):
        raise ImageRefused("damaged")
    return Header(image.format, width, height)


def _degrees(values: object, ref: object) -> float | None:
    """Return signed decimal degrees from EXIF (degrees, minutes, seconds) rationals and N/S/E/W."""
    try:
        d, m, s = (float(v) for v in values)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode(errors="ignore")
    return -result if str(ref).strip().upper() in ("S", "W") else result


def plausible_position(latitude: SupportsFloat | None, longitude: SupportsFloat | None
                       ) -> tuple[float, float] | None:
    """Return (latitude, longitude) when it is a real place: in range, finite, and not the 0,0 of no fix."""
    if latitude is None or longitude is None:
        return None
    lat, lon = float(latitude), float(longitude)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (abs(lat) < 1e-6 and abs(lon) < 1e-6):
        return None
    return lat, lon


def read_capture(image: Image.Image) -> Capture:
    """Return the GPS position and capture time recorded in the image's EXIF (each may be None)."""
    try:
        return capture_of(image.getexif())
    except Exception:  # noqa: BLE001 - broken metadata is no reason to refuse the photo
        return Capture()


def capture_from_segment(segment: bytes) -> Capture:
    """Return what an EXIF segment ("Exif\\0\\0" + TIFF data, as the phone sends it) records."""
    exif = Image.Exif()
    try:
        exif.load(segment)
        return capture_of(exif)
    except Exception:  # noqa: BLE001 - a broken segment says nothing
        return Capture()


def utc_offset(value: object) -> timezone | None:
    """Return the UTC offset of an EXIF OffsetTime value such as "+03:00", or None."""
    if not (isinstance(value, str) and len(value) >= 6 and value[0] in "+-" and value[3] == ":"):
        return None
    try:
        hours, minutes = int(value[1:3]), int(value[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    return timezone((-1 if value[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes))


def capture_of(exif: Image.Exif) -> Capture:
    """Return the GPS position, capture time and its recorded UTC offset from parsed EXIF."""
    gps = exif.get_ifd(GPS_IFD)
    details = exif.get_ifd(EXIF_IFD)
    latitude, longitude = gps.get(2), gps.get(4)
    lat = _degrees(latitude, gps.get(1)) if latitude else None
    lon = _degrees(longitude, gps.get(3)) if longitude else None
    position = plausible_position(lat, lon)
    taken_at = None
    raw = details.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if isinstance(raw, str):
        try:
            taken_at = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken_at = None
    offset = utc_offset(details.get(OFFSET_TIME_ORIGINAL))
    if taken_at is not None:
        # Without an offset the camera's local time is taken as UTC; managers see it as recorded.
        taken_at = taken_at.replace(tzinfo=offset or UTC).astimezone(UTC)
    recorded_offset = None
    if offset is not None and taken_at is not None:
        recorded_offset = str(details.get(OFFSET_TIME_ORIGINAL))[:6]
    if position is None:
        return Capture(taken_at=taken_at, offset=recorded_offset)
    return Capture(position[0], position[1], taken_at, recorded_offset)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - unreadable EXIF: show the picture as stored
        return 1
    return value if isinstance(value, int) else 1


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert from the embedded colour profile to sRGB, so the copy looks right without one."""
    if not icc:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("L", "CMYK", "YCbCr", "I", "I;16", "F"):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _decode(data: bytes, opened: Image.Image, header: Header) -> Image.Image:
    """Return the picture as an upright RGB image of at least MAX_SIDE on its long side (or its own size)."""
    scale = min(1.0, MAX_SIDE / max(header.width, header.height))
    if header.format == "JPEG" and opened.mode in ("RGB", "L"):
        # libjpeg-turbo, strict: a damaged scan ("premature end of data segment") is refused, not padded
        # with grey; decoded at the smallest power-of-two scale that still gives MAX_SIDE.
        try:
            pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", strict=True,
                                            min_width=math.ceil(header.width * scale),
                                            min_height=math.ceil(header.height * scale))
        except ValueError:
            raise ImageRefused("damaged") from None
        image = Image.fromarray(pixels)
    else:
        if header.format == "JPEG":
            opened.draft("RGB", (math.ceil(header.width * scale), math.ceil(header.height * scale)))
        if getattr(opened, "n_frames", 1) > 1:
            opened.seek(0)
        opened.load()
        image = _flatten(opened)
    image = _to_srgb(image, opened.info.get("icc_profile"))
    turn = UPRIGHT.get(_orientation(opened))
    return image.transpose(turn) if turn is not None else image


def clean_jpeg(image: Image.Image, side: int, quality: int = JPEG_QUALITY) -> tuple[bytes, int, int]:
    """Return a JPEG of `image` at most `side` px, with no metadata segment at all, and its size."""
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    copy.info.clear()  # Pillow would otherwise carry a JPEG comment or XMP packet into the new file
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue(), copy.width, copy.height


def perceptual_hash(image: Image.Image) -> int:
    """Return the 64-bit perceptual hash (DCT of a 32 x 32 greyscale) of a picture, as an unsigned integer.

    Recompressing or resizing a photo changes few of its bits; another photo differs in about half.
    Hashed from a thumbnail-sized copy: the same hash, five times faster than from 1600 px.
    """
    small = image.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    return int(str(imagehash.phash(small)), 16)


def verify_image(data: bytes, max_pixels: int) -> VerifiedImage:
    """Decode an upload within the pixel limit and re-encode it clean; raise ImageRefused."""
    header = read_header(data, max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = _open(data)
            capture = read_capture(opened)
            image = _decode(data, opened, header)
            jpeg, width, height = clean_jpeg(image, MAX_SIDE)
            thumbnail, _w, _h = clean_jpeg(image, THUMB_SIDE)
            phash = perceptual_hash(image)
        except ImageRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused("too_many_pixels") from None
        except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
            raise ImageRefused("damaged") from None
    return VerifiedImage(jpeg, thumbnail, width, height, capture, phash)
