"""The phone form's bottom bar says what became of a visit once it is no longer being filled."""
from datetime import UTC, datetime, timedelta

import pytest

from app.models import VisitStatus
from tests.browser.fill_helpers import open_form, sign_in
from tests.factories_scored import make_scored_visit


@pytest.mark.parametrize(("status", "words"), [(VisitStatus.submitted, "Submitted"),
                                               (VisitStatus.approved, "Approved")])
def test_a_closed_visit_opened_on_a_phone_shows_its_state_not_zero_answered(page, live_server, db, shopper,
                                                                          make_location, make_checklist_version,
                                                                          status, words):
    """Opened on a phone that never held its answers, a submitted visit is not "0 of 6 answered"."""
    visit = make_scored_visit(db, make_location(), make_checklist_version(), shopper, None,
                              datetime.now(UTC) - timedelta(days=1), status)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    page.wait_for_load_state("networkidle")
    count = page.locator(".bar-count")
    assert count.inner_text() == words
    assert "answered" not in page.locator(".bar").inner_text()
