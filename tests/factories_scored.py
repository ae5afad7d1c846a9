"""Scored visits for tests: answers are scored by app.scoring and stored like a real submission."""
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.models import Visit, VisitStatus
from app.scoring import score_visit
from app.visits.lifecycle import store_result

#: Answers to SAMPLE_CHECKLIST (tests/conftest.py) that score 100.
PERFECT = {"greeted": "yes", "tone": 5, "wait": 30, "offer": "full", "purchased": "no", "notes": "", "shelf": []}


def make_scored_visit(db, location, checklist_version, shopper, answers=None, visited_at=None,
                      status=VisitStatus.approved, **fields) -> Visit:
    """Create a submitted-and-scored visit with its answers, section scores and score (committed)."""
    answers = dict(PERFECT if answers is None else answers)
    if isinstance(visited_at, date) and not isinstance(visited_at, datetime):
        visited_at = datetime.combine(visited_at, time(11, 0), tzinfo=UTC)
    visited_at = visited_at or datetime.now(UTC) - timedelta(days=1)
    visit = Visit(
        location=location, checklist_version=checklist_version, shopper=shopper, status=status,
        window_start=visited_at.date() - timedelta(days=3), window_end=visited_at.date() + timedelta(days=3),
        started_at=visited_at, submitted_at=visited_at + timedelta(minutes=20), visited_at=visited_at, **fields,
    )
    db.session.add(visit)
    result = score_visit(checklist_version.checklist, answers)
    store_result(visit, result)
    db.session.commit()
    return visit


# Answers to SAMPLE_CHECKLIST: greeted=no is a critical failure (visit score 0);
# tone 3 and a bag only when asked lose points without a critical failure.
CRITICAL_FAIL = {**PERFECT, "greeted": "no"}
SOME_LOSS = {**PERFECT, "tone": 3, "offer": "asked"}


def build_network(db, make_region, make_location, make_checklist_version, make_user):
    """Two regions, north (A1, A2) and south (B1), with visits in Q1-Q3 2024; return the parts."""
    north, south = make_region("North"), make_region("South")
    a1, a2 = make_location(north, name="A1"), make_location(north, name="A2")
    b1 = make_location(south, name="B1")
    version = make_checklist_version()
    shopper = make_user("shopper")

    def visit(location, answers, day, status=VisitStatus.approved):
        return make_scored_visit(db, location, version, shopper, answers, day, status)

    visits = {
        "a1_q2_perfect": visit(a1, PERFECT, date(2024, 4, 10)),
        "a1_q2_loss": visit(a1, SOME_LOSS, date(2024, 5, 10)),
        "a1_q1_loss": visit(a1, SOME_LOSS, date(2024, 2, 10)),
        "a2_q2_critical": visit(a2, CRITICAL_FAIL, date(2024, 4, 12)),
        "a2_q2_perfect": visit(a2, PERFECT, date(2024, 6, 30)),
        "b1_q2_perfect": visit(b1, PERFECT, date(2024, 6, 1)),
        "b1_q3_critical": visit(b1, CRITICAL_FAIL, date(2024, 7, 1)),
        "b1_submitted": visit(b1, PERFECT, date(2024, 5, 5), status=VisitStatus.submitted),
        "b1_voided": visit(b1, CRITICAL_FAIL, date(2024, 5, 6), status=VisitStatus.voided),
    }
    return {"north": north, "south": south, "a1": a1, "a2": a2, "b1": b1, "version": version,
            "shopper": shopper, "visits": visits}


@pytest.fixture(autouse=True)
def dispose_engine(app):
    """Close the test app's pooled connections after each test (PostgreSQL runs share max_connections)."""
    yield
    from app.extensions import db

    db.session.remove()
    db.engine.dispose()
