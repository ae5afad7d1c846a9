"""Survey metrics per location and for the network, aggregated in SQL."""
from datetime import UTC, date, datetime

import pytest

from app.analytics.periods import Period
from app.analytics.survey_metrics import ces, csat, nps
from app.analytics.surveys import network_survey_metrics, survey_metrics, survey_metrics_in
from app.models import SurveyResponse


def expected(name: str, values: list[int]):
    """Return the metric computed in Python from raw answers: what the SQL aggregation must agree with."""
    return {"nps": nps, "csat": csat, "ces": ces}[name](values)


MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def network(make_region, make_location):
    north, south = make_region("North"), make_region("South")
    return {"north": north, "south": south, "n1": make_location(north), "n2": make_location(north),
            "s1": make_location(south)}


def add(db, location, when=datetime(2025, 3, 10, 12, tzinfo=UTC), flagged=False, **values):
    db.session.add(SurveyResponse(location_id=location.id, survey_id="customer-feedback", submitted_at=when,
                                  flagged=flagged, flag_reason="duplicate" if flagged else None, **values))


def test_each_location_gets_its_own_figures(db, network):
    n1, n2 = network["n1"], network["n2"]
    for value in (10, 9, 9, 8, 7, 6, 0):
        add(db, n1, nps=value)
    for value in (5, 4, 3, 1):
        add(db, n1, csat=value)
    for value in (7, 7, 6, 2):
        add(db, n1, ces=value)
    add(db, n2, nps=10, csat=5, ces=7)
    db.session.commit()
    found = survey_metrics(MARCH)
    assert set(found) == {n1.id, n2.id}
    assert found[n1.id]["nps"] == expected("nps", [10, 9, 9, 8, 7, 6, 0])
    assert found[n1.id]["nps"].value == pytest.approx(100 * (3 - 2) / 7)
    assert found[n1.id]["csat"] == expected("csat", [5, 4, 3, 1])
    assert found[n1.id]["csat"].value == pytest.approx(50.0)
    assert found[n1.id]["ces"] == expected("ces", [7, 7, 6, 2])
    assert found[n1.id]["ces"].value == pytest.approx(5.5)
    assert (found[n2.id]["nps"].value, found[n2.id]["nps"].n) == (100.0, 1)


def test_asked_locations_without_answers_get_empty_figures(db, network):
    add(db, network["n1"], nps=9)
    db.session.commit()
    found = survey_metrics(MARCH, location_ids=[network["n2"].id, network["s1"].id])
    assert set(found) == {network["n2"].id, network["s1"].id}
    for metrics in found.values():
        for result in metrics.values():
            assert (result.value, result.n) == (None, 0)
    assert survey_metrics(MARCH, location_ids=[]) == {}


def test_asking_by_region_gives_what_asking_by_location_gives(db, network):
    # The dashboard asks for its league table's locations by their regions (no IN list of hundreds of ids).
    add(db, network["n1"], nps=9, csat=4)
    add(db, network["n2"], nps=3)
    add(db, network["s1"], nps=10)
    db.session.commit()
    north = [network["n1"].id, network["n2"].id]
    assert survey_metrics_in(MARCH, north, [network["north"].id]) == survey_metrics(MARCH, location_ids=north)
    everyone = [*north, network["s1"].id]
    assert survey_metrics_in(MARCH, everyone, None) == survey_metrics(MARCH, location_ids=everyone)
    assert survey_metrics_in(MARCH, [network["n1"].id], None) == survey_metrics(MARCH, location_ids=[network["n1"].id])


def test_period_ends_are_whole_days_in_utc(db, network):
    n1 = network["n1"]
    add(db, n1, when=datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC), nps=0)   # before
    add(db, n1, when=datetime(2025, 3, 1, 0, 0, tzinfo=UTC), nps=10)          # first moment
    add(db, n1, when=datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC), nps=10)   # last moment
    add(db, n1, when=datetime(2025, 4, 1, 0, 0, tzinfo=UTC), nps=0)           # after
    db.session.commit()
    result = survey_metrics(MARCH)[n1.id]["nps"]
    assert (result.value, result.n) == (100.0, 2)


def test_flagged_answers_are_left_out_unless_asked_for(db, network):
    n1 = network["n1"]
    add(db, n1, nps=10)
    add(db, n1, nps=0, flagged=True)
    db.session.commit()
    assert survey_metrics(MARCH)[n1.id]["nps"].value == 100.0
    assert survey_metrics(MARCH, include_flagged=True)[n1.id]["nps"].value == 0.0
    assert network_survey_metrics(MARCH)["nps"].n == 1
    assert network_survey_metrics(MARCH, include_flagged=True)["nps"].n == 2


def test_network_figures_pool_the_answers_of_the_regions_in_scope(db, network):
    add(db, network["n1"], nps=10)
    add(db, network["n2"], nps=10)
    add(db, network["s1"], nps=0)
    add(db, network["s1"], nps=6)
    db.session.commit()
    assert network_survey_metrics(MARCH)["nps"] == expected("nps", [10, 10, 0, 6])
    assert network_survey_metrics(MARCH)["nps"].value == 0.0
    assert network_survey_metrics(MARCH, {network["north"].id})["nps"] == expected("nps", [10, 10])
    assert network_survey_metrics(MARCH, {network["south"].id})["nps"].value == -100.0
    empty = network_survey_metrics(MARCH, set())
    assert (empty["nps"].n, empty["nps"].value, empty["csat"].n, empty["ces"].n) == (0, None, 0, 0)


def test_one_query_for_all_locations(db, network, app):
    """The figures of every location come from a single GROUP BY, not one query per location."""
    from sqlalchemy import event

    for location in (network["n1"], network["n2"], network["s1"]):
        add(db, location, nps=9, csat=4, ces=5)
    db.session.commit()
    ids = [network[key].id for key in ("n1", "n2", "s1")]
    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        found = survey_metrics(MARCH, location_ids=ids)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert [found[i]["nps"].n for i in ids] == [1, 1, 1]
    assert "GROUP BY" in statements[0]
