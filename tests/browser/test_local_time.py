"""The phone form in the store's time: the window warning checked on the phone's clock, times in the store's zone."""
import re
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from app.localtime import to_local, today_at
from tests.browser.conftest import screenshot_dir
from tests.browser.fill_helpers import allow_position, bar, choose, open_form, reload_visit, sign_in

ONE_QUESTION = textwrap.dedent("""\
    id: one-question
    version: 1
    title: One question
    sections:
      - id: s
        title: Only section
        questions:
          - id: greeted
            text: Greeted?
            type: yes_no
""")


@pytest.fixture
def context(browser):
    """A phone set to New York time: the store's clock must win over the phone's."""
    from tests.browser.conftest import PHONE

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB",
                                  timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def store(make_region, make_location):
    return make_location(make_region("Приморье", timezone="Asia/Vladivostok"), name="Светланская")


def test_early_visit_is_warned_then_started_and_submitted_in_store_time(page, context, live_server, shopper,
                                                                        store, make_visit, make_checklist_version):
    today = today_at(store)
    visit = make_visit(location=store, shopper=shopper, checklist_version=make_checklist_version(ONE_QUESTION),
                       window_start=today + timedelta(days=1), window_end=today + timedelta(days=5))
    allow_position(context, live_server)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    warning = page.locator("#window-warning")
    assert warning.is_visible() and warning.inner_text().startswith("The window opens in 1 day.")
    assert page.get_by_text("(store time: Vladivostok, UTC+10)").is_visible()
    if screenshot_dir():
        page.screenshot(path=f"{screenshot_dir()}/fill-window-warning.png")

    bar(page, "start").click()  # a warning, not a block
    choose(page, "greeted", "Yes")
    bar(page, "submit").click()
    page.locator(".submit-confirm").click()
    done = page.locator(".done-text", has_text="Received")
    done.wait_for(timeout=15_000)
    stored = reload_visit(visit.id)
    local = to_local(stored.submitted_at, store).strftime("%H:%M")
    assert f"{local} (Vladivostok, UTC+10)" in done.inner_text()


def test_the_phone_rechecks_the_window_with_its_own_clock(page, context, live_server, shopper, store, make_visit,
                                                          make_checklist_version):
    today = today_at(store)
    visit = make_visit(location=store, shopper=shopper, checklist_version=make_checklist_version(ONE_QUESTION),
                       window_start=today, window_end=today + timedelta(days=1))
    sign_in(page, live_server, shopper)
    # An offline copy opened four days later: the server said nothing, the phone's calendar says late.
    page.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=4))
    open_form(page, live_server, visit)
    warning = page.locator("#window-warning")
    assert warning.is_visible()
    assert re.match(r"The window closed 3 days ago\. You can still start", warning.inner_text())
