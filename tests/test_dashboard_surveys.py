"""Customer-survey figures beside the audit scores on the dashboard and the location page."""
import re
from datetime import UTC, datetime

import pytest

from app.models import SurveyResponse
from tests.factories_scored import build_network, dispose_engine  # noqa: F401  (autouse)

Q2 = {"period": "custom", "start": "2024-04-01", "end": "2024-06-30"}


@pytest.fixture
def network(db, make_region, make_location, make_checklist_version, make_user):
    parts = build_network(db, make_region, make_location, make_checklist_version, make_user)
    answered = datetime(2024, 5, 15, 12, tzinfo=UTC)

    def answers(location, nps_values, flagged=False):
        for value in nps_values:
            db.session.add(SurveyResponse(location=location, survey_id="customer-feedback", nps=value,
                                          submitted_at=answered, flagged=flagged))

    answers(parts["a1"], [10, 10, 9, 9])  # NPS +100
    answers(parts["a2"], [0, 3, 10, 8])  # 1 promoter, 2 detractors: NPS -25
    answers(parts["a2"], [10] * 5, flagged=True)  # suspicious: left out of the figures
    db.session.commit()
    return parts


def row_of(page: str, name: str) -> str:
    """Return the text of the league-table row of location `name`."""
    match = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*>{name}</a>(?:(?!</tr>).)*</tr>", page, re.S)
    assert match, f"no row for {name}"
    return re.sub(r"<[^>]+>", " ", match.group(0))


def test_league_table_shows_nps_per_location(client, login, manager, network):
    login(manager)
    page = client.get("/dashboard/", query_string=Q2).get_data(as_text=True)
    assert "100.0" in row_of(page, "A1")
    assert "-25.0" in row_of(page, "A2")


def test_league_table_sorts_by_nps(client, login, manager, network):
    login(manager)
    descending = client.get("/dashboard/", query_string={**Q2, "sort": "nps", "dir": "desc"}).get_data(as_text=True)
    assert descending.index(">A1</a>") < descending.index(">A2</a>")
    ascending = client.get("/dashboard/", query_string={**Q2, "sort": "nps", "dir": "asc"}).get_data(as_text=True)
    assert ascending.index(">A2</a>") < ascending.index(">A1</a>")


def test_location_page_shows_the_survey_metrics(client, login, manager, network):
    login(manager)
    page = client.get(f"/dashboard/locations/{network['a2'].id}", query_string=Q2).get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "NPS" in text and "-25.0" in text
