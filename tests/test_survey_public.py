"""The public survey page behind the QR code, and the managers' survey pages and posters."""
import re
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import SurveyResponse
from app.models.types import utcnow
from app.surveys import services

GOOD_ANSWERS = {"nps": "9", "csat": "4", "ces": "6", "why": "Кассир был очень вежлив", "q_visit_purpose": "buy"}


@pytest.fixture(autouse=True)
def patient_customer(monkeypatch):
    """Customers take longer than the minimum fill time: the form is sent 20 seconds after it was shown."""
    monkeypatch.setattr(services, "utcnow", lambda: utcnow() + timedelta(seconds=20))


@pytest.fixture
def shop(make_location):
    return make_location(name="Магазин на Арбате", code="MSK01", address="Арбат, 1")


def open_form(client, shop, **headers):
    response = client.get(f"/s/{shop.survey_token}", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    started = re.search(r'name="started" value="([^"]+)"', page).group(1)
    return page, started


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(SurveyResponse))


def test_page_is_anonymous_small_and_without_the_staff_css(client, shop):
    response = client.get(f"/s/{shop.survey_token}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert len(response.data) < 30 * 1024
    assert "pico" not in page and "<script" not in page and "stylesheet" not in page  # nothing else to download
    assert "How likely are you to recommend us" in page and "Магазин на Арбате" in page
    assert len(re.findall(r'type="radio" id="nps-\d+"', page)) == 11
    assert len(re.findall(r'type="radio" id="csat-\d+"', page)) == 5
    assert len(re.findall(r'type="radio" id="ces-\d+"', page)) == 7
    assert 'name="csrf_token"' in page and 'name="website"' in page
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"] if "fa_device" in response.headers["Set-Cookie"] else ""
    device = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("fa_device=")]
    assert device and "HttpOnly" in device[0] and "SameSite=Lax" in device[0], cookie


def test_language_follows_the_browser_and_can_be_chosen(client, shop):
    page = client.get(f"/s/{shop.survey_token}", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Насколько вероятно, что вы порекомендуете нас" in page
    assert "Отправить" in page or "Send" in page  # the button goes through Flask-Babel
    assert 'lang="en"' in page  # a link to the other language
    page = client.get(f"/s/{shop.survey_token}?lang=en", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "How likely" in page
    page = client.get(f"/s/{shop.survey_token}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in page  # the survey's first language when the browser's is not offered


def test_answers_are_stored_and_the_customer_thanked(client, db, shop):
    _page, started = open_form(client, shop)
    response = client.post(f"/s/{shop.survey_token}?lang=ru", data={**GOOD_ANSWERS, "started": started})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{shop.survey_token}/thanks?lang=ru")
    answer = db.session.scalars(select(SurveyResponse)).one()
    assert (answer.location_id, answer.nps, answer.csat, answer.ces) == (shop.id, 9, 4, 6)
    assert answer.comment == "Кассир был очень вежлив"
    assert answer.extra == {"visit_purpose": "buy"}
    assert (answer.survey_id, answer.survey_version, answer.language, answer.source) == (
        "customer-feedback", 1, "ru", "web")
    assert answer.flagged is False and answer.flag_reason is None
    assert answer.fill_seconds >= 19
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Спасибо! Ваши ответы получит команда этого отделения." in thanks


def test_only_the_required_nps_is_needed(client, db, shop):
    _page, started = open_form(client, shop)
    assert client.post(f"/s/{shop.survey_token}", data={"nps": "0", "started": started}).status_code == 303
    answer = db.session.scalars(select(SurveyResponse)).one()
    assert (answer.nps, answer.csat, answer.ces, answer.comment, answer.extra) == (0, None, None, None, {})


@pytest.mark.parametrize("answers, message", [
    ({"csat": "5"}, "Please choose an answer."),                  # the required NPS is missing
    ({"nps": "11"}, "Please choose a number from 0 to 10."),
    ({"nps": "-1"}, "Please choose a number from 0 to 10."),
    ({"nps": "5", "csat": "6"}, "Please choose a number from 1 to 5."),
    ({"nps": "5", "ces": "0"}, "Please choose a number from 1 to 7."),
    ({"nps": "5", "q_visit_purpose": "steal"}, "Please choose one of the answers."),
    ({"nps": "5", "why": "x" * 1001}, "Please keep it under 1000 characters."),
])
def test_bad_answers_are_shown_again_with_the_problem_and_nothing_is_stored(client, db, shop, answers, message):
    _page, started = open_form(client, shop)
    response = client.post(f"/s/{shop.survey_token}?lang=en", data={**answers, "started": started})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    if answers.get("csat") == "5":
        assert 'id="csat-5" name="csat" value="5" checked' in page  # what the customer chose is kept
    assert count(db) == 0


def test_unknown_or_closed_links_get_a_friendly_page_not_the_login(client, db, shop):
    response = client.get("/s/no-such-token")
    assert response.status_code == 404
    assert "This survey link is not valid" in response.get_data(as_text=True)
    shop.active = False
    db.session.commit()
    assert client.get(f"/s/{shop.survey_token}").status_code == 404
    assert client.post(f"/s/{shop.survey_token}", data={"nps": "9"}).status_code == 404
    assert count(db) == 0


def test_without_a_valid_survey_file_the_page_says_so(app, client, shop, tmp_path):
    (tmp_path / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    app.config["SURVEYS_DIR"] = str(tmp_path)
    response = client.get(f"/s/{shop.survey_token}")
    assert response.status_code == 503
    assert "not available right now" in response.get_data(as_text=True)


def test_csrf_protects_the_public_form(app, client, db, shop):
    app.config["WTF_CSRF_ENABLED"] = True
    page, started = open_form(client, shop)
    response = client.post(f"/s/{shop.survey_token}", data={"nps": "9", "started": started})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert count(db) == 0
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/s/{shop.survey_token}", data={"nps": "9", "started": started, "csrf_token": token})
    assert response.status_code == 303
    assert count(db) == 1


# -- managers' pages ---------------------------------------------------------------------------

def add_answers(db, location, nps_values, **fields):
    for value in nps_values:
        db.session.add(SurveyResponse(location_id=location.id, survey_id="customer-feedback", nps=value, **fields))
    db.session.commit()


def test_survey_overview_shows_metrics_links_and_posters(client, login, manager, db, shop):
    add_answers(db, shop, [10, 10, 9, 8, 3])
    add_answers(db, shop, [0, 0, 0], flagged=True, flag_reason="duplicate")
    login(manager)
    page = client.get("/surveys/").get_data(as_text=True)
    assert "Магазин на Арбате" in page
    assert "40.0" in page  # (3 promoters - 1 detractor) / 5, the flagged answers left out
    assert f"/s/{shop.survey_token}" in page
    assert f"/surveys/locations/{shop.id}/poster.pdf?size=A6" in page
    assert ">3</span>" in page  # three flagged answers, shown apart
    page = client.get("/surveys/?flagged=1").get_data(as_text=True)
    assert "-12.5" in page  # (3 - 4) / 8 with the flagged ones


def test_overview_is_limited_to_the_managers_regions(client, login, make_user, make_location, make_region):
    north, south = make_region("North"), make_region("South")
    mine, other = make_location(north, name="Northern shop"), make_location(south, name="Southern shop")
    login(make_user("manager", regions=[north]))
    page = client.get("/surveys/").get_data(as_text=True)
    assert "Northern shop" in page and "Southern shop" not in page
    response = client.get(f"/surveys/locations/{other.id}/poster.pdf")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True) and "nav-links" in response.get_data(as_text=True)
    assert client.get(f"/surveys/locations/{mine.id}/poster.pdf?size=A5").status_code == 400


@pytest.mark.parametrize("size, width_mm", [("A4", 210), ("A6", 105)])
def test_poster_pdf_has_the_qr_link_and_cyrillic(client, login, manager, shop, tmp_path, size, width_mm):
    login(manager)
    response = client.get(f"/surveys/locations/{shop.id}/poster.pdf?size={size}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"survey-poster-MSK01-{size}.pdf" in response.headers["Content-Disposition"]
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Магазин на Арбате" in text and "Как прошёл ваш визит?" in text and "How was your visit?" in text
    assert shop.survey_token in text.replace("\n", "").replace(" ", "")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    points = float(re.search(r"Page size:\s+([\d.]+) x", info).group(1))
    assert abs(points / 72 * 25.4 - width_mm) < 1
    assert re.search(r"Pages:\s+1\n", info)


@pytest.mark.parametrize("size, dpi", [("A4", 100), ("A6", 200)])
def test_printed_poster_qr_code_scans_to_the_survey_link(app, client, login, manager, shop, tmp_path, size, dpi):
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (requirements-test.txt) decodes the QR code")
    app.config["PUBLIC_BASE_URL"] = "https://survey.example.com/"
    login(manager)
    (tmp_path / "poster.pdf").write_bytes(client.get(f"/surveys/locations/{shop.id}/poster.pdf?size={size}").data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(tmp_path / "poster.pdf"),
                    str(tmp_path / "poster")], check=True)
    # The Aruco-based detector finds every code of 80 random tokens at 100-300 dpi; the classic one misses 2-10 %
    # of them (CI failed on one), as a phone's camera app would not.
    decoded, _points, _code = cv2.QRCodeDetectorAruco().detectAndDecode(cv2.imread(str(tmp_path / "poster.png")))
    assert decoded == f"https://survey.example.com/s/{shop.survey_token}"


def test_poster_qr_code_is_inline_svg_that_scales(app, shop):
    from app.surveys.posters import qr_svg

    svg = str(qr_svg(f"https://example.com/s/{shop.survey_token}"))
    assert svg.startswith("<svg") and "<path" in svg and 'width="' not in svg.split(">")[0]


def test_shoppers_and_anonymous_users_cannot_see_the_manager_pages(client, login, shopper, shop):
    assert client.get("/surveys/").status_code == 302  # to the login page
    login(shopper)
    assert client.get("/surveys/").status_code == 403
    assert client.get(f"/surveys/locations/{shop.id}/poster.pdf").status_code == 403


def test_overview_plots_audit_score_against_nps(client, login, admin, db, make_location, make_checklist_version,
                                                make_user):
    from tests.factories_scored import CRITICAL_FAIL, PERFECT, SOME_LOSS, make_scored_visit

    version, shopper = make_checklist_version(), make_user("shopper")
    shops = []
    for code, answers, nps_values in (("GOOD", PERFECT, [10, 10, 9]), ("MID", SOME_LOSS, [9, 7, 3]),
                                      ("BAD", CRITICAL_FAIL, [0, 2, 8]), ("NEW", None, [9, 8])):
        location = make_location(code=code, name=f"Shop {code}")
        if answers is not None:
            make_scored_visit(db, location, version, shopper, answers)
        add_answers(db, location, nps_values)
        shops.append(location)
    login(admin)
    page = client.get("/surveys/?sort=nps&dir=desc").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count("<circle") == 3  # NEW has no audit score yet, so it is not plotted
    assert "GOOD: audit 100.0, NPS 100.0 (n=3)" in svg
    assert "BAD: audit 0.0, NPS -66.7 (n=3)" in svg
    assert "Correlation (Pearson r): 0.9" in page  # the standards and the customers agree here
    order = [page.index(f"Shop {code}") for code in ("GOOD", "NEW", "MID", "BAD")]
    assert order == sorted(order)  # sorted by NPS, best first
