"""Corrective actions: created from a failed question, open -> done -> verified, overdue flagged."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models import ActionStatus, AuditLog, CorrectiveAction
from tests.factories_scored import (
    PERFECT,
    SOME_LOSS,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)


@pytest.fixture
def failed_visit(db, make_location, make_checklist_version, make_user):
    return make_scored_visit(db, make_location(name="Lenina 5"), make_checklist_version(), make_user("shopper"),
                             SOME_LOSS)


def _create(client, visit, **fields):
    data = {"question": "tone", "description": "Train staff to greet warmly", "owner_name": "Ольга Петрова",
            "owner_email": "olga@example.com", "due_date": (date.today() + timedelta(days=7)).isoformat()}
    data.update(fields)
    return client.post(f"/dashboard/visits/{visit.id}/actions/new", data=data)


def test_create_action_from_failed_question(client, login, manager, failed_visit, db):
    login(manager)
    form = client.get(f"/dashboard/visits/{failed_visit.id}/actions/new?question=tone")
    assert form.status_code == 200 and "Friendly tone" in form.get_data(as_text=True)
    response = _create(client, failed_visit)
    assert response.status_code == 302
    action = db.session.scalars(select(CorrectiveAction)).one()
    assert (action.location_id, action.question_id, action.status) == (failed_visit.location_id, "tone",
                                                                       ActionStatus.open)
    assert action.owner_name == "Ольга Петрова"
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "action.create")).one().target_id == action.id
    page = client.get(f"/dashboard/locations/{failed_visit.location_id}").get_data(as_text=True)
    assert "Train staff to greet warmly" in page


def test_only_failed_questions_get_actions(client, login, manager, failed_visit):
    login(manager)
    assert client.get(f"/dashboard/visits/{failed_visit.id}/actions/new?question=greeted").status_code == 404
    assert _create(client, failed_visit, question="nope").status_code == 404


def test_bad_input_is_refused_and_nothing_saved(client, login, manager, failed_visit, db):
    login(manager)
    response = _create(client, failed_visit, owner_email="not-an-email", due_date="2001-01-01")
    assert response.status_code == 200
    assert "past" in response.get_data(as_text=True)
    assert db.session.scalars(select(CorrectiveAction)).all() == []


def test_states_and_overdue_flag(client, login, manager, failed_visit, db):
    login(manager)
    _create(client, failed_visit)
    action = db.session.scalars(select(CorrectiveAction)).one()
    action.due_date = date.today() - timedelta(days=2)
    db.session.commit()
    listing = client.get("/dashboard/actions?overdue=1").get_data(as_text=True)
    assert "overdue" in listing and "Train staff" in listing
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    assert "Overdue actions" in dashboard
    assert client.post(f"/dashboard/actions/{action.id}/status", data={"status": "verified"}).status_code == 302
    db.session.refresh(action)
    assert action.status == ActionStatus.open  # open cannot jump to verified
    client.post(f"/dashboard/actions/{action.id}/status", data={"status": "done"})
    client.post(f"/dashboard/actions/{action.id}/status", data={"status": "verified"})
    db.session.refresh(action)
    assert action.status == ActionStatus.verified and action.done_at and action.verified_at
    assert "Train staff" not in client.get("/dashboard/actions?overdue=1").get_data(as_text=True)
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "action.status")).all()) == 2


def test_perfect_visit_offers_no_action(client, login, manager, db, make_location, make_checklist_version,
                                         make_user):
    visit = make_scored_visit(db, make_location(), make_checklist_version(), make_user("shopper"), PERFECT)
    login(manager)
    assert client.get(f"/dashboard/visits/{visit.id}/actions/new?question=tone").status_code == 404
