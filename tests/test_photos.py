"""Photo evidence: verification, EXIF position kept in the database, stripped files, access to stored photos."""
import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from app.models import Photo, VisitStatus
from app.visits.images import ImageRefused, verify_image

MAX_PIXELS = 40_000_000


def image_bytes(fmt="JPEG", size=(400, 200), exif=None, mode="RGB") -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, (10, 120, 200) if mode == "RGB" else (10, 120, 200, 128))
    if exif is not None:
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def gps_exif(orientation=None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 36.0, 36.0)}
    exif[0x8769] = {0x9003: "2025:05:02 12:30:00", 0x9011: "+03:00"}
    exif[0x010F] = "PhoneMaker"  # camera make: must not survive
    if orientation:
        exif[0x0112] = orientation
    return exif


def test_exif_position_and_time_are_read_then_stripped():
    verified = verify_image(image_bytes(exif=gps_exif()), MAX_PIXELS)
    assert verified.capture.latitude == pytest.approx(55.75) and verified.capture.longitude == pytest.approx(37.61)
    assert verified.capture.taken_at == datetime(2025, 5, 2, 9, 30, tzinfo=UTC)
    stored = Image.open(io.BytesIO(verified.jpeg))
    assert stored.format == "JPEG"
    assert len(stored.getexif()) == 0 and "exif" not in stored.info
    assert b"PhoneMaker" not in verified.jpeg and b"PhoneMaker" not in verified.thumbnail


def test_orientation_is_applied_before_stripping():
    verified = verify_image(image_bytes(size=(400, 200), exif=gps_exif(orientation=6)), MAX_PIXELS)
    assert (verified.width, verified.height) == (200, 400)


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGBA"), ("WEBP", "RGB"), ("PNG", "L")])
def test_png_and_webp_are_re_encoded_as_jpeg(fmt, mode):
    data = image_bytes(fmt, mode=mode) if mode != "L" else _grey_png()
    verified = verify_image(data, MAX_PIXELS)
    assert Image.open(io.BytesIO(verified.jpeg)).format == "JPEG"
    assert verified.capture.latitude is None and verified.capture.taken_at is None


def _grey_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (50, 50), 128).save(out, "PNG")
    return out.getvalue()


def test_large_photos_are_downscaled_to_1600_px():
    verified = verify_image(image_bytes(size=(3200, 1000)), MAX_PIXELS)
    assert (verified.width, verified.height) == (1600, 500)
    thumb = Image.open(io.BytesIO(verified.thumbnail))
    assert max(thumb.size) == 320


def test_text_file_renamed_jpg_is_refused():
    with pytest.raises(ImageRefused):
        verify_image(b"hello, I am a text file with a .jpg name\n" * 10, MAX_PIXELS)


def test_gif_is_refused():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(ImageRefused):
        verify_image(out.getvalue(), MAX_PIXELS)


def test_huge_pixel_png_is_refused_without_decoding():
    # 20000 x 20000 = 400 Mpx of one colour compresses to a small file: a decompression bomb.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    assert len(out.getvalue()) < 2_000_000
    with pytest.raises(ImageRefused):
        verify_image(out.getvalue(), MAX_PIXELS)


@pytest.mark.parametrize("lenient", [False, True])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_refused(monkeypatch, fmt, lenient):
    # WeasyPrint switches LOAD_TRUNCATED_IMAGES on for the whole process when imported.
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", lenient)
    data = image_bytes(fmt, size=(800, 800))
    with pytest.raises(ImageRefused):
        verify_image(data[: len(data) * 2 // 3], MAX_PIXELS)


# -- through the API and the photo route ---------------------------------------------------------------

@pytest.fixture
def visit(make_visit, make_location, make_region, shopper, login):
    login(shopper)
    return make_visit(shopper=shopper, location=make_location(make_region(), latitude=55.75, longitude=37.61))


def _upload(client, visit, data, **extra):
    return client.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), "p.jpg"), "question_id": "shelf", "client_photo_id": "c-1", **extra})


def _get(client, url):
    response = client.get(url)
    response.close()
    return response


def test_upload_keeps_exif_gps_in_the_database_and_serves_clean_copies(client, db, visit):
    response = _upload(client, visit, image_bytes(exif=gps_exif()))
    assert response.status_code == 201
    photo = db.session.scalar(db.select(Photo))
    assert (photo.latitude, photo.longitude, photo.geo_source) == (pytest.approx(55.75), pytest.approx(37.61), "exif")
    served = client.get(response.json["url"])
    body = served.get_data()
    served.close()
    assert Image.open(io.BytesIO(body)).getexif().get(0x8825) is None
    assert b"PhoneMaker" not in body


def test_upload_without_exif_uses_the_phones_position(client, db, visit):
    response = _upload(client, visit, image_bytes(), latitude="55.7", longitude="37.6",
                       taken_at="2025-05-02T12:00:00+03:00")
    assert response.status_code == 201
    photo = db.session.scalar(db.select(Photo))
    assert (photo.latitude, photo.geo_source) == (55.7, "device")
    assert photo.taken_at == datetime(2025, 5, 2, 9, tzinfo=UTC)


def test_upload_to_a_submitted_visit_is_409(client, db, visit):
    visit.status = VisitStatus.submitted
    db.session.commit()
    assert _upload(client, visit, image_bytes()).status_code == 409


def test_photo_access_shopper_manager_region_admin(client, db, visit, login, make_user, make_region, admin):
    url = _upload(client, visit, image_bytes()).json["url"]
    assert _get(client, url).status_code == 200
    login(make_user("shopper"))
    assert _get(client, url).status_code == 404
    login(make_user("manager", regions=[make_region()]))
    assert _get(client, url).status_code == 404
    login(make_user("manager", regions=[visit.location.region]))
    assert _get(client, url).status_code == 200
    login(admin)
    assert _get(client, url + "?size=thumb").status_code == 200
    assert _get(client, "/visits/photos/not-a-token").status_code == 404


def test_a_small_png_that_unpacks_to_a_huge_bitmap_is_refused_before_decoding():
    """Regression: a 155 KB PNG cost 4.3 s of CPU and 470 MiB (the size is read from the header alone)."""
    out = io.BytesIO()
    Image.new("RGB", (5000, 4000), (255, 255, 255)).save(out, "PNG")
    assert len(out.getvalue()) < 200_000
    with pytest.raises(ImageRefused, match="too_many_pixels"):
        verify_image(out.getvalue(), 40_000_000)


def test_a_big_jpeg_is_decoded_at_a_reduced_scale_and_keeps_its_full_print_size():
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), (20, 120, 200)).save(out, "JPEG", quality=80)
    image = verify_image(out.getvalue(), 40_000_000)
    assert (image.width, image.height) == (1600, 1067)
