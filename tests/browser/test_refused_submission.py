"""A submission the server refuses for good (a 4xx) is not retried forever: the shopper is told why,
and the answers stay on the phone to be corrected (issue #12)."""
import textwrap

import pytest

from app.models import VisitStatus
from tests.browser.fill_helpers import bar, open_form, reload_visit, sign_in

ONE_TEXT = textwrap.dedent("""\
    id: one-text
    version: 1
    title: One note
    sections:
      - id: main
        title: Main
        questions:
          - {id: note, text: What did you notice?, type: text, required: true}
""")


@pytest.fixture
def visit(make_visit, make_checklist_version, shopper):
    return make_visit(shopper=shopper, checklist_version=make_checklist_version(ONE_TEXT, path="checklists/o.yaml"))


def test_a_refused_submission_says_why_and_keeps_the_answers(page, live_server, shopper, visit):
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    bar(page, "start").click()
    # A character the database cannot store (pasted from a broken app, say) in the answer.
    page.evaluate("""() => {
      const box = document.querySelector('textarea[name=note]');
      box.value = 'Clean shop\\u0000';
      box.dispatchEvent(new Event('input', { bubbles: true }));
    }""")
    bar(page, "submit").click()
    page.locator("#submit-dialog .submit-confirm").click()
    page.locator(".bar-sync", has_text="cannot be stored").wait_for(timeout=15_000)
    assert reload_visit(visit.id).status != VisitStatus.submitted
    # Still there after the tab is closed and opened again, for the shopper to correct.
    page.goto(f"{live_server}/visits/")
    open_form(page, live_server, visit)
    assert page.locator("textarea[name=note]").input_value().startswith("Clean shop")

