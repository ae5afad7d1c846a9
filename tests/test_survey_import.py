"""CSV import of survey answers: good rows stored, bad rows reported one by one, nothing counted twice."""
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, SurveyResponse
from app.surveys.imports import import_answers

TODAY = date(2025, 3, 20)


@pytest.fixture
def in_request(app):
    """Messages are translated, so the service runs inside a request (as it does on the import page)."""
    with app.test_request_context():
        yield


@pytest.fixture
def shops(make_region, make_location):
    north, south = make_region("North"), make_region("South")
    return {"north": make_location(north, code="N01"), "south": make_location(south, code="S01")}


def run(db, text: str, scope=None, **kwargs):
    report = import_answers(text.encode("utf-8"), "answers.csv", scope=scope, survey_id="customer-feedback",
                            today=TODAY, **kwargs)
    db.session.commit()
    return report


def stored(db) -> list[tuple]:
    rows = db.session.execute(select(
        SurveyResponse.location_id, SurveyResponse.nps, SurveyResponse.csat, SurveyResponse.ces,
        SurveyResponse.comment, SurveyResponse.source, SurveyResponse.submitted_at,
    ).order_by(SurveyResponse.id)).all()
    return [tuple(row) for row in rows]


def test_good_rows_are_stored_and_bad_rows_reported_with_reasons(db, shops, in_request):
    report = run(db, (
        "date,location,metric,value,comment\n"
        "2025-03-14,N01,nps,9,Быстро и вежливо\n"        # 2 ok (Cyrillic comment)
        "14.03.2025,n01,csat,4,\n"                       # 3 ok: Russian date, lower-case code
        "2025-03-15,N01,ces,7,\n"                        # 4 ok
        "2025-02-30,N01,nps,5,\n"                        # 5 no such day
        "2025-04-01,N01,nps,5,\n"                        # 6 in the future
        "2025-03-14,X99,nps,5,\n"                        # 7 unknown location
        "2025-03-14,N01,nsp,5,\n"                        # 8 unknown metric
        "2025-03-14,N01,nps,11,\n"                       # 9 out of range
        "2025-03-14,N01,csat,0,\n"                       # 10 out of range (CSAT starts at 1)
        "2025-03-14,N01,ces,4.5,\n"                      # 11 not a whole number
        "2025-03-14,N01,nps,,\n"                         # 12 empty value
        "\n"                                             # blank lines are skipped
        "2025-03-14,N01\n"                               # 14 short row
    ))
    assert report.problem is None
    assert (report.accepted, report.refused) == (3, 9)
    by_line = {row.line: row for row in report.rows}
    assert [line for line, row in by_line.items() if row.accepted] == [2, 3, 4]
    assert 'bad date "2025-02-30"' in by_line[5].message
    assert 'bad date "2025-04-01"' in by_line[6].message
    assert 'unknown location code "X99"' in by_line[7].message
    assert 'unknown metric "nsp"' in by_line[8].message
    assert 'NPS value "11" is out of range: a whole number from 0 to 10' in by_line[9].message
    assert 'CSAT value "0" is out of range: a whole number from 1 to 5' in by_line[10].message
    assert 'CES value "4.5" is out of range' in by_line[11].message
    assert 'NPS value "" is out of range' in by_line[12].message
    assert 14 in by_line and not by_line[14].accepted
    rows = stored(db)
    north = shops["north"].id
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        (north, 9, None, None, "Быстро и вежливо", "import"),
        (north, None, 4, None, None, "import"),
        (north, None, None, 7, None, "import"),
    ]
    assert rows[1][6].date() == date(2025, 3, 14)


def test_manager_cannot_import_into_another_region(db, shops, in_request):
    text = "date,location,metric,value\n2025-03-14,N01,nps,9\n2025-03-14,S01,nps,3\n"
    report = run(db, text, scope={shops["north"].region_id})
    assert [row.accepted for row in report.rows] == [True, False]
    assert "location S01 is outside your regions" in report.rows[1].message
    assert [r[0] for r in stored(db)] == [shops["north"].id]


def test_semicolons_windows_1251_and_russian_headers(db, shops, in_request):
    text = "Дата;Код;Метрика;Оценка;Комментарий\n14.03.2025;N01;NPS;10;Отлично\n"
    report = import_answers(text.encode("cp1251"), "выгрузка.csv", scope=None, survey_id="x", today=TODAY)
    db.session.commit()
    assert report.accepted == 1, report.rows
    assert stored(db)[0][1] == 10 and stored(db)[0][4] == "Отлично"


def test_same_file_is_not_imported_twice(db, shops, in_request):
    text = "date,location,metric,value\n2025-03-14,N01,nps,9\n2025-03-14,N01,nps,9\n"
    assert run(db, text).accepted == 2  # two customers may well give the same answer on one day
    again = run(db, text)
    assert "already imported" in again.problem
    assert again.rows == []
    assert len(stored(db)) == 2


def test_dry_run_checks_everything_and_stores_nothing(db, shops, in_request):
    report = run(db, "date,location,metric,value\n2025-03-14,N01,nps,9\n2025-03-14,N01,nps,99\n", dry_run=True)
    assert (report.accepted, report.refused) == (1, 1)
    assert stored(db) == []
    assert run(db, "date,location,metric,value\n2025-03-14,N01,nps,9\n2025-03-14,N01,nps,99\n").accepted == 1


@pytest.mark.parametrize("text, expected", [
    ("", "The file is empty."),
    ("when,where,what\n2025-03-14,N01,nps\n", "missing: date, location, metric, value"),
    ("date,location,metric\n", "missing: value"),
])
def test_files_without_the_columns_are_refused_whole(db, shops, in_request, text, expected):
    report = run(db, text)
    assert expected in report.problem
    assert stored(db) == []


def test_import_page_shows_a_row_by_row_report(client, login, make_user, db, shops):
    login(make_user("manager", regions=[shops["north"].region]))
    data = {"file": (io.BytesIO(b"date,location,metric,value\n2025-03-14,N01,nps,9\n2025-03-14,S01,nps,3\n"
                                b"2025-03-14,N01,nps,42\n"), "a.csv")}
    response = client.post("/surveys/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 line accepted" in page and "2 lines refused" in page
    assert "location S01 is outside your regions" in page
    assert "NPS value &#34;42&#34; is out of range" in page
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert db.session.scalar(select(AuditLog.action)) == "surveys.import"


def test_import_page_refuses_other_files_and_shoppers(client, login, make_user, manager, db):
    login(manager)
    response = client.post("/surveys/import", data={"file": (io.BytesIO(b"\x89PNG"), "photo.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert "The file must be a .csv file." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    login(make_user("shopper"))
    assert client.get("/surveys/import").status_code == 403


def test_import_page_needs_csrf(app, client, login, manager, shops):
    app.config["WTF_CSRF_ENABLED"] = True
    login(manager)
    response = client.post("/surveys/import", data={
        "file": (io.BytesIO(b"date,location,metric,value\n2025-03-14,N01,nps,9\n"), "a.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400
