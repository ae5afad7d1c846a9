"""Returning a visit with the questions to correct marked: stored, audited, refused where it would be lost,
and shown on the shopper's phone form beside each question, the form opening at the first."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditLog, VisitEvent, VisitStatus
from tests.factories_scored import dispose_engine, make_scored_visit  # noqa: F401  (autouse)


def text_of(response) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def visit(db, make_location, make_checklist_version, shopper):
    return make_scored_visit(db, make_location(name="Тверская"), make_checklist_version(), shopper, None,
                             datetime.now(UTC) - timedelta(days=1), VisitStatus.submitted)


def decide(client, visit, **data):
    return client.post(f"/review/visits/{visit.id}/decision", data=data)


def test_review_page_offers_a_note_beside_each_question(client, login, manager, visit):
    login(manager)
    html = client.get(f"/review/visits/{visit.id}").get_data(as_text=True)
    for qid in ("greeted", "offer", "shelf"):
        assert f'name="mark-{qid}" form="decision-form"' in html
    assert 'id="decision-form"' in html


def test_return_with_marks_stores_them_and_audits(client, login, manager, visit, db):
    login(manager)
    response = decide(client, visit, decision="return", comment="Please fix two answers",
                      **{"mark-shelf": " The photo is blurred ", "mark-greeted": "Were you greeted at the door?",
                         "mark-tone": "  "})
    assert response.status_code == 302
    db.session.refresh(visit)
    assert visit.status == VisitStatus.returned
    assert visit.review_marks == {"greeted": "Were you greeted at the door?", "shelf": "The photo is blurred"}
    event = db.session.scalars(select(VisitEvent).where(VisitEvent.action == "returned")).one()
    assert event.snapshot == {"marks": visit.review_marks}
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "visit.return")).one()
    assert audit.details["marks"] == visit.review_marks
    page = text_of(client.get(f"/review/visits/{visit.id}"))
    assert "Marked for correction: The photo is blurred" in page and "2 questions marked" in page


def test_marks_alone_are_enough_to_return(client, login, manager, visit, db):
    login(manager)
    assert decide(client, visit, decision="return", **{"mark-offer": "Which bag?"}).status_code == 302
    db.session.refresh(visit)
    assert visit.review_marks == {"offer": "Which bag?"} and visit.review_comment is None


@pytest.mark.parametrize("decision", ["approve", "void"])
def test_marks_are_never_dropped_by_another_decision(client, login, manager, visit, db, decision):
    login(manager)
    response = decide(client, visit, decision=decision, comment="Fine", **{"mark-offer": "Which bag?"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Notes beside questions are sent with a return for correction only" in page
    assert ">Which bag?</textarea>" in response.get_data(as_text=True)  # what was typed is still there
    db.session.refresh(visit)
    assert visit.status == VisitStatus.submitted


def test_a_mark_on_a_question_the_checklist_lacks_is_refused(client, login, manager, visit, db):
    login(manager)
    response = decide(client, visit, decision="return", comment="x", **{"mark-nope": "?"})
    assert response.status_code == 400 and "The checklist has no question nope." in text_of(response)
    db.session.refresh(visit)
    assert visit.status == VisitStatus.submitted


def test_phone_form_shows_the_notes_and_opens_at_the_first_marked_section(client, login, manager, shopper,
                                                                            visit):
    login(manager)
    decide(client, visit, decision="return", comment="Two answers to fix",
           **{"mark-shelf": "The photo is blurred", "mark-offer": "Which bag?"})
    login(shopper)
    html = client.get(f"/visits/{visit.id}/fill").get_data(as_text=True)
    assert 'data-first-step="service"' in html and 'data-first-question="offer"' in html
    assert re.search(r'data-return-key="\d{4}-\d\d-\d\dT', html)
    start = html.index('<header class="fill-head">')
    head = html[start:html.index("</header>", start)]
    assert "Two answers to fix" in head and "2 questions to correct:" in head  # above every step
    assert head.index('data-goto-q="offer"') < head.index('data-goto-q="shelf"')
    offer = html[html.index('id="q-offer"'):html.index('id="q-purchased"')]
    assert 'class="q q-marked"' in html[html.index('id="q-offer"') - 30:html.index('id="q-offer"')]
    assert "Reviewer:</strong> Which bag?" in offer
    assert html.count('class="q-mark"') == 2


def test_resubmitting_clears_the_marks_and_history_keeps_them(client, login, manager, shopper, make_visit, db):
    from app.visits import lifecycle
    from tests.test_visits_api import ANSWERS, submission

    planned = make_visit(shopper=shopper)
    login(shopper)
    assert client.post(f"/api/v1/visits/{planned.id}/submit", json=submission()).status_code == 201
    db.session.refresh(planned)
    lifecycle.return_for_correction(planned, manager, "", marks={"offer": "Which bag?"})
    db.session.commit()
    assert client.post(f"/api/v1/visits/{planned.id}/submit",
                       json=submission(answers={**ANSWERS, "offer": "asked"})).status_code == 201
    db.session.expire_all()
    assert planned.status == VisitStatus.submitted and planned.review_marks is None
    assert [e.snapshot for e in planned.events if e.action == "returned"] == [{"marks": {"offer": "Which bag?"}}]
    login(manager)
    page = text_of(client.get(f"/review/visits/{planned.id}"))
    assert "Marked for correction" not in page and "1 question marked" in page
