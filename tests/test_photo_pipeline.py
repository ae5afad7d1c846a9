"""Photos from upload to evidence: damaged files refused, every kind of metadata gone from what is served,
decoding bounded in time, and decoding in an RQ job (with the photo pending) when Redis is configured."""
import io
import threading
import uuid

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from app import worker
from app.models import Photo
from app.storage import ORIGINAL, photo_key, storage_of
from app.visits import photos as photo_service
from app.visits.images import ImageRefused, verify_image
from tests.reports_helpers import pdf_reader

SECRET = b"GPS 55.7535N 37.6173E taken by Anna"
ANSWERS = {"greeted": "yes", "tone": 4, "wait": 90, "offer": "full", "purchased": "no"}


def noisy(size=(900, 700)) -> Image.Image:
    return Image.effect_noise(size, 50).convert("RGB")


def jpeg(image=None, **save) -> bytes:
    out = io.BytesIO()
    (image or noisy()).save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def with_segment(data: bytes, marker: int, payload: bytes) -> bytes:
    """Insert an APPn/COM segment right after the JPEG's SOI marker."""
    return data[:2] + bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


def jpeg_with_every_kind_of_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 12.6), 3: "E", 4: (37.0, 37.0, 2.28)}
    exif[0x010F] = "Anna's PhoneMaker"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>' + SECRET + b"</rdf:Description></x:xmpmeta>"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg(exif=exif, comment=SECRET, xmp=xmp, icc_profile=icc)
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + (len(SECRET) + 5).to_bytes(4, "big") + b"\x1c\x02\x78" \
        + len(SECRET).to_bytes(2, "big") + SECRET
    return with_segment(data, 0xED, iptc)  # APP13, where IPTC lives


def png_with_every_kind_of_metadata() -> bytes:
    info = PngInfo()
    info.add_text("comment", SECRET.decode())  # Pillow would write this one into a JPEG as a COM segment
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + SECRET.decode() + "</x:xmpmeta>")
    info.add_text("Author", SECRET.decode(), zip=True)  # zTXt
    info.add_itxt("Description", SECRET.decode(), lang="en")
    exif = Image.Exif()
    exif[0x010F] = "Anna's PhoneMaker"
    out = io.BytesIO()
    noisy((300, 200)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def jpeg_segments(data: bytes) -> list[int]:
    """Return the markers of a JPEG's header segments, up to the start of the scan."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return markers


def assert_clean(data: bytes) -> None:
    markers = jpeg_segments(data)
    assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE], [hex(m) for m in markers]
    assert b"Anna" not in data and b"Exif" not in data and b"Photoshop" not in data and b"xmpmeta" not in data


def cut_with_end_marker(data: bytes) -> bytes:
    """A JPEG cut in the middle of its scan, with an end marker appended: it "ends" as a JPEG should."""
    return data[: len(data) // 2] + b"\xff\xd9"


# -- the files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("progressive", [False, True])
def test_a_cut_jpeg_with_an_end_marker_appended_is_refused(progressive):
    with pytest.raises(ImageRefused) as refused:
        verify_image(cut_with_end_marker(jpeg(progressive=progressive)), 40_000_000)
    assert refused.value.problem == "damaged"


@pytest.mark.parametrize("make", [jpeg_with_every_kind_of_metadata, png_with_every_kind_of_metadata])
def test_stored_copies_carry_no_metadata_of_any_kind(make):
    verified = verify_image(make(), 40_000_000)
    assert_clean(verified.jpeg)
    assert_clean(verified.thumbnail)


def test_gps_of_zero_zero_is_no_position():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}
    assert verify_image(jpeg(exif=exif), 40_000_000).capture.latitude is None


def settings_of(app, **changes):
    return photo_service.PhotoSettings(**{**vars(photo_service.PhotoSettings.of(app.config)), **changes})


def test_decoding_is_bounded_in_time_in_a_job_and_in_the_worker_pool(app, monkeypatch):
    data = jpeg(noisy((4000, 3000)))
    settings = settings_of(app, timeout=0.0005)
    monkeypatch.setattr(worker, "in_job", lambda: True)  # in an RQ job: the alarm, and RQ's own timeout behind it
    with pytest.raises(photo_service.PhotoRejected) as refused:
        photo_service.decode_within(data, settings)
    assert refused.value.problem == "too_slow"

    # Anywhere else nothing outside could stop a call stuck in C: a worker process decodes, killed if it overruns.
    monkeypatch.setattr(worker, "in_job", lambda: False)
    pools = []
    real_pool = photo_service._decoder_pool
    monkeypatch.setattr(photo_service, "_decoder_pool", lambda: pools.append(1) or real_pool())
    with pytest.raises(photo_service.PhotoRejected) as refused:
        photo_service.decode_within(data, settings)
    assert refused.value.problem == "too_slow" and len(pools) == 1
    assert photo_service.decode_within(jpeg(noisy((400, 300))), settings_of(app)).width == 400

    outcome = {}

    def in_a_request_thread():  # no SIGALRM here at all
        try:
            photo_service.decode_within(data, settings)
        except photo_service.PhotoRejected as exc:
            outcome["problem"] = exc.problem

    thread = threading.Thread(target=in_a_request_thread)
    thread.start()
    thread.join(60)
    assert outcome == {"problem": "too_slow"} and len(pools) == 3
    real_pool().close()


# -- through the phone API ----------------------------------------------------------------------------

@pytest.fixture
def visit(make_visit, make_checklist_version, shopper, login):
    login(shopper)
    return make_visit(shopper=shopper, checklist_version=make_checklist_version())


def upload(client, visit, data, client_photo_id="p-1", **extra):
    return client.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), "photo.jpg"), "question_id": "shelf", "client_photo_id": client_photo_id,
        **extra})


def body_of(client, url) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.get_data()


def submit(client, visit, photo_ids):
    return client.post(f"/api/v1/visits/{visit.id}/submit", json={
        "client_submission_id": str(uuid.uuid4()), "answers": {**ANSWERS, "shelf": photo_ids},
        "answer_times": {}, "started_at": None, "geolocation": "denied", "position": None})


def test_a_cut_jpeg_upload_is_refused_and_nothing_is_kept(app, client, db, visit):
    response = upload(client, visit, cut_with_end_marker(jpeg()))
    assert response.status_code == 400 and response.json["error"] == "invalid_photo"
    assert "damaged" in response.json["message"]
    assert db.session.scalar(select(Photo)) is None
    assert list(storage_of(app).list("photos/")) == []


def test_served_photo_thumbnail_and_pdf_image_carry_no_metadata(app, client, db, visit, login, admin):
    response = upload(client, visit, jpeg_with_every_kind_of_metadata())
    assert response.status_code == 201
    photo = db.session.scalar(select(Photo))
    assert (photo.latitude, photo.geo_source) == (pytest.approx(55.7535), "exif")  # kept as evidence
    assert_clean(body_of(client, response.json["url"]))
    assert_clean(body_of(client, response.json["thumb_url"]))
    assert submit(client, visit, [response.json["id"]]).status_code == 201
    login(admin)
    pdf = body_of(client, f"/reports/visits/{visit.id}.pdf")
    assert SECRET not in pdf and b"Anna" not in pdf
    images = [ref.get_object() for page in pdf_reader(pdf).pages
              for ref in ((page.get("/Resources") or {}).get("/XObject") or {}).values()]
    jpegs = [obj._data for obj in images if obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode"]
    assert jpegs, "the photo is in the PDF"
    for data in jpegs:
        assert_clean(data)


def test_a_position_of_zero_zero_from_the_phone_is_not_stored(client, db, visit):
    assert upload(client, visit, jpeg(), latitude="0", longitude="0").status_code == 201
    assert db.session.scalar(select(Photo.latitude)) is None


# -- decoding in a job -----------------------------------------------------------------------------

@pytest.fixture
def redis_queue(app):
    redis = pytest.importorskip("redis")
    from rq import Queue

    url = "redis://127.0.0.1:6379/15"
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["REDIS_URL"] = url
    queue = Queue(photo_service.QUEUE_NAME, connection=connection)
    queue.empty()
    yield queue
    queue.empty()


def work(queue):
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_with_redis_an_upload_answers_at_once_and_a_job_decodes_it(app, client, db, visit, redis_queue):
    response = upload(client, visit, jpeg_with_every_kind_of_metadata())
    assert response.status_code == 202 and response.json["status"] == "pending"
    assert response.json["url"] is None
    photo = db.session.scalar(select(Photo))
    original = photo_key(photo.stored_name, ORIGINAL)
    assert storage_of(app).exists(original)
    assert client.get(f"/visits/photos/{photo.token}").status_code == 404  # nothing clean to serve yet
    # A retry while pending is the same photo, still pending.
    assert upload(client, visit, jpeg_with_every_kind_of_metadata()).status_code == 202

    work(redis_queue)
    db.session.expire_all()
    state = client.get(f"/api/v1/visits/{visit.id}").json["photos"][0]
    assert state["status"] == "ready" and state["latitude"] == pytest.approx(55.7535)
    assert_clean(body_of(client, state["url"]))
    assert not storage_of(app).exists(original)  # the upload, with its metadata, is gone
    assert submit(client, visit, [state["id"]]).status_code == 201


def test_with_redis_a_damaged_photo_is_rejected_and_the_submission_says_so(app, client, db, visit, redis_queue,
                                                                           login, manager):
    token = upload(client, visit, cut_with_end_marker(jpeg())).json["id"]  # its header looks fine
    work(redis_queue)
    db.session.expire_all()
    state = client.get(f"/api/v1/visits/{visit.id}").json["photos"][0]
    assert state["status"] == "rejected" and "damaged" in state["problem"]
    refused = submit(client, visit, [token])
    assert refused.status_code == 400
    assert [p["question_id"] for p in refused.json["problems"]] == ["shelf"]
    assert "take it again" in refused.json["problems"][0]["message"]
    # The shopper deletes it and takes another: the visit goes through.
    assert client.delete(f"/api/v1/visits/{visit.id}/photos/{token}").status_code == 204
    again = upload(client, visit, jpeg(), client_photo_id="p-2").json["id"]
    work(redis_queue)
    assert submit(client, visit, [again]).status_code == 201


def test_the_review_page_says_a_photo_is_pending(app, client, db, visit, redis_queue, login, admin):
    token = upload(client, visit, jpeg()).json["id"]
    assert submit(client, visit, [token]).status_code == 201  # a pending photo does not hold up the visit
    login(admin)
    page = client.get(f"/review/visits/{visit.id}").get_data(as_text=True)
    assert "being processed" in page and f"/visits/photos/{token}" not in page
    work(redis_queue)
    page = client.get(f"/review/visits/{visit.id}").get_data(as_text=True)
    assert f"/visits/photos/{token}" in page


def test_without_a_reachable_redis_the_photo_is_decoded_in_the_request(app, client, db, visit):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = upload(client, visit, jpeg())
    assert response.status_code == 201 and response.json["status"] == "ready"
