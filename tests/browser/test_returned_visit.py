"""A returned visit on a phone: it opens at the first question the reviewer marked, the reviewer's note beside
it and the return comment above every step."""
import os

import pytest

from app.extensions import db
from app.models import VisitStatus
from app.models.types import utcnow
from app.visits import lifecycle
from tests.browser.conftest import screenshot_dir
from tests.browser.fill_helpers import EVERY_TYPE_CHECKLIST, bar, open_form, reload_visit, sign_in


@pytest.fixture
def visit(make_visit, make_checklist_version, make_location, shopper):
    version = make_checklist_version(EVERY_TYPE_CHECKLIST)
    location = make_location(name="Coffee Corner", code="MSK-07", address="Tverskaya 1")
    return make_visit(shopper=shopper, checklist_version=version, location=location)


def shot(page, name):
    folder = screenshot_dir()
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=False)


def hand_in_and_return(visit_id, manager, comment, marks):
    """Do on the server what submitting and the reviewer's return would: the phone keeps its own draft."""
    visit = reload_visit(visit_id)
    visit.status, visit.submitted_at = VisitStatus.submitted, utcnow()
    lifecycle.return_for_correction(visit, manager, comment, marks=marks)
    db.session.commit()


def test_returned_visit_opens_at_the_marked_question_with_the_notes(page, live_server, shopper, manager, visit):
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    bar(page, "start").click()
    page.locator("#s-welcome").wait_for()  # the phone now remembers section 1 as where the shopper was
    for _try in range(100):  # the start reaches the server in the background
        if reload_visit(visit.id).status == VisitStatus.in_progress:
            break
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")

    hand_in_and_return(visit.id, manager, "Please complete the evidence section.",
                       {"notes": "Write what the barista said about the delivery."})
    assert reload_visit(visit.id).status == VisitStatus.returned

    open_form(page, live_server, visit)
    evidence = page.locator("#s-evidence")
    evidence.wait_for()
    assert evidence.is_visible() and not page.locator("#s-welcome").is_visible()
    assert page.locator(".bar-menu-label").inner_text() == "☰ 3/3"
    note = page.locator("#q-notes .q-mark")
    assert note.is_visible() and note.inner_text() == "Reviewer: Write what the barista said about the delivery."
    assert page.locator("#q-notes").evaluate("el => el.getBoundingClientRect().top < window.innerHeight")
    box = page.locator("#return-box")
    assert box.is_visible() and "Please complete the evidence section." in box.inner_text()
    assert "1 question to correct:" in box.inner_text()
    shot(page, "returned-phone-form")

    # The return comment stays in view on every step, and the shopper's own place wins from now on.
    bar(page, "back").click()
    assert page.locator("#s-service").is_visible() and box.is_visible()
    page.wait_for_timeout(300)  # the step is kept on the phone (IndexedDB) asynchronously
    open_form(page, live_server, visit)
    page.locator("#s-service").wait_for()
    assert not evidence.is_visible()

    # The list in the return box takes the shopper to a marked question.
    page.locator("[data-goto-q=notes]").click()
    assert evidence.is_visible()
