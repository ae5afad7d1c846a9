"""My visits: open visits on top of every page, the handed-in history paged and searched, only one's own."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.field.pages import SUBMITTED_PER_PAGE
from app.models import VisitStatus
from tests.conftest import SAMPLE_CHECKLIST

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def shown(page: str, section: str) -> list[int]:
    """Return the visit ids listed in one section of the page, in order."""
    start = page.index(f'id="section-{section}"')
    end = page.find("<section", start + 1)
    return [int(i) for i in re.findall(r'data-visit-id="(\d+)"', page[start:end if end > 0 else None])]


@pytest.fixture
def history(make_visit, make_location, make_region, make_checklist_version, shopper, login):
    """25 handed-in visits (newest last made), one open, and a stranger's visit at the same store."""
    login(shopper)
    region = make_region("North")
    tverskaya = make_location(region, code="MSK-01", name="Тверская")
    arbat = make_location(region, code="MSK-02", name="Арбат")
    retail = make_checklist_version()
    bakery = make_checklist_version(SAMPLE_CHECKLIST.replace("id: sample-visit", "id: bakery")
                                    .replace("title: Sample store visit", "title: Bakery standard"))
    done = [make_visit(location=tverskaya if n % 2 else arbat, checklist_version=bakery if n == 7 else retail,
                       shopper=shopper, status=VisitStatus.approved if n % 3 else VisitStatus.submitted,
                       submitted_at=START + timedelta(days=n))
            for n in range(25)]
    planned = make_visit(location=arbat, checklist_version=retail, shopper=shopper)
    stranger = make_visit(location=tverskaya, checklist_version=retail, status=VisitStatus.submitted,
                          submitted_at=START + timedelta(days=40))
    return {"done": done, "planned": planned, "stranger": stranger}


def test_history_is_paged_newest_first_with_open_visits_on_every_page(client, history):
    newest_first = [v.id for v in reversed(history["done"])]
    first = client.get("/visits/").get_data(as_text=True)
    assert shown(first, "submitted") == newest_first[:SUBMITTED_PER_PAGE]
    assert shown(first, "upcoming") == [history["planned"].id]
    assert 'id="h-submitted">Submitted <small>(25)</small>' in first
    assert '<span>1 / 2</span>' in first and 'href="/visits/?page=2"' in first
    second = client.get("/visits/?page=2").get_data(as_text=True)
    assert shown(second, "submitted") == newest_first[SUBMITTED_PER_PAGE:]
    assert shown(second, "upcoming") == [history["planned"].id]
    assert 'href="/visits/?page=1"' in second and "?page=3" not in second


@pytest.mark.parametrize("search,expected", [
    ("тверская", [n for n in range(25) if n % 2]),   # Cyrillic, any case
    ("msk-02", [n for n in range(25) if n % 2 == 0]),  # the code
    ("BAKERY", [7]),                                  # the checklist's title
])
def test_search_finds_by_location_code_or_checklist(client, history, search, expected):
    page = client.get("/visits/", query_string={"q": search}).get_data(as_text=True)
    ids = [history["done"][n].id for n in reversed(expected)]
    assert shown(page, "submitted") == ids[:SUBMITTED_PER_PAGE]
    assert f'value="{search}"' in page
    assert history["stranger"].id not in shown(page, "submitted")
    assert shown(page, "upcoming") == [history["planned"].id]  # the search is the history's only


def test_search_keeps_working_across_pages(client, history, make_visit, shopper):
    for _n in range(11):  # 12 + 11 = 23 visits at Тверская: two pages
        make_visit(location=history["done"][1].location, checklist_version=history["done"][1].checklist_version,
                   shopper=shopper, status=VisitStatus.submitted, submitted_at=START - timedelta(days=1))
    first = client.get("/visits/?q=Тверская").get_data(as_text=True)
    assert 'Submitted <small>(23)</small>' in first
    assert "page=2" in first and "q=%D0%A2%D0%B2%D0%B5%D1%80%D1%81%D0%BA%D0%B0%D1%8F" in first
    second = client.get("/visits/?q=Тверская&page=2").get_data(as_text=True)
    assert len(shown(second, "submitted")) == 3
    assert all(v.location.name == "Тверская" for v in history["done"] if v.id in shown(second, "submitted"))


def test_a_search_that_finds_nothing_says_so(client, history):
    page = client.get("/visits/?q=100%25_").get_data(as_text=True)  # % and _ are letters here, not wildcards
    assert shown(page, "submitted") == []
    assert "No submitted visit matches “100%_”." in page


def test_a_shopper_never_sees_anothers_history(client, history, make_user, login):
    login(make_user("shopper"))
    page = client.get("/visits/?q=Тверская").get_data(as_text=True)
    assert shown(page, "submitted") == [] and "No submitted visit matches “Тверская”." in page
    assert client.get(f"/visits/{history['done'][0].id}").status_code == 404
