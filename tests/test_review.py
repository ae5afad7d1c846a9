"""Review: queue oldest first, the whole visit, approve / return / void with audit, comment library."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditLog, ReviewComment, VisitEvent, VisitStatus
from tests.factories_scored import (
    CRITICAL_FAIL,
    SOME_LOSS,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def submitted(db, make_location, make_checklist_version, make_user):
    """Three submitted visits (submitted 3, 2 and 1 days ago) and a voided one."""
    version = make_checklist_version()
    shopper = make_user("shopper")
    now = datetime.now(UTC)
    visits = []
    for days, name, answers in ((1, "Newest", SOME_LOSS), (3, "Oldest", CRITICAL_FAIL), (2, "Middle", None)):
        location = make_location(name=name, latitude=55.75, longitude=37.61)
        visits.append(make_scored_visit(db, location, version, shopper, answers, now - timedelta(days=days),
                                        VisitStatus.submitted, geolocation="granted",
                                        start_latitude=55.7501, start_longitude=37.6101, start_accuracy=20))
    make_scored_visit(db, make_location(name="Gone"), version, shopper, None, now, VisitStatus.voided)
    return visits


def test_queue_lists_submitted_visits_oldest_first(client, login, manager, submitted):
    login(manager)
    page = text_of(client.get("/review/"))
    assert "3 visits wait for review" in page
    rows = page[page.index(" Grade "):]  # the order's choices ("Oldest first") come before the table
    assert rows.index("Oldest") < rows.index("Middle") < rows.index("Newest")
    assert "Gone" not in page


def test_review_page_shows_the_whole_visit(client, login, manager, submitted):
    login(manager)
    newest = submitted[0]
    page = text_of(client.get(f"/review/visits/{newest.id}"))
    assert "Friendly tone" in page and "3 of 5" in page         # the answer as read
    assert "0:30" in page and "stopwatch" in page               # duration as m:ss with the raw seconds
    assert "Only when asked" in page                            # choice label, not its value
    assert "Proof of visit" in page and "Distance at start" in page
    assert "Create corrective action" in page                   # failed questions offer an action
    assert "Approve" in page and "Return for correction" in page and "Void" in page


def test_approve_counts_the_visit_and_is_audited(client, login, manager, submitted, db):
    login(manager)
    visit = submitted[0]
    response = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "approve", "comment": "Good"})
    assert response.status_code == 302
    db.session.refresh(visit)
    assert visit.status == VisitStatus.approved and visit.reviewed_by_id == manager.id
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == "visit.approve")).one()
    assert log.target_id == visit.id and log.user_id == manager.id
    assert db.session.scalars(select(VisitEvent).where(VisitEvent.action == "approved")).one().visit_id == visit.id
    # Approving twice is refused and says why.
    again = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "approve"})
    assert again.status_code == 400 and "Only a submitted visit can be approved." in text_of(again)


def test_return_needs_a_comment_and_goes_back_to_the_shopper(client, login, manager, submitted, db):
    login(manager)
    visit = submitted[1]
    refused = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "return", "comment": "  "})
    assert refused.status_code == 400 and "Say what the shopper should correct." in text_of(refused)
    db.session.refresh(visit)
    assert visit.status == VisitStatus.submitted
    ok = client.post(f"/review/visits/{visit.id}/decision", data={"decision": "return", "comment": "Add the photo"})
    assert ok.status_code == 302
    db.session.refresh(visit)
    assert visit.status == VisitStatus.returned and visit.review_comment == "Add the photo"
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "visit.return")).one().target_id == visit.id


def test_void_needs_a_reason_and_is_audited(client, login, manager, submitted, db):
    login(manager)
    visit = submitted[2]
    assert client.post(f"/review/visits/{visit.id}/decision", data={"decision": "void"}).status_code == 400
    client.post(f"/review/visits/{visit.id}/decision", data={"decision": "void", "comment": "Wrong store"})
    db.session.refresh(visit)
    assert visit.status == VisitStatus.voided and visit.void_reason == "Wrong store"
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == "visit.void")).one()
    assert log.details["reason"] == "Wrong store"


def test_unknown_decision_is_refused(client, login, manager, submitted):
    login(manager)
    assert client.post(f"/review/visits/{submitted[0].id}/decision", data={"decision": "delete"}).status_code == 400


def test_comment_library_add_insert_delete(client, login, manager, make_user, submitted, db):
    login(manager)
    back = f"/review/visits/{submitted[0].id}"
    client.post("/review/comments", data={"text": "Please add a photo of the shelf", "back": back})
    client.post("/review/comments", data={"text": "Please add a photo of the shelf", "back": back})  # duplicate
    comments = db.session.scalars(select(ReviewComment)).all()
    assert [c.text for c in comments] == ["Please add a photo of the shelf"]
    html = client.get(back).get_data(as_text=True)
    assert 'data-insert="Please add a photo of the shelf"' in html
    other = make_user("manager")
    login(other)
    assert client.post(f"/review/comments/{comments[0].id}/delete").status_code == 404  # not theirs
    login(manager)
    assert client.post(f"/review/comments/{comments[0].id}/delete", data={"back": back}).status_code == 302
    assert db.session.scalars(select(ReviewComment)).all() == []


def test_decisions_need_csrf(app, client, login, manager, submitted):
    app.config["WTF_CSRF_ENABLED"] = True
    login(manager)
    response = client.post(f"/review/visits/{submitted[0].id}/decision", data={"decision": "approve"})
    assert response.status_code == 400


def test_shopper_cannot_review(client, login, shopper, submitted):
    login(shopper)
    assert client.get("/review/").status_code == 403
    assert client.get(f"/review/visits/{submitted[0].id}").status_code == 403
    assert client.post(f"/review/visits/{submitted[0].id}/decision", data={"decision": "approve"}).status_code == 403


def test_a_queue_page_past_the_end_shows_the_last_page_not_an_empty_one(client, login, manager, submitted,
                                                                          monkeypatch):
    from app.review import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    login(manager)
    last = text_of(client.get("/review/?page=2"))
    assert "— Newest" in last and "— Oldest" not in last and "2 / 2" in last
    assert text_of(client.get("/review/?page=99")) == last  # an old link after visits were reviewed
