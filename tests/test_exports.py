"""Exports: the filtered table and raw answers as CSV (streamed) and XLSX (openpyxl)."""
import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.factories_scored import (
    build_network,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)

Q2 = {"period": "custom", "start": "2024-04-01", "end": "2024-06-30"}


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


def test_table_csv(client, login, manager, network):
    login(manager)
    response = client.get("/dashboard/export/table.csv", query_string=Q2)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:9] == ["Rank", "Code", "Location", "Region", "Programme", "Visits", "Score",
                           "Interval low (95%)", "Interval high (95%)"]
    assert [r[2] for r in rows[1:]] == ["B1", "A1", "A2"]
    assert rows[3][6] == "50.0" and rows[3][5] == "2"
    assert rows[3][7] == "0.0" and rows[3][8] == "100.0"  # 0 and 100: the interval spans every score
    assert all(r[4] == "sample-visit" and r[0] == "—" for r in rows[1:])  # under 3 visits: not ranked


def test_answers_csv_one_row_per_visit_and_question(client, login, manager, network):
    login(manager)
    response = client.get("/dashboard/export/answers.csv", query_string={**Q2, "region": network["north"].id})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 4 * 8  # 4 approved north visits in Q2 x 8 questions
    tone = [r for r in rows if r["question_id"] == "tone" and r["value"] == "3"]
    assert tone and tone[0]["question"] == "Friendly tone" and float(tone[0]["fraction"]) == 0.5
    assert tone[0]["answer"] == "3 of 5"  # in words, as the review page and the PDF say it
    assert {r["answer"] for r in rows if r["question_id"] == "receipt"} == {"Not asked"}
    assert {r["location"] for r in rows} == {"A1", "A2"}


def test_answers_xlsx(client, login, manager, network, tmp_path):
    login(manager)
    with client.get("/dashboard/export/answers.xlsx", query_string=Q2) as response:
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[0][0] == "visit_id" and len(rows) == 1 + 5 * 8
    with client.get("/dashboard/export/table.xlsx", query_string=Q2) as response:
        table = load_workbook(io.BytesIO(response.data)).active
    assert [r[2] for r in table.iter_rows(min_row=2, values_only=True)] == ["B1", "A1", "A2"]
    assert list((tmp_path / "exports").iterdir()) == []  # no temporary file left behind


def test_cyrillic_and_formula_injection(client, login, manager, db, make_location, make_checklist_version,
                                       make_user):
    from tests.factories_scored import PERFECT

    location = make_location(name="=HYPERLINK(\"http://evil\")")
    answers = {**PERFECT, "notes": "Кассир был вежлив"}
    make_scored_visit(db, location, make_checklist_version(), make_user("shopper"), answers, date(2024, 5, 2))
    login(manager)
    body = client.get("/dashboard/export/answers.csv", query_string=Q2).get_data(as_text=True)
    assert "Кассир был вежлив" in body
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_invalid_filters_are_refused(client, login, manager, network):
    login(manager)
    response = client.get("/dashboard/export/answers.xlsx", query_string={"period": "custom", "start": "2024-05-01"})
    assert response.status_code == 400


def test_xlsx_without_the_fast_writer_uses_openpyxl(client, login, manager, network, monkeypatch):
    from app.dashboard import exports

    monkeypatch.setattr(exports, "fast_writer", lambda: None)
    login(manager)
    with client.get("/dashboard/export/answers.xlsx", query_string=Q2) as response:
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[0][0] == "visit_id" and len(rows) == 1 + 5 * 8
    column = rows[0].index("location")
    assert {r[column] for r in rows[1:]} == {"A1", "A2", "B1"}


def test_empty_export_still_has_its_header(client, login, manager, network):
    login(manager)
    with client.get("/dashboard/export/answers.xlsx", query_string={**Q2, "start": "2020-01-01",
                                                                      "end": "2020-01-31"}) as response:
        book = load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert len(rows) == 1 and rows[0][0] == "visit_id"
