"""The Shoppers page and the calibrated location average: the same visits as the figures, the same numbers on
the page and in the API, in English and Russian, and only the shoppers of the manager's own locations."""
import json
import re
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from app.analytics.calibration import pair_sums
from app.analytics.filters import Filters
from app.analytics.periods import Period
from app.models import Visit, VisitStatus
from tests.factories_scored import dispose_engine  # noqa: F401  (autouse)
from tests.test_figures_one_truth import PHONE_CHECKLIST
from tests.test_i18n import RU, leftovers, visible_text

Q2 = "period=custom&start=2024-04-01&end=2024-06-30&checklist=sample-visit"
BIAS = {"MS-LEN": 8.0, "MS-SEV": -6.0, "MS-O1": 0.0, "MS-O2": 0.0, "MS-O3": 0.0}


def scored(db, location, version, shopper, score, day, status=VisitStatus.approved) -> Visit:
    """Add a visit that was handed in with this score (committed by the caller)."""
    at = datetime.combine(day, time(11, 0), tzinfo=UTC)
    visit = Visit(location=location, checklist_version=version, shopper=shopper, status=status, score=score,
                  window_start=day - timedelta(days=3), window_end=day + timedelta(days=3), started_at=at,
                  submitted_at=at + timedelta(minutes=20), visited_at=at)
    db.session.add(visit)
    return visit


@pytest.fixture
def panel(db, make_region, make_location, make_checklist_version, make_user):
    """North N1-N4 and South S1-S2 at their own levels; five shoppers share them (MS-SEV only the north),
    MS-LEN gives 8 points more, MS-SEV 6 fewer; MS-ONE is the only one ever at S9."""
    rng = np.random.default_rng(5)
    north, south = make_region("North", code="N"), make_region("South", code="S")
    locations = {name: make_location(north if name[0] == "N" else south, name=name, code=name)
                 for name in ("N1", "N2", "N3", "N4", "S1", "S2", "S9")}
    level = {"N1": 85, "N2": 70, "N3": 78, "N4": 62, "S1": 80, "S2": 74}
    store, phone = make_checklist_version(), make_checklist_version(PHONE_CHECKLIST, path="checklists/phone.yaml")
    shoppers = {code: make_user("shopper", shopper_code=code, name=f"Shopper {code}")
                for code in (*BIAS, "MS-ONE")}
    for name, base in level.items():
        for code, bias in BIAS.items():
            if code == "MS-SEV" and name[0] == "S":
                continue
            for k in range(3):
                score = float(np.clip(base + bias + rng.normal(0, 5), 0, 100))
                scored(db, locations[name], store, shoppers[code], score, date(2024, 4, 10) + timedelta(days=k * 20))
    for k in range(3):
        scored(db, locations["S9"], store, shoppers["MS-ONE"], 66.0 + k, date(2024, 5, 1 + k))
    # Not counted in the store programme's figures: a call, a visit still under review, a voided one, last year.
    scored(db, locations["N1"], phone, shoppers["MS-SEV"], 100.0, date(2024, 5, 2))
    scored(db, locations["N2"], store, shoppers["MS-O1"], 0.0, date(2024, 5, 3), VisitStatus.submitted)
    scored(db, locations["N2"], store, shoppers["MS-O1"], 0.0, date(2024, 5, 4), VisitStatus.voided)
    scored(db, locations["N3"], store, shoppers["MS-O2"], 0.0, date(2023, 5, 4))
    db.session.commit()
    return {"north": north, "south": south, "store": store, **locations, **shoppers}


def rows_of(html: str) -> dict[str, str]:
    """Return {shopper code: the row's text} of the Shoppers table."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        code = text.split(" ")[0]
        if code.startswith("MS-"):
            found[code] = text
    return found


def test_the_fit_reads_the_visits_the_figures_count(app, panel):
    filters = Filters(Period(date(2024, 4, 1), date(2024, 6, 30)), programme="sample-visit")
    pairs = pair_sums(filters)
    assert sum(n for _l, _s, n, _t, _q in pairs) == 6 * 5 * 3 - 2 * 3 + 3
    assert all(total / n > 40 for _l, _s, n, total, _q in pairs)  # none of the zero scores
    app.config["COUNT_SUBMITTED_VISITS"] = True
    assert sum(n for _l, _s, n, _t, _q in pair_sums(filters)) == 6 * 5 * 3 - 2 * 3 + 3 + 1


def test_shoppers_page_flags_the_lenient_and_the_severe_shopper(client, login, admin, panel):
    login(admin)
    response = client.get(f"/dashboard/shoppers?{Q2}")
    assert response.status_code == 200
    rows = rows_of(response.get_data(as_text=True))
    assert set(rows) == {*BIAS, "MS-ONE"}
    assert "Lenient" in rows["MS-LEN"] and re.search(r"\+[789]\.\d", rows["MS-LEN"])
    assert "Severe" in rows["MS-SEV"] and re.search(r"−[567]\.\d", rows["MS-SEV"])
    for code in ("MS-O1", "MS-O2", "MS-O3"):
        assert "In line with others" in rows[code]
    assert "Not enough overlap" in rows["MS-ONE"] and "MS-ONE Shopper MS-ONE — — 3" in rows["MS-ONE"]
    assert list(rows)[0] == "MS-LEN" and list(rows)[-1] == "MS-ONE"  # most lenient first, no number last


def test_shoppers_page_sorts_by_a_column_and_keeps_those_without_a_number_last(client, login, admin, panel):
    login(admin)
    rows = list(rows_of(client.get(f"/dashboard/shoppers?{Q2}&sort=bias&dir=asc").get_data(as_text=True)))
    assert rows[0] == "MS-SEV" and rows[-1] == "MS-ONE"
    rows = list(rows_of(client.get(f"/dashboard/shoppers?{Q2}&sort=shopper&dir=asc").get_data(as_text=True)))
    assert rows == ["MS-LEN", "MS-O1", "MS-O2", "MS-O3", "MS-ONE", "MS-SEV"]
    rows = list(rows_of(client.get(f"/dashboard/shoppers?{Q2}&sort=visits&dir=asc").get_data(as_text=True)))
    assert rows[0] == "MS-ONE" and rows[1] == "MS-SEV"
    assert client.get(f"/dashboard/shoppers?{Q2}&sort=nonsense&dir=up").status_code == 200


def test_groups_that_share_no_location_are_shown_apart(client, login, admin, make_location, make_user, panel, db):
    east = [make_location(panel["south"], name=f"E{k}", code=f"E{k}") for k in (1, 2)]
    pair = [make_user("shopper", shopper_code=code, name=code) for code in ("MS-E1", "MS-E2")]
    for location in east:
        for shopper, score in zip(pair, (90.0, 80.0), strict=True):
            for k in range(3):
                scored(db, location, panel["store"], shopper, score + k, date(2024, 5, 10 + k))
    db.session.commit()
    login(admin)
    html = client.get(f"/dashboard/shoppers?{Q2}&sort=group").get_data(as_text=True)
    assert "The shoppers form 2 groups that share no location" in html
    rows = rows_of(html)
    # Against their own average: the two of group 2 differ by 10 points, so +5 and -5.
    assert re.fullmatch(r"MS-E1 MS-E1 \+5\.0 \S+ … \S+ 6 Lenient 2", rows["MS-E1"])
    assert re.fullmatch(r"MS-E2 MS-E2 −5\.0 \S+ … \S+ 6 Severe 2", rows["MS-E2"])
    assert [row.split()[-1] for row in rows.values()] == ["1"] * 5 + ["2", "2", "—"]
    assert list(rows)[0] == "MS-LEN" and list(rows)[4] == "MS-SEV"  # most lenient first within a group
    api = client.get(f"/api/v1/figures/locations/E1?{Q2}&calibrated=1").get_json()["calibrated_average"]
    assert (api["group"], api["groups"]) == (2, 2) and api["score"] == pytest.approx(86.0)


def test_shoppers_page_is_in_russian(client, login, admin, panel):
    login(admin)
    text = visible_text(client.get(f"/dashboard/shoppers?{Q2}", headers=RU))
    assert "Завышает" in text and "Занижает" in text and "Мало пересечений" in text
    assert leftovers(text, ["Shoppers", "Lenient", "Severe", "Not enough overlap", "Visits", "Verdict",
                            "In line with others", "Bias"]) == []


def test_all_programmes_are_not_compared(client, login, admin, panel):
    login(admin)
    text = visible_text(client.get("/dashboard/shoppers?period=custom&start=2024-04-01&end=2024-06-30&checklist=all"))
    assert "compared within one programme" in text and "MS-LEN" not in text


def test_a_regional_manager_sees_the_shoppers_of_their_locations_with_the_networks_figures(
        client, login, admin, make_user, panel):
    login(admin)
    everyone = rows_of(client.get(f"/dashboard/shoppers?{Q2}").get_data(as_text=True))
    login(make_user("manager", regions=[panel["south"]]))
    response = client.get(f"/dashboard/shoppers?{Q2}")
    mine = rows_of(response.get_data(as_text=True))
    assert set(mine) == {"MS-LEN", "MS-O1", "MS-O2", "MS-O3", "MS-ONE"}  # MS-SEV never visited the south
    assert all(mine[code] == everyone[code] for code in mine)  # one bias per shopper, whoever looks
    assert client.get(f"/dashboard/shoppers?{Q2}&region={panel['north'].id}").status_code == 404
    login(make_user("manager", regions=[panel["north"]]))
    north = rows_of(client.get(f"/dashboard/shoppers?{Q2}&region={panel['north'].id}").get_data(as_text=True))
    assert "MS-ONE" not in north and "MS-SEV" in north


def test_the_dashboard_links_to_the_shoppers_page_with_its_filter(client, login, admin, panel):
    login(admin)
    html = client.get(f"/dashboard/?{Q2}").get_data(as_text=True)
    assert re.search(r'href="/dashboard/shoppers\?[^"]*checklist=sample-visit', html)


def kpi(html: str) -> str:
    found = re.search(r'id="calibrated">(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def test_location_page_and_api_agree_on_the_calibrated_average(client, login, admin, panel, db):
    # N1 gets ten more visits from the lenient shopper: its raw average is too kind, calibrated takes it back.
    rng = np.random.default_rng(9)
    for k in range(10):
        scored(db, panel["N1"], panel["store"], panel["MS-LEN"], float(min(100, 93 + rng.normal(0, 2))),
               date(2024, 6, 1 + k))
    db.session.commit()
    login(admin)
    location = panel["N1"]
    plain = client.get(f"/dashboard/locations/{location.id}?{Q2}").get_data(as_text=True)
    assert kpi(plain) == "" and "calibrated=1" in plain
    html = client.get(f"/dashboard/locations/{location.id}?{Q2}&calibrated=1").get_data(as_text=True)
    api = client.get(f"/api/v1/figures/locations/N1?{Q2}&calibrated=1").get_json()
    cal = api["calibrated_average"]
    assert cal["reason"] is None and cal["visits"] == 25 == api["average"]["visits"]
    assert cal["raw_score"] == api["average"]["score"] and cal["score"] < cal["raw_score"] - 2
    assert cal["low"] < 85 < cal["high"]  # the store's own level plus the average shopper's (+0.4)
    shown = re.fullmatch(r" Calibrated for shoppers (\S+) 95% interval (\S+)–(\S+) · "
                         r"raw (\S+), corrected by (\S+) for its shoppers ", kpi(html))
    assert shown, kpi(html)
    page = [float(v.replace("−", "-")) for v in shown.groups()]
    api_figures = [cal["score"], cal["low"], cal["high"], cal["raw_score"], cal["correction"]]
    assert page == pytest.approx(api_figures, abs=0.051)  # the page shows one decimal, the API two
    # The filter bar and the links keep the toggle; switching it off is one link.
    assert 'name="calibrated" value="1"' in html and re.search(r'href="[^"]*shoppers\?[^"]*calibrated=1', html)
    assert "Show the raw average only" in html
    assert "calibrated_average" not in client.get(f"/api/v1/figures/locations/N1?{Q2}").get_json()


def test_the_command_line_prints_the_calibrated_average_the_api_gives(client, login, admin, runner, panel):
    login(admin)
    api = client.get(f"/api/v1/figures/locations/N2?{Q2}&calibrated=1").get_json()
    args = ["figures", "location", "N2", "--checklist", "sample-visit", "--from", "2024-04-01", "--to", "2024-06-30"]
    result = runner.invoke(args=[*args, "--calibrated", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["calibrated_average"] == api["calibrated_average"]
    text = runner.invoke(args=[*args, "--calibrated"]).output
    cal = api["calibrated_average"]
    assert f"calibrated for shoppers: {cal['score']:.1f} [{cal['low']:.1f}–{cal['high']:.1f}] n=15" in text
    assert "calibrated" not in runner.invoke(args=args).output


def test_calibrated_average_when_there_is_none(client, login, admin, panel):
    login(admin)
    api = client.get(f"/api/v1/figures/locations/S9?{Q2}&calibrated=1").get_json()
    assert api["calibrated_average"]["reason"] == "not_enough_overlap" and api["calibrated_average"]["score"] is None
    assert "Not enough overlap" in kpi(client.get(f"/dashboard/locations/{panel['S9'].id}?{Q2}&calibrated=1")
                                       .get_data(as_text=True))
    every = "period=custom&start=2024-04-01&end=2024-06-30&checklist=all&calibrated=1"
    assert client.get(f"/api/v1/figures/locations/N1?{every}").get_json()["calibrated_average"]["reason"] == \
        "all_programmes"
    assert "Choose one programme" in kpi(client.get(f"/dashboard/locations/{panel['N1'].id}?{every}")
                                         .get_data(as_text=True))
    response = client.get(f"/api/v1/figures/locations/N1?{Q2}&calibrated=yes")
    assert response.status_code == 400 and "calibrated" in response.get_json()["message"]
    assert client.get(f"/dashboard/locations/{panel['N1'].id}?{Q2}&calibrated=yes").status_code == 200


def test_location_page_calibrated_is_in_russian(client, login, admin, panel):
    login(admin)
    text = visible_text(client.get(f"/dashboard/locations/{panel['N1'].id}?{Q2}&calibrated=1", headers=RU))
    assert "С поправкой на покупателей" in text
    assert leftovers(text, ["Calibrated for shoppers", "raw", "for its shoppers", "Show the raw average only",
                            "Shoppers’ biases"]) == []
