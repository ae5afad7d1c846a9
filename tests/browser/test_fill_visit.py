"""A shopper fills a whole visit on a phone: every question type, the stopwatch, a photo, submit."""
import os
import re

import pytest

from app.models import Answer, VisitStatus
from tests.browser.conftest import screenshot_dir
from tests.browser.fill_helpers import (
    EVERY_TYPE_CHECKLIST,
    MOSCOW,
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


@pytest.fixture
def visit(make_visit, make_checklist_version, make_location, shopper):
    version = make_checklist_version(EVERY_TYPE_CHECKLIST)
    location = make_location(name="Coffee Corner", code="MSK-07", address="Tverskaya 1")
    return make_visit(shopper=shopper, checklist_version=version, location=location,
                      instructions="Buy a coffee and ask for a receipt.")


def shot(page, name):
    folder = screenshot_dir()
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=False)


def test_fill_every_question_type_and_submit(page, context, live_server, shopper, visit, tmp_path, db):
    allow_position(context, live_server)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)

    # Intro: where, when, the scenario; one big button under the thumb.
    assert page.get_by_text("Buy a coffee and ask for a receipt.").is_visible()
    shot(page, "fill-intro")
    bar(page, "start").click()
    page.get_by_text("Position recorded").wait_for()

    # Section 1: yes/no with a comment that becomes required on "No"; scale with labels.
    assert page.locator("#s-welcome").is_visible()
    assert page.get_by_text("Count from the moment the door closes.").is_visible()
    comment = page.locator("#q-greeted textarea")
    assert not comment.is_visible()
    choose(page, "greeted", "No")
    assert comment.is_visible()
    assert "required" in page.locator("#q-greeted .cmt-label").inner_text()
    comment.fill("Nobody at the door for two minutes")
    # "tone" is left unanswered on purpose: Submit must bring the shopper back to it.
    assert page.locator(".bar-count").inner_text() == "1 of 9 answered"  # receipt is hidden until a purchase
    shot(page, "fill-section-1")
    bar(page, "next").click()

    # Section 2: the stopwatch, manual m:ss entry, choice cards, number, show_if with "na".
    assert page.locator("#s-service").is_visible() and not page.locator("#s-welcome").is_visible()
    page.locator("#q-wait .sw-toggle").click()
    assert page.locator("#q-wait .sw-toggle").inner_text() == "Stop"
    shot(page, "fill-stopwatch")
    page.wait_for_timeout(2200)
    page.locator("#q-wait .sw-toggle").click()
    timed = page.locator("#q-wait .sw-time").inner_text()
    assert re.fullmatch(r"0:0[2-3]", timed), timed
    assert page.locator("#q-wait input[name=wait]").input_value() == timed
    page.locator("#q-queue_time input[name=queue_time]").fill("230")  # microwave-style: 2:30
    page.locator("#q-queue_time input[name=queue_time]").blur()
    assert page.locator("#q-queue_time input[name=queue_time]").input_value() == "2:30"
    choose(page, "offer", "Only when asked")
    page.locator("#q-price input").fill("189.5")
    assert page.locator("#q-price input").get_attribute("inputmode") == "decimal"
    assert not page.locator("#q-receipt").is_visible()
    choose(page, "purchased", "Yes")
    assert page.locator("#q-receipt").is_visible()  # appears live
    choose(page, "receipt", "Not applicable")
    shot(page, "fill-section-2")
    bar(page, "next").click()

    # Section 3: text and a photo from the camera, downscaled on the phone before upload.
    page.locator("#q-notes textarea[name=notes]").fill("Клиентов было много, кофе горячий.")
    photo = make_jpeg(tmp_path / "shelf.jpg", size=(3000, 2000))
    page.locator("#q-shelf .ph-input").set_input_files(photo)
    page.locator("#q-shelf .ph-item img").wait_for()
    # A second photo, deleted again: the server must keep only the first.
    page.locator("#q-shelf .ph-input").set_input_files(make_jpeg(tmp_path / "extra.jpg", colour=(10, 160, 10)))
    page.locator("#q-shelf .ph-item").nth(1).wait_for()
    page.locator("#q-shelf .ph-item").nth(1).locator(".ph-del").click()
    assert page.locator("#q-shelf .ph-item").count() == 1
    assert page.locator("#q-shelf .ph-count").inner_text().startswith("1 of at most 5")
    shot(page, "fill-section-3")

    # Submitting with a required question missing jumps to it.
    bar(page, "submit").click()
    assert page.locator("#s-welcome").is_visible()
    assert page.locator("#q-tone.q-invalid .q-error").inner_text() == "Answer this question before submitting."
    choose(page, "tone", "5")
    assert page.locator("#q-tone input[value='5']").is_checked()
    assert not page.locator("#q-tone .q-error").is_visible()

    bar(page, "menu").click()
    page.locator("#sections-dialog [data-goto=evidence]").click()
    bar(page, "submit").click()
    page.locator("#submit-dialog").get_by_text("10 of 10 questions answered, 1 photo.").wait_for()
    page.locator("#submit-dialog .submit-confirm").click()
    page.locator(".done-title", has_text="Visit submitted").wait_for(timeout=15_000)
    wait_status(page, "Sent ✓ received by the server at")
    assert page.locator(".bar-count").inner_text() == "Submitted"  # no longer "10 of 10 answered"
    shot(page, "fill-done")

    stored = reload_visit(visit.id)
    assert stored.status == VisitStatus.submitted
    assert submissions(visit.id) == 1
    answers = {a.question_id: a for a in db.session.query(Answer).filter_by(visit_id=visit.id)}
    assert answers["greeted"].value == "no" and answers["greeted"].comment == "Nobody at the door for two minutes"
    assert answers["tone"].value == 5
    assert answers["wait"].value in (2, 3)
    assert answers["queue_time"].value == 150
    assert answers["offer"].value == "asked"
    assert answers["price"].value == 189.5
    assert answers["purchased"].value == "yes"
    assert answers["receipt"].status == "na"
    assert answers["notes"].value == "Клиентов было много, кофе горячий."
    (kept,) = photos_of(visit.id)
    assert answers["shelf"].value == [kept.token]
    assert (kept.width, kept.height) == (1600, 1067)  # downscaled on the phone
    assert all(a.first_answered_at for a in answers.values() if a.status != "hidden")
    assert stored.start_latitude == pytest.approx(MOSCOW["latitude"])
    assert stored.submit_longitude == pytest.approx(MOSCOW["longitude"])
    assert stored.geolocation == "granted"
    assert stored.started_at is not None


#: Where the shopper walked to between starting the visit and taking the photo (about 1 km away).
SHELF = {"latitude": 55.7647, "longitude": 37.6055, "accuracy": 8}


def test_photo_gets_the_position_where_it_was_taken(page, context, live_server, shopper, visit, tmp_path):
    allow_position(context, live_server)
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    bar(page, "start").click()
    page.get_by_text("Position recorded").wait_for()
    choose(page, "greeted", "Yes")
    wait_status(page, "Saved")  # the start (with its position) went first
    assert reload_visit(visit.id).start_latitude == pytest.approx(MOSCOW["latitude"])

    # The shopper walks to the shelf and comes back to the form. (Within one page the browser reuses a
    # fix younger than maximumAge, 30 s, for the photo: fine on foot, too long to wait for in a test.)
    context.set_geolocation(SHELF)
    open_form(page, live_server, visit)
    bar(page, "next").click()
    bar(page, "next").click()
    page.locator("#q-shelf .ph-input").set_input_files(make_jpeg(tmp_path / "shelf.jpg"))
    page.locator("#q-shelf .ph-item:not(.ph-pending)").wait_for(timeout=15_000)
    (photo,) = photos_of(visit.id)
    assert (photo.latitude, photo.longitude) == (pytest.approx(SHELF["latitude"]), pytest.approx(SHELF["longitude"]))
    assert reload_visit(visit.id).start_longitude == pytest.approx(MOSCOW["longitude"])


def test_without_location_permission_the_visit_still_works(page, context, live_server, shopper, visit):
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    bar(page, "start").click()
    page.get_by_text("Position not recorded: permission was not given.").wait_for()
    assert page.locator("#s-welcome").is_visible()
    choose(page, "greeted", "Yes")
    wait_status(page, "Saved", timeout=15_000)
    stored = reload_visit(visit.id)
    assert stored.status == VisitStatus.in_progress
    assert stored.geolocation == "denied" and stored.start_latitude is None
    assert stored.draft["answers"] == {"greeted": "yes"}


def test_reopening_restores_answers_and_photos(page, context, live_server, shopper, visit, tmp_path):
    sign_in(page, live_server, shopper)
    open_form(page, live_server, visit)
    bar(page, "start").click()
    choose(page, "greeted", "Yes")
    bar(page, "next").click()
    choose(page, "offer", "Not offered")
    bar(page, "next").click()
    page.locator("#q-shelf .ph-input").set_input_files(make_jpeg(tmp_path / "p.jpg"))
    page.locator("#q-shelf .ph-item:not(.ph-pending)").wait_for(timeout=15_000)
    wait_status(page, "Saved")

    # Same phone, tab closed and opened again: the section, answers and photo are back.
    page.goto(f"{live_server}/visits/")
    open_form(page, live_server, visit)
    assert page.locator("#s-evidence").is_visible()
    assert page.locator("#q-shelf .ph-item img").count() == 1
    bar(page, "menu").click()
    page.locator("#sections-dialog [data-goto=welcome]").click()
    assert page.locator("#q-greeted input[value=yes]").is_checked()

    # Another phone (fresh profile): everything comes from the server draft and photo list.
    other = context.browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        phone = other.new_page()
        sign_in(phone, live_server, shopper)
        open_form(phone, live_server, visit)
        phone.locator("#q-shelf .ph-item img").wait_for(state="attached")
        assert phone.locator("#q-greeted input[value=yes]").is_checked()
        assert phone.locator("#q-offer input[value=none]").is_checked()
        assert phone.locator("#q-shelf .ph-item").count() == 1
    finally:
        other.close()
