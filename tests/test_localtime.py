"""Local time: every location reads its visits in its own zone; windows, overdue and warnings use its calendar."""
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app import localtime
from app.localtime import (
    days_outside,
    format_local,
    is_overdue,
    to_local,
    to_utc,
    today_at,
    visit_day,
    window_warning,
)
from app.models import AuditLog, Location, Region, Visit, VisitStatus
from app.planning.services import filter_visits, status_counts
from tests.factories_scored import make_scored_visit
from tests.reports_helpers import pdf_reader

RU = {"Accept-Language": "ru"}
ZONES = ["Europe/Moscow", "Europe/Kaliningrad", "Asia/Vladivostok", "Asia/Kamchatka", "Europe/Berlin",
         "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- conversion ---------------------------------------------------------------------------------


def test_berlin_changes_its_offset_at_the_dst_switch(app):
    with app.test_request_context():
        before, after = utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)  # clocks go 02:00 -> 03:00 at 01:00 UTC
        assert to_local(before, "Europe/Berlin").strftime("%H:%M") == "01:30"
        assert to_local(after, "Europe/Berlin").strftime("%H:%M") == "03:30"
        assert format_local(before, "Europe/Berlin") == "Mar 29, 2026, 1:30\u202fAM (Berlin, UTC+1)"
        assert format_local(after, "Europe/Berlin") == "Mar 29, 2026, 3:30\u202fAM (Berlin, UTC+2)"
        # New York falls back on 1 Nov 2026: 1:30 happens twice, an hour apart, told apart by the offset.
        first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)
        assert to_local(first, "America/New_York").strftime("%H:%M") == to_local(second, "America/New_York").strftime(
            "%H:%M") == "01:30"
        assert "UTC\u22124" in format_local(first, "America/New_York")
        assert "UTC\u22125" in format_local(second, "America/New_York")


def test_moscow_reads_three_hours_ahead_in_english_and_russian(app):
    moment = utc(2026, 12, 3, 7, 47)
    with app.test_request_context():
        assert format_local(moment, "Europe/Moscow") == "Dec 3, 2026, 10:47\u202fAM (Moscow, UTC+3)"
    with app.test_request_context(), force_locale("ru"):
        assert format_local(moment, "Europe/Moscow") == "3 дек. 2026\u202fг., 10:47 (Москва, UTC+3)"
        assert format_local(moment, "Asia/Kolkata", "time").endswith("13:17 (Калькутта, UTC+5:30)")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)),
       zone=st.sampled_from(ZONES))
def test_utc_to_local_and_back_is_the_same_moment(app, moment, zone):
    local = to_local(moment, zone)
    assert to_utc(local, zone) == moment
    assert local.utcoffset() == ZoneInfo(zone).utcoffset(local.replace(tzinfo=None, fold=local.fold))
    # The local date is the UTC date or a neighbour: never further on Earth.
    assert abs((local.date() - moment.date()).days) <= 1


@settings(max_examples=200, deadline=None)
@given(day=st.dates(), start=st.dates(), length=st.integers(0, 60))
def test_days_outside_is_zero_exactly_inside_the_window(day, start, length):
    end = start + timedelta(days=length) if start <= date.max - timedelta(days=length) else date.max
    off = days_outside(day, start, end)
    assert (off == 0) == (start <= day <= end)
    assert off < 0 if day < start else off >= 0
    if off:
        assert day == (start if off < 0 else end) + timedelta(days=off)


def test_unknown_zone_names_are_refused_and_spellings_are_made_canonical():
    assert localtime.canonical_zone("europe/moscow") == "Europe/Moscow"
    assert localtime.canonical_zone("Mars/Olympus") is None
    assert localtime.canonical_zone("../../etc/passwd") is None
    assert localtime.canonical_zone("localtime") is None
    with pytest.raises(localtime.UnknownZone):
        localtime.zone_of("Mars/Olympus")
    zones = localtime.all_zones()
    assert zones[:2] == ["Europe/Kaliningrad", "Europe/Moscow"] and "America/New_York" in zones
    assert len(zones) == len(set(zones))


# -- the location's calendar -------------------------------------------------------------------------


@pytest.fixture
def in_zone(make_region, make_location):
    """Return a factory of locations in a zone (set on the region, or on the location itself)."""

    def make(zone: str, *, own: bool = False) -> Location:
        if own:
            return make_location(make_region(), timezone=zone)
        return make_location(make_region(timezone=zone))

    return make


def test_a_location_keeps_its_regions_zone_unless_it_has_its_own(app, in_zone, make_region, make_location):
    assert make_region().timezone == app.config["DEFAULT_TIMEZONE"] == "Europe/Moscow"
    region = make_region(timezone="Asia/Vladivostok")
    assert make_location(region).zone == ZoneInfo("Asia/Vladivostok")
    assert make_location(region, timezone="Asia/Kamchatka").zone == ZoneInfo("Asia/Kamchatka")


def test_at_2330_utc_vladivostok_is_already_tomorrow_and_the_window_says_so(app, in_zone, make_visit):
    vladivostok = in_zone("Asia/Vladivostok")
    started = utc(2026, 12, 2, 23, 30)  # 09:30 on 3 December in Vladivostok
    visit = make_visit(location=vladivostok, status=VisitStatus.submitted, window_start=date(2026, 12, 3),
                       window_end=date(2026, 12, 5), started_at=started, submitted_at=started + timedelta(minutes=30))
    assert visit_day(visit) == date(2026, 12, 3)
    with app.test_request_context():
        assert window_warning(visit) is None  # on the UTC date it would have been a day early
        visit.window_start, visit.window_end = date(2026, 11, 28), date(2026, 12, 2)
        assert window_warning(visit) == "Started 1 day after the window closed."


def test_kaliningrad_is_two_hours_ahead_so_2230_utc_is_past_midnight(app, in_zone, make_visit):
    kaliningrad = in_zone("Europe/Kaliningrad", own=True)
    submitted = utc(2026, 12, 5, 22, 30)  # 00:30 on 6 December in Kaliningrad
    visit = make_visit(location=kaliningrad, status=VisitStatus.submitted, window_start=date(2026, 12, 1),
                       window_end=date(2026, 12, 5), submitted_at=submitted)
    assert visit_day(visit) == date(2026, 12, 6)
    with app.test_request_context():
        assert window_warning(visit) == "Submitted 1 day after the window closed."
    with app.test_request_context(), force_locale("ru"):
        assert window_warning(visit) == "Отправлен через 1 день после закрытия окна."


def test_started_two_days_before_the_window_opened(app, in_zone, make_visit):
    visit = make_visit(location=in_zone("Europe/Moscow"), status=VisitStatus.submitted,
                       window_start=date(2026, 12, 5), window_end=date(2026, 12, 9),
                       started_at=utc(2026, 12, 3, 7, 47), submitted_at=utc(2026, 12, 3, 8, 10))
    with app.test_request_context():
        assert window_warning(visit) == "Started 2 days before the window opened."
    with app.test_request_context(), force_locale("ru"):
        assert window_warning(visit) == "Начат за 2 дня до открытия окна."


def test_overdue_once_the_locations_own_day_has_turned(app, in_zone, make_visit, manager, make_checklist_version):
    vladivostok, moscow = in_zone("Asia/Vladivostok"), in_zone("Europe/Moscow")
    version = make_checklist_version()
    now = utc(2026, 12, 2, 15, 0)  # 01:00 on 3 Dec in Vladivostok, 18:00 on 2 Dec in Moscow
    far_east = make_visit(location=vladivostok, checklist_version=version, window_start=date(2026, 11, 30),
                          window_end=date(2026, 12, 2))
    capital = make_visit(location=moscow, checklist_version=version, window_start=date(2026, 11, 30),
                         window_end=date(2026, 12, 2))
    assert today_at(vladivostok, now) == date(2026, 12, 3) and today_at(moscow, now) == date(2026, 12, 2)
    assert is_overdue(far_east, now) and not is_overdue(capital, now)
    # The planning list and its counter ask the database the same question.
    overdue_ids = set(app.extensions["sqlalchemy"].session.scalars(
        filter_visits(manager, overdue=True, now=now).with_only_columns(Visit.id)))
    assert overdue_ids == {far_east.id}
    assert status_counts(manager, now)["overdue"] == 1
    # A day later Moscow has turned too; a handed-in visit is never overdue.
    later = now + timedelta(days=1)
    capital.status = VisitStatus.submitted
    assert is_overdue(capital, later) is False and status_counts(manager, later)["overdue"] == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.integers(0, 24 * 4 - 1))
def test_the_sql_overdue_rule_agrees_with_the_python_one_in_every_zone(app, db, manager, hours, _zone_visits):
    now = utc(2026, 12, 1, 0, 0) + timedelta(hours=hours)
    expected = {v.id for v in _zone_visits if is_overdue(v, now)}
    found = set(db.session.scalars(filter_visits(manager, overdue=True, now=now).with_only_columns(Visit.id)))
    assert found == expected


@pytest.fixture
def _zone_visits(in_zone, make_visit, make_checklist_version, make_user):
    version, shopper = make_checklist_version(), make_user("shopper")
    visits = []
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Vladivostok", "Europe/Kaliningrad", "UTC"):
        location = in_zone(zone)
        for end in (date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)):
            visits.append(make_visit(location=location, checklist_version=version, shopper=shopper,
                                     window_start=end - timedelta(days=2), window_end=end))
    return visits


def test_shoppers_list_marks_overdue_by_the_stores_calendar(client, login, shopper, in_zone, make_visit,
                                                            make_checklist_version):
    # Kiritimati (UTC+14) is always at least a day ahead of Pago Pago (UTC-11).
    pago = in_zone("Pacific/Pago_Pago")
    today_pago = today_at(pago)
    version = make_checklist_version()
    ahead = make_visit(location=in_zone("Pacific/Kiritimati"), shopper=shopper, checklist_version=version,
                       window_start=today_pago - timedelta(days=3), window_end=today_pago)
    behind = make_visit(location=pago, shopper=shopper, checklist_version=version,
                        window_start=today_pago - timedelta(days=3), window_end=today_pago)
    login(shopper)
    page = client.get("/visits/").get_data(as_text=True)
    card = page.split(f'data-visit-id="{ahead.id}"')[1].split("</li>")[0]
    assert "Overdue" in card and "Kiritimati" in card
    card = page.split(f'data-visit-id="{behind.id}"')[1].split("</li>")[0]
    assert "Overdue" not in card and "Pago Pago" in card
    listed = {v["id"]: v for v in client.get("/api/v1/visits").json["visits"]}
    assert listed[ahead.id]["overdue"] is True and listed[behind.id]["overdue"] is False
    assert listed[ahead.id]["location"]["timezone"] == "Pacific/Kiritimati"


def test_the_phone_form_warns_before_starting_early_but_lets_the_shopper_start(client, login, shopper, in_zone,
                                                                              make_visit):
    store = in_zone("Asia/Vladivostok")
    today = today_at(store)
    visit = make_visit(location=store, shopper=shopper, window_start=today + timedelta(days=2),
                       window_end=today + timedelta(days=6))
    login(shopper)
    page = client.get(f"/visits/{visit.id}/fill").get_data(as_text=True)
    assert 'data-timezone="Asia/Vladivostok"' in page
    assert "The window opens in 2 days. You can start now, but the reviewer will see" in page
    assert "(store time: Vladivostok, UTC+10)" in page
    ru = client.get(f"/visits/{visit.id}/fill", headers=RU).get_data(as_text=True)
    assert "Окно откроется через 2 дня." in ru
    response = client.post(f"/api/v1/visits/{visit.id}/start", json={"started_at": datetime.now(UTC).isoformat()})
    assert response.status_code == 200 and response.json["status"] == "in_progress"


def test_no_warning_inside_the_window(client, login, shopper, in_zone, make_visit):
    store = in_zone("Europe/Kaliningrad")
    today = today_at(store)
    visit = make_visit(location=store, shopper=shopper, window_start=today, window_end=today)
    login(shopper)
    page = client.get(f"/visits/{visit.id}/fill").get_data(as_text=True)
    assert 'id="window-warning" role="status" hidden' in page


# -- pages, PDFs, exports -------------------------------------------------------------------------


@pytest.fixture
def moscow_visit(db, in_zone, make_checklist_version, make_user):
    """A visit started at 10:47 Moscow time (07:47 UTC), two days before its window opened."""
    visit = make_scored_visit(db, in_zone("Europe/Moscow"), make_checklist_version(), make_user("shopper"),
                              visited_at=utc(2026, 12, 3, 7, 47), status=VisitStatus.submitted)
    visit.window_start, visit.window_end = date(2026, 12, 5), date(2026, 12, 9)
    db.session.commit()
    return visit


def test_review_page_shows_moscow_time_and_the_window_warning(client, login, manager, moscow_visit):
    login(manager)
    page = client.get(f"/review/visits/{moscow_visit.id}").get_data(as_text=True)
    started = page.split('id="visit-started">')[1].split("</dd>")[0]
    assert started == "Dec 3, 2026, 10:47\u202fAM (Moscow, UTC+3)"
    assert "7:47" not in started
    warning = page.split('id="window-warning">')[1].split("</p>")[0]
    assert "Started 2 days before the window opened." in warning and "Moscow, UTC+3" in warning
    ru = client.get(f"/review/visits/{moscow_visit.id}", headers=RU).get_data(as_text=True)
    assert ru.split('id="visit-started">')[1].split("</dd>")[0] == "3 дек. 2026\u202fг., 10:47 (Москва, UTC+3)"
    assert "Начат за 2 дня до открытия окна." in ru
    queue = client.get("/review/").get_data(as_text=True)
    assert "(Moscow, UTC+3)" in queue


def test_visit_pdf_prints_local_time_with_the_zone(client, login, manager, moscow_visit):
    login(manager)
    for lang, zone, warning in (("en", "Moscow, UTC+3", "Started 2 days before the window opened."),
                                ("ru", "Москва, UTC+3", "Начат за 2 дня до открытия окна.")):
        response = client.get(f"/reports/visits/{moscow_visit.id}.pdf", query_string={"lang": lang})
        assert response.status_code == 200
        text = " ".join(page.extract_text() for page in pdf_reader(response.data).pages)
        text = " ".join(text.split())
        assert "10:47" in text and zone in text and warning in text
        assert "7:47" not in text


def test_location_page_lists_visits_in_the_locations_time(app, client, login, manager, db, in_zone,
                                                          make_checklist_version, make_user):
    kaliningrad = in_zone("Europe/Kaliningrad")
    moment = (datetime.now(UTC) - timedelta(days=2)).replace(hour=22, minute=30, second=0, microsecond=0)
    make_scored_visit(db, kaliningrad, make_checklist_version(), make_user("shopper"), visited_at=moment)
    login(manager)
    page = client.get(f"/dashboard/locations/{kaliningrad.id}", query_string={"period": "90d"}).get_data(as_text=True)
    assert "local time: Kaliningrad, UTC+2" in page
    with app.test_request_context():
        shown = format_local(moment, "Europe/Kaliningrad", "short", zone=False)
    assert "12:30" in shown and shown in page  # 00:30 the next day, on the store's clock


# -- admin ------------------------------------------------------------------------------------------


def region_form(**changes):
    return {"complete": "1", "code": "VVO", "name": "Приморье", "timezone": "Asia/Vladivostok", **changes}


def test_admin_sets_zones_and_refuses_mars(client, login, admin, db, make_region):
    login(admin)
    response = client.post("/admin/regions/new", data=region_form(timezone="Mars/Olympus"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Unknown time zone “Mars/Olympus”" in page
    assert client.post("/admin/regions/new", data=region_form()).status_code == 302
    region = db.session.scalar(select(Region).where(Region.code == "VVO"))
    assert region.timezone == "Asia/Vladivostok"
    form = client.get("/admin/locations/new").get_data(as_text=True)
    assert '<option value="">Same as its region</option>' in form
    assert form.index('value="Europe/Kaliningrad"') < form.index('value="Africa/Abidjan"')
    location = {"complete": "1", "code": "VVO-01", "name": "Светланская", "address": "", "region_id": region.id,
                "latitude": "", "longitude": "", "active": "y", "timezone": ""}
    assert client.post("/admin/locations/new", data=location).status_code == 302
    saved = db.session.scalar(select(Location).where(Location.code == "VVO-01"))
    assert saved.timezone is None and saved.timezone_name == "Asia/Vladivostok"
    response = client.post(f"/admin/locations/{saved.id}", data={**location, "timezone": "Mars/Olympus"})
    assert "Unknown time zone “Mars/Olympus”" in response.get_data(as_text=True)
    assert client.post(f"/admin/locations/{saved.id}", data={**location, "timezone": "asia/kamchatka"}).status_code \
        == 302
    db.session.refresh(saved)
    assert saved.timezone == "Asia/Kamchatka"
    ru = client.post("/admin/regions/new", data=region_form(code="X", name="Y", timezone="Марс"), headers=RU)
    assert "Неизвестный часовой пояс «Марс»" in ru.get_data(as_text=True)


def upload(client, text: str, **extra):
    data = {"file": (io.BytesIO(text.encode()), "locations.csv"), **extra}
    return client.post("/admin/locations/import", data=data, content_type="multipart/form-data")


def test_csv_import_with_a_timezone_column(client, login, admin, db, make_region, make_location):
    make_region("Калининград", code="KGD")
    far_east = make_region("Приморье", code="VVO", timezone="Asia/Vladivostok")
    existing = make_location(far_east, code="VVO-01")
    login(admin)
    bad = ("code;name;region;timezone\n"
           "KGD-01;Центр;KGD;Europe/Kaliningrad\n"
           "KGD-02;Ленинский;KGD;Mars/Olympus\n")
    response = upload(client, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Unknown time zone “Mars/Olympus”" in page
    assert "nothing was saved" in page
    assert db.session.scalar(select(Location).where(Location.code == "KGD-01")) is None
    good = ("code,name,region,latitude,longitude,timezone\n"
            "KGD-01,Центр,KGD,54.7104,20.5101,europe/kaliningrad\n"
            "KGD-02,Ленинский,kgd,,,\n"
            "VVO-01,Светланская,VVO,,,Asia/Kamchatka\n")
    response = upload(client, good)
    assert response.status_code == 200 and "3 locations saved." in response.get_data(as_text=True)
    db.session.expire_all()
    saved = {loc.code: loc for loc in db.session.scalars(select(Location))}
    assert saved["KGD-01"].timezone == "Europe/Kaliningrad" and saved["KGD-01"].latitude == pytest.approx(54.7104)
    assert saved["KGD-02"].timezone is None and saved["KGD-02"].timezone_name == "Europe/Moscow"
    assert saved["VVO-01"].id == existing.id and saved["VVO-01"].timezone == "Asia/Kamchatka"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "location.create")) is not None
    example = client.get("/admin/locations/import/example.csv").get_data(as_text=True)
    assert "timezone" in example.splitlines()[0]


def test_csv_import_refuses_a_file_without_the_needed_columns(client, login, admin):
    login(admin)
    response = upload(client, "code;timezone\nX;UTC\n")
    assert response.status_code == 400 and "Columns missing from the header: name, region." in response.get_data(
        as_text=True)
