"""The phone loses its network mid-visit: the form keeps working, submits into a queue, and syncs once."""
import re

import pytest

from app.models import Answer, VisitStatus
from tests.browser.fill_helpers import (
    EVERY_TYPE_CHECKLIST,
    allow_position,
    bar,
    choose,
    make_jpeg,
    open_form,
    photos_of,
    reload_visit,
    sign_in,
    submissions,
    wait_status,
)

RESEND_SAME_SUBMISSION = """async (visitId) => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('fieldaudit-form'); r.onsuccess = () => ok(r.result); r.onerror = fail;
  });
  const box = await new Promise((ok) => {
    const r = db.transaction('outbox').objectStore('outbox').get(visitId); r.onsuccess = () => ok(r.result);
  });
  const token = (await (await fetch('/api/v1/csrf')).json()).csrf_token;
  const res = await fetch(`/api/v1/visits/${visitId}/submit`, {
    method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: JSON.stringify({client_submission_id: box.client_submission_id, ...box.payload}),
  });
  return {status: res.status, state: box.state};
}"""


@pytest.fixture
def visit(make_visit, make_checklist_version, shopper):
    return make_visit(shopper=shopper, checklist_version=make_checklist_version(EVERY_TYPE_CHECKLIST))


def wait_offline_ready(page):
    """Wait until the service worker holds the page, its data and its files."""
    page.wait_for_function("() => document.documentElement.dataset.offline === '1'", timeout=15_000)


def test_offline_reload_submit_and_sync_once(page, context, live_server, shopper, visit, tmp_path, db):
    allow_position(context, live_server)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    wait_offline_ready(page)
    bar(page, "start").click()
    page.get_by_text("Position recorded").wait_for()
    choose(page, "greeted", "Yes")
    choose(page, "tone", "5")
    wait_status(page, "Saved")
    assert reload_visit(visit.id).draft["answers"] == {"greeted": "yes", "tone": 5}

    # The network goes away in the middle of the visit.
    context.set_offline(True)
    bar(page, "next").click()
    choose(page, "offer", "Offered and packed")
    page.locator("#q-price input").fill("120")
    choose(page, "purchased", "No")
    page.locator("#q-wait .sw-toggle").click()
    page.wait_for_timeout(1200)
    page.locator("#q-wait .sw-toggle").click()
    timed = page.locator("#q-wait input[name=wait]").input_value()
    page.locator("#q-queue_time input[name=queue_time]").fill("1:05")
    page.locator("#q-queue_time input[name=queue_time]").blur()
    wait_status(page, "Waiting for network — will send automatically")

    # Reloading without a network: the service worker serves the form, IndexedDB the answers.
    page.reload()
    page.wait_for_selector("html[data-ready='1']")
    assert page.locator("#s-service").is_visible()
    assert page.locator("#q-offer input[value=full]").is_checked()
    assert page.locator("#q-price input").input_value() == "120"
    assert page.locator("#q-wait input[name=wait]").input_value() == timed
    assert page.locator("#q-queue_time input[name=queue_time]").input_value() == "1:05"
    assert not page.locator("#q-receipt").is_visible()
    bar(page, "next").click()
    page.locator("#q-notes textarea[name=notes]").fill("Filled without a network")
    page.locator("#q-shelf .ph-input").set_input_files(make_jpeg(tmp_path / "shelf.jpg"))
    page.locator("#q-shelf .ph-item .ph-badge", has_text="Waiting to upload").wait_for()

    bar(page, "submit").click()
    page.locator("#submit-dialog .submit-confirm").click()
    page.locator(".done-title", has_text="Visit saved on this phone").wait_for()
    wait_status(page, "Waiting for network — will send automatically")
    page.wait_for_timeout(500)
    assert submissions(visit.id) == 0 and photos_of(visit.id) == []

    # The network returns: the photo, then the submission go out by themselves.
    context.set_offline(False)
    wait_status(page, "Sent ✓ received by the server at", timeout=40_000)
    page.locator(".done-title", has_text="Visit submitted").wait_for()

    stored = reload_visit(visit.id)
    assert stored.status == VisitStatus.submitted
    assert submissions(visit.id) == 1
    (photo,) = photos_of(visit.id)
    answers = {a.question_id: a for a in db.session.query(Answer).filter_by(visit_id=visit.id)}
    assert {qid: a.value for qid, a in answers.items() if a.status != "hidden"} == {
        "greeted": "yes", "tone": 5, "wait": int(timed.split(":")[1]), "queue_time": 65, "offer": "full",
        "price": 120, "purchased": "no", "notes": "Filled without a network", "shelf": [photo.token],
    }
    assert answers["receipt"].status == "hidden"
    assert all(a.first_answered_at for a in answers.values() if a.status != "hidden")
    assert stored.start_latitude is not None and stored.submit_latitude is not None

    # The same submission sent again (a second tab, a retry after a lost answer) is stored once.
    again = page.evaluate(RESEND_SAME_SUBMISSION, visit.id)
    assert again == {"status": 200, "state": "sent"}
    assert submissions(visit.id) == 1 and len(photos_of(visit.id)) == 1

    # Reopening shows the receipt, not an empty form.
    open_form(page, live_server, visit)
    page.locator(".done-title", has_text="Visit submitted").wait_for()


def test_expired_session_keeps_the_queue_until_sign_in(page, context, live_server, shopper, visit, tmp_path):
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    wait_offline_ready(page)
    bar(page, "start").click()
    choose(page, "greeted", "Yes")
    choose(page, "tone", "3")
    wait_status(page, "Saved")

    # A day later the session has expired; the form still opens from the phone.
    context.clear_cookies()
    page.reload()
    page.wait_for_selector("html[data-ready='1']")
    bar(page, "next").click()
    choose(page, "offer", "Not offered")
    page.locator("#q-offer .cmt-add").click()
    page.locator("#q-offer textarea").fill("Cashier busy on the phone")
    page.locator("#q-wait input[name=wait]").fill("45")
    page.locator("#q-queue_time input[name=queue_time]").fill("2:00")
    page.locator("#q-price input").fill("99")
    choose(page, "purchased", "Yes")
    choose(page, "receipt", "Yes")
    bar(page, "next").click()
    page.locator("#q-shelf .ph-input").set_input_files(make_jpeg(tmp_path / "p.jpg"))
    page.locator("#q-shelf .ph-item img").wait_for()
    bar(page, "submit").click()
    page.locator("#submit-dialog .submit-confirm").click()
    signin = page.locator(".bar-signin")
    signin.wait_for()
    assert "sign in again" in page.locator(".bar-sync").inner_text().lower()
    assert submissions(visit.id) == 0

    # Signing in returns to the visit, which then sends what waited.
    signin.click()
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("input[name=email]", shopper.email)
    page.fill("input[name=password]", "correct horse battery")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(rf"/visits/{visit.id}/fill$"))
    wait_status(page, "Sent ✓ received by the server at", timeout=30_000)
    assert submissions(visit.id) == 1
    answers = {a.question_id: a for a in reload_visit(visit.id).answers}
    assert answers["offer"].comment == "Cashier busy on the phone"
    assert answers["receipt"].value == "yes" and answers["tone"].value == 3
    assert len(answers["shelf"].value) == 1
