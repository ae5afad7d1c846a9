"""Proof of visit: distances to the location and plausibility of the timings."""
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Answer
from app.visits.proof import assess, haversine_m, proof_of_visit

T0 = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)
STORE = (55.7558, 37.6173)


def texts(report) -> str:
    return " | ".join(str(w) for w in report.warnings)


def test_haversine_known_distances():
    assert haversine_m(*STORE, *STORE) == 0
    # Moscow - Saint Petersburg, about 634 km.
    assert haversine_m(55.7558, 37.6173, 59.9343, 30.3351) == pytest.approx(634_000, rel=0.01)
    # 0.001 degree of latitude is about 111 m.
    assert haversine_m(0, 0, 0.001, 0) == pytest.approx(111.2, rel=0.01)


def test_a_plausible_visit_has_no_warnings(app):
    report = assess(geolocation="granted", location=STORE, start=(55.7560, 37.6175), start_accuracy=15,
                    submit=(55.7557, 37.6170), submit_accuracy=20, started_at=T0,
                    submitted_at=T0 + timedelta(minutes=25), answered=40,
                    answer_times=[T0 + timedelta(seconds=30 * i) for i in range(40)])
    assert report.warnings == [] and report.ok
    assert report.start_distance_m < 50 and report.seconds_per_answer == pytest.approx(37.5)


def test_far_from_the_location_is_warned(app):
    with app.test_request_context():
        report = assess(geolocation="granted", location=STORE, start=(55.7658, 37.6173), submit=STORE,
                        started_at=T0, submitted_at=T0 + timedelta(minutes=30), answered=10)
        assert report.start_distance_m == pytest.approx(1112, rel=0.01)
        assert "1,112 m" in texts(report) and len(report.warnings) == 1


def test_accuracy_is_allowed_for_but_poor_fixes_are_flagged(app):
    with app.test_request_context():
        near = assess(geolocation="granted", location=STORE, start=(55.7588, 37.6173), start_accuracy=100)
        assert near.warnings == []  # 334 m away, but ± 100 m
        vague = assess(geolocation="granted", location=STORE, start=STORE, start_accuracy=5000)
        assert "imprecise" in texts(vague)


def test_forty_questions_in_two_minutes_is_implausible(app):
    with app.test_request_context():
        report = assess(geolocation="granted", location=STORE, start=STORE, submit=STORE, started_at=T0,
                        submitted_at=T0 + timedelta(minutes=2), answered=40,
                        answer_times=[T0 + timedelta(seconds=2 * i) for i in range(40)])
        assert "40 questions were answered in 2:00" in texts(report)
        assert "All answers were given within 1:18" in texts(report)


def test_without_permission_the_report_says_so(app):
    with app.test_request_context():
        report = assess(geolocation="denied", location=STORE, started_at=T0,
                        submitted_at=T0 + timedelta(minutes=20), answered=5)
        assert report.start_distance_m is None
        assert "did not share" in texts(report)


def test_location_without_coordinates_and_clock_trouble(app):
    with app.test_request_context():
        report = assess(geolocation="granted", location=None, start=STORE, started_at=T0,
                        submitted_at=T0 - timedelta(minutes=1), answered=5)
        assert "no coordinates" in texts(report) and "before it was started" in texts(report)


def test_proof_of_a_stored_visit(app, db, make_visit, make_location):
    visit = make_visit(location=make_location(latitude=STORE[0], longitude=STORE[1]),
                       started_at=T0, submitted_at=T0 + timedelta(minutes=3), geolocation="granted",
                       start_latitude=STORE[0], start_longitude=STORE[1], submit_latitude=55.80,
                       submit_longitude=STORE[1])
    for i in range(40):
        db.session.add(Answer(visit=visit, question_id=f"q{i}", section_id="s", status="answered",
                              first_answered_at=T0 + timedelta(seconds=i)))
    db.session.commit()
    with app.test_request_context():
        report = proof_of_visit(visit)
        assert report.answered == 40 and report.duration_s == 180
        assert report.submit_distance_m == pytest.approx(4915, rel=0.01)
        assert len(report.warnings) == 3
