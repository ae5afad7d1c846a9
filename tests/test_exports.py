"""Exports: the filtered league table and raw answers as CSV or XLSX, written by a background job.

The dashboard's buttons start a job and open its progress page; the file is downloaded from there by its owner.
"""
import csv
import errno
import io
import os
import signal
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.models import ExportJob
from app.storage import scratch_dir, storage_of
from tests.export_helpers import export_file, shared_database, wait_for
from tests.export_helpers import start as start_export
from tests.factories_scored import (
    build_network,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)

Q2 = {"period": "custom", "start": "2024-04-01", "end": "2024-06-30"}


@pytest.fixture
def app_config(app_config, tmp_path):
    return shared_database(app_config, tmp_path)


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def export(client, what, fmt, query=Q2) -> bytes:
    return export_file(client, what, fmt, query)


def start(client, what, fmt, query=Q2) -> str:
    return start_export(client, what, fmt, query)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # the BOM that makes Excel read UTF-8 (Cyrillic)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def sheets(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    finally:
        book.close()


def test_the_dashboard_starts_an_export_job_and_its_page_shows_progress_and_the_download(
        app, db, client, login, manager, network):
    login(manager)
    page = client.get("/dashboard/", query_string={**Q2, "checklist": "sample-visit"}).get_data(as_text=True)
    assert 'formaction="/dashboard/export/answers.xlsx?' in page and 'name="csrf_token"' in page

    job_id = start(client, "answers", "csv")
    status_page = client.get(f"/dashboard/exports/{job_id}")
    assert status_page.status_code == 200
    text = status_page.get_data(as_text=True)
    assert "<progress" in text and f"/dashboard/exports/{job_id}.json" in text and "job.js" in text
    assert "answers-sample-visit-2024-04-01-2024-06-30.csv" in text

    state = wait_for(client, job_id)
    assert state["status"] == "done" and state["progress"] == state["total"] == 5 * 8 and state["percent"] == 100
    text = client.get(f"/dashboard/exports/{job_id}").get_data(as_text=True)
    assert "Ready: 40 rows." in text and f'href="/dashboard/exports/{job_id}/download"' in text
    job = db.session.get(ExportJob, job_id)
    assert job.user_id == manager.id and job.kind == "spreadsheet" and job.finished_at is not None
    assert job.result_path == f"exports/jobs/{job_id}.csv" and storage_of(app).exists(job.result_path)


def test_a_running_export_shows_rows_written_of_the_total(db, client, login, manager):
    login(manager)
    job = ExportJob(user_id=manager.id, kind="spreadsheet", status="running", progress=1200, total=553000,
                    params={"from": "2024-04-01", "to": "2024-06-30", "what": "answers", "fmt": "xlsx"})
    db.session.add(job)
    db.session.commit()
    text = client.get(f"/dashboard/exports/{job.id}").get_data(as_text=True)
    assert "Writing row 1,200 of 553,000…" in text and 'value="0"' in text
    assert "the rows continue on" not in text  # 553,000 rows fit on one sheet
    job.total = 2_500_000
    db.session.commit()
    assert "the rows continue on 3 sheets" in client.get(f"/dashboard/exports/{job.id}").get_data(as_text=True)
    with client.session_transaction() as session:
        session["lang"] = "ru"
    text = client.get(f"/dashboard/exports/{job.id}").get_data(as_text=True)
    assert "Экспорт" in text and "Записано строк: 1\xa0200 из 2\xa0500\xa0000…" in text


def test_table_csv(client, login, manager, network):
    login(manager)
    rows = csv_rows(export(client, "table", "csv"))
    assert rows[0][:9] == ["Rank", "Code", "Location", "Region", "Programme", "Visits", "Score",
                           "Interval low (95%)", "Interval high (95%)"]
    assert [r[2] for r in rows[1:]] == ["B1", "A1", "A2"]
    assert rows[3][6] == "50.0" and rows[3][5] == "2"
    assert rows[3][7] == "0.0" and rows[3][8] == "100.0"  # 0 and 100: the interval spans every score
    assert all(r[4] == "sample-visit" and r[0] == "—" for r in rows[1:])  # under 3 visits: not ranked


def test_answers_csv_one_row_per_visit_and_question(client, login, manager, network):
    login(manager)
    rows = csv_rows(export(client, "answers", "csv", {**Q2, "region": network["north"].id}))
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(records) == 4 * 8  # 4 approved north visits in Q2 x 8 questions
    tone = [r for r in records if r["question_id"] == "tone" and r["value"] == "3"]
    assert tone and tone[0]["question"] == "Friendly tone" and float(tone[0]["fraction"]) == 0.5
    assert tone[0]["answer"] == "3 of 5"  # in words, as the review page and the PDF say it
    assert {r["answer"] for r in records if r["question_id"] == "receipt"} == {"Not asked"}
    assert {r["location"] for r in records} == {"A1", "A2"}


def test_answers_and_table_xlsx(client, login, manager, network):
    login(manager)
    book = sheets(export(client, "answers", "xlsx"))
    assert list(book) == ["Answers"]
    rows = book["Answers"]
    assert rows[0][0] == "visit_id" and len(rows) == 1 + 5 * 8
    table = sheets(export(client, "table", "xlsx"))
    assert list(table) == ["Locations"] and [r[2] for r in table["Locations"][1:]] == ["B1", "A1", "A2"]


def test_an_export_is_written_in_the_language_of_the_page(client, login, manager, network):
    login(manager)
    with client.session_transaction() as session:
        session["lang"] = "ru"
    table = sheets(export(client, "table", "xlsx"))
    assert list(table) == ["Точки"] and table["Точки"][0][:2] == ("Место", "Код")


@pytest.mark.parametrize("fast", [True, False], ids=["rustpy-xlsxwriter", "openpyxl"])
def test_xlsx_continues_on_new_sheets_before_the_row_limit(client, login, manager, network, monkeypatch, fast):
    from app.dashboard import exports

    monkeypatch.setattr(exports, "SHEET_ROWS", 5)
    if not fast:
        monkeypatch.setattr(exports, "fast_writer", lambda: None)
    login(manager)
    expected = csv_rows(export(client, "answers", "csv"))
    book = sheets(export(client, "answers", "xlsx"))
    assert list(book) == [f"Answers {n}" for n in range(1, 9)]  # 40 rows, 5 to a sheet
    assert all(rows[0] == tuple(expected[0]) for rows in book.values())  # the header on every sheet
    assert all(len(rows) == 1 + 5 for rows in book.values())
    question = expected[0].index("question_id")
    keys = [(row[0], row[question]) for rows in book.values() for row in rows[1:]]  # visit id, question id
    assert len(keys) == len(set(keys)) == 40  # every row exactly once, in the CSV's order
    assert keys == [(float(r[0]) if fast else int(r[0]), r[question]) for r in expected[1:]]


def test_csv_is_one_file_whatever_the_size(client, login, manager, network, monkeypatch):
    from app.dashboard import exports

    monkeypatch.setattr(exports, "SHEET_ROWS", 5)  # far past "Excel's" limit: CSV has none
    login(manager)
    rows = csv_rows(export(client, "answers", "csv"))
    assert len(rows) == 1 + 40 and rows.count(rows[0]) == 1


def test_rows_beyond_the_count_fail_the_job_rather_than_go_missing(app, tmp_path, monkeypatch):
    from app.dashboard import exports
    from app.jobs import JobFailed

    monkeypatch.setattr(exports, "SHEET_ROWS", 2)
    with pytest.raises(JobFailed, match="changed"):
        exports.write_xlsx(tmp_path / "x.xlsx", "Answers", ["a"], [[1], [2], [3], [4], [5]], total=4)


def test_cyrillic_and_formula_injection(client, login, manager, db, make_location, make_checklist_version,
                                       make_user):
    from tests.factories_scored import PERFECT

    location = make_location(name="=HYPERLINK(\"http://evil\")")
    answers = {**PERFECT, "notes": "Кассир был вежлив"}
    make_scored_visit(db, location, make_checklist_version(), make_user("shopper"), answers, date(2024, 5, 2))
    login(manager)
    body = export(client, "answers", "csv").decode("utf-8-sig")
    assert "Кассир был вежлив" in body
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_bad_requests_are_refused_and_start_nothing(app, client, login, manager, network):
    login(manager)
    response = client.post("/dashboard/export/answers.xlsx", query_string={"period": "custom", "start": "2024-05-01"})
    assert response.status_code == 400
    assert client.post("/dashboard/export/answers.pdf", query_string=Q2).status_code == 404
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/dashboard/export/answers.xlsx", query_string=Q2).status_code == 400
    assert ExportJob.query.count() == 0
    assert client.get("/dashboard/exports/nope.json").status_code == 404


def test_an_old_export_link_offers_the_button(client, login, manager, network):
    login(manager)
    response = client.get("/dashboard/export/answers.csv", query_string=Q2)
    assert response.status_code == 200 and ExportJob.query.count() == 0
    text = response.get_data(as_text=True)
    assert 'method="post"' in text and "Prepare the file" in text and 'name="csrf_token"' in text


def test_only_the_owner_downloads_an_export(client, login, make_user, network):
    login(make_user("manager", regions=[network["north"]]))
    job_id = start(client, "answers", "csv")
    state = wait_for(client, job_id)
    assert state["status"] == "done" and state["total"] == 4 * 8  # the manager's regions only
    with client.get(state["download_url"]) as response:
        assert response.status_code == 200

    login(make_user("manager", regions=[network["north"]]))
    for url in (f"/dashboard/exports/{job_id}", f"/dashboard/exports/{job_id}.json", state["download_url"]):
        assert client.get(url).status_code == 404, url
    login(network["shopper"])
    assert client.get(state["download_url"]).status_code == 403


def test_a_failed_export_says_why_and_never_500s(app, client, login, manager, network, monkeypatch):
    from app.dashboard import exports

    def disk_full(path, header, rows):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(exports, "write_csv", disk_full)
    login(manager)
    job_id = start(client, "answers", "csv")
    state = wait_for(client, job_id)
    assert state["status"] == "failed" and state["download_url"] is None
    assert "could not be written (No space left on device)" in state["error"]
    page = client.get(f"/dashboard/exports/{job_id}")
    assert page.status_code == 200 and "No space left on device" in page.get_data(as_text=True)
    assert client.get(f"/dashboard/exports/{job_id}/download").status_code == 404
    assert os.listdir(scratch_dir(app.config)) == [] and list(storage_of(app).list("exports/")) == []  # nothing left


def test_an_interrupted_export_is_reported_as_failed(db, client, login, manager):
    login(manager)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    stuck = ExportJob(user_id=manager.id, kind="spreadsheet", status="running", progress=3, total=10,
                      params={"from": "2024-04-01", "to": "2024-06-30", "what": "answers", "fmt": "csv"},
                      created_at=long_ago, updated_at=long_ago)
    db.session.add(stuck)
    db.session.commit()
    state = client.get(f"/dashboard/exports/{stuck.id}.json").get_json()
    assert state["status"] == "failed" and "interrupted" in state["error"]


def test_old_files_are_deleted_when_the_next_export_starts(app, db, client, login, manager, network):
    login(manager)
    first = wait_for(client, start(client, "table", "csv"))
    key = db.session.get(ExportJob, first["id"]).result_path
    path = storage_of(app).path(key)  # the local folder: its files can be aged
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    wait_for(client, start(client, "table", "csv"))
    assert not path.exists() and not storage_of(app).exists(key)
    state = client.get(f"/dashboard/exports/{first['id']}.json").get_json()
    assert state["status"] == "done" and state["expired"] and state["download_url"] is None
    assert "was deleted after 24 hours" in client.get(f"/dashboard/exports/{first['id']}").get_data(as_text=True)
    assert client.get(f"/dashboard/exports/{first['id']}/download").status_code == 404


def test_export_through_rq(app, db, client, login, manager, network):
    redis = pytest.importorskip("redis")
    from rq import Queue, SimpleWorker

    from app import jobs

    connection = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    login(manager)
    job_id = start(client, "answers", "xlsx")
    assert client.get(f"/dashboard/exports/{job_id}.json").get_json()["status"] == "queued"
    queue = Queue(jobs.QUEUE_NAME, connection=connection)
    try:
        assert queue.fetch_job(f"export-{job_id}") is not None
        SimpleWorker([queue], connection=connection).work(burst=True)
    finally:
        queue.empty()
    state = client.get(f"/dashboard/exports/{job_id}.json").get_json()
    assert state["status"] == "done" and state["total"] == 40
    with client.get(state["download_url"]) as response:
        assert len(sheets(response.data)["Answers"]) == 41


def test_with_redis_configured_but_unreachable_an_export_fails_at_once_and_never_runs_in_the_web_process(
        app, db, client, login, manager, network):
    import threading

    from tests.test_ops import closed_port

    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    login(manager)
    job_id = start(client, "answers", "csv")
    state = client.get(f"/dashboard/exports/{job_id}.json").get_json()
    assert state["status"] == "failed" and "could not be queued" in state["error"] and "Try again" in state["error"]
    assert not [t for t in threading.enumerate() if t.name == f"export-{job_id}"]


def test_an_export_whose_worker_died_under_it_is_run_again_by_rq_and_finishes(
        app, db, client, login, manager, network, monkeypatch, tmp_path):
    redis = pytest.importorskip("redis")
    from rq import Queue, Worker

    from app import jobs
    from app.dashboard import exports
    from tests.test_ops import redis_or_skip

    url = redis_or_skip()
    app.config["REDIS_URL"] = url
    connection = redis.Redis.from_url(url)
    real, died = exports.write_csv, tmp_path / "died-once"

    def killed_the_first_time(*args, **kwargs):
        if not died.exists():
            died.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # the work horse, as the OOM killer would
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "write_csv", killed_the_first_time)
    login(manager)
    job_id = start(client, "answers", "csv")
    queue = Queue(jobs.QUEUE_NAME, connection=connection)
    db.session.remove()
    db.engine.dispose()  # the work horses are forked: they must open connections of their own
    try:
        Worker([queue], connection=connection).work(burst=True)  # forks a work horse per job, as `flask worker`
    finally:
        queue.empty()
    assert died.exists()
    state = client.get(f"/dashboard/exports/{job_id}.json").get_json()
    assert state["status"] == "done" and state["total"] == 40, state
    with client.get(state["download_url"]) as response:
        assert len(csv_rows(response.data)) == 41


def test_an_export_past_its_time_limit_is_stopped_and_says_so(app, db, client, login, manager, network, monkeypatch):
    redis = pytest.importorskip("redis")
    from rq import Queue, Worker

    from app import jobs
    from app.dashboard import exports
    from tests.test_ops import redis_or_skip

    url = redis_or_skip()
    app.config["REDIS_URL"] = url
    connection = redis.Redis.from_url(url)
    monkeypatch.setattr(exports, "write_csv", lambda *args, **kwargs: time.sleep(5))
    login(manager)
    job_id = start(client, "answers", "csv")
    queue = Queue(jobs.QUEUE_NAME, connection=connection)
    rq_job = queue.fetch_job(f"export-{job_id}")
    rq_job.timeout = 1  # a minute is the least the setting takes; the test cannot wait that long
    rq_job.save()
    db.session.remove()
    db.engine.dispose()
    try:
        Worker([queue], connection=connection).work(burst=True)
    finally:
        queue.empty()
    state = client.get(f"/dashboard/exports/{job_id}.json").get_json()
    assert state["status"] == "failed" and "longer than its time limit" in state["error"], state


def test_empty_export_still_has_its_header(client, login, manager, network):
    login(manager)
    book = sheets(export(client, "answers", "xlsx", {**Q2, "start": "2020-01-01", "end": "2020-01-31"}))
    assert list(book) == ["Answers"] and len(book["Answers"]) == 1 and book["Answers"][0][0] == "visit_id"


def test_answers_export_has_utc_and_local_time_with_the_zone(client, login, manager, db, make_region, make_location,
                                                             make_checklist_version, make_user):
    vladivostok = make_location(make_region(timezone="Asia/Vladivostok"))
    make_scored_visit(db, vladivostok, make_checklist_version(), make_user("shopper"),
                      visited_at=datetime(2024, 5, 2, 23, 30, tzinfo=UTC))
    login(manager)
    rows = csv_rows(export(client, "answers", "csv", {"period": "custom", "start": "2024-05-01", "end": "2024-05-31"}))
    header = rows[0]
    found = {(r[header.index("visited_at_utc")], r[header.index("visited_at_local")], r[header.index("timezone")])
             for r in rows[1:]}
    assert rows[1:] and found == {("2024-05-02 23:30:00", "2024-05-03 09:30:00", "Asia/Vladivostok")}
