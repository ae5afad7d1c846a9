"""The rollups every figure reads are the facts summed: kept so through every change a visit goes through,
and equal to a rebuild from the facts."""
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.analytics import rollups
from app.analytics.figures import average, failing_questions, recurring_failures, section_averages
from app.analytics.filters import Filters
from app.analytics.periods import Period
from app.models import QuestionRollup, RegionQuestionRollup, ScoreRollup, Visit, VisitStatus
from app.scoring import score_visit
from app.visits import lifecycle
from app.visits.lifecycle import store_result
from tests.factories_scored import CRITICAL_FAIL, PERFECT, SOME_LOSS, make_scored_visit

DAYS = [date(2024, 4, 10), date(2024, 4, 11), date(2024, 5, 2)]
ANSWERS = [PERFECT, SOME_LOSS, CRITICAL_FAIL]


def rows(db) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The rollup tables as sorted tuples (sums rounded: a sum may be added up in another order)."""
    db.session.expire_all()
    scores = sorted(
        (r.location_id, r.grain, r.day, r.checklist_version_id, r.status.value, r.part, r.n, round(r.total, 6),
         round(r.squares, 4)) for r in db.session.scalars(select(ScoreRollup)))
    questions = sorted(
        (r.location_id, r.grain, r.day, r.checklist_version_id, r.status.value, r.question_id, r.asked, r.failures,
         r.critical_failures, r.last_failed_at) for r in db.session.scalars(select(QuestionRollup)))
    regions = sorted(
        (r.region_id, r.grain, r.day, r.checklist_version_id, r.status.value, r.question_id, r.asked, r.failures,
         r.critical_failures, r.last_failed_at) for r in db.session.scalars(select(RegionQuestionRollup)))
    return scores, questions, regions


def assert_maintained_equals_rebuilt(db):
    maintained = rows(db)
    rollups.rebuild()
    db.session.commit()
    assert rows(db) == maintained


@pytest.fixture
def world(db, make_region, make_location, make_checklist_version, make_user):
    north, south = make_region("North"), make_region("South")
    return {"locations": [make_location(north, name="A1"), make_location(north, name="A2"),
                          make_location(south, name="B1")], "regions": [north, south],
            "version": make_checklist_version(), "shopper": make_user("shopper"), "manager": make_user("admin")}


def at(day: date, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_change_keeps_the_rollups_equal_to_a_rebuild(db, world, seed):
    pick = random.Random(seed)
    visits: list[Visit] = []
    for _ in range(40):
        operation = pick.choice(["add", "add", "status", "move", "rescore", "delete", "region"] if visits
                                else ["add"])
        if operation == "add":
            visits.append(make_scored_visit(
                db, pick.choice(world["locations"]), world["version"], world["shopper"], pick.choice(ANSWERS),
                at(pick.choice(DAYS), pick.randrange(0, 24)),
                status=pick.choice([VisitStatus.approved, VisitStatus.submitted, VisitStatus.voided])))
        elif operation == "region":  # a location moves to the other region, maybe with a visit changing too
            location = pick.choice(world["locations"])
            location.region = next(r for r in world["regions"] if r is not location.region)
            if pick.random() < 0.5:
                pick.choice(visits).status = pick.choice(list(VisitStatus))
        else:
            visit = pick.choice(visits)
            if operation == "status":
                visit.status = pick.choice(list(VisitStatus))
            elif operation == "move":
                visit.location = pick.choice(world["locations"])
                visit.visited_at = at(pick.choice(DAYS))
            elif operation == "rescore":  # a resubmission: new answers, maybe the same score
                store_result(visit, score_visit(world["version"].checklist, pick.choice(ANSWERS)))
            else:
                visits.remove(visit)
                db.session.delete(visit)
        db.session.commit()
        assert_maintained_equals_rebuilt(db)


def test_the_networks_failures_summed_per_region_equal_the_locations_failures(db, world):
    pick = random.Random(5)
    for location in world["locations"] * 3:
        make_scored_visit(db, location, world["version"], world["shopper"], pick.choice(ANSWERS),
                          at(pick.choice(DAYS)))
    april = Period(date(2024, 4, 1), date(2024, 5, 31))
    wanted: dict[str, tuple[int, int, int]] = {}
    for location in world["locations"]:
        for failure in recurring_failures(Filters(april, location_id=location.id), min_visits=0):
            failed, asked, critical = wanted.get(failure.question_id, (0, 0, 0))
            wanted[failure.question_id] = (failed + failure.failures, asked + failure.asked,
                                           critical + failure.critical_failures)
    network = {f.question_id: (f.failures, f.asked, f.critical_failures)
               for f in recurring_failures(Filters(april), min_visits=0)}
    assert network == wanted and network
    south = world["regions"][1]
    in_south = {f.question_id: f.asked for f in recurring_failures(Filters(april, region_id=south.id), 0)}
    assert in_south == {f.question_id: f.asked for f in recurring_failures(
        Filters(april, location_id=world["locations"][2].id), 0)}
    # A manager of the north only: the south's visits are not in the figure.
    scoped = recurring_failures(Filters(april, scope=frozenset({world["regions"][0].id})), 0)
    assert sum(f.asked for f in scoped) == sum(f[1] for f in wanted.values()) - sum(in_south.values()) > 0


def test_new_answers_with_the_same_score_are_rolled_up_too(db, world):
    """A correction that leaves the score as it was (a critical failure scores 0 either way)."""
    visit = make_scored_visit(db, world["locations"][0], world["version"], world["shopper"], CRITICAL_FAIL,
                              at(DAYS[0]))
    corrected = score_visit(world["version"].checklist, {**CRITICAL_FAIL, "tone": 2})
    assert corrected.score == visit.score
    store_result(visit, corrected)
    db.session.commit()
    assert_maintained_equals_rebuilt(db)


def test_review_decisions_move_a_visit_in_and_out_of_the_figures(app, db, world):
    location, version = world["locations"][0], world["version"]
    visit = make_scored_visit(db, location, version, world["shopper"], SOME_LOSS, at(DAYS[0]),
                              status=VisitStatus.submitted)
    april = Filters(Period(date(2024, 4, 1), date(2024, 4, 30)), programme=version.checklist_id)
    assert average(april).visits == 0  # submitted visits count only once approved (the default)
    lifecycle.approve(visit, world["manager"])
    db.session.commit()
    assert average(april).visits == 1 and average(april).score == pytest.approx(visit.score)
    assert {f.question_id for f in failing_questions(april)} == {"tone", "offer"}
    assert set(section_averages(april)) == {"greeting", "service"}
    lifecycle.void(visit, world["manager"], "Not a real visit")
    db.session.commit()
    assert average(april).visits == 0 and failing_questions(april) == []
    assert_maintained_equals_rebuilt(db)


def test_the_rebuild_command_restores_rollups_lost_to_a_bulk_import(app, db, world):
    make_scored_visit(db, world["locations"][0], world["version"], world["shopper"], PERFECT, at(DAYS[0]))
    wanted = rows(db)
    for table in (ScoreRollup, QuestionRollup, RegionQuestionRollup):
        db.session.execute(table.__table__.delete())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["figures", "rebuild-rollups"])
    assert result.exit_code == 0 and "rollups rebuilt: 6 score rows" in result.output
    assert rows(db) == wanted


def test_a_visit_counts_on_its_utc_day(db, world):
    late = make_scored_visit(db, world["locations"][0], world["version"], world["shopper"], PERFECT,
                             datetime(2024, 4, 10, 23, 30, tzinfo=UTC))
    days = {(r.grain, r.day) for r in db.session.scalars(select(ScoreRollup).where(ScoreRollup.part == ""))}
    assert days == {("d", date(2024, 4, 10)), ("m", date(2024, 4, 1))}
    assert rollups.day_of(late.visited_at + timedelta(hours=1)) == date(2024, 4, 11)


def test_any_period_reads_each_day_once_from_whole_months_and_edge_days(db, world):
    """One visit a day for four months; every period's average from the rollups equals the visits'."""
    location, version = world["locations"][0], world["version"]
    first = date(2024, 2, 1)
    for offset in range(0, 120):
        make_scored_visit(db, location, version, world["shopper"], ANSWERS[offset % 3], at(first + timedelta(offset)))
    pick = random.Random(7)
    periods = [(date(2024, 3, 1), date(2024, 3, 31)), (date(2024, 2, 15), date(2024, 4, 14)),
               (date(2024, 2, 1), date(2024, 5, 30)), (date(2024, 3, 5), date(2024, 3, 9))]
    for _ in range(20):
        start = first + timedelta(pick.randrange(120))
        periods.append((start, start + timedelta(pick.randrange(0, 90))))
    for start, end in periods:
        figure = average(Filters(Period(start, end)))
        visits = db.session.scalars(select(Visit.score).where(
            Visit.visited_at >= at(start, 0), Visit.visited_at < at(end + timedelta(days=1), 0))).all()
        assert figure.visits == len(visits), (start, end)
        assert figure.score == pytest.approx(sum(visits) / len(visits)), (start, end)


def test_starting_or_saving_a_visit_locks_no_figures_but_submitting_and_approving_do(db, world, monkeypatch):
    """A month-end of starts would otherwise queue on the region's row; only states that count move figures."""
    calls = []
    real = rollups.recompute
    monkeypatch.setattr(rollups, "recompute", lambda keys, *a, **k: calls.append(sorted(keys)) or real(keys, *a, **k))
    visit = make_scored_visit(db, world["locations"][0], world["version"], world["shopper"], PERFECT,
                              at(DAYS[0]), status=VisitStatus.planned)
    calls.clear()
    assert visit.status == VisitStatus.planned  # the start request reads the state before changing it
    visit.status = VisitStatus.in_progress
    db.session.commit()
    assert visit.status == VisitStatus.in_progress  # as a request has it: loaded, then changed
    visit.location = world["locations"][1]  # moved while in progress: still in no figure
    db.session.commit()
    assert visit.status == VisitStatus.in_progress
    assert calls == []
    visit.status = VisitStatus.submitted
    db.session.commit()
    assert len(calls) == 1
    visit.status = VisitStatus.approved
    db.session.commit()
    assert len(calls) == 2
    assert_maintained_equals_rebuilt(db)
