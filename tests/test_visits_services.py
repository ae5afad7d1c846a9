"""The visit lifecycle: assignment, start, drafts, submission idempotency, stored results, returns."""
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import Answer, AuditLog, Visit, VisitEvent, VisitSectionScore, VisitStatus
from app.scoring import score_visit
from app.visits import lifecycle as services
from app.visits.errors import SubmissionRace, VisitError
from app.visits.lifecycle import NotAllowed
from app.visits.payloads import DraftPayload, StartPayload, SubmitPayload, parse

ANSWERS = {"greeted": "yes", "tone": 4, "wait": 90, "offer": "full", "purchased": "no", "notes": "ok"}


@pytest.fixture
def make_visit(make_visit, make_checklist_version):
    """Visits that share one checklist version (a version can be stored only once)."""
    version = make_checklist_version()

    def make(**fields):
        fields.setdefault("checklist_version", version)
        return make_visit(**fields)

    return make


def payload(**changes):
    body = {"client_submission_id": str(uuid.uuid4()), "answers": dict(ANSWERS),
            "answer_times": {"greeted": "2025-05-02T09:01:00Z"}, "started_at": "2025-05-02T09:00:00Z",
            "geolocation": "granted", "position": {"latitude": 55.75, "longitude": 37.61, "accuracy": 12}}
    body.update(changes)
    return body


def submit(visit, body, **kwargs):
    """Submit a body as the API does: parsed, hashed as sent."""
    return services.submit_visit(visit, parse(SubmitPayload, body), services.payload_hash(body), **kwargs)


def draft(visit, answers, times=None, client_saved_at=None):
    return services.save_draft(visit, parse(DraftPayload, {"answers": answers, "answer_times": times,
                                                           "client_saved_at": client_saved_at}))


def start(visit, now=None, **body):
    return services.start_visit(visit, parse(StartPayload, body), now=now)


def test_store_result_writes_answers_sections_and_score(db, make_visit):
    visit = make_visit()
    result = score_visit(visit.checklist, ANSWERS)
    services.store_result(visit, result, {"tone": "2025-05-02T06:02:00+00:00"})
    db.session.commit()
    rows = {a.question_id: a for a in db.session.scalars(select(Answer).where(Answer.visit_id == visit.id))}
    assert set(rows) == {q.id for q in visit.checklist.questions}
    assert rows["tone"].value == 4 and rows["tone"].fraction == pytest.approx(0.75)
    assert rows["tone"].section_id == "greeting"
    assert rows["tone"].first_answered_at == datetime(2025, 5, 2, 6, 2, tzinfo=UTC)
    assert rows["receipt"].status == "hidden"
    sections = {s.section_id: s.score for s in db.session.scalars(select(VisitSectionScore))}
    assert sections["greeting"] == pytest.approx(result.sections["greeting"].score)
    assert visit.score == pytest.approx(result.score) and visit.grade == result.grade


def test_store_result_twice_replaces_rows(db, make_visit):
    visit = make_visit()
    services.store_result(visit, score_visit(visit.checklist, ANSWERS))
    db.session.commit()
    worse = {**ANSWERS, "greeted": "no"}
    services.store_result(visit, score_visit(visit.checklist, worse))
    db.session.commit()
    assert db.session.scalar(select(func.count(Answer.id)).where(Answer.visit_id == visit.id)) == 8
    assert visit.score == 0 and visit.critical_failed


def test_assign_visit_checks_shopper_window_and_region(db, make_location, make_checklist_version, make_user,
                                                       make_region):
    north, south = make_region(), make_region()
    manager = make_user("manager", regions=[north])
    version = make_checklist_version()
    shopper = make_user("shopper")
    today = date.today()
    visit = services.assign_visit(make_location(north), version, shopper, today, today, " Buy bread ",
                                  manager=manager)
    db.session.commit()
    assert visit.status == VisitStatus.planned and visit.instructions == "Buy bread"
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.target_id == visit.id)) == "visit.assign"
    with pytest.raises(VisitError) as exc:
        services.assign_visit(make_location(south), version, shopper, today, today, manager=manager)
    assert exc.value.code == "forbidden"
    with pytest.raises(VisitError):
        services.assign_visit(make_location(north), version, shopper, today, today - timedelta(days=1))
    with pytest.raises(VisitError):
        services.assign_visit(make_location(north), version, make_user("shopper", active=False), today, today)


def test_start_keeps_first_time_and_position(db, make_visit):
    visit = make_visit()
    start(visit, started_at="2025-05-02T09:00:00Z", geolocation="granted",
          position={"latitude": 1, "longitude": 2, "accuracy": 5})
    start(visit, started_at="2025-05-02T10:00:00Z", geolocation="denied", position={"latitude": 3, "longitude": 4})
    assert visit.status == VisitStatus.in_progress
    assert visit.started_at == datetime(2025, 5, 2, 9, tzinfo=UTC)
    assert (visit.start_latitude, visit.start_longitude, visit.geolocation) == (1, 2, "granted")


def test_start_refuses_a_finished_visit(make_visit):
    with pytest.raises(NotAllowed) as exc:
        start(make_visit(status=VisitStatus.approved))
    assert exc.value.code == "not_editable"


def test_start_ignores_a_clock_in_the_future(db, make_visit):
    visit = make_visit()
    now = datetime(2025, 5, 2, 9, tzinfo=UTC)
    start(visit, started_at="2030-01-01T00:00:00Z", now=now)
    assert visit.started_at == now


@pytest.mark.parametrize("position", [{"latitude": 91, "longitude": 0}, {"latitude": "x", "longitude": 0},
                                      {"latitude": True, "longitude": 0}, [1, 2]])
def test_start_refuses_bad_positions(make_visit, position):
    with pytest.raises(VisitError) as exc:
        start(make_visit(), position=position)
    assert exc.value.field.startswith("position")


def test_draft_keeps_first_answer_times_and_refuses_stale_retries(db, make_visit):
    visit = make_visit()
    draft(visit, {"greeted": "yes"}, {"greeted": "2025-05-02T09:01:00Z"}, client_saved_at="2025-05-02T09:01:05Z")
    draft(visit, {"greeted": "no", "tone": 3}, {"greeted": "2025-05-02T09:05:00Z", "tone": "2025-05-02T09:05:00Z"},
          client_saved_at="2025-05-02T09:05:05Z")
    stale = draft(visit, {"greeted": "yes"}, client_saved_at="2025-05-02T09:02:00Z")
    assert stale.stale
    assert visit.draft["answers"] == {"greeted": "no", "tone": 3}
    assert visit.draft["answer_times"]["greeted"] == "2025-05-02T09:01:00+00:00"
    assert visit.status == VisitStatus.in_progress and visit.started_at is not None


def test_draft_refuses_wrong_values_and_names_the_question(make_visit):
    with pytest.raises(services.InvalidAnswers) as exc:
        draft(make_visit(), {"tone": 9, "nope": 1})
    assert {p["question_id"] for p in exc.value.extra["problems"]} == {"tone", "nope"}


def test_submit_scores_and_stores_once(db, make_visit):
    visit = make_visit()
    body = payload()
    first = submit(visit, body)
    db.session.commit()
    assert first.created and visit.status == VisitStatus.submitted
    assert visit.client_submission_id == body["client_submission_id"]
    assert "score" not in first.body  # the sample checklist hides the score from shoppers
    again = submit(visit, dict(reversed(list(body.items()))))
    assert not again.created and again.body == first.body
    with pytest.raises(VisitError) as exc:
        submit(visit, {**body, "answers": {**ANSWERS, "tone": 5}})
    assert exc.value.code == "conflict"
    with pytest.raises(VisitError) as exc:
        submit(visit, payload())
    assert exc.value.code == "already_submitted"
    assert db.session.scalar(select(func.count(Answer.id))) == 8


def test_same_submission_id_on_another_visit_is_a_conflict(db, make_visit):
    body = payload()
    submit(make_visit(), body)
    db.session.commit()
    with pytest.raises(VisitError) as exc:
        submit(make_visit(), body)
    assert exc.value.code == "conflict"


def test_the_database_refuses_a_submission_id_twice(db, make_visit):
    """The unique constraint, not only the code, guarantees once-only."""
    from sqlalchemy.exc import IntegrityError

    a, b = make_visit(), make_visit()
    a.client_submission_id = b.client_submission_id = "same-id-123"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_submit_race_is_detected_by_the_conditional_update(db, make_visit):
    visit = make_visit()
    # Another request submitted between our read and our write.
    db.session.execute(Visit.__table__.update().where(Visit.id == visit.id).values(status="submitted"))
    with pytest.raises(SubmissionRace):
        submit(visit, payload())
    db.session.rollback()


def test_submit_refuses_invalid_answers(make_visit):
    with pytest.raises(services.InvalidAnswers) as exc:
        submit(make_visit(), payload(answers={"greeted": "maybe"}))
    ids = {p["question_id"] for p in exc.value.extra["problems"]}
    assert {"greeted", "tone", "wait", "offer"} <= ids


def test_return_and_resubmit_keeps_history(db, make_visit, manager):
    visit = make_visit()
    first = payload()
    submit(visit, first)
    db.session.commit()
    services.return_for_correction(visit, manager, "Photo of the shelf missing")
    db.session.commit()
    assert visit.status == VisitStatus.returned and visit.review_comment == "Photo of the shelf missing"
    assert visit.draft["answers"] == ANSWERS
    with pytest.raises(VisitError) as exc:
        services.return_for_correction(visit, manager, "again")
    assert exc.value.code == "not_returnable"
    # A late copy of the first submission does not count as the correction.
    late = submit(visit, first)
    assert not late.created and visit.status == VisitStatus.returned
    second = submit(visit, payload(answers={**ANSWERS, "tone": 5}))
    db.session.commit()
    assert second.created and visit.status == VisitStatus.submitted
    actions = [e.action for e in db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)
                                                     .order_by(VisitEvent.id))]
    assert actions == ["submitted", "returned", "resubmitted"]
    snapshots = [e.snapshot for e in visit.events if e.snapshot]
    assert snapshots[0]["answers"]["tone"] == 4 and snapshots[1]["answers"]["tone"] == 5
    assert db.session.scalar(select(Answer.value).where(Answer.visit_id == visit.id,
                                                        Answer.question_id == "tone")) == 5


def test_return_needs_a_comment_and_a_submitted_visit(make_visit, manager):
    with pytest.raises(VisitError):
        services.return_for_correction(make_visit(status=VisitStatus.submitted), manager, "  ")
    with pytest.raises(VisitError) as exc:
        services.return_for_correction(make_visit(), manager, "fix it")
    assert exc.value.code == "not_returnable"


def test_return_outside_the_managers_regions_is_refused(make_visit, make_user, make_region):
    manager = make_user("manager", regions=[make_region()])
    with pytest.raises(VisitError) as exc:
        services.return_for_correction(make_visit(status=VisitStatus.submitted), manager, "fix it")
    assert exc.value.code == "forbidden"


def test_payload_hash_ignores_key_order_and_the_id():
    a = payload(client_submission_id="aaaaaaaa")
    b = dict(reversed(list(payload(client_submission_id="bbbbbbbb").items())))
    assert services.payload_hash(a) == services.payload_hash(b)
    assert services.payload_hash(a) != services.payload_hash({**a, "geolocation": "denied"})
