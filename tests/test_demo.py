"""`flask demo`: believable demo data whose scores come from the scoring engine."""
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from app.demo import content
from app.localtime import is_overdue, to_local, window_warning
from app.models import (
    Answer,
    ChecklistVersion,
    CorrectiveAction,
    Location,
    Photo,
    Region,
    Role,
    SurveyResponse,
    User,
    Visit,
    VisitSectionScore,
    VisitStatus,
)
from app.scoring import score_visit
from app.storage import photo_key, storage_of
from tests.conftest import TEST_DATABASE_URL

EMAILS = [f"{u[1]}@{content.DOMAIN}" for u in content.USERS]


@pytest.fixture
def app_config(app_config):
    """On PostgreSQL, close connections when released: each test builds an app and an engine of its own."""
    if TEST_DATABASE_URL:
        app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": NullPool}
    return app_config


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def demo(runner):
    """Run `flask demo` once and return its result."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result


def test_loads_the_network_and_prints_logins(demo, db):
    assert count(db, Region) == 3
    assert set(db.session.scalars(select(Region.timezone))) == {"Europe/Moscow", "Europe/Kaliningrad",
                                                                "Asia/Vladivostok"}
    assert count(db, Location) == 12
    assert count(db, Location, Location.latitude.is_(None)) == 0
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles == {Role.admin: 1, Role.manager: 2, Role.shopper: 5}
    managers = db.session.scalars(select(User).where(User.role == Role.manager)).all()
    assert sorted(len(m.regions) for m in managers) == [0, 1]  # one network-wide, one regional
    shoppers = db.session.scalars(select(User).where(User.role == Role.shopper)).all()
    assert all(s.shopper_code for s in shoppers)
    assert count(db, ChecklistVersion) >= 3

    for email in EMAILS:
        assert email in demo.output
    assert content.PASSWORD in demo.output
    admin = db.session.scalar(select(User).where(User.email == content.MARKER_EMAIL))
    assert admin.check_password(content.PASSWORD)


def test_six_months_of_visits_in_every_state(demo, db):
    today = date.today()
    statuses = Counter(db.session.scalars(select(Visit.status)))
    assert statuses[VisitStatus.approved] >= 150
    assert statuses[VisitStatus.submitted] >= 1  # waiting for review
    assert statuses[VisitStatus.returned] == 2
    assert statuses[VisitStatus.planned] >= 5
    assert statuses[VisitStatus.in_progress] == 1
    visits = db.session.scalars(select(Visit)).all()
    assert any(is_overdue(v) for v in visits)
    assert any(v.status == VisitStatus.planned and v.window_end >= today for v in visits)
    visited = [v.visited_at.date() for v in visits if v.visited_at]
    assert (today - min(visited)).days >= 170 and max(visited) < today
    # Every location is visited, and every shopper has work ahead.
    assert {v.location_id for v in visits if v.score is not None} == set(db.session.scalars(select(Location.id)))
    assert {v.shopper_id for v in visits if v.status == VisitStatus.planned or is_overdue(v)} == set(
        db.session.scalars(select(User.id).where(User.role == Role.shopper)))
    assert count(db, CorrectiveAction) > 5
    for location_id in db.session.scalars(select(Location.id)):
        assert count(db, SurveyResponse, SurveyResponse.location_id == location_id) >= 20


def raw_answers(answers: list[Answer]) -> dict:
    """Rebuild the submitted answers from the stored Answer rows."""
    raw = {}
    for a in answers:
        if a.status in ("answered", "na"):
            raw[a.question_id] = {"value": a.value, "comment": a.comment} if a.comment else a.value
    return raw


def test_scores_equal_score_visit_of_the_stored_answers(demo, db):
    answers = defaultdict(list)
    for a in db.session.scalars(select(Answer).order_by(Answer.id)):
        answers[a.visit_id].append(a)
    sections = defaultdict(dict)
    for s in db.session.scalars(select(VisitSectionScore)):
        sections[s.visit_id][s.section_id] = s.score
    scored = db.session.scalars(select(Visit).where(Visit.client_submission_id.is_not(None))).all()
    assert len(scored) >= 150
    for visit in scored:
        result = score_visit(visit.checklist, raw_answers(answers[visit.id]))
        assert visit.score == result.score
        assert visit.grade == result.grade
        assert visit.critical_failed == bool(result.critical_failures)
        assert sections[visit.id] == {sid: s.score for sid, s in result.sections.items()}


def test_answers_are_varied_like_real_visits(demo, db):
    statuses = Counter(db.session.scalars(select(Answer.status)))
    assert statuses["na"] > 0 and statuses["hidden"] > 0
    assert count(db, Visit, Visit.critical_failed.is_(True)) >= 2
    # Failed answers are explained, in the checklist's language.
    failed = db.session.execute(
        select(Answer.comment, ChecklistVersion.checklist_id).join(Visit, Visit.id == Answer.visit_id)
        .join(ChecklistVersion).where(Answer.fraction < 1, Answer.comment.is_not(None))
    ).all()
    assert len(failed) > 50
    cyrillic = {cid: any("а" <= ch <= "я" for ch in comment.lower()) for comment, cid in failed}
    assert cyrillic.get("bank-branch-ru") is True and cyrillic.get("retail-store-visit") is False
    # Stopwatch durations are whole seconds.
    durations = db.session.scalars(
        select(Answer.value).where(Answer.question_id.in_(["wait_for_consultant", "time_to_answer"]),
                                   Answer.status == "answered")).all()
    assert durations and all(isinstance(v, int) and v >= 0 for v in durations)
    # Locations differ in quality, as real ones do.
    averages = db.session.execute(
        select(func.avg(Visit.score)).where(Visit.score.is_not(None)).group_by(Visit.location_id)).scalars().all()
    assert max(averages) - min(averages) > 15


def test_photo_answers_point_to_stored_files(demo, db, app):
    photos = {p.token: p for p in db.session.scalars(select(Photo))}
    assert photos
    values = db.session.scalars(select(Answer.value).where(Answer.question_id == "shelf_photo",
                                                           Answer.status == "answered")).all()
    assert values
    for tokens in values:
        for token in tokens:
            assert storage_of(app).exists(photo_key(photos[token].stored_name))


def test_second_run_changes_nothing(demo, runner, db):
    before = (count(db, User), count(db, Visit), count(db, Answer), count(db, SurveyResponse))
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert "demo data already loaded" in again.output
    assert all(email in again.output for email in EMAILS)
    assert (count(db, User), count(db, Visit), count(db, Answer), count(db, SurveyResponse)) == before


def test_reset_wipes_and_reloads_the_same_data(demo, runner, db, make_user, app):
    scores = db.session.scalars(select(Visit.score).order_by(Visit.id)).all()
    make_user("shopper", email="someone@example.com", shopper_code="X-1")
    stray = Path(app.config["UPLOAD_DIR"]) / "ab" / "ab12.jpg"  # a real upload stays
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")

    declined = runner.invoke(args=["demo", "--reset"], input="n\n")
    assert declined.exit_code != 0
    assert count(db, User, User.email == "someone@example.com") == 1

    result = runner.invoke(args=["demo", "--reset", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert count(db, User, User.email == "someone@example.com") == 0
    assert count(db, User) == 8
    assert db.session.scalars(select(Visit.score).order_by(Visit.id)).all() == scores
    assert stray.exists()


def test_refuses_to_mix_with_conflicting_data(runner, db, make_region):
    make_region("Москва", code="MSK")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "region MSK" in result.output and "--reset" in result.output
    assert count(db, Location) == 0 and count(db, User) == 0


def test_refuses_to_run_in_production(app, runner, db):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "production" in result.output
    assert count(db, User) == 0


def test_visits_happen_in_store_hours_of_each_zone_and_one_went_early(demo, db, app):
    visits = db.session.scalars(select(Visit).where(Visit.submitted_at.is_not(None))).all()
    # Handed-in visits started between 10:00 and 18:50 on the store's clock, whatever its zone.
    assert all(10 <= to_local(v.started_at, v.location).hour <= 18 for v in visits)
    far_east = [v for v in visits if v.location.region.code == "VVO"]
    assert far_east and all(v.started_at.hour < 10 for v in far_east)  # 10:00-18:50 at UTC+10 is 00:00-08:50 UTC
    with app.test_request_context():
        warned = [v for v in visits if window_warning(v)]
    assert [(v.status, v.location.region.code) for v in warned] == [(VisitStatus.submitted, "VVO")]
