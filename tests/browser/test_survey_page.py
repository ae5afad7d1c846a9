"""A customer scans the QR code and answers on a phone: taps only, tiny page, stored answer."""
import os

import pytest
from sqlalchemy import select

from app.models import SurveyResponse
from tests.browser.conftest import PHONE, screenshot_dir


@pytest.fixture
def app_config(app_config):
    app_config["SURVEY_MIN_FILL_SECONDS"] = 1
    return app_config


@pytest.fixture
def shop(make_location):
    return make_location(name="Магазин на Арбате", code="MSK01")


def shot(page, name):
    folder = screenshot_dir()
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=False)


def stored(db) -> list[SurveyResponse]:
    db.session.expire_all()
    return list(db.session.scalars(select(SurveyResponse)))


def test_customer_answers_with_taps_and_is_thanked(page, live_server, shop, db):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    response = page.goto(f"{live_server}/s/{shop.survey_token}?lang=ru")
    page.wait_for_load_state("networkidle")
    assert len(requests) == 1, requests  # one request: no CSS, script, font or icon to fetch
    assert len(response.body()) + sum(map(len, response.headers.values())) < 30 * 1024
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    shot(page, "survey-public")

    boxes = [page.locator(f"label[for=nps-{value}]").bounding_box() for value in range(11)]
    assert all(box["height"] >= 44 and box["width"] >= 44 for box in boxes)
    assert len({round(box["y"]) for box in boxes}) == 2  # 0-10 in two rows on a phone
    for selector in ("label[for=nps-9]", "label[for=csat-4]", "label[for=ces-6]", "label[for=q_visit_purpose-2]"):
        page.tap(selector)
    assert page.is_checked("#nps-9") and page.is_checked("#csat-4") and page.is_checked("#ces-6")
    page.tap("label[for=nps-10]")  # changing one's mind is one more tap
    assert page.is_checked("#nps-10") and not page.is_checked("#nps-9")
    page.fill("#why", "Быстро и вежливо")
    page.wait_for_timeout(1100)  # a person takes longer than the minimum fill time
    page.tap("button[type=submit]")
    page.wait_for_url(f"**/s/{shop.survey_token}/thanks?lang=ru")
    assert "Спасибо!" in page.inner_text("h1")
    shot(page, "survey-thanks")

    (answer,) = stored(db)
    assert (answer.nps, answer.csat, answer.ces, answer.comment) == (10, 4, 6, "Быстро и вежливо")
    assert answer.extra == {"visit_purpose": "advice"} and answer.language == "ru"
    assert answer.flagged is False


def test_page_works_without_javascript_and_shows_problems(browser, live_server, shop, db):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False,
                                  locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/s/{shop.survey_token}")
        assert page.inner_text("h1") == "How was your visit?"
        page.tap("label[for=csat-5]")
        with page.expect_navigation():
            page.tap("button[type=submit]")  # the required NPS is missing
        assert "Please choose an answer." in page.inner_text("#f-nps")
        assert page.is_checked("#csat-5")  # the answer given is kept
        assert stored(db) == []
        page.tap("label[for=nps-3]")
        page.wait_for_timeout(1100)
        page.tap("button[type=submit]")
        page.wait_for_url("**/thanks?lang=en")
        (answer,) = stored(db)
        assert (answer.nps, answer.csat) == (3, 5)
    finally:
        context.close()
