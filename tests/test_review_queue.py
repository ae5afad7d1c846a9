"""Review at scale: the queue's filters and orders, reviewer assignment, Approve selected, and a bounded query count."""
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.analytics.figures import average
from app.analytics.filters import Filters
from app.analytics.periods import Period
from app.extensions import db as _db
from app.models import AuditLog, Visit, VisitEvent, VisitStatus
from app.review import routes
from tests.conftest import SAMPLE_CHECKLIST
from tests.factories_scored import (
    CRITICAL_FAIL,
    PERFECT,
    SOME_LOSS,
    dispose_engine,  # noqa: F401  (autouse)
    make_scored_visit,
)
from tests.test_review import text_of
from tests.test_rollups import assert_maintained_equals_rebuilt

OTHER_CHECKLIST = SAMPLE_CHECKLIST.replace("id: sample-visit", "id: other-visit").replace(
    "title: Sample store visit", "title: Other programme")


def listed(response) -> list[int]:
    """Return the ids of the visits a queue page lists, in its order."""
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'href="/review/visits/(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def world(db, make_region, make_location, make_checklist_version, make_user):
    """Submitted visits in two regions and two programmes, of every risk level, waiting 1 to 10 days."""
    north, south = make_region("North"), make_region("South")
    n1, n2 = make_location(north, name="North One"), make_location(north, name="North Two")
    s1 = make_location(south, name="South One")
    sample, other = make_checklist_version(), make_checklist_version(OTHER_CHECKLIST, "checklists/other.yaml")
    shopper = make_user("shopper")
    now = datetime.now(UTC)

    def waiting(location, version, days, risk, answers=None):
        return make_scored_visit(db, location, version, shopper, answers or PERFECT, now - timedelta(days=days),
                                 VisitStatus.submitted, risk_score=risk)

    visits = {
        "old_high": waiting(n1, sample, 10, 80),
        "mid_medium": waiting(n2, sample, 5, 30, SOME_LOSS),
        "south": waiting(s1, sample, 4, 10),
        "none_risk": waiting(n2, other, 3, 0),
        "uncomputed": waiting(n1, sample, 2, None, SOME_LOSS),
        "new_low": waiting(n1, other, 1, 5, CRITICAL_FAIL),
    }
    make_scored_visit(db, n1, sample, shopper, PERFECT, now - timedelta(days=20))  # approved: not in the queue
    return {
        "north": north, "south": south, "sample": sample, "other": other, "visits": visits,
        "everyone": make_user("manager", name="Whole Network"),
        "nora": make_user("manager", name="Nora North", regions=[north]),
        "nick": make_user("manager", name="Nick North", regions=[north]),
        "sue": make_user("manager", name="Sue South", regions=[south]),
    }


def ids(world, *names) -> list[int]:
    return [world["visits"][name].id for name in names]


NORTH_OLDEST = ("old_high", "mid_medium", "none_risk", "uncomputed", "new_low")


def test_the_whole_network_sees_every_waiting_visit_oldest_first(client, login, world):
    login(world["everyone"])
    assert listed(client.get("/review/")) == ids(world, "old_high", "mid_medium", "south", "none_risk",
                                                  "uncomputed", "new_low")


def test_a_regional_manager_never_sees_another_region_not_even_when_asking_for_it(client, login, world):
    login(world["nora"])
    assert listed(client.get("/review/")) == ids(world, *NORTH_OLDEST)
    asked = client.get(f"/review/?region={world['south'].id}")
    assert listed(asked) == ids(world, *NORTH_OLDEST)
    assert "Unknown region, or not one of yours: ignored." in text_of(asked)
    assert "South One" not in text_of(asked) and "South<" not in asked.get_data(as_text=True)


@pytest.mark.parametrize(("query", "expected"), [
    ("programme=other-visit", ("none_risk", "new_low")),
    ("programme=sample-visit", ("old_high", "mid_medium", "uncomputed")),
    ("risk=high", ("old_high",)),
    ("risk=medium", ("mid_medium",)),
    ("risk=low", ("none_risk", "new_low")),               # no signal at all is low too; not computed is no level
    ("age=4", ("old_high", "mid_medium")),                # waiting more than 4 days
    ("age=1", ("old_high", "mid_medium", "none_risk", "uncomputed")),
    ("sort=newest", ("new_low", "uncomputed", "none_risk", "mid_medium", "old_high")),
    ("sort=risk", ("old_high", "mid_medium", "new_low", "none_risk", "uncomputed")),
    ("sort=score", ("new_low", "mid_medium", "uncomputed", "old_high", "none_risk")),
    ("programme=sample-visit&risk=low", ()),
    ("programme=other-visit&sort=newest", ("new_low", "none_risk")),
])
def test_each_filter_and_order_lists_exactly_its_visits(client, login, world, query, expected):
    login(world["nora"])
    assert listed(client.get(f"/review/?{query}")) == ids(world, *expected)


def test_the_region_filter_keeps_one_region_of_the_managers(client, login, world):
    login(world["everyone"])
    assert listed(client.get(f"/review/?region={world['south'].id}")) == ids(world, "south")
    page = text_of(client.get(f"/review/?region={world['north'].id}"))
    assert "6 visits wait for review, oldest first. 5 of them match the filters." in page


def test_the_reviewer_filter_reads_mine_and_nobodys(client, login, world, db):
    visits = world["visits"]
    visits["old_high"].reviewer_id = world["nora"].id
    visits["mid_medium"].reviewer_id = world["nick"].id
    db.session.commit()
    login(world["nora"])
    assert listed(client.get("/review/?reviewer=me")) == ids(world, "old_high")
    assert listed(client.get("/review/?reviewer=none")) == ids(world, "none_risk", "uncomputed", "new_low")
    page = client.get("/review/").get_data(as_text=True)
    assert "Nick North" in page and "<strong>You</strong>" in page


@pytest.mark.parametrize("query", [
    "sort=bogus", "risk=extreme", "age=-3", "age=0", "age=99999", "age=3.5", "reviewer=someone", "programme=nope",
    "region=abc", "region=99999999999999999999", "age=%D9%A3",  # an Arabic-Indic three is no ASCII number
])
def test_a_bad_value_is_ignored_and_said_so_never_an_error(client, login, world, query):
    login(world["nora"])
    response = client.get(f"/review/?{query}")
    assert listed(response) == ids(world, *NORTH_OLDEST)
    assert "ignored" in text_of(response)


def test_paging_keeps_the_filters(client, login, world, monkeypatch):
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    login(world["nora"])
    first = client.get("/review/?programme=sample-visit&sort=newest")
    assert listed(first) == ids(world, "uncomputed", "mid_medium")
    following = re.search(r'href="([^"]*page=2[^"]*)"', first.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert "programme=sample-visit" in following and "sort=newest" in following
    assert listed(client.get(following)) == ids(world, "old_high")


# -- reviewer assignment ---------------------------------------------------------------------


def test_a_manager_takes_a_visit_or_gives_it_to_a_manager_of_its_region_audited(client, login, world, db):
    visit = world["visits"]["old_high"]
    login(world["nora"])
    taken = client.post(f"/review/visits/{visit.id}/reviewer", data={"reviewer": "me"}, follow_redirects=True)
    assert "Nora North reviews North One #" in text_of(taken)
    db.session.refresh(visit)
    assert visit.reviewer_id == world["nora"].id
    given = client.post(f"/review/visits/{visit.id}/reviewer", data={"reviewer": str(world["nick"].id)})
    assert given.status_code == 302
    db.session.refresh(visit)
    assert visit.reviewer_id == world["nick"].id
    refused = client.post(f"/review/visits/{visit.id}/reviewer", data={"reviewer": str(world["sue"].id)},
                          follow_redirects=True)
    assert "Sue South cannot review visits of this region." in text_of(refused)
    db.session.refresh(visit)
    assert visit.reviewer_id == world["nick"].id
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "visit.reviewer")
                                 .order_by(AuditLog.id)).all()
    assert [(e.user_id, e.target_id, e.details) for e in entries] == [
        (world["nora"].id, visit.id, {"reviewer_id": world["nora"].id, "previous_reviewer_id": None}),
        (world["nora"].id, visit.id, {"reviewer_id": world["nick"].id, "previous_reviewer_id": world["nora"].id}),
    ]
    page = client.get(f"/review/visits/{visit.id}").get_data(as_text=True)
    assert "Nick North reviews this visit." in page
    assert "Sue South" not in page  # only managers of the visit's region are offered


def test_out_of_scope_or_decided_visits_get_no_reviewer(client, login, world, db):
    login(world["nora"])
    south = world["visits"]["south"]
    assert client.post(f"/review/visits/{south.id}/reviewer", data={"reviewer": "me"}).status_code == 404
    decided = world["visits"]["none_risk"]
    decided.status = VisitStatus.approved
    db.session.commit()
    response = client.post(f"/review/visits/{decided.id}/reviewer", data={"reviewer": "me"}, follow_redirects=True)
    assert "Only a visit waiting for review can be given a reviewer." in text_of(response)
    assert client.post(f"/review/visits/{south.id}/reviewer", data={"reviewer": "x1"}).status_code == 404
    assert client.post(f"/review/visits/{world['visits']['old_high'].id}/reviewer",
                       data={"reviewer": "x1"}).status_code == 400


# -- Approve selected ------------------------------------------------------------------------


def _approve(client, visit_ids, **extra):
    return client.post("/review/approve", data={"visit": [str(i) for i in visit_ids], "back": "/review/?risk=low",
                                                **extra}, follow_redirects=True)


def test_approve_selected_approves_like_a_single_approval_and_counts_in_the_figures(client, login, world, db):
    visits = world["visits"]
    login(world["nora"])
    single = visits["none_risk"]
    assert client.post(f"/review/visits/{single.id}/decision", data={"decision": "approve"}).status_code == 302
    response = _approve(client, ids(world, "mid_medium", "new_low", "uncomputed"))
    assert "3 visits approved." in text_of(response)
    assert response.request.path == "/review/" and response.request.args.get("risk") == "low"  # back to the view
    db.session.expire_all()
    approved = [db.session.get(Visit, i) for i in ids(world, "none_risk", "mid_medium", "new_low", "uncomputed")]
    assert all(v.status == VisitStatus.approved and v.reviewed_by_id == world["nora"].id for v in approved)
    logs = {e.target_id: e.details for e in db.session.scalars(
        select(AuditLog).where(AuditLog.action == "visit.approve"))}
    assert {k: set(v) for k, v in logs.items()} == {v.id: set(logs[single.id]) for v in approved}
    assert logs[visits["new_low"].id]["score"] == visits["new_low"].score
    events = db.session.scalars(select(VisitEvent.visit_id).where(VisitEvent.action == "approved")).all()
    assert sorted(events) == sorted(v.id for v in approved)
    month = Period(date.today() - timedelta(days=30), date.today())
    sample = average(Filters(month, programme="sample-visit"))
    other = average(Filters(month, programme="other-visit"))
    # The sample programme: the old approved visit plus the two approved in bulk; the other: one of each.
    assert sample.visits == 3 and other.visits == 2
    assert other.score == pytest.approx((visits["none_risk"].score + visits["new_low"].score) / 2)
    assert_maintained_equals_rebuilt(db)


def test_approve_selected_skips_a_visit_decided_meanwhile_and_names_it(client, login, world, db):
    visits = world["visits"]
    login(world["nick"])
    client.post(f"/review/visits/{visits['mid_medium'].id}/decision", data={"decision": "approve", "comment": "ok"})
    login(world["nora"])
    page = text_of(_approve(client, ids(world, "mid_medium", "new_low")))
    assert "1 visit approved." in page
    assert f"Left alone, no longer waiting for review: North Two #{visits['mid_medium'].id}." in page
    db.session.expire_all()
    mid = db.session.get(Visit, visits["mid_medium"].id)
    assert mid.reviewed_by_id == world["nick"].id and mid.review_comment == "ok"  # the earlier decision stands
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "visit.approve",
                                                         AuditLog.target_id == mid.id)).all()) == 1


def test_approve_selected_leaves_high_risk_visits_unless_ticked(client, login, world, db):
    high = world["visits"]["old_high"]
    login(world["nora"])
    page = text_of(_approve(client, ids(world, "old_high", "none_risk")))
    assert "1 visit approved." in page and "high risk" in page and f"North One #{high.id}" in page
    db.session.refresh(high)
    assert high.status == VisitStatus.submitted
    page = text_of(_approve(client, [high.id], include_high_risk="y"))
    assert "1 visit approved." in page
    db.session.refresh(high)
    assert high.status == VisitStatus.approved


def test_approve_selected_never_touches_another_regions_visit(client, login, world, db):
    south = world["visits"]["south"]
    login(world["nora"])
    page = text_of(_approve(client, [south.id, world["visits"]["new_low"].id, 987654]))
    assert "1 visit approved." in page and "2 selected visits were not found in your regions." in page
    assert "South One" not in page
    db.session.refresh(south)
    assert south.status == VisitStatus.submitted


def test_approve_selected_with_nothing_ticked_says_so(client, login, world):
    login(world["nora"])
    assert "Tick the visits to approve first." in text_of(_approve(client, []))
    assert "Tick the visits to approve first." in text_of(_approve(client, ["abc"]))


def test_approve_selected_and_assignment_need_csrf(app, client, login, world, db):
    app.config["WTF_CSRF_ENABLED"] = True
    login(world["nora"])
    visit = world["visits"]["new_low"]
    assert client.post("/review/approve", data={"visit": [str(visit.id)]}).status_code == 400
    assert client.post(f"/review/visits/{visit.id}/reviewer", data={"reviewer": "me"}).status_code == 400
    db.session.refresh(visit)
    assert visit.status == VisitStatus.submitted and visit.reviewer_id is None
    # With the token of the queue page it goes through.
    html = client.get("/review/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/review/approve", data={"visit": [str(visit.id)], "csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(visit)
    assert visit.status == VisitStatus.approved


def test_the_queue_shows_the_bulk_form_and_a_take_button(client, login, world):
    login(world["nora"])
    html = client.get("/review/?risk=low").get_data(as_text=True)
    assert 'action="/review/approve"' in html and 'name="include_high_risk"' in html
    assert html.count('name="visit"') == 2
    assert f'formaction="/review/visits/{world["visits"]["new_low"].id}/reviewer"' in html


# -- the number of queries does not grow with the page -----------------------------------------


def _statements(client, url) -> int:
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def _fill(db, make_location, make_user, region, version, n):
    """Add n waiting visits, each of its own location and shopper, two in three with a reviewer of their own (so
    that a query per row, of any of them, would show)."""
    now = datetime.now(UTC)
    for i in range(n):
        reviewer = make_user("manager", regions=[region]) if i % 3 else None
        make_scored_visit(db, make_location(region), version, make_user("shopper"), PERFECT,
                          now - timedelta(days=2, minutes=i), VisitStatus.submitted, risk_score=i % 30,
                          reviewer_id=reviewer.id if reviewer else None)


@pytest.mark.parametrize("query", ["", "?sort=risk&risk=low&age=1&programme=sample-visit"])
def test_a_page_of_fifty_takes_as_many_queries_as_a_page_of_five(app, make_app, app_config, client, login, db,
                                                                    make_region, make_location, make_user,
                                                                    make_checklist_version, query):
    region = make_region("North")
    version = make_checklist_version()
    viewer = make_user("manager", regions=[region])
    _fill(db, make_location, make_user, region, version, 5)
    login(viewer)
    client.get(f"/review/{query}")  # warm the per-process caches (checklist parsing, settings)
    few = _statements(client, f"/review/{query}")
    shown_few = len(listed(client.get(f"/review/{query}")))
    _fill(db, make_location, make_user, region, version, 45)
    many = _statements(client, f"/review/{query}")
    assert few == many
    assert len(listed(client.get(f"/review/{query}"))) > shown_few  # the page did grow
