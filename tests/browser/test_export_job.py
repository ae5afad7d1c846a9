"""A manager presses an export button on the dashboard, watches the job's progress and downloads the file."""
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import screenshot_dir
from tests.factories_scored import build_network

Q2 = "period=custom&start=2024-04-01&end=2024-06-30"


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_export_button_leads_to_progress_and_the_download(page, live_server, browser_login, manager, network,
                                                               size, lang):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    browser_login(manager)
    if lang == "ru":
        page.goto(f"{live_server}/")
        page.click("form[action*='/language/ru'] button")
    page.goto(f"{live_server}/dashboard/?{Q2}")
    if (directory := screenshot_dir()):
        page.locator("nav.exports").scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(directory, f"export-buttons-{lang}-{size[0]}.png"))
    page.click("button[formaction*='/dashboard/export/answers.xlsx']")
    page.wait_for_url("**/dashboard/exports/*")
    link = page.locator("#job-download")
    link.wait_for(state="visible")  # job.js polled the state until the file was ready
    assert page.locator("#job-progress").get_attribute("value") == "100"
    assert page.locator("#job-text").inner_text() == ("Ready: 40 rows." if lang == "en" else "Готово, строк: 40.")
    if directory:
        page.wait_for_timeout(400)  # the bar's transition
        page.screenshot(path=os.path.join(directory, f"export-job-{lang}-{size[0]}x{size[1]}.png"), full_page=True)
    with page.expect_download() as download:
        link.click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()
    assert rows[0][0] == "visit_id" and len(rows) == 41
