"""Every page of every role fits a phone (360 px) and a laptop (1280 px), in Russian and English (issue #17).

The demo network is loaded once; each role signs in once per size and language and walks its pages. A page fails
when it scrolls sideways or a box cuts its text off; a wide table may scroll inside its own `.table-scroll` box.
"""
from pathlib import Path

import pytest
from sqlalchemy import select

from app.demo import content
from app.models import Location, Region, Role, User, Visit, VisitStatus

PAGE_WIDTH = (Path(__file__).parent / "page_width.js").read_text()
SIZES = {"phone": {"width": 360, "height": 800}, "laptop": {"width": 1280, "height": 800}}
DEMO_PASSWORD = "fieldaudit-demo"


@pytest.fixture
def demo_pages(runner, db):
    """Load the demo network; return {role: (email, [paths])}."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    def first(*where):
        return db.session.scalars(select(Visit).where(*where).order_by(Visit.id)).first()

    shopper = db.session.scalars(select(User).where(User.email == f"shopper1@{content.DOMAIN}")).one()
    open_visit = first(Visit.shopper_id == shopper.id,
                       Visit.status.in_([VisitStatus.planned, VisitStatus.in_progress, VisitStatus.returned]))
    done_visit = first(Visit.shopper_id == shopper.id, Visit.status == VisitStatus.approved)
    submitted = first(Visit.status == VisitStatus.submitted)
    location = db.session.scalars(select(Location).order_by(Location.id)).first()
    region = db.session.scalars(select(Region).order_by(Region.id)).first()
    assert open_visit and done_visit and submitted and location and region
    manager = db.session.scalars(select(User).where(User.role == Role.manager, User.email.like("quality@%"))).one()
    admin = db.session.scalars(select(User).where(User.role == Role.admin)).first()
    return {
        "shopper": (shopper.email, ["/visits/", f"/visits/{done_visit.id}", f"/visits/{open_visit.id}",
                                    f"/visits/{open_visit.id}/fill"]),
        "manager": (manager.email, [
            "/dashboard/", "/dashboard/?checklist=bank-branch-ru", f"/dashboard/locations/{location.id}",
            f"/dashboard/regions/{region.id}", "/dashboard/visits", "/review/", f"/review/visits/{submitted.id}",
            "/planning/", "/dashboard/actions", "/surveys/", "/dashboard/shoppers"]),
        "admin": (admin.email, ["/admin/", "/admin/users", "/admin/regions", "/admin/locations", "/admin/audit"]),
    }


def walk(browser, live_server, email, paths, lang, size) -> list[str]:
    """Sign in at a size and in a language, open each path; return what does not fit, one line each."""
    context = browser.new_context(viewport=SIZES[size], locale="ru-RU" if lang == "ru" else "en-GB",
                                  is_mobile=size == "phone", has_touch=size == "phone")
    context.set_default_timeout(10_000)
    problems: list[str] = []
    try:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form:has(#email) button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.request.post(f"{live_server}/language/{lang}")  # the demo accounts' own choice is Russian
        for path in paths:
            response = page.goto(f"{live_server}{path}")
            assert response and response.ok, f"{path}: {response and response.status}"
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.lang") == lang, path
            problems += [f"{lang} {size} {path}: {p}" for p in page.evaluate(PAGE_WIDTH, SIZES[size]["width"])]
            if path.startswith("/review/visits/") and size == "phone":
                problems += [f"{lang} {size} {path}: {p}" for p in decision_out_of_reach(page)]
    finally:
        context.close()
    return problems


def decision_out_of_reach(page) -> list[str]:
    """The review decision's buttons are on screen without scrolling (a sticky bar at the bottom)."""
    height = page.viewport_size["height"]
    out = []
    for button in page.locator("button[form=decision-form][name=decision]").all():
        box = button.bounding_box()
        if box is None or box["y"] < 0 or box["y"] + box["height"] > height:
            out.append(f"{button.inner_text()} button not on screen (at y={box and round(box['y'])})")
    return out


def test_every_page_fits_a_phone_and_a_laptop(browser, live_server, demo_pages):
    problems = []
    for email, paths in demo_pages.values():
        for lang in ("ru", "en"):
            for size in SIZES:
                problems += walk(browser, live_server, email, paths, lang, size)
    assert problems == [], "\n".join(problems)
