"""The Russian catalogue is complete and faithful, and the main pages really come out in Russian."""
import ast
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import url_for

from app.models import VisitStatus
from app.visits.answer_messages import MESSAGES
from tests.factories_scored import SOME_LOSS, make_scored_visit
from tests.reports_helpers import pdf_text

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifg]|\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def visible_text(response) -> str:
    """Return the page's words as a reader sees them (no tags, scripts or styles)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def leftovers(text: str, english: list[str]) -> list[str]:
    """Return the English labels (as whole words) still on the page."""
    return [word for word in english if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


# -- the catalogue ----------------------------------------------------------------------------------

def test_every_message_is_translated_without_fuzzy_and_keeps_its_placeholders():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        expected = set().union(*(placeholders(i) for i in ids))
        for string in strings:
            # A plural form may leave out the count ("one photo"), never add or rename a placeholder.
            found = placeholders(string)
            required = expected if len(ids) == 1 else expected - {"num"}
            if found - expected or not required <= found:
                problems.append(f"placeholders of {ids[0]!r}: {sorted(expected)} -> {string!r}")
    assert problems == []
    assert len(catalog) > 600


def _templates(path: Path, callers: set[str]) -> set[str]:
    """Return the first string argument of every call of `callers` in a source file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in callers:
                for arg in node.args:
                    found |= _strings(arg)
    return found


def _strings(node) -> set[str]:
    """Return the text of a string literal, or of both branches of `"a" if x else "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def test_every_answer_problem_the_engine_can_report_has_a_translation():
    produced = (_templates(ROOT / "app/checklists/questions.py", {"AnswerError"})
                | _templates(ROOT / "app/scoring.py", {"AnswerError", "of"})
                | _templates(ROOT / "app/visits/lifecycle.py", {"of"}))
    assert len(produced) > 15
    assert produced - set(MESSAGES) == set()


# -- pages in Russian -------------------------------------------------------------------------------

@pytest.fixture
def field(db, make_location, make_checklist_version, make_user, make_visit):
    """A shopper with a planned visit and a submitted one; a manager who reviews."""
    version = make_checklist_version()
    shopper = make_user("shopper", name="Сергей Покупатель")
    manager = make_user("manager", name="Мария Менеджер")
    location = make_location(name="Магазин на Арбате", latitude=55.75, longitude=37.61)
    planned = make_visit(location=location, checklist_version=version, shopper=shopper)
    submitted = make_scored_visit(db, location, version, shopper, SOME_LOSS, datetime.now(UTC) - timedelta(days=1),
                                  VisitStatus.submitted, geolocation="granted", start_latitude=55.7501,
                                  start_longitude=37.6101, start_accuracy=20)
    return {"shopper": shopper, "manager": manager, "planned": planned, "submitted": submitted}


def test_login_page_is_in_russian(client):
    text = visible_text(client.get("/login", headers=RU))
    assert "Войти" in text and "Пароль" in text
    assert leftovers(text, ["Sign in", "Password", "Email", "E-mail"]) == []


def test_shopper_pages_are_in_russian(app, client, login, field):
    login(field["shopper"])
    text = visible_text(client.get("/visits/", headers=RU, follow_redirects=True))
    assert "Мои визиты" in text
    assert leftovers(text, ["My visits", "Window", "Overdue", "Submitted", "Upcoming"]) == []

    with app.test_request_context():
        fill = url_for("field.fill", visit_id=field["planned"].id)
    response = client.get(fill, headers=RU)
    text = visible_text(response)
    assert "Разделы" in text and "Вопросы" in text
    assert leftovers(text, ["Visit details", "Questions", "Sections", "sections", "Start the visit", "Submit"]) == []
    # The phone's texts: counted ones come as the three Russian forms, picked in the browser.
    texts = json.loads(re.search(r'id="fill-text">(.*?)</script>', response.get_data(as_text=True), re.S).group(1))
    assert texts["photos_needed"] == ["Добавьте хотя бы {n} фотографию.", "Добавьте хотя бы {n} фотографии.",
                                      "Добавьте хотя бы {n} фотографий."]
    assert texts["start"] == "Старт" and "аннулирован" in texts["not_editable"]


def test_manager_pages_are_in_russian(client, login, field):
    login(field["manager"])
    text = visible_text(client.get("/", headers=RU, follow_redirects=True))
    assert "Панель" in text or "Дашборд" in text
    assert leftovers(text, ["Dashboard", "compared with", "Review", "Planning"]) == []

    text = visible_text(client.get(f"/review/visits/{field['submitted'].id}", headers=RU))
    assert "Отправлен" in text and "Баллы:" in text and "секундомер" in text
    assert leftovers(text, ["pts", "stopwatch", "target", "limit", "answered at", "granted", "Approve",
                            "Submitted", "n/a", "s per answer"]) == []
    assert re.search(r"\d+ м\b", text)  # distances in Russian units


def test_planning_page_says_voided_in_russian(client, login, field):
    login(field["manager"])
    text = visible_text(client.get("/planning/?status=all", headers=RU))
    assert "Аннулирован" in text and "Отменён" not in text
    assert leftovers(text, ["visit(s)", "Planned", "Cancelled", "Voided"]) == []


def test_api_answer_problems_are_in_the_users_language(client, login, field):
    login(field["shopper"])
    visit = field["planned"]
    answers = {"tone": 9, "greeted": "maybe"}
    english = client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": answers}).get_json()
    russian = client.put(f"/api/v1/visits/{visit.id}/draft", json={"answers": answers}, headers=RU).get_json()
    by_question = {p["question_id"]: p["message"] for p in russian["problems"]}
    assert by_question["tone"] == "9 — вне шкалы 1..5"
    assert by_question["greeted"] == "нужен ответ «да» или «нет», получено: 'maybe'"
    assert russian["message"] != english["message"]
    assert {p["message"] for p in english["problems"]} == {
        "9 is outside the scale 1..5", "expected \"yes\" or \"no\", got 'maybe'"}


def test_visit_pdf_is_in_russian(client, login, field):
    login(field["manager"])
    response = client.get(f"/reports/visits/{field['submitted'].id}.pdf", query_string={"lang": "ru"})
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", pdf_text(response.data))
    assert "Страница 1 из 1" in text and "версия 1" in text
    assert leftovers(text, ["Page", "version", "Score", "Section", "Checklist", "Shopper"]) == []


# -- the reader's language beside the checklist's texts -------------------------------------------

#: The default grade bands' labels as a Russian reader reads them.
RUSSIAN_GRADES = {"Excellent": "Отлично", "Good": "Хорошо", "Needs improvement": "Требует улучшения", "Poor": "Плохо"}


def test_default_grades_are_shown_in_the_readers_language(app, client, login, field):
    """A visit graded on the default bands reads "Хорошо" in the Russian UI and PDF, "Good" in the English one."""
    visit = field["submitted"]
    assert visit.grade in RUSSIAN_GRADES  # stored as the checklist's band says, in English
    russian = RUSSIAN_GRADES[visit.grade]
    login(field["manager"])
    for url in (f"/review/visits/{visit.id}", "/review/"):
        text = visible_text(client.get(url, headers=RU))
        assert russian in text and leftovers(text, [visit.grade]) == [], url
        assert visit.grade in visible_text(client.get(url))
    pdf = re.sub(r"\s+", " ", pdf_text(client.get(f"/reports/visits/{visit.id}.pdf", headers=RU).data))
    assert russian in pdf and leftovers(pdf, [visit.grade]) == []

    login(field["shopper"])
    with app.test_request_context():
        fill = url_for("field.fill", visit_id=field["planned"].id)
    page = client.get(fill, headers=RU).get_data(as_text=True)
    texts = json.loads(re.search(r'id="fill-text">(.*?)</script>', page, re.S).group(1))
    assert texts["grades"] == RUSSIAN_GRADES  # the score the phone shows after submitting


@pytest.fixture
def russian_checklist_visit(db, make_location, make_user, make_visit):
    """A planned and a submitted visit of the Russian bank checklist (its own Russian grade labels)."""
    from tests.reports_helpers import REPO_ROOT, demo_answers, stored_version

    version = stored_version(db, REPO_ROOT / "checklists" / "bank-branch-ru.yaml")
    shopper = make_user("shopper")
    location = make_location(name="Отделение на Тверской")
    answers = {**demo_answers(version.checklist, 0.9, 3), "signage_ok": "yes", "atm_working": "na"}
    submitted = make_scored_visit(db, location, version, shopper, answers, datetime.now(UTC) - timedelta(days=1),
                                  VisitStatus.submitted)
    planned = make_visit(location=location, checklist_version=version, shopper=shopper)
    return {"shopper": shopper, "planned": planned, "submitted": submitted}


@pytest.mark.parametrize(("headers", "yes", "no", "na"), [
    ({}, "Yes", "No", "Not applicable"),
    (RU, "Да", "Нет", "Не применимо"),
])
def test_answer_words_follow_the_reader_and_questions_stay_as_written(app, client, login, make_user,
                                                                     russian_checklist_visit, headers, yes, no, na):
    """UI words (Yes / No / Not applicable) in the reader's language; the checklist's questions as written."""
    visit = russian_checklist_visit["submitted"]
    login(russian_checklist_visit["shopper"])
    with app.test_request_context():
        fill = url_for("field.fill", visit_id=russian_checklist_visit["planned"].id)
    form = client.get(fill, headers=headers).get_data(as_text=True)
    question = re.search(r'<fieldset class="q" id="q-atm_working".*?</fieldset>', form, re.S).group(0)
    assert "Банкоматы и терминалы в отделении работали?" in question
    assert re.findall(r'<label class="opt[^"]*"><input[^>]*><span>([^<]+)</span>', question) == [yes, no, na]

    login(make_user("admin"))
    review = visible_text(client.get(f"/review/visits/{visit.id}", headers=headers))
    assert "Вывеска и режим работы хорошо видны снаружи?" in review
    assert f" {yes} " in review and f" {na} " in review
    assert visit.grade in review  # the checklist's own grade label ("Отлично"), as written
    pdf = re.sub(r"\s+", " ", pdf_text(client.get(f"/reports/visits/{visit.id}.pdf", headers=headers).data))
    assert "Банкоматы и терминалы в отделении работали?" in pdf and f" {na}" in pdf and f" {yes}" in pdf
