"""Stored files through one interface: the local folders and an S3-compatible object store (a real local S3
endpoint, moto's server), with the same behaviour for photos, PDFs and export downloads on both."""
import io
import time
import uuid
from pathlib import Path

import boto3
import pytest
from sqlalchemy import select

from app.models import ExportJob, Photo
from app.storage import EXPORTS, ORIGINAL, PHOTOS, StorageError, photo_key, scratch_dir, storage_of
from tests.export_helpers import shared_database, start, wait_for
from tests.factories_scored import build_network
from tests.reports_helpers import pdf_images
from tests.test_photo_pipeline import ANSWERS, jpeg, noisy

Q2 = {"from": "2024-04-01", "to": "2024-06-30"}


@pytest.fixture(params=["folder", "object store"])
def app_config(request, app_config, tmp_path):
    if request.param == "object store":
        app_config["STORAGE_URL"] = request.getfixturevalue("s3_bucket")()
    return shared_database(app_config, tmp_path)  # an export's thread reads the same database


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def bucket_of(app) -> tuple[str, str]:
    """Return (bucket, endpoint) of an app on the object store."""
    url = app.config["STORAGE_URL"]
    return url.split("/")[2], url.split("endpoint_url=")[1]


def local_files(app) -> list[Path]:
    return [p for folder in (app.config["UPLOAD_DIR"], app.config["EXPORT_DIR"]) for p in Path(folder).rglob("*")
            if p.is_file()]


def test_files_go_in_read_back_list_and_go_away(app, tmp_path):
    store = storage_of(app)
    key = f"{PHOTOS}/ab/ab12.jpg"
    store.put_bytes(key, b"first")
    store.put_bytes(key, b"second")  # replaced whole
    assert store.read_bytes(key) == b"second"
    with store.open(key) as stream:
        assert stream.read() == b"second"
    assert store.stat(key).size == 6 and abs(store.stat(key).modified - time.time()) < 60
    scratch = tmp_path / "report.zip"
    scratch.write_bytes(b"PK" * 1000)
    store.put_file(f"{EXPORTS}/jobs/report.zip", scratch)
    assert not scratch.exists()  # the scratch copy is handed over, not left behind
    assert [f.key for f in store.list(f"{PHOTOS}/")] == [key]
    assert [(f.key, f.size) for f in store.list(f"{EXPORTS}/jobs/")] == [(f"{EXPORTS}/jobs/report.zip", 2000)]
    store.delete(key)
    store.delete(key)  # a missing file is fine
    assert not store.exists(key) and store.stat(key) is None
    with pytest.raises(FileNotFoundError):
        store.read_bytes(key)
    store.check(PHOTOS)
    for bad in ("../etc/passwd", f"{PHOTOS}/../../x", "secrets/a", f"{PHOTOS}/", f"{PHOTOS}//a"):
        with pytest.raises(ValueError):
            store.put_bytes(bad, b"x")
    if app.config["STORAGE_URL"]:  # nothing on this server's disk: any other server sees the same files
        assert local_files(app) == []
        bucket, endpoint = bucket_of(app)
        names = [o["Key"] for o in boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket=bucket)["Contents"]]
        assert names == ["fieldaudit/exports/jobs/report.zip"]


def upload(client, visit, data, client_photo_id="p-1"):
    return client.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), "photo.jpg"), "question_id": "shelf", "client_photo_id": client_photo_id})


def test_a_photo_is_stored_served_with_its_thumbnail_and_printed_in_the_pdf(
        app, client, db, login, shopper, admin, make_visit, make_checklist_version):
    login(shopper)
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    response = upload(client, visit, jpeg(noisy((800, 600))))
    assert response.status_code == 201, response.json
    photo = db.session.scalar(select(Photo))
    store = storage_of(app)
    assert not store.exists(photo_key(photo.stored_name, ORIGINAL))  # the original, with its metadata, is gone
    with client.get(response.json["url"]) as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.get_data() == store.read_bytes(photo_key(photo.stored_name))
        etag = served.headers["ETag"]
        assert served.headers["Cache-Control"] == "private, max-age=3600"
    with client.get(response.json["url"], headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304 and again.get_data() == b""
    with client.get(response.json["thumb_url"]) as thumb:
        assert thumb.status_code == 200 and thumb.get_data() == store.read_bytes(photo_key(photo.stored_name, "thumb"))
    assert client.post(f"/api/v1/visits/{visit.id}/submit", json={
        "client_submission_id": str(uuid.uuid4()), "answers": {**ANSWERS, "shelf": [response.json["id"]]},
        "answer_times": {}, "started_at": None, "geolocation": "denied", "position": None}).status_code == 201
    login(admin)
    pdf = client.get(f"/reports/visits/{visit.id}.pdf")
    assert pdf.status_code == 200 and len(pdf_images(pdf.get_data())) == 1
    if app.config["STORAGE_URL"]:
        assert not list(Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"))


def test_a_deleted_photos_files_are_gone_from_the_storage(app, client, db, login, shopper, make_visit,
                                                           make_checklist_version):
    login(shopper)
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    token = upload(client, visit, jpeg()).json["id"]
    assert len(list(storage_of(app).list(f"{PHOTOS}/"))) == 2  # the clean copy and its thumbnail
    assert client.delete(f"/api/v1/visits/{visit.id}/photos/{token}").status_code == 204
    assert list(storage_of(app).list(f"{PHOTOS}/")) == []


def test_an_export_is_stored_and_downloaded_in_a_stream(app, client, db, login, manager, network):
    login(manager)
    job_id = start(client, "table", "csv", Q2)
    assert wait_for(client, job_id)["status"] == "done"
    job = db.session.get(ExportJob, job_id)
    assert storage_of(app).exists(job.result_path)
    assert list(scratch_dir(app.config).iterdir()) == []  # nothing left on this server's disk
    with client.get(f"/dashboard/exports/{job_id}/download") as download:
        assert download.status_code == 200 and download.is_streamed
        assert download.headers["Cache-Control"] == "private, no-store"
        assert "filename=" in download.headers["Content-Disposition"]
        data = download.get_data()
    assert data == storage_of(app).read_bytes(job.result_path) and int(download.headers["Content-Length"]) == len(data)
    assert network["north"].name in data.decode("utf-8-sig")


@pytest.mark.parametrize("app_config", ["object store"], indirect=True)
def test_an_object_store_that_refuses_writes_answers_503_keeps_nothing_and_the_retry_lands(
        app, client, db, login, shopper, make_visit, make_checklist_version):
    bucket, endpoint = bucket_of(app)
    s3 = boto3.client("s3", endpoint_url=endpoint)
    login(shopper)
    visit = make_visit(shopper=shopper, checklist_version=make_checklist_version())
    s3.delete_bucket(Bucket=bucket)  # every write refused from now on
    response = upload(client, visit, jpeg())
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.json["error"] == "unavailable" and "nothing was saved" in response.json["message"]
    assert db.session.scalar(select(Photo)) is None
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["photos"] == "unreachable"
    with pytest.raises(StorageError):
        storage_of(app).put_bytes(f"{PHOTOS}/ab/ab.jpg", b"x")

    s3.create_bucket(Bucket=bucket)  # the store is back: the phone's queue sends the same photo again
    again = upload(client, visit, jpeg())
    assert again.status_code == 201 and db.session.scalar(select(Photo.status)) == "ready"
    assert client.get("/readyz").status_code == 200
