"""Shared parts of the phone-form browser tests: a checklist with every question type, and helpers."""
import re
import textwrap

from PIL import Image, ImageDraw

from app.extensions import db
from app.models import Photo, Visit, VisitEvent

#: Every question type of the contract, a show_if, "na", a help text and a required_on_fail comment.
EVERY_TYPE_CHECKLIST = textwrap.dedent("""\
    id: phone-form-test
    version: 1
    title: Phone form test
    sections:
      - id: welcome
        title: Welcome
        weight: 2
        questions:
          - id: greeted
            text: Greeted within 30 seconds?
            type: yes_no
            critical: true
            comment: required_on_fail
            help: Count from the moment the door closes.
          - id: tone
            text: Friendly tone
            type: scale
            labels: {1: Rude, 5: Warm}
      - id: service
        title: Service
        questions:
          - id: wait
            text: Time to be served
            type: duration
            target: 60
            limit: 300
          - id: queue_time
            text: Time in the queue
            type: duration
            target: 120
            limit: 600
          - id: offer
            text: Offered a bag
            type: choice
            options:
              - {value: full, label: Offered and packed, score: 1}
              - {value: asked, label: Only when asked, score: 0.5}
              - {value: none, label: Not offered, score: 0}
          - id: price
            text: Price of a coffee
            type: number
            unit: RUB
          - id: purchased
            text: Did you buy something?
            type: yes_no
            weight: 0
          - id: receipt
            text: Receipt given
            type: yes_no
            allow_na: true
            show_if: {question: purchased, equals: "yes"}
      - id: evidence
        title: Evidence
        questions:
          - id: notes
            text: Notes
            type: text
          - id: shelf
            text: Photo of the shelf
            type: photo
            required: true
    """)

MOSCOW = {"latitude": 55.7558, "longitude": 37.6173, "accuracy": 12}


def make_jpeg(path, size=(3000, 2000), colour=(200, 40, 40)):
    """Write a camera-sized JPEG (bigger than the 1600 px the phone downscales to)."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), fill=(20, 20, 200))
    image.save(path, "JPEG", quality=90)
    return str(path)


def sign_in(page, live_server, user, next_path=None):
    """Sign in through the real form (its own submit button, not the header's language switch)."""
    from tests.conftest import PASSWORD

    page.goto(f"{live_server}/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def allow_position(context, live_server):
    context.grant_permissions(["geolocation"], origin=live_server)
    context.set_geolocation(MOSCOW)


def open_form(page, live_server, visit):
    page.goto(f"{live_server}/visits/{visit.id}/fill")
    page.wait_for_selector("html[data-ready='1']")


def choose(page, qid, text):
    """Tap the option of question `qid` whose visible text is `text`."""
    page.locator(f"#q-{qid}").get_by_text(text, exact=True).click()


def bar(page, name):
    return page.locator(f".bar .bar-{name}")


def wait_status(page, text, timeout=15_000):
    """Wait for the status line to start with `text` ("Saved" alone means: on the server)."""
    pattern = re.compile(r"^Saved$") if text == "Saved" else re.compile("^" + re.escape(text))
    page.locator(".bar-sync", has_text=pattern).wait_for(timeout=timeout)


def reload_visit(visit_id) -> Visit:
    """Return the visit as the server stored it (the server runs in another thread)."""
    db.session.expire_all()
    return db.session.get(Visit, visit_id)


def submissions(visit_id) -> int:
    db.session.expire_all()
    return db.session.query(VisitEvent).filter_by(visit_id=visit_id, action="submitted").count()


def photos_of(visit_id) -> list[Photo]:
    db.session.expire_all()
    return db.session.query(Photo).filter_by(visit_id=visit_id).all()
