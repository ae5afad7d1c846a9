"""Photo provenance: the capture time (with its offset), the camera's GPS and how the picture reached the form
are kept as evidence, whether the phone sends the original's EXIF segment or the original file itself."""
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from babel.dates import format_datetime
from PIL import Image
from sqlalchemy import select

from app.models import Photo
from app.visits.images import capture_from_segment, verify_image
from tests.reports_helpers import pdf_text
from tests.test_photo_pipeline import assert_clean, body_of, jpeg, noisy, submit

SHOP = (55.7558, 37.6173)


def dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 4)


def camera_exif(taken: str | None = "2026:12:01 10:47:00", offset: str | None = "+03:00",
                position: tuple[float, float] | None = SHOP, make: str = "Apple") -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = make
    details = {}
    if taken:
        details[0x9003] = taken
    if offset:
        details[0x9011] = offset
    if details:
        exif[0x8769] = details
    if position:
        lat, lon = position
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    return exif


def segment_of(exif: Image.Exif) -> bytes:
    """The APP1 payload a phone would read out of the original file ("Exif\\0\\0" + TIFF)."""
    return b"Exif\x00\x00" + exif.tobytes()


CAMERAS = {
    # iPhone: local time with its offset, GPS.
    "iphone": (camera_exif(), datetime(2026, 12, 1, 7, 47, tzinfo=UTC), "+03:00", SHOP),
    # Android in Vladivostok: +10:00, southern/western hemispheres are covered below.
    "android-vladivostok": (camera_exif("2026:12:01 17:47:00", "+10:00", (43.1155, 131.8855), "samsung"),
                            datetime(2026, 12, 1, 7, 47, tzinfo=UTC), "+10:00", (43.1155, 131.8855)),
    # A compact camera: no offset recorded, no GPS.
    "compact": (camera_exif("2026:12:01 10:47:00", None, None, "Canon"),
                datetime(2026, 12, 1, 10, 47, tzinfo=UTC), None, None),
    # Buenos Aires: negative offset, southern and western hemisphere.
    "buenos-aires": (camera_exif("2026:12:01 04:47:00", "-03:00", (-34.6037, -58.3816), "Google"),
                     datetime(2026, 12, 1, 7, 47, tzinfo=UTC), "-03:00", (-34.6037, -58.3816)),
    # No fix: GPS 0,0 is not a position; a latitude of 95 is not either.
    "no-fix": (camera_exif(position=(0.0, 0.0)), datetime(2026, 12, 1, 7, 47, tzinfo=UTC), "+03:00", None),
}


@pytest.mark.parametrize("camera", CAMERAS)
def test_capture_is_read_from_the_file_and_from_the_segment_alike(camera):
    exif, taken_at, offset, position = CAMERAS[camera]
    for capture in (verify_image(jpeg(exif=exif), 40_000_000).capture, capture_from_segment(segment_of(exif))):
        assert capture.taken_at == taken_at and capture.offset == offset
        if position is None:
            assert capture.latitude is None and capture.longitude is None
        else:
            assert (capture.latitude, capture.longitude) == (pytest.approx(position[0]), pytest.approx(position[1]))


def test_an_out_of_range_position_or_a_broken_segment_says_nothing():
    exif = camera_exif()
    exif[0x8825] = {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (37.0, 0.0, 0.0)}
    assert capture_from_segment(segment_of(exif)).latitude is None
    assert capture_from_segment(b"Exif\x00\x00garbage").taken_at is None


# -- through the phone API ----------------------------------------------------------------------------

@pytest.fixture
def visit(make_visit, make_checklist_version, make_location, make_region, shopper, login):
    login(shopper)
    return make_visit(shopper=shopper, checklist_version=make_checklist_version(),
                      location=make_location(make_region(), latitude=SHOP[0], longitude=SHOP[1]))


def upload(client, visit, data, *, exif_segment=None, **fields):
    form = {"file": (io.BytesIO(data), "photo.jpg"), "question_id": "shelf", "client_photo_id": "p-1", **fields}
    if exif_segment is not None:
        form["exif"] = (io.BytesIO(exif_segment), "exif.bin")
    return client.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data=form)


def test_a_gallery_photo_of_yesterday_keeps_its_own_time_and_place(client, db, visit, login, admin):
    """The phone downscales (dropping EXIF) and sends the original's segment: yesterday stays yesterday."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    local = (yesterday + timedelta(hours=3)).strftime("%Y:%m:%d %H:%M:%S")
    near = (SHOP[0] + 0.0003, SHOP[1])  # about 33 m north of the shop
    response = upload(client, visit, jpeg(noisy((640, 480))), source="gallery",
                      exif_segment=segment_of(camera_exif(local, "+03:00", near)),
                      taken_at=datetime.now(UTC).isoformat(), latitude="55.80", longitude="37.70")
    assert response.status_code == 201
    body = response.json
    assert body["source"] == "gallery" and body["time_source"] == "exif" and body["taken_offset"] == "+03:00"
    photo = db.session.scalar(select(Photo))
    assert abs(photo.taken_at - yesterday) < timedelta(seconds=2)
    assert (photo.latitude, photo.geo_source) == (pytest.approx(near[0]), "exif")
    assert_clean(body_of(client, body["url"]))

    assert submit(client, visit, [body["id"]]).status_code == 201
    login(admin)
    page = client.get(f"/review/visits/{visit.id}").get_data(as_text=True)
    local_time = format_datetime(yesterday, "short", tzinfo=timezone(timedelta(hours=3)), locale="en")
    assert "chosen from the phone&#39;s gallery" in page
    assert f"camera clock {local_time} (UTC+03:00)" in page and "photo&#39;s GPS: 33 m from the location" in page
    text = pdf_text(body_of(client, f"/reports/visits/{visit.id}.pdf"))
    assert "chosen from the phone's gallery" in text and "(UTC+03:00)" in text and "33 m from the location" in text


def test_the_original_file_uploaded_straight_to_the_api_is_read_on_the_server(client, db, visit):
    response = upload(client, visit, jpeg(noisy((640, 480)), exif=camera_exif()))
    assert response.status_code == 201
    photo = db.session.scalar(select(Photo))
    assert (photo.source, photo.time_source, photo.taken_offset) == ("unknown", "exif", "+03:00")
    assert photo.taken_at == datetime(2026, 12, 1, 7, 47, tzinfo=UTC)


def test_without_exif_the_phones_clock_and_position_are_kept_and_said_to_be_the_phones(client, db, visit, login,
                                                                                      admin):
    response = upload(client, visit, jpeg(), source="camera", taken_at="2026-12-01T10:47:00+03:00",
                      latitude=str(SHOP[0]), longitude=str(SHOP[1]))
    photo = db.session.scalar(select(Photo))
    assert (photo.source, photo.time_source, photo.geo_source) == ("camera", "device", "device")
    assert submit(client, visit, [response.json["id"]]).status_code == 201
    login(admin)
    page = client.get(f"/review/visits/{visit.id}").get_data(as_text=True)
    # The phone's clock is read in the store's zone (the region's default, Moscow), and the zone is named.
    assert "taken with the phone&#39;s camera" in page
    assert "attached 12/1/26, 10:47\u202fAM (Moscow, UTC+3) (phone clock)" in page
    assert "phone&#39;s position when attached: 0 m from the location" in page


def test_in_russian_the_evidence_is_in_russian(client, db, visit, login, admin):
    response = upload(client, visit, jpeg(), source="gallery", exif_segment=segment_of(camera_exif()))
    assert submit(client, visit, [response.json["id"]]).status_code == 201
    login(admin)
    page = client.get(f"/review/visits/{visit.id}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "из галереи телефона" in page and "часы камеры" in page and "GPS фото" in page


def test_an_oversized_exif_segment_is_refused(client, db, visit):
    response = upload(client, visit, jpeg(), exif_segment=b"Exif\x00\x00" + b"x" * 70_000)
    assert response.status_code == 400 and response.json["field"] == "exif"
    assert db.session.scalar(select(Photo)) is None


def test_an_unknown_source_is_stored_as_unknown(client, db, visit):
    assert upload(client, visit, jpeg(), source="<script>").json["source"] == "unknown"

