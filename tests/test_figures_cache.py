"""The figures cache never shows a stale figure: every change between two page loads shows on the second.

The network (tests.factories_scored.build_network): North with A1 and A2 (2 + 2 approved visits in
Q2 2024), South with B1 (1 approved, 1 submitted, 1 voided in Q2).
"""
import re
from collections import Counter
from datetime import date

import pytest

from app.analytics import figures, versions
from app.models import VisitStatus
from app.visits import lifecycle
from tests.conftest import TEST_DATABASE_URL
from tests.factories_scored import (
    PERFECT,
    build_network,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)
from tests.test_ops import closed_port, redis_or_skip

Q2 = {"period": "custom", "start": "2024-04-01", "end": "2024-06-30", "checklist": "sample-visit"}


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


@pytest.fixture
def computed(monkeypatch):
    """Count how often the league table and a location's ranks are computed (not served from the cache)."""
    calls: Counter[str] = Counter()
    for name in ("league_table", "location_ranks"):
        real = getattr(figures, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(figures, name, counting)
    return calls


def page_text(client, url: str) -> str:
    response = client.get(url, query_string=Q2)
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def network_visits(client) -> dict[str, int]:
    """Return {location code: visits} of the network's league table as the API gives it."""
    data = client.get("/api/v1/figures/network", query_string=Q2).get_json()
    return {row["name"]: row["visits"] for row in data["locations"]}


def decide(client, visit, decision: str, comment: str = "") -> None:
    response = client.post(f"/review/visits/{visit.id}/decision", data={"decision": decision, "comment": comment})
    assert response.status_code == 302


def test_a_second_load_is_served_from_the_cache_and_review_decisions_show_at_once(client, login, manager, network,
                                                                                   computed):
    login(manager)
    assert "5 visits" in page_text(client, "/dashboard/")  # the network's average: 4 in North, 1 in South
    assert "5 visits" in page_text(client, "/dashboard/")
    assert computed["league_table"] == 1  # the second load computed nothing
    assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 1}  # the API: the same figures, same entry
    assert computed["league_table"] == 1

    decide(client, network["visits"]["b1_submitted"], "approve")
    text = page_text(client, "/dashboard/")
    assert "6 visits" in text and "5 visits" not in text
    assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 2}

    decide(client, network["visits"]["b1_submitted"], "void", "Not a real visit")
    assert "5 visits" in page_text(client, "/dashboard/")
    assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 1}
    assert computed["league_table"] == 3  # once per state of the data


def test_a_visit_in_another_region_changes_a_location_pages_network_figures(client, login, make_user, db, network,
                                                                             computed):
    # A manager of North only: South is outside the scope, but inside the network the page compares with.
    login(make_user("manager", regions=[network["north"]]))
    a1 = f"/dashboard/locations/{network['a1'].id}"
    api = f"/api/v1/figures/locations/{network['a1'].code}"
    before = client.get(api, query_string=Q2).get_json()
    assert (before["network_average"]["visits"], before["region_average"]["visits"]) == (5, 4)
    assert f"Network average {before['network_average']['score']:.1f}" in page_text(client, a1)
    north = dict(map(tuple, versions.data_version()))[network["north"].id]

    make_scored_visit(db, network["b1"], network["version"], network["shopper"], PERFECT, date(2024, 6, 2))
    # South's version moved, North's did not: a submission in one region locks and bumps only its own row.
    assert dict(map(tuple, versions.data_version()))[network["north"].id] == north
    after = client.get(api, query_string=Q2).get_json()
    assert (after["network_average"]["visits"], after["region_average"]["visits"]) == (6, 4)
    assert after["network_average"]["score"] != before["network_average"]["score"]
    assert f"Network average {after['network_average']['score']:.1f}" in page_text(client, a1)
    assert after["average"] == before["average"]  # A1's own figures are the same, recomputed
    assert computed["location_ranks"] == 2


def test_a_renamed_location_and_a_retitled_checklist_show_at_once(client, login, manager, db, network):
    login(manager)
    text = page_text(client, "/dashboard/")
    assert "A1" in text and "Arbat" not in text and "Sample store visit" in text
    network["a1"].name = "Arbat"
    db.session.commit()
    assert "Arbat" in page_text(client, "/dashboard/")
    network["version"].title = "Store audit"
    db.session.commit()
    text = page_text(client, "/dashboard/")
    assert "Store audit" in text and "Sample store visit" not in text


def test_a_started_visit_changes_no_version_and_a_rebuild_changes_every_one(app, db, network):
    visit = make_scored_visit(db, network["a1"], network["version"], network["shopper"], PERFECT, date(2024, 5, 20),
                              status=VisitStatus.planned)
    before = versions.data_version()
    assert visit.status == VisitStatus.planned  # the start request reads the state before changing it
    visit.status = VisitStatus.in_progress
    db.session.commit()
    assert versions.data_version() == before  # drafts and starts touch no region row
    result = app.test_cli_runner().invoke(args=["figures", "rebuild-rollups"])
    assert result.exit_code == 0
    after = versions.data_version()
    assert [rid for rid, _v in after] == [rid for rid, _v in before]
    assert all(new > old for (_r, new), (_s, old) in zip(after, before, strict=True))


def test_redis_down_computes_the_figures_instead(app, client, login, manager, network):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    login(manager)
    assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 1}
    decide(client, network["visits"]["b1_submitted"], "approve")
    assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 2}
    assert "6 visits" in page_text(client, "/dashboard/")


def test_figures_shared_through_redis_are_never_stale(app, client, login, manager, network, computed):
    import redis

    url = redis_or_skip()
    app.config["REDIS_URL"] = url
    connection = redis.Redis.from_url(url)
    login(manager)
    try:
        assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 1}
        assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 1}
        assert computed["league_table"] == 1
        namespace = app.extensions["figures_cache"].namespace
        assert connection.keys(namespace + "*")  # stored in Redis, for every app server
        app.extensions["figures_cache"].local = type(app.extensions["figures_cache"].local)(1)
        assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 1}  # read back from Redis, not this process
        assert computed["league_table"] == 1
        decide(client, network["visits"]["b1_submitted"], "approve")
        assert network_visits(client) == {"A1": 2, "A2": 2, "B1": 2}
    finally:
        for key in connection.scan_iter(app.extensions["figures_cache"].namespace + "*"):
            connection.delete(key)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks: PostgreSQL")
def test_a_submission_waits_for_no_other_regions_row(app, db, network, make_user):
    """The data version lives on the region rows the rollups lock anyway: a North submission in flight
    holds up a North approval, never one in South (no global row that every submission updates)."""
    from sqlalchemy import select, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from app.models import Region, Visit

    manager = make_user("manager")
    south_visit = network["visits"]["b1_submitted"]
    north_visit = make_scored_visit(db, network["a1"], network["version"], network["shopper"], PERFECT,
                                    date(2024, 5, 21), status=VisitStatus.submitted)
    other = Session(db.engine)
    try:
        # Another request's transaction, between its rollups' lock on North and its commit.
        other.execute(select(Region.id).where(Region.id == network["north"].id).with_for_update())
        db.session.execute(text("SET lock_timeout = '2s'"))
        lifecycle.approve(db.session.get(Visit, south_visit.id), manager)
        db.session.commit()  # would wait 2 s and fail if it needed North's row
        db.session.execute(text("SET lock_timeout = '300ms'"))
        lifecycle.approve(db.session.get(Visit, north_visit.id), manager)
        with pytest.raises(OperationalError, match="lock timeout"):
            db.session.commit()  # North's own row: it waits, as it did before the cache
        db.session.rollback()
    finally:
        other.rollback()
        other.close()
        db.session.execute(text("RESET lock_timeout"))
