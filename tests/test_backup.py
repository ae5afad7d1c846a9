"""`flask backup create` / `restore`: a backup restored into a fresh database and photo folder holds everything."""
import hashlib
import io
import json
import tarfile
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from app.models import Answer, Photo, User, Visit
from app.storage import photo_key, storage_of
from tests.conftest import PASSWORD, TEST_DATABASE_URL
from tests.test_photo_pipeline import ANSWERS, jpeg, noisy


@pytest.fixture(params=["folder", "object store"])
def app_config(request, app_config, tmp_path):
    """A database file instead of memory, so that a backup reads what the test wrote; photos in a folder or in
    the object store."""
    if not TEST_DATABASE_URL:
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'source.db'}"
    if request.param == "object store":
        app_config["STORAGE_URL"] = request.getfixturevalue("s3_bucket")()
    return app_config


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of an empty database of the same engine, dropped afterwards."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"fa_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def submitted_visits(client, login, make_visit, make_checklist_version, shopper, count=3):
    """Visits filled through the phone's API: answers, comments and photos stored as a shopper's would be."""
    version = make_checklist_version()
    login(shopper)
    for n in range(count):
        visit = make_visit(shopper=shopper, checklist_version=version)
        photos = []
        for slot in range(2):
            response = client.post(f"/api/v1/visits/{visit.id}/photos", content_type="multipart/form-data", data={
                "file": (io.BytesIO(jpeg(noisy((300 + n * 10 + slot, 200)))), "shelf.jpg"),
                "question_id": "shelf", "client_photo_id": f"p-{n}-{slot}"})
            assert response.status_code == 201, response.json
            photos.append(response.json["id"])
        answers = {**ANSWERS, "tone": 2 + n, "notes": f"Кассир №{n} не поздоровался", "shelf": photos}
        response = client.post(f"/api/v1/visits/{visit.id}/submit", json={
            "client_submission_id": str(uuid.uuid4()), "answers": answers, "answer_times": {},
            "started_at": None, "geolocation": "denied", "position": None})
        assert response.status_code == 201, response.json


def snapshot(app) -> dict:
    """Every visit, answer, score, account and photo (with the bytes of its files) in comparable form."""
    with app.app_context():
        store = storage_of(app)

        def files(photo):
            return tuple(hashlib.sha256(store.read_bytes(photo_key(photo.stored_name, size))).hexdigest()
                         for size in (None, "thumb"))

        found = {
            "visits": [(v.id, v.status.value, v.score, v.grade, v.location_id, v.shopper_id, v.submitted_at)
                       for v in _db.session.scalars(select(Visit).order_by(Visit.id))],
            "answers": [(a.id, a.visit_id, a.question_id, a.value, a.comment, a.points, a.max_points)
                        for a in _db.session.scalars(select(Answer).order_by(Answer.id))],
            "photos": [(p.id, p.visit_id, p.stored_name, files(p))
                       for p in _db.session.scalars(select(Photo).order_by(Photo.id))],
            "users": [(u.email, u.password_hash, u.role.value)
                      for u in _db.session.scalars(select(User).order_by(User.id))],
        }
        _db.session.remove()
        _db.engine.dispose()
        return found


def test_a_backup_restored_into_a_fresh_database_and_storage_holds_every_visit_answer_score_and_photo(
        app, client, login, make_visit, make_checklist_version, shopper, tmp_path, fresh_database, request):
    submitted_visits(client, login, make_visit, make_checklist_version, shopper)
    email = shopper.email
    before_tokens = list(_db.session.scalars(select(Photo.token).order_by(Photo.id)))
    _db.session.remove()  # snapshot() disposes of the engine: no connection of ours may still be out
    before = snapshot(app)
    assert len(before["visits"]) == 3 and len(before["photos"]) == 6 and before["answers"]

    archive = tmp_path / "backups" / "nightly.tar"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    assert "3 visits" in result.output and "6 photos" in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and any(n.startswith("photos/") and n.endswith(".jpg") for n in names)
    assert not any(n.endswith(".upload") for n in names)  # originals with their metadata are never kept

    fresh_storage = request.getfixturevalue("s3_bucket")() if app.config["STORAGE_URL"] else ""
    restored_app = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": fresh_database,
                               "UPLOAD_DIR": str(tmp_path / "restored-photos"), "STORAGE_URL": fresh_storage})
    with restored_app.app_context():  # the test's own app context would be reused by the command
        result = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Restored 3 visits" in result.output
    assert snapshot(restored_app) == before

    # The restored copy is a working app: the shopper signs in with the same password and gets the photo back.
    photo_token = before_tokens[0]
    with restored_app.app_context():
        client2 = restored_app.test_client()
        response = client2.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        with client2.get(f"/visits/photos/{photo_token}") as served:
            assert served.status_code == 200 and served.mimetype == "image/jpeg"
            assert hashlib.sha256(served.get_data()).hexdigest() == before["photos"][0][3][0]
        _db.session.remove()
        _db.engine.dispose()


def test_restore_refuses_a_database_that_has_data_unless_told_to_replace_it(app, shopper, tmp_path):
    email, archive = shopper.email, tmp_path / "b.tar"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    result = runner.invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 1 and "--replace" in result.output
    result = runner.invoke(args=["backup", "restore", str(archive), "--replace"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _db.session.scalar(select(User.email)) == email


def test_restore_refuses_a_file_that_is_no_backup(app, tmp_path):
    junk = tmp_path / "photo.tar"
    junk.write_bytes(b"not a tar at all")
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(junk)])
    assert result.exit_code == 1 and "not a Fieldaudit backup" in result.output


def test_a_restore_never_writes_outside_its_folders(app, tmp_path):
    """A crafted archive with ../ paths is refused by tarfile's data filter, before the database is touched."""
    evil = tmp_path / "evil.tar"
    manifest = json.dumps({"format": 1, "engine": _db.engine.dialect.name, "database_file": "database.sqlite",
                           "contents": {"visits": 0, "answers": 0, "photos": 0, "users": 0}}).encode()
    with tarfile.open(evil, "w") as tar:
        for name, data in (("manifest.json", manifest), ("../escaped.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(evil)])
    assert result.exit_code == 1 and "cannot be unpacked safely, nothing was restored" in result.output
    assert not any(p.name == "escaped.txt" for p in tmp_path.parent.rglob("escaped.txt"))
