"""Abuse protection: bots and repeats are kept but flagged and left out; floods get a friendly limit."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.analytics.periods import Period
from app.analytics.surveys import survey_metrics
from app.models import SurveyResponse
from app.models.types import utcnow
from app.surveys import services

DELAY = {"seconds": 20}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The moment the form is sent: DELAY after now (customers take a while to answer)."""
    monkeypatch.setattr(services, "utcnow", lambda: utcnow() + timedelta(**DELAY))
    yield
    DELAY.clear()
    DELAY["seconds"] = 20


@pytest.fixture
def shop(make_location):
    return make_location()


def answer(client, shop, started: str | None = "from-form", **answers):
    """Open the form (getting its signed start time and the device cookie) and send it."""
    page = client.get(f"/s/{shop.survey_token}").get_data(as_text=True)
    if started == "from-form":
        started = re.search(r'name="started" value="([^"]+)"', page).group(1)
    data = {"nps": "9", "csat": "5", **answers}
    if started is not None:
        data["started"] = started
    return client.post(f"/s/{shop.survey_token}", data=data)


def stored(db) -> list[SurveyResponse]:
    db.session.expire_all()
    return list(db.session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))


def today_metrics(shop, **kwargs):
    today = utcnow().date()
    return survey_metrics(Period(today, today), location_ids=[shop.id], **kwargs)[shop.id]


def test_a_normal_answer_is_not_flagged(client, db, shop):
    assert answer(client, shop).status_code == 303
    (response,) = stored(db)
    assert response.flagged is False and response.flag_reason is None


def test_honeypot_answers_are_kept_flagged_and_left_out_of_the_metrics(client, db, shop):
    response = answer(client, shop, website="http://spam.example")
    assert response.status_code == 303  # the bot learns nothing
    (kept,) = stored(db)
    assert kept.flagged and kept.flag_reason == "honeypot"
    assert today_metrics(shop)["nps"].n == 0
    assert today_metrics(shop, include_flagged=True)["nps"].n == 1


def test_forms_sent_faster_than_a_person_can_read_are_flagged(client, db, shop):
    DELAY["seconds"] = 1
    answer(client, shop)
    (kept,) = stored(db)
    assert kept.flag_reason == "too_fast" and kept.fill_seconds < 3  # signed stamps count whole seconds


@pytest.mark.parametrize("started", [None, "", "forged.value.here"])
def test_missing_or_forged_start_time_is_flagged(client, db, shop, started):
    answer(client, shop, started=started)
    (kept,) = stored(db)
    assert kept.flag_reason == "no_start_time" and kept.fill_seconds is None


def test_start_time_of_another_location_does_not_count(client, db, shop, make_location):
    other = make_location()
    started = services_stamp(other.id)
    answer(client, shop, started=started)
    assert stored(db)[0].flag_reason == "no_start_time"


def services_stamp(location_id):
    return services.start_stamp(location_id)


def test_the_same_answers_from_the_same_device_within_a_day_are_flagged_as_duplicates(client, db, shop):
    answer(client, shop)
    answer(client, shop)                           # sent again (back button, double tap)
    answer(client, shop, nps="3")                  # different answers: a real second opinion
    DELAY["hours"] = 25
    answer(client, shop)                           # the same answers a day later: a new visit
    flags = [r.flag_reason for r in stored(db)]
    assert flags == [None, "duplicate", None, None]
    assert today_metrics(shop)["nps"].n == 2  # the 25-hour-later one falls on another day of the period


def test_other_devices_with_the_same_answers_are_not_duplicates(app, db, shop):
    first, second = app.test_client(), app.test_client()
    answer(first, shop)
    answer(second, shop)
    assert [r.flagged for r in stored(db)] == [False, False]


def test_reasons_add_up(client, db, shop):
    DELAY["seconds"] = 0
    answer(client, shop, website="x")
    assert stored(db)[0].flag_reason == "honeypot, too_fast"


def test_raw_ip_and_device_id_are_never_stored(client, db, shop):
    answer(client, shop)
    device = client.get_cookie("fa_device").value
    (kept,) = stored(db)
    values = [str(getattr(kept, column.key)) for column in SurveyResponse.__table__.columns]
    assert not any(device in value or "127.0.0.1" in value for value in values)
    assert kept.device_hash == services.secret_hash("device", device)
    assert kept.ip_hash == services.secret_hash("ip", "127.0.0.1")


@pytest.fixture
def limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, SURVEY_DEVICE_RATE_LIMIT="2 per hour",
                      SURVEY_IP_RATE_LIMIT="3 per hour")


def test_one_device_gets_a_friendly_limit_page_not_an_error(limited, app, client, db, shop):
    assert answer(client, shop).status_code == 303
    assert answer(client, shop, nps="1").status_code == 303
    response = answer(client, shop, nps="2")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "we already have your answers" in page and "pico" not in page
    assert len(stored(db)) == 2
    assert client.get(f"/s/{shop.survey_token}").status_code == 200  # reading the page is never limited


def test_the_network_limit_is_looser_and_per_location(limited, app, db, shop, make_location):
    devices = [app.test_client() for _ in range(4)]
    codes = [answer(device, shop, nps=str(i)).status_code for i, device in enumerate(devices)]
    assert codes == [303, 303, 303, 429]  # 3 per hour from one IP (a shop's Wi-Fi has several customers)
    assert answer(devices[3], make_location()).status_code == 303  # another location is counted apart
    assert len(stored(db)) == 4
