"""Words wrap between words, never inside one, in both languages and at phone and laptop size (issue #17).

Chromium here has no hyphenation dictionaries (browsers that have them hyphenate by <html lang>), so these
tests hold the layout itself: every box that holds words is at least as wide as its longest word.
"""
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE
from tests.browser.fill_helpers import open_form, sign_in
from tests.reports_helpers import REPO_ROOT, demo_answers, stored_version, visit_on

BROKEN_WORDS = (Path(__file__).parent / "broken_words.js").read_text()
SIZES = {"phone": PHONE, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture(params=[("ru", "phone"), ("ru", "laptop"), ("en", "phone"), ("en", "laptop")],
                ids=lambda p: "-".join(p))
def reader(request, browser):
    """A browser page in a language (its Accept-Language) at a size."""
    lang, size = request.param
    context = browser.new_context(viewport=SIZES[size], locale="ru-RU" if lang == "ru" else "en-GB",
                                  is_mobile=size == "phone", has_touch=size == "phone")
    context.set_default_timeout(10_000)
    yield lang, context.new_page()
    context.close()


def broken_words(page) -> list[str]:
    return page.evaluate(BROKEN_WORDS)


def test_admin_tiles_keep_their_words_whole(reader, live_server, make_user):
    lang, page = reader
    admin = make_user("admin")
    sign_in(page, live_server, admin)
    page.goto(f"{live_server}/admin/")
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator(".counts").is_visible()
    assert broken_words(page) == []  # "Администратор ы", "Деактивированны е" before


def test_heatmap_headers_keep_their_words_whole(reader, live_server, db, make_region, make_location, make_user):
    lang, page = reader
    version = stored_version(db, REPO_ROOT / "checklists" / "bank-branch-ru.yaml")
    shopper = make_user("shopper")
    region = make_region("Москва")
    day = date.today() - timedelta(days=3)
    for n in range(3):
        location = make_location(region, name=f"Отделение {n}")
        visit_on(db, location, version, shopper, demo_answers(version.checklist, 0.7, n), day)
    sign_in(page, live_server, make_user("manager", regions=[region]))
    page.goto(f"{live_server}/dashboard/?checklist=bank-branch-ru")
    headers = page.locator("table.heatmap thead th.rot")
    assert "Приветствие" in headers.all_inner_texts()
    assert broken_words(page) == []


def test_scale_labels_keep_their_words_whole(reader, live_server, shopper, make_visit, make_checklist_version):
    lang, page = reader
    version = make_checklist_version("""
id: tone-check
version: 1
title: Tone check
sections:
  - id: welcome
    title: Welcome
    questions:
      - id: tone
        text: How warm was the greeting?
        type: scale
        labels: {1: Cold or rude, 2: Indifferent, 3: Polite, 4: Friendly, 5: Warm and personal}
""")
    visit = make_visit(shopper=shopper, checklist_version=version)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    page.locator(".bar-start").click()
    page.locator("#q-tone").wait_for()
    boxes = [page.locator(f"#q-tone input[value='{n}'] + span").bounding_box() for n in range(1, 6)]
    assert len({round(box["y"]) for box in boxes}) == 1  # the five points stay on one row
    assert broken_words(page) == []  # "Indiffer ent", "persona l" before
