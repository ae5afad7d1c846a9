"""PDF reports read back: numbers to the decimal, names, Cyrillic, photos, page counts, access."""
import subprocess
from datetime import UTC, date, datetime

import pytest
from PIL import Image

from app.models import ActionStatus, CorrectiveAction, SurveyResponse, VisitStatus
from app.storage import storage_of
from tests.factories_scored import build_network, make_scored_visit
from tests.reports_helpers import (
    REPO_ROOT,
    add_photo,
    big_checklist,
    demo_answers,
    pdf_images,
    pdf_reader,
    pdf_text,
    stored_version,
    visit_on,
)

H1 = {"from": "2024-01-01", "to": "2024-06-30"}


def one(value: float) -> str:
    """A score as people see it: one decimal."""
    return f"{value:.1f}"


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


@pytest.fixture
def staff(login, make_user, network):
    """A manager of the north region, signed in."""
    return login(make_user("manager", regions=[network["north"]], name="Nora North"))


def get_pdf(client, url, **params):
    response = client.get(url, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.data


def test_visit_report_shows_stored_numbers_answers_and_photos(app, db, client, network, staff):
    visit = network["visits"]["a1_q2_loss"]
    for number in range(3):
        add_photo(db, visit, "shelf", storage_of(app), number)
    pdf = get_pdf(client, f"/reports/visits/{visit.id}.pdf")
    text = pdf_text(pdf)

    assert one(visit.score) == "80.6" and "80.6" in text  # 100 * (2 * 2.5/3 + 1 * 1.5/2) / 3
    assert visit.grade in text
    assert "83.3" in text and "75.0" in text  # section scores: greeting 2.5/3, service 1.5/2
    assert "2.5 / 3" in text and "1.5 / 2" in text
    assert "Only when asked" in text  # the chosen option in words
    assert visit.location.name in text and visit.location.address in text
    assert visit.shopper.shopper_code in text and visit.shopper.name not in text
    assert "Sample store visit, version 1" in text
    assert "Critical failures" not in text
    assert "Page 1 of" in text and "Fieldaudit" in text

    images = pdf_images(pdf)
    assert len(images) == 3
    assert all(max(w, h) <= 600 for w, h in images)  # 2400 px uploads are downscaled for print


def test_visit_report_calls_out_critical_failures_first(client, network, staff):
    visit = network["visits"]["a2_q2_critical"]
    text = pdf_text(get_pdf(client, f"/reports/visits/{visit.id}.pdf"))
    assert "0.0" in text
    critical_at = text.index("Critical failures (1)")
    assert critical_at < text.index("Scores by section")
    assert "Greeted within 30 seconds?" in text[critical_at:text.index("Scores by section")]


def test_shopper_name_only_when_asked(client, network, staff):
    visit = network["visits"]["a1_q2_perfect"]
    text = pdf_text(get_pdf(client, f"/reports/visits/{visit.id}.pdf", shopper_name="1"))
    assert f"{visit.shopper.name} ({visit.shopper.shopper_code})" in text


def test_location_report_figures(app, db, client, network, staff):
    a1 = network["a1"]
    visits = [network["visits"][k] for k in ("a1_q1_loss", "a1_q2_perfect", "a1_q2_loss")]
    db.session.add_all([
        SurveyResponse(location=a1, survey_id="s", submitted_at=datetime(2024, 3, 1, tzinfo=UTC), nps=n, csat=c, ces=e)
        for n, c, e in ((10, 5, 7), (9, 4, 6), (3, 2, 2), (8, 4, 5))
    ] + [SurveyResponse(location=a1, survey_id="s", submitted_at=datetime(2024, 3, 1, tzinfo=UTC), nps=0,
                        flagged=True)])
    db.session.add(CorrectiveAction(visit=visits[0], location=a1, question_id="tone", description="Retrain greeting",
                                    owner_name="Olga Owner", owner_email="o@example.com", due_date=date(2024, 7, 1),
                                    status=ActionStatus.open))
    db.session.commit()

    pdf = get_pdf(client, f"/reports/locations/{a1.id}.pdf", **H1)
    text = pdf_text(pdf)
    average = sum(v.score for v in visits) / 3
    assert one(average) == "87.0" and "87.0" in text
    assert "Average of 3 visits" in text
    # Network over H1: every counted visit of the sample checklist (the submitted and voided ones are left out).
    counted = [v for v in network["visits"].values()
               if v.status == VisitStatus.approved and v.visited_at < datetime(2024, 7, 1, tzinfo=UTC)]
    assert "Network average: " + one(sum(v.score for v in counted) / len(counted)) in text
    # A1 is the only location with 3 visits in H1 (the minimum to be ranked): first of one, in both.
    assert "RANK IN REGION" in text and text.count("1 of 1") == 2
    assert "fewer than 3 visits in the period are not ranked" in text.replace("\n", " ")
    assert "Friendly tone" in text and "2 of 3 visits" in text  # recurring failures
    assert "Offered a bag" in text
    # NPS: 2 promoters, 1 detractor of 4 (the flagged answer is left out) = +25.0; CSAT 3/4 = 75.0 %; CES 5.0
    assert "+25.0" in text and "75.0 %" in text and "5.0" in text and "4 answers" in text
    assert "Retrain greeting" in text and "Olga Owner" in text
    assert "LATESTVISITINDETAIL" in text.replace(" ", "")
    assert len(pdf_reader(pdf).pages) >= 2
    assert b"<svg" not in pdf and pdf.count(b"/Subtype /Image") == 0  # charts are vector, not pictures


def test_location_report_in_russian(app, db, client, login, make_region, make_location, make_user):
    region = make_region("Москва", code="MSK")
    branch = make_location(region, name="Отделение на Тверской", address="Тверская ул., 7")
    other = make_location(region, name="Отделение на Арбате")
    version = stored_version(db, REPO_ROOT / "checklists" / "bank-branch-ru.yaml")
    shopper = make_user("shopper", name="Иван Петров")
    scores = []
    for index, day in enumerate((date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1))):
        scores.append(visit_on(db, branch, version, shopper, demo_answers(version.checklist, 0.8, index), day).score)
    visit_on(db, other, version, shopper, demo_answers(version.checklist, 0.5, 99), date(2024, 3, 5))
    login(make_user("admin", locale="ru"))

    text = pdf_text(get_pdf(client, f"/reports/locations/{branch.id}.pdf", **H1))
    assert "Отделение на Тверской" in text and "Тверская ул., 7" in text
    assert "Визит в отделение банка" in text
    assert one(sum(scores) / 3).replace(".", ",") in text  # Russian decimal comma
    assert "Иван Петров" not in text
    assert "янв." in text or "февр." in text  # dates in Russian
    assert "Отчёт по точке" in text


def _russian_programme(db, make_region, make_location, make_user):
    """A branch whose visits use the Russian bank checklist (own Russian grade labels), and its visit."""
    region = make_region("Москва", code="MSK")
    branch = make_location(region, name="Отделение на Тверской", code="TV1")
    version = stored_version(db, REPO_ROOT / "checklists" / "bank-branch-ru.yaml")
    shopper = make_user("shopper", name="Иван Петров")
    visit = visit_on(db, branch, version, shopper, demo_answers(version.checklist, 0.8, 1), date(2024, 3, 1))
    return branch, visit


def test_pdfs_come_in_the_language_of_who_asked_not_of_the_checklist(db, client, login, make_region, make_location,
                                                                      make_user):
    """An English-speaking manager gets English reports of a Russian checklist; its texts stay in Russian."""
    branch, visit = _russian_programme(db, make_region, make_location, make_user)
    login(make_user("admin", locale="en"))
    period = {"from": "2024-01-01", "to": "2024-06-30"}
    network = pdf_text(get_pdf(client, "/reports/network.pdf", **period))
    assert "Summary report" in network and "Section scores" in network
    assert "Сводный отчёт" not in network
    assert "Отделение на Тверской" in network  # names and checklist texts as written
    location = pdf_text(get_pdf(client, f"/reports/locations/{branch.id}.pdf", **period))
    assert "Location report" in location and "Визит в отделение банка" in location
    assert f"{visit.score:.1f}" in location  # English decimal point
    report = pdf_text(get_pdf(client, f"/reports/visits/{visit.id}.pdf"))
    assert "Visit report" in report and "Вывеска и режим работы хорошо видны снаружи?" in report
    assert "Yes" in report and "Да" not in report.split()  # the answer is UI wording, the question is not
    assert visit.grade in report  # the checklist's own grade label, as written


def test_the_reader_who_asked_in_russian_gets_a_russian_pdf_of_an_english_checklist(client, login, make_user,
                                                                                      network):
    login(make_user("admin", locale="ru"))
    text = pdf_text(get_pdf(client, "/reports/network.pdf", **{"from": "2024-04-01", "to": "2024-06-30"}))
    assert "Greeting" in text  # the section title as written
    assert "Сводный отчёт" in text
    # the default grade bands in the reader's language: A1 averages 90.3 (Excellent), A2 50.0 (Poor)
    assert "Отлично" in text and "Плохо" in text and "Excellent" not in text
    # ?lang= still picks a language explicitly (a report made for someone else)
    english = pdf_text(get_pdf(client, "/reports/network.pdf", **{"from": "2024-04-01", "to": "2024-06-30",
                                                                   "lang": "en"}))
    assert "Summary report" in english


def test_region_and_network_summaries(client, login, make_user, network):
    login(make_user("admin"))
    text = pdf_text(get_pdf(client, f"/reports/regions/{network['north'].id}.pdf", **{"from": "2024-04-01",
                                                                                          "to": "2024-06-30"}))
    # A1: (100 + 80.6) / 2 = 90.3, previous quarter 80.6 -> +9.7; A2: (0 + 100) / 2 = 50.0, no previous visit.
    assert "Region North" in text
    assert text.index("A1") < text.index("A2")
    assert "90.3" in text and "+9.7" in text and "50.0" in text
    assert "Section scores" in text and "Greeting" in text and "Service" in text

    network_text = pdf_text(get_pdf(client, "/reports/network.pdf", **{"from": "2024-04-01", "to": "2024-06-30"}))
    assert "B1" in network_text and "South" in network_text and "100.0" in network_text


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_staff_in_scope_may_download(client, login, make_user, network, role):
    login(make_user(role, regions=[network["north"]] if role == "manager" else []))
    visit = network["visits"]["a1_q2_perfect"]
    assert client.get(f"/reports/visits/{visit.id}.pdf").status_code == 200


def test_access_rules(client, login, make_user, make_visit, network):
    north_manager = make_user("manager", regions=[network["north"]])
    south_visit = network["visits"]["b1_q2_perfect"]
    urls_south = [f"/reports/visits/{south_visit.id}.pdf", f"/reports/locations/{network['b1'].id}.pdf",
                  f"/reports/regions/{network['south'].id}.pdf", "/reports/network.pdf"]
    login(north_manager)
    for url in urls_south:
        assert client.get(url).status_code == 404, url
    assert client.get("/reports/visits/999999.pdf").status_code == 404
    planned = make_visit(location=network["a1"], checklist_version=network["version"])
    assert client.get(f"/reports/visits/{planned.id}.pdf").status_code == 404  # nothing submitted yet

    login(network["shopper"])
    own_visit = network["visits"]["a1_q2_perfect"]
    assert client.get(f"/reports/visits/{own_visit.id}.pdf").status_code == 403  # shoppers get no PDFs
    assert client.get("/reports/network.pdf").status_code == 403


def test_bad_period_is_a_clear_400(client, login, make_user, network):
    login(make_user("admin"))
    response = client.get(f"/reports/locations/{network['a1'].id}.pdf?from=2024-13-01")
    assert response.status_code == 400 and "2024-03-31" in response.get_data(as_text=True)
    response = client.get(f"/reports/locations/{network['a1'].id}.pdf?from=2024-05-01&to=2024-04-01")
    assert response.status_code == 400


def test_golden_look_of_the_score_card(tmp_path, client, login, make_user, db, network, make_location,
                                       make_checklist_version):
    """Page 1 rasterised: the score card carries its band colour (poor = red, excellent = green)."""
    login(make_user("admin"))
    pixels = {}
    for key in ("a2_q2_critical", "a1_q2_perfect"):
        pdf = get_pdf(client, f"/reports/visits/{network['visits'][key].id}.pdf")
        (tmp_path / f"{key}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(tmp_path / f"{key}.pdf"),
                        str(tmp_path / key)], check=True)
        image = Image.open(next(tmp_path.glob(f"{key}*.png"))).convert("RGB")
        width, _height = image.size
        # The score card sits top right, under the running header.
        pixels[key] = image.getpixel((int(width * 0.83), int(image.size[1] * 0.085)))
    assert pixels["a2_q2_critical"] == pytest.approx((0xC0, 0x39, 0x2B), abs=12)
    assert pixels["a1_q2_perfect"] == pytest.approx((0x1B, 0x7F, 0x3B), abs=12)


def test_sixty_questions_and_ten_photos_paginate(app, db, make_location, make_checklist_version, make_user):
    version = make_checklist_version(big_checklist(60))
    visit = make_scored_visit(db, make_location(), version, make_user("shopper"),
                              {f"q{i}": ("yes" if i % 7 else "no") for i in range(60)} | {"evidence": ["x"]},
                              datetime(2024, 5, 2, 9, 0, tzinfo=UTC))
    for number in range(10):
        add_photo(db, visit, "evidence", storage_of(app), number)
    from app.reports import documents

    pdf = documents.to_pdf(documents.visit_html(visit)).pdf
    pages = len(pdf_reader(pdf).pages)
    text = pdf_text(pdf)
    assert pages >= 3 and f"Page {pages} of {pages}" in text
    assert len(pdf_images(pdf)) == 10
    assert one(visit.score) in text
