"""Batch export: a ZIP of location reports built in the background, with progress, per user."""
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from app.models import ExportJob
from tests import export_helpers
from tests.export_helpers import shared_database
from tests.factories_scored import build_network
from tests.reports_helpers import pdf_text

Q2 = {"start": "2024-04-01", "end": "2024-06-30"}


@pytest.fixture
def app_config(app_config, tmp_path):
    return shared_database(app_config, tmp_path)  # the export runs on another thread (or an RQ worker)


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def wait_for(client, job_id):
    return export_helpers.wait_for(client, job_id, 120, state_url="/reports/batch/{}.json")


def download(client, url) -> dict[str, bytes]:
    """Download a ZIP and return {file name: bytes}."""
    response = client.get(url)
    try:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    finally:
        response.close()  # the file is streamed from disk


def test_export_runs_in_background_and_delivers_a_zip(app, db, client, login, make_user, network):
    manager = login(make_user("manager", regions=[network["north"]]))
    page = client.get("/reports/batch")
    assert page.status_code == 200 and "North" in page.get_data(as_text=True)
    assert "South" not in page.get_data(as_text=True)  # only the manager's regions are offered

    response = client.post("/reports/batch", data={**Q2, "region": 0})
    assert response.status_code == 302
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    progress_page = client.get(f"/reports/batch/{job_id}").get_data(as_text=True)
    assert "<progress" in progress_page and f"/reports/batch/{job_id}.json" in progress_page

    state = wait_for(client, job_id)
    assert state["status"] == "done" and state["progress"] == state["total"] == 2 and state["percent"] == 100
    files = download(client, state["download_url"])
    assert sorted(files) == ["location-L001-2024-04-01-2024-06-30.pdf", "location-L002-2024-04-01-2024-06-30.pdf"]
    assert "A1" in pdf_text(files["location-L001-2024-04-01-2024-06-30.pdf"])
    job = db.session.get(ExportJob, job_id)
    assert job.user_id == manager.id and job.finished_at is not None

    # Another manager cannot see or download it.
    login(make_user("manager", regions=[network["north"]]))
    assert client.get(f"/reports/batch/{job_id}.json").status_code == 404
    assert client.get(f"/reports/batch/{job_id}.zip").status_code == 404


def test_export_of_one_region(client, login, make_user, network):
    login(make_user("admin"))
    response = client.post("/reports/batch", data={**Q2, "region": network["south"].id})
    state = wait_for(client, response.headers["Location"].rsplit("/", 1)[-1])
    assert list(download(client, state["download_url"])) == ["location-L003-2024-04-01-2024-06-30.pdf"]


def test_a_batch_comes_in_the_language_of_who_asked_for_it(client, login, make_user, network):
    """The reports of a batch started from a Russian page are in Russian; the checklist's texts as written."""
    login(make_user("admin", locale="ru"))
    response = client.post("/reports/batch", data={**Q2, "region": network["south"].id})
    state = wait_for(client, response.headers["Location"].rsplit("/", 1)[-1])
    [report] = download(client, state["download_url"]).values()
    text = pdf_text(report)
    assert "Отчёт по точке" in text and "Location report" not in text
    assert "Greeting" in text  # the section title of the English checklist


def test_bad_requests_are_refused(app, client, login, make_user, network):
    login(make_user("manager", regions=[network["north"]]))
    response = client.post("/reports/batch", data={"start": "2024-06-30", "end": "2024-04-01", "region": 0})
    assert response.status_code == 400 and "ends before it starts" in response.get_data(as_text=True)
    response = client.post("/reports/batch", data={**Q2, "region": network["south"].id})
    assert response.status_code == 400  # not one of the offered regions
    assert ExportJob.query.count() == 0
    assert client.get("/reports/batch/nope.json").status_code == 404
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/reports/batch", data={**Q2, "region": 0}).status_code == 400
    login(network["shopper"])
    assert client.get("/reports/batch").status_code == 403


def test_export_through_rq(app, db, client, login, make_user, network):
    redis = pytest.importorskip("redis")
    from rq import Queue, SimpleWorker

    from app.reports import jobs

    connection = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    login(make_user("admin"))
    response = client.post("/reports/batch", data={**Q2, "region": 0})
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert client.get(f"/reports/batch/{job_id}.json").get_json()["status"] == "queued"
    queue = Queue(jobs.QUEUE_NAME, connection=connection)
    try:
        assert queue.fetch_job(f"export-{job_id}") is not None
        SimpleWorker([queue], connection=connection).work(burst=True)
    finally:
        queue.empty()
    db.session.expire_all()
    state = client.get(f"/reports/batch/{job_id}.json").get_json()
    assert state["status"] == "done" and state["total"] == 3
    assert len(download(client, state["download_url"])) == 3


def test_an_interrupted_export_is_reported_as_failed(app, db, client, login, make_user):
    """A job whose worker died (server restart) must not spin forever on the progress page."""
    manager = login(make_user("manager"))
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    stuck = ExportJob(user_id=manager.id, kind="location_reports", status="running", progress=3, total=10,
                      params={}, created_at=long_ago, updated_at=long_ago)
    moving = ExportJob(user_id=manager.id, kind="location_reports", status="running", progress=3, total=10,
                       params={})
    db.session.add_all([stuck, moving])
    db.session.commit()

    state = client.get(f"/reports/batch/{stuck.id}.json").json
    assert state["status"] == "failed" and "interrupted" in state["error"]
    assert client.get(f"/reports/batch/{moving.id}.json").json["status"] == "running"
