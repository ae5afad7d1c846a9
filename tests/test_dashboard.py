"""Manager pages: dashboard, location, region, drill-down; figures shown, filters, query counts."""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db as _db
from tests.factories_scored import (
    build_network,
    dispose_engine,  # noqa: F401  (autouse)
)

Q2 = {"period": "custom", "start": "2024-04-01", "end": "2024-06-30"}


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    return build_network(db, make_region, make_location, make_checklist_version, make_user)


@contextmanager
def count_queries():
    """Count the SQL statements sent to the database inside the block."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def text_of(response) -> str:
    """Return the page's visible text, tags stripped and spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_dashboard_shows_league_table_heatmap_and_failures(client, login, manager, network):
    login(manager)
    response = client.get("/dashboard/", query_string=Q2)
    assert response.status_code == 200
    page = text_of(response)
    # B1 100.0 first, A1 ~ mixed, A2 50.0 (one critical failure, one perfect).
    assert page.index("B1") < page.index("A1") < page.index("A2")
    assert "50.0" in page and "100.0" in page
    assert "Most failed questions" in page and "Offered a bag" in page
    assert "Sections by location" in page and "Greeting" in page
    html = response.get_data(as_text=True)
    # Every drill-down link carries the whole filter, the programme included.
    assert f"/dashboard/visits?period=custom&amp;start=2024-04-01&amp;end=2024-06-30&amp;checklist=sample-visit" \
        f"&amp;location={network['a2'].id}&amp;section=greeting" in html
    assert "<svg class=\"sparkline\"" in html


def test_dashboard_filters_by_region_and_survives_bad_input(client, login, manager, network):
    login(manager)
    page = text_of(client.get("/dashboard/", query_string={**Q2, "region": network["south"].id}))
    assert "B1" in page and " A1 " not in page
    bad = client.get("/dashboard/", query_string={"period": "custom", "start": "2024-06-30", "end": "2024-01-01"})
    assert bad.status_code == 200
    assert "The period ends before it starts." in text_of(bad)
    assert client.get("/dashboard/", query_string={"period": "nonsense", "start": "x"}).status_code == 200
    assert client.get("/dashboard/", query_string={"region": "abc"}).status_code == 200
    assert client.get("/dashboard/", query_string={"sort": "nps", "dir": "asc"}).status_code == 200


def test_sorting_the_league_table(client, login, manager, network):
    login(manager)
    page = text_of(client.get("/dashboard/", query_string={**Q2, "sort": "name", "dir": "asc"}))
    assert page.index("A1") < page.index("A2") < page.index("B1")


def league_ranks(response) -> dict[str, str]:
    """Return {location name: rank text} of the league table rows on the page."""
    row = r'<td class="num[^"]*">([^<]*)</td>\s*<th scope="row"[^>]*><a [^>]*>([^<]+)</a>'
    return {name: rank for rank, name in re.findall(row, response.get_data(as_text=True))}


def test_league_table_pages_keep_whole_table_ranks_and_the_sort(client, login, manager, network, monkeypatch):
    login(manager)
    by_name = {**Q2, "sort": "name", "dir": "asc"}
    whole = league_ranks(client.get("/dashboard/", query_string=by_name))
    assert list(whole) == ["A1", "A2", "B1"]
    monkeypatch.setattr("app.dashboard.routes.LEAGUE_PAGE_SIZE", 2)
    first = client.get("/dashboard/", query_string=by_name)
    assert list(league_ranks(first)) == ["A1", "A2"]
    assert "Locations 1–2 of 3" in text_of(first) and "1 / 2" in text_of(first)
    second = client.get("/dashboard/", query_string={**by_name, "page": 2})
    assert "Locations 3–3 of 3" in text_of(second)
    # Ranks are of the whole table, not of the page a row is on.
    assert {**league_ranks(first), **league_ranks(second)} == whole
    # Past the last page is the last page; a new sort starts again at page 1.
    assert list(league_ranks(client.get("/dashboard/", query_string={**by_name, "page": 99}))) == ["B1"]
    head = second.get_data(as_text=True).split("<thead>")[1].split("</thead>")[0]
    sort_links = re.findall(r'href="([^"]*sort=[^"]*)"', head)
    assert sort_links and all("page=" not in link for link in sort_links)


def test_location_page(client, login, manager, network):
    login(manager)
    response = client.get(f"/dashboard/locations/{network['a1'].id}", query_string=Q2)
    assert response.status_code == 200
    page = text_of(response)
    assert "A1" in page and "Score trend" in page and "Sections" in page
    assert "2 visits" in page
    assert "Rank in region" in page


def test_region_page(client, login, manager, network):
    login(manager)
    response = client.get(f"/dashboard/regions/{network['north'].id}", query_string=Q2)
    assert response.status_code == 200
    page = text_of(response)
    assert "A1" in page and "A2" in page and "B1" not in page


def test_drilldown_lists_the_visits_behind_a_cell(client, login, manager, network):
    login(manager)
    a2 = network["a2"]
    page = text_of(client.get("/dashboard/visits", query_string={**Q2, "location": a2.id, "section": "greeting"}))
    assert "2 visits" in page and "33.3" in page  # the critical failure's greeting section: 1 of 3 points
    failed = text_of(client.get("/dashboard/visits", query_string={**Q2, "question": "greeted", "failed": 1}))
    assert "1 visit" in failed and "A2" in failed
    assert "Greeted within 30 seconds?" in failed


def test_shopper_is_refused(client, login, shopper, network):
    login(shopper)
    for url in ("/dashboard/", f"/dashboard/locations/{network['a1'].id}", "/dashboard/visits",
                "/dashboard/actions", "/dashboard/export/answers.csv"):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, network):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", [
    "/dashboard/?period=custom&start=2024-04-01&end=2024-06-30",
    "/dashboard/locations/{a1}?period=custom&start=2024-04-01&end=2024-06-30",
    "/dashboard/regions/{north}?period=custom&start=2024-04-01&end=2024-06-30",
    "/dashboard/visits?period=custom&start=2024-04-01&end=2024-06-30&location={a1}&section=greeting",
    "/dashboard/actions",
])
def test_query_count_does_not_grow_with_data(app, client, login, manager, network, make_location, db, url):
    """The number of queries is the same with 3 locations as with 13 (no N+1)."""
    from tests.factories_scored import PERFECT, SOME_LOSS, make_scored_visit

    app.config["FIGURES_CACHE"] = False  # the queries that compute the figures, each time
    login(manager)
    url = url.format(a1=network["a1"].id, north=network["north"].id)
    client.get(url)  # warm caches (checklist parsing, user loading)
    with count_queries() as before:
        assert client.get(url).status_code == 200
    for n in range(10):
        location = make_location(network["north"], name=f"Extra {n}")
        for day, answers in ((5, PERFECT), (6, SOME_LOSS)):
            make_scored_visit(db, location, network["version"], network["shopper"], answers,
                              __import__("datetime").date(2024, 5, day))
    with count_queries() as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before), (len(before), len(after))
    assert len(after) <= 25  # a fixed handful of GROUP BY queries per page
