"""One truth for every figure: the location page, its PDF, the CSV export, the API and the CLI's JSON agree.

The data set has two programmes at one location (a store visit and a phone call whose first section
also has the id "greeting"), so every figure that could mix them is checked per programme and in
the all-programmes view.
"""
import csv
import io
import json
import textwrap
from datetime import date

import pytest

from tests.export_helpers import export_file, shared_database
from tests.factories_scored import PERFECT, SOME_LOSS, make_scored_visit
from tests.reports_helpers import pdf_text

PHONE_CHECKLIST = textwrap.dedent("""\
    id: phone-call
    version: 1
    title: Hotline call
    channel: phone
    sections:
      - id: greeting
        title: Phone greeting
        questions:
          - {id: named, text: Said their name?, type: yes_no}
          - {id: warm, text: Warm voice, type: scale, min: 1, max: 5}
      - id: resolution
        title: Resolution
        questions:
          - {id: solved, text: Question solved?, type: yes_no, weight: 2}
""")
PERIOD = {"period": "custom", "start": "2024-04-01", "end": "2024-06-30"}
WORSE = {**PERFECT, "tone": 2, "wait": 200, "offer": "none"}


@pytest.fixture
def app_config(app_config, tmp_path):
    return shared_database(app_config, tmp_path)  # the export runs on a thread


@pytest.fixture
def programmes(db, make_region, make_location, make_checklist_version, make_user):
    """North: L1 (4 store visits, 3 calls), L2 (3 store), L3 (5 store); South: L4 (3 store)."""
    north, south = make_region("North"), make_region("South")
    l1, l2, l3 = (make_location(north, name=n) for n in ("Arbat", "Tverskaya", "Pushkin"))
    l4 = make_location(south, name="Nevsky")
    store, phone = make_checklist_version(), make_checklist_version(PHONE_CHECKLIST, path="checklists/phone.yaml")
    shopper = make_user("shopper")

    def visits(location, version, answer_sets):
        for day, answers in enumerate(answer_sets, start=1):
            make_scored_visit(db, location, version, shopper, answers, date(2024, 5, day * 3))

    visits(l1, store, [PERFECT, SOME_LOSS, WORSE, PERFECT])
    visits(l1, phone, [{"named": "yes", "warm": 2, "solved": "no"}, {"named": "no", "warm": 3, "solved": "yes"},
                       {"named": "yes", "warm": 5, "solved": "yes"}])
    visits(l2, store, [WORSE, WORSE, SOME_LOSS])
    visits(l3, store, [PERFECT, PERFECT, SOME_LOSS, PERFECT, PERFECT])
    visits(l4, store, [SOME_LOSS, PERFECT, WORSE])
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "north": north}


def cli_json(runner, code, programme):
    result = runner.invoke(args=["figures", "location", code, "--checklist", programme, "--from", PERIOD["start"],
                                 "--to", PERIOD["end"], "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def text(response) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def one(value):
    return f"{value:.1f}"


@pytest.mark.parametrize("programme", ["sample-visit", "phone-call", "all"])
def test_page_pdf_export_api_and_cli_agree(client, runner, login, manager, programmes, programme):
    login(manager)
    l1 = programmes["l1"]
    args = {**PERIOD, "checklist": programme}
    figures = cli_json(runner, l1.code, programme)
    assert client.get(f"/api/v1/figures/locations/{l1.code}", query_string=args).json == figures

    page = text(client.get(f"/dashboard/locations/{l1.id}", query_string=args))
    pdf = " ".join(pdf_text(client.get(f"/reports/locations/{l1.id}.pdf", query_string=args).data).split())
    average = figures["average"]
    expected_visits = {"sample-visit": 4, "phone-call": 3, "all": 7}[programme]
    assert average["visits"] == expected_visits
    interval = f"{one(average['low'])}–{one(average['high'])}"
    for shown in (page, pdf):
        assert one(average["score"]) in shown
        assert interval in shown
        assert f"{expected_visits} visits" in shown
        assert f"Network average {one(figures['network_average']['score'])}" in shown.replace(":", "")
        for section in figures["sections"]:
            assert section["title"] in shown and one(section["score"]) in shown
    region_rank = figures["rank_in_region"]
    if region_rank["text"]:
        assert f"{region_rank['text']} / {region_rank['of']}" in page
        assert f"{region_rank['text']} of {region_rank['of']}" in pdf

    # The league table export of the same filter has the same figures for the location.
    export = export_file(client, "table", "csv", args).decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(export)) if r["Code"] == l1.code)
    assert float(row["Score"]) == pytest.approx(average["score"], abs=0.01)
    assert int(row["Visits"]) == expected_visits
    assert float(row["Interval low (95%)"]) == pytest.approx(average["low"], abs=0.01)
    assert float(row["Interval high (95%)"]) == pytest.approx(average["high"], abs=0.01)
    network = client.get("/api/v1/figures/network", query_string=args).json
    mine = next(r for r in network["locations"] if r["code"] == l1.code)
    assert mine["rank"]["text"] == (row["Rank"] if row["Rank"] != "—" else None)
    assert (mine["score"], mine["visits"], mine["low"], mine["high"]) == (
        average["score"], average["visits"], average["low"], average["high"])


def test_sections_belong_to_one_programme(client, login, manager, programmes):
    """Regression: the retail "Greeting" was shown under the phone checklist's title and both were averaged."""
    login(manager)
    store = client.get("/api/v1/figures/network", query_string={**PERIOD, "checklist": "sample-visit"}).json
    phone = client.get("/api/v1/figures/network", query_string={**PERIOD, "checklist": "phone-call"}).json
    everything = client.get("/api/v1/figures/network", query_string={**PERIOD, "checklist": "all"}).json
    assert [s["title"] for s in store["sections"]] == ["Greeting", "Service"]
    assert [s["title"] for s in phone["sections"]] == ["Phone greeting", "Resolution"]
    assert everything["sections"] == []  # the all-programmes view compares visit scores only
    dashboard = text(client.get("/dashboard/", query_string={**PERIOD, "checklist": "all"}))
    assert "only visit scores are compared" in dashboard and "Sections by location" not in dashboard
    l1 = client.get(f"/api/v1/figures/locations/{programmes['l1'].code}",
                    query_string={**PERIOD, "checklist": "phone-call"}).json
    assert [(s["id"], s["title"], s["visits"]) for s in l1["sections"]] == [
        ("greeting", "Phone greeting", 3), ("resolution", "Resolution", 3)]
    assert l1["sections"][0]["network"]["visits"] == 3  # phone greetings only


def test_the_location_page_follows_its_filter_and_hands_it_to_the_pdf(client, login, manager, programmes):
    """Regression: the checklist filter was ignored for the average and the visit list; the PDF link dropped it."""
    login(manager)
    l1 = programmes["l1"]
    response = client.get(f"/dashboard/locations/{l1.id}", query_string={**PERIOD, "checklist": "phone-call"})
    page = text(response)
    assert page.count("Hotline call") >= 3 and "Sample store visit" not in page.split("Visits")[-1]
    html = response.get_data(as_text=True)
    assert (f"/reports/locations/{l1.id}.pdf?period=custom&amp;start=2024-04-01&amp;end=2024-06-30"
            f"&amp;checklist=phone-call") in html
    # Without a choice the programme with the most visits at the location is shown, and said so.
    default = text(client.get(f"/dashboard/locations/{l1.id}", query_string=PERIOD))
    assert "Figures of the programme Sample store visit" in default and "4 visits" in default


def test_the_location_pdf_does_not_contradict_itself(client, login, manager, programmes):
    """Regression: the headline averaged both checklists while sections and ranks came from the latest visit's."""
    login(manager)
    l1 = programmes["l1"]
    pdf = " ".join(pdf_text(client.get(f"/reports/locations/{l1.id}.pdf",
                                       query_string={**PERIOD, "checklist": "sample-visit"}).data).split())
    store = client.get(f"/api/v1/figures/locations/{l1.code}",
                       query_string={**PERIOD, "checklist": "sample-visit"}).json
    assert "Average of 4 visits" in pdf and "Programme: Sample store visit" in pdf
    assert "Phone greeting" not in pdf and "Hotline call" not in pdf
    assert one(store["average"]["score"]) in pdf


def test_few_visits_are_listed_apart_not_ranked(client, login, manager, programmes, make_location, db,
                                               make_checklist_version):
    """Regression: a location with fewer visits was ranked above one with more by a fraction of a point."""
    login(manager)
    table = client.get("/api/v1/figures/network", query_string={**PERIOD, "checklist": "phone-call"}).json
    [only] = table["locations"]
    assert only["visits"] == 3 and only["rank"]["text"] == "1"
    store = client.get("/api/v1/figures/network", query_string={**PERIOD, "checklist": "sample-visit"}).json
    ranks = {row["name"]: row["rank"] for row in store["locations"]}
    assert all(rank["best"] is not None for rank in ranks.values())  # every location has 3 or more visits
    assert any(rank["best"] != rank["worst"] for rank in ranks.values())  # overlapping intervals: ranges
    page = text(client.get("/dashboard/", query_string={**PERIOD, "checklist": "sample-visit"}))
    assert "Ranks are ranges where the 95% intervals overlap" in page


def test_a_bad_filter_is_a_400_on_downloads_and_the_api(client, login, manager, programmes):
    login(manager)
    bad = {"period": "custom", "start": "2024-06-30", "end": "2020-01-01"}
    for url in ("/api/v1/figures/network", f"/reports/locations/{programmes['l1'].id}.pdf",
                "/dashboard/export/table.csv"):
        response = client.get(url, query_string=bad)
        assert response.status_code == 400, url
        assert "The period ends before it starts." in response.get_data(as_text=True)
    assert client.get("/api/v1/figures/network", query_string={**PERIOD, "checklist": "nope"}).status_code == 400
    assert client.get("/api/v1/figures/locations/NOPE", query_string=PERIOD).status_code == 404
