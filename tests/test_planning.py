"""Planning: the managers' visit list, assigning one visit, bulk assignment from CSV with a row report."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Visit, VisitStatus

TODAY = date.today()
D1, D2 = (TODAY + timedelta(days=1)).isoformat(), (TODAY + timedelta(days=7)).isoformat()


@pytest.fixture
def world(make_region, make_location, make_user, make_checklist_version, login):
    north, south = make_region("North"), make_region("South")
    version = make_checklist_version()
    manager = make_user("manager", regions=[north])
    login(manager)
    return {
        "north": north, "south": south, "version": version, "manager": manager,
        "msk": make_location(north, code="MSK-01", name="Тверская"),
        "spb": make_location(south, code="SPB-01"),
        "shopper": make_user("shopper", email="anna@example.com", name="Анна"),
        "gone": make_user("shopper", email="gone@example.com", active=False),
    }


def upload(client, text: str, dry_run=False, encoding="utf-8"):
    import io

    data = {"file": (io.BytesIO(text.encode(encoding)), "plan.csv")}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/planning/import", data=data, content_type="multipart/form-data")


def test_csv_import_reports_every_row(client, db, world):
    text = "\n".join([
        "location_code,checklist_id,shopper_email,from,to,instructions",
        f"MSK-01,sample-visit,anna@example.com,{D1},{D2},Купить кофе",
        f"NOPE-9,sample-visit,anna@example.com,{D1},{D2},",
        f"MSK-01,no-such-list,anna@example.com,{D1},{D2},",
        f"MSK-01,sample-visit,nobody@example.com,{D1},{D2},",
        f"MSK-01,sample-visit,gone@example.com,{D1},{D2},",
        "MSK-01,sample-visit,anna@example.com,31.02.2025,2025-13-01,",
        f"MSK-01,sample-visit,anna@example.com,{D2},{D1},",
        f"SPB-01,sample-visit,anna@example.com,{D1},{D2},",
        f"MSK-01,sample-visit,anna@example.com,{D1},{D2},Купить кофе",
    ])
    response = upload(client, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Visits assigned: 1; rows refused: 8." in page
    for reason in ("Unknown location code NOPE-9", "Unknown checklist no-such-list",
                   "No shopper with the email nobody@example.com", "Shopper gone@example.com is deactivated",
                   "Bad start date 31.02.2025", "Bad end date 2025-13-01", "starts (", "SPB-01 is outside your regions",
                   "already assigned"):
        assert reason in page, reason
    visit = db.session.scalar(select(Visit))
    assert visit.instructions == "Купить кофе" and visit.location.code == "MSK-01"
    assert visit.checklist_version_id == world["version"].id
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "visit.assign")) == 1


def test_csv_semicolons_russian_dates_cp1251_and_no_header(client, db, world):
    text = f"MSK-01;sample-visit;ANNA@example.com;{(TODAY + timedelta(days=2)).strftime('%d.%m.%Y')};" \
           f"{(TODAY + timedelta(days=3)).strftime('%d.%m.%Y')};Спросить про доставку\n"
    response = upload(client, text, encoding="cp1251")
    assert "Visits assigned: 1; rows refused: 0." in response.get_data(as_text=True)
    assert db.session.scalar(select(Visit.instructions)) == "Спросить про доставку"


def test_csv_dry_run_assigns_nothing(client, db, world):
    response = upload(client, f"location,checklist,shopper,from,to\nMSK-01,sample-visit,anna@example.com,{D1},{D2}\n",
                      dry_run=True)
    assert "nothing was assigned" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Visit.id))) == 0


@pytest.mark.parametrize("text,message", [("", "The file is empty"),
                                          ("location,shopper\nMSK-01,a@b.c\n", "missing from the header")])
def test_csv_whole_file_problems(client, world, text, message):
    response = upload(client, text)
    assert message in response.get_data(as_text=True)


def test_checklist_latest_version_is_used(client, db, world, make_checklist_version):
    from tests.conftest import SAMPLE_CHECKLIST

    v2 = make_checklist_version(SAMPLE_CHECKLIST.replace("version: 1", "version: 2"))
    upload(client, f"MSK-01,sample-visit,anna@example.com,{D1},{D2}\n")
    assert db.session.scalar(select(Visit.checklist_version_id)) == v2.id


def test_assign_form(client, db, world):
    response = client.post("/planning/assign", data={
        "location": world["msk"].id, "checklist": "sample-visit", "shopper": world["shopper"].id,
        "window_start": D1, "window_end": D2, "instructions": "Ask for a loyalty card"})
    assert response.status_code == 302
    visit = db.session.scalar(select(Visit))
    assert (visit.shopper_id, visit.status, visit.instructions) == (world["shopper"].id, VisitStatus.planned,
                                                                   "Ask for a loyalty card")


@pytest.mark.parametrize("changes", [
    {"location": "spb"},                   # outside the manager's regions: not a choice
    {"shopper": "gone"},                   # deactivated
    {"window_end": (TODAY - timedelta(days=3)).isoformat()},
    {"checklist": "nope"},
])
def test_assign_form_refuses(client, db, world, changes):
    data = {"location": world["msk"].id, "checklist": "sample-visit", "shopper": world["shopper"].id,
            "window_start": D1, "window_end": D2}
    for key, value in changes.items():
        data[key] = world[value].id if value in world else value
    response = client.post("/planning/assign", data=data)
    assert response.status_code == 200 and 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Visit.id))) == 0


def test_assign_form_chooses_nothing_for_the_manager(client, world):
    page = client.get("/planning/assign").get_data(as_text=True)
    for placeholder in ("Choose a location…", "Choose a checklist…", "Choose a shopper…"):
        assert f'<option selected value="">{placeholder}</option>' in page
    assert page.count("<option selected") == 3  # the placeholders, and no location, checklist or shopper
    assert page.count("required") >= 3


def test_assign_form_keeps_a_choice_made_by_a_link(client, world):
    page = client.get(f"/planning/assign?location={world['msk'].id}").get_data(as_text=True)
    assert f'<option selected value="{world["msk"].id}">MSK-01 — Тверская</option>' in page


@pytest.mark.parametrize("missing,message", [
    ("location", "Choose the location to visit."),
    ("checklist", "Choose the checklist to fill."),
    ("shopper", "Choose the shopper who makes the visit."),
])
def test_assign_form_says_which_choice_is_missing(client, db, world, missing, message):
    data = {"location": world["msk"].id, "checklist": "sample-visit", "shopper": world["shopper"].id,
            "window_start": D1, "window_end": D2, missing: ""}
    page = client.post("/planning/assign", data=data).get_data(as_text=True)
    assert f'<small id="{missing}-error" class="field-error">{message}</small>' in page
    assert page.count("field-error") == 1
    assert db.session.scalar(select(func.count(Visit.id))) == 0


def test_assign_form_errors_are_in_russian(client, db, world):
    page = client.post("/planning/assign", data={"window_start": D1, "window_end": D2},
                       headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Выберите точку" in page and "Выберите точку…" in page


def test_index_is_region_scoped_and_marks_overdue(client, world, make_visit):
    late = make_visit(location=world["msk"], checklist_version=world["version"], shopper=world["shopper"],
                      window_start=TODAY - timedelta(days=9), window_end=TODAY - timedelta(days=2))
    hidden = make_visit(location=world["spb"], checklist_version=world["version"], shopper=world["shopper"])
    page = client.get("/planning/").get_data(as_text=True)
    assert f'id="visit-{late.id}" class="overdue"' in page
    assert f'id="visit-{hidden.id}"' not in page and "SPB-01" not in page
    assert 'id="overdue-count">1<' in page
    only_overdue = client.get("/planning/?overdue=1&q=msk").get_data(as_text=True)
    assert f'id="visit-{late.id}"' in only_overdue


def test_shoppers_cannot_plan(client, login, shopper):
    login(shopper)
    assert client.get("/planning/").status_code == 403
    assert client.post("/planning/import").status_code == 403


def test_csrf_protects_the_forms(app, client, world):
    app.config["WTF_CSRF_ENABLED"] = True
    response = upload(client, f"MSK-01,sample-visit,anna@example.com,{D1},{D2}\n")
    assert response.status_code == 400


# -- shopper pages ---------------------------------------------------------------------------------

def test_my_visits_sections(client, db, make_visit, make_checklist_version, shopper, login, manager):
    from app.visits import lifecycle as services

    login(shopper)
    version = make_checklist_version()
    upcoming = make_visit(shopper=shopper, checklist_version=version)
    overdue = make_visit(shopper=shopper, checklist_version=version, status=VisitStatus.in_progress,
                         window_start=TODAY - timedelta(days=5), window_end=TODAY - timedelta(days=1))
    returned = make_visit(shopper=shopper, checklist_version=version, status=VisitStatus.submitted)
    services.return_for_correction(returned, manager, "Сфотографируйте полку")
    db.session.commit()
    page = client.get("/visits/").get_data(as_text=True)
    sections = {name: page.index(f'id="section-{name}"') for name in ("returned", "in_progress", "upcoming",
                                                                      "submitted")}
    assert sections["returned"] < page.index(f'data-visit-id="{returned.id}"') < sections["in_progress"]
    assert sections["in_progress"] < page.index(f'data-visit-id="{overdue.id}"') < sections["upcoming"]
    assert sections["upcoming"] < page.index(f'data-visit-id="{upcoming.id}"') < sections["submitted"]
    assert "Overdue" in page and upcoming.location.address in page
    detail = client.get(f"/visits/{returned.id}").get_data(as_text=True)
    assert "Сфотографируйте полку" in detail and 'id="visit-score"' not in detail


def test_detail_of_someone_elses_visit_is_404(client, make_visit, make_user, login):
    visit = make_visit()
    login(make_user("shopper"))
    assert client.get(f"/visits/{visit.id}").status_code == 404


# -- editing and cancelling a planned visit --------------------------------------------------------

@pytest.fixture
def planned(world, make_visit):
    return make_visit(location=world["msk"], checklist_version=world["version"], shopper=world["shopper"],
                      window_start=TODAY, window_end=TODAY + timedelta(days=3), instructions="Купить кофе")


def edit_data(visit, **changes):
    data = {"shopper": visit.shopper_id, "window_start": visit.window_start.isoformat(),
            "window_end": visit.window_end.isoformat(), "instructions": visit.instructions}
    return {**data, **changes}


def audit(action):
    """Return the audit entries of `action`, as stored by the requests."""
    from app.extensions import db

    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_planning_list_links_edit_and_cancel_for_open_visits_only(client, world, planned, make_visit):
    done = make_visit(location=world["msk"], checklist_version=world["version"], shopper=world["shopper"],
                      status=VisitStatus.submitted)
    page = client.get("/planning/?status=all").get_data(as_text=True)
    assert f'href="/planning/visits/{planned.id}/edit"' in page
    assert f'href="/planning/visits/{planned.id}/cancel"' in page
    assert f"/planning/visits/{done.id}/edit" not in page and f"/planning/visits/{done.id}/cancel" not in page


def test_edit_changes_shopper_window_and_instructions_and_is_audited(client, db, world, planned, make_user, login):
    boris = make_user("shopper", email="boris@example.com", name="Борис")
    form = client.get(f"/planning/visits/{planned.id}/edit").get_data(as_text=True)
    assert "Купить кофе" in form and "MSK-01" in form and "saved on their phone" in form
    new_end = TODAY + timedelta(days=10)
    response = client.post(f"/planning/visits/{planned.id}/edit", data=edit_data(
        planned, shopper=boris.id, window_end=new_end.isoformat(), instructions="Спросить про доставку"))
    assert response.status_code == 302
    assert "Visit changed." in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert (planned.shopper_id, planned.window_end, planned.instructions) == (boris.id, new_end,
                                                                              "Спросить про доставку")
    assert (planned.location_id, planned.checklist_version_id) == (world["msk"].id, world["version"].id)
    (entry,) = audit("visit.edit")
    assert entry.user_id == world["manager"].id and entry.target_id == planned.id
    assert entry.details["shopper"] == ["anna@example.com", "boris@example.com"]
    assert entry.details["window"][1] == [TODAY.isoformat(), new_end.isoformat()]
    assert entry.details["instructions"] == ["Купить кофе", "Спросить про доставку"]
    # The new shopper has the visit; the old one no longer sees it at all.
    login(boris)
    assert f'data-visit-id="{planned.id}"' in client.get("/visits/").get_data(as_text=True)
    login(world["shopper"])
    assert client.get(f"/visits/{planned.id}/fill").status_code == 404


def test_edit_of_a_started_visit_keeps_its_shopper(client, db, world, planned, make_user):
    planned.status = VisitStatus.in_progress
    db.session.commit()
    boris = make_user("shopper", email="boris@example.com")
    page = client.get(f"/planning/visits/{planned.id}/edit").get_data(as_text=True)
    assert 'name="shopper"' not in page and "cannot go to someone else" in page
    # A crafted request naming another shopper changes only the window.
    response = client.post(f"/planning/visits/{planned.id}/edit", data=edit_data(
        planned, shopper=boris.id, window_end=(TODAY + timedelta(days=5)).isoformat()))
    assert response.status_code == 302
    db.session.expire_all()
    assert planned.shopper_id == world["shopper"].id and planned.window_end == TODAY + timedelta(days=5)


@pytest.mark.parametrize("changes,message", [
    ({"window_end": (TODAY - timedelta(days=1)).isoformat()}, "The window must end on or after its first day."),
    ({"window_start": (TODAY - timedelta(days=9)).isoformat(), "window_end": (TODAY - timedelta(days=2)).isoformat()},
     "The window cannot end in the past."),
    ({"window_end": "31.02.2025"}, "Not a valid date value."),
])
def test_bad_window_shows_an_error_and_changes_nothing(client, db, world, planned, changes, message):
    response = client.post(f"/planning/visits/{planned.id}/edit", data=edit_data(
        planned, instructions="Другое", **changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and 'aria-invalid="true"' in page
    db.session.expire_all()
    assert (planned.window_start, planned.window_end, planned.instructions) == (
        TODAY, TODAY + timedelta(days=3), "Купить кофе")
    assert audit("visit.edit") == []


@pytest.mark.parametrize("status", [VisitStatus.submitted, VisitStatus.approved])
def test_handed_in_visits_cannot_be_edited_or_cancelled(client, db, world, planned, status):
    planned.status = status
    db.session.commit()
    page = client.get(f"/planning/visits/{planned.id}/edit").get_data(as_text=True)
    assert "can no longer be changed from planning" in page and 'name="window_end"' not in page
    response = client.post(f"/planning/visits/{planned.id}/edit", data=edit_data(planned, instructions="Другое"))
    assert response.status_code == 409 and "can no longer be changed from planning" in response.get_data(as_text=True)
    response = client.post(f"/planning/visits/{planned.id}/cancel", data={"reason": "Магазин закрыт"})
    assert response.status_code == 409
    db.session.expire_all()
    assert (planned.status, planned.instructions, planned.void_reason) == (status, "Купить кофе", None)
    assert audit("visit.edit") == [] and audit("visit.void") == []


def test_cancel_voids_the_visit_and_the_shopper_no_longer_sees_it(client, db, world, planned, login):
    from app.models import VisitEvent

    page = client.get(f"/planning/visits/{planned.id}/cancel").get_data(as_text=True)
    assert "Тверская" in page and 'name="reason"' in page
    response = client.post(f"/planning/visits/{planned.id}/cancel", data={"reason": "Магазин закрыт на ремонт"})
    assert response.status_code == 302
    db.session.expire_all()
    assert planned.status == VisitStatus.voided and planned.void_reason == "Магазин закрыт на ремонт"
    (event,) = [e for e in planned.events if e.action == "voided"]
    assert isinstance(event, VisitEvent) and event.user_id == world["manager"].id
    assert event.comment == "Магазин закрыт на ремонт"
    (entry,) = audit("visit.void")
    assert entry.target_id == planned.id and entry.details["reason"] == "Магазин закрыт на ремонт"
    assert entry.details["previous"] == "planned"
    assert f'id="visit-{planned.id}"' not in client.get("/planning/").get_data(as_text=True)

    login(world["shopper"])
    assert f'data-visit-id="{planned.id}"' not in client.get("/visits/").get_data(as_text=True)
    assert client.get("/api/v1/visits").get_json()["visits"] == []
    fill = client.get(f"/visits/{planned.id}/fill").get_data(as_text=True)
    assert "This visit can no longer be changed (status: Voided)." in fill
    definition = client.get(f"/api/v1/visits/{planned.id}").get_json()
    assert definition["editable"] is False and definition["visit"]["status"] == "voided"
    draft = client.put(f"/api/v1/visits/{planned.id}/draft", json={"answers": {}})
    assert draft.status_code == 409 and draft.get_json()["visit_status"] == "voided"


def test_cancel_needs_a_reason(client, db, world, planned):
    response = client.post(f"/planning/visits/{planned.id}/cancel", data={"reason": "   "})
    assert response.status_code == 400 and "Say why the visit is cancelled." in response.get_data(as_text=True)
    db.session.expire_all()
    assert planned.status == VisitStatus.planned and audit("visit.void") == []


def test_other_regions_visits_are_404(client, db, world, make_visit, make_user, login):
    foreign = make_visit(location=world["spb"], checklist_version=world["version"], shopper=world["shopper"])
    for url in (f"/planning/visits/{foreign.id}/edit", f"/planning/visits/{foreign.id}/cancel"):
        assert client.get(url).status_code == 404
    assert client.post(f"/planning/visits/{foreign.id}/edit", data=edit_data(
        foreign, instructions="Чужой")).status_code == 404
    assert client.post(f"/planning/visits/{foreign.id}/cancel", data={"reason": "Чужой"}).status_code == 404
    assert client.get("/planning/visits/999999/edit").status_code == 404
    db.session.expire_all()
    assert foreign.status == VisitStatus.planned and foreign.instructions == ""
    # The south region's manager (and an admin) may.
    login(make_user("manager", regions=[world["south"]]))
    assert client.post(f"/planning/visits/{foreign.id}/cancel", data={"reason": "Закрыто"}).status_code == 302


def test_edit_and_cancel_need_a_csrf_token(app, client, world, planned):
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/planning/visits/{planned.id}/edit", data=edit_data(planned, instructions="X")).status_code \
        == 400
    assert client.post(f"/planning/visits/{planned.id}/cancel", data={"reason": "X"}).status_code == 400
    assert audit("visit.edit") == [] and audit("visit.void") == []


# -- the lockout: the same shopper at the same location again too soon -----------------------------

def visited(make_visit, world, days_ago, status=VisitStatus.approved, shopper=None):
    """Return a visit of MSK-01 by Анна (or `shopper`) started `days_ago` days ago."""
    from datetime import UTC, datetime

    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return make_visit(location=world["msk"], checklist_version=world["version"], shopper=shopper or world["shopper"],
                      status=status, window_start=(moment - timedelta(days=1)).date(), window_end=moment.date(),
                      started_at=moment, submitted_at=moment, visited_at=moment)


def assign_data(world, **changes):
    return {"location": world["msk"].id, "checklist": "sample-visit", "shopper": world["shopper"].id,
            "window_start": D1, "window_end": D2, **changes}


def visits_count(db):
    db.session.expire_all()
    return db.session.scalar(select(func.count(Visit.id)))


def test_lockout_refuses_a_recent_shoppers_return_naming_the_date(client, db, world, make_visit):
    from babel.dates import format_date

    from app.localtime import visit_day

    before = visited(make_visit, world, days_ago=10)
    response = client.post("/planning/assign", data=assign_data(world))
    page = response.get_data(as_text=True)
    day = visit_day(before)
    assert (f"Анна visited Тверская on {format_date(day, 'medium', locale='en')}: the next visit there is allowed "
            f"from {format_date(day + timedelta(days=30), 'medium', locale='en')} (lockout of 30 days)") in page
    assert 'id="shopper-error"' in page
    assert 'name="override_lockout"' in page and f'name="lockout_visit" type="hidden" value="{before.id}"' in page
    assert visits_count(db) == 1


def test_lockout_override_assigns_and_is_audited(client, db, world, make_visit):
    before = visited(make_visit, world, days_ago=10)
    response = client.post("/planning/assign", data=assign_data(world, override_lockout="y",
                                                                lockout_visit=str(before.id)))
    assert response.status_code == 302 and visits_count(db) == 2
    entry = audit("visit.lockout_override")[0]
    assert entry.details["previous_visit"] == before.id and entry.details["lockout_days"] == 30
    assert entry.details["shopper"] == "anna@example.com" and entry.details["location"] == "MSK-01"


def test_lockout_override_covers_only_the_visit_shown(client, db, world, make_visit):
    before = visited(make_visit, world, days_ago=10)
    stale = client.post("/planning/assign", data=assign_data(world, override_lockout="y",
                                                             lockout_visit=str(before.id + 99)))
    assert "lockout of 30 days" in stale.get_data(as_text=True) and visits_count(db) == 1
    assert audit("visit.lockout_override") == []


@pytest.mark.parametrize("days_ago,status,other_shopper,assigned", [
    (40, VisitStatus.approved, False, True),    # past the 30 days
    (10, VisitStatus.voided, False, True),      # a voided visit never happened, for the lockout
    (10, VisitStatus.approved, True, True),     # another shopper's visit
    (10, VisitStatus.in_progress, False, False),  # started counts: the shopper was in the shop
])
def test_lockout_counts_only_this_shoppers_real_recent_visits(client, db, world, make_visit, make_user,
                                                              days_ago, status, other_shopper, assigned):
    visited(make_visit, world, days_ago, status, shopper=make_user("shopper") if other_shopper else None)
    response = client.post("/planning/assign", data=assign_data(world))
    assert (response.status_code == 302) is assigned
    assert visits_count(db) == (2 if assigned else 1)


@pytest.mark.parametrize("config,assigned", [
    ({"VISIT_LOCKOUT_DAYS": 0}, True),
    ({"VISIT_LOCKOUT_DAYS": 5}, True),
    ({"VISIT_LOCKOUT_DAYS": 5, "VISIT_LOCKOUT_DAYS_BY_PROGRAMME": {"sample-visit": 60}}, False),
    ({"VISIT_LOCKOUT_DAYS_BY_PROGRAMME": {"sample-visit": 0}}, True),
    ({"VISIT_LOCKOUT_DAYS_BY_PROGRAMME": {"other-programme": 0}}, False),
])
def test_lockout_days_are_set_per_programme(app, client, db, world, make_visit, config, assigned):
    app.config.update(config)
    visited(make_visit, world, days_ago=10)
    assert (client.post("/planning/assign", data=assign_data(world)).status_code == 302) is assigned


def test_lockout_ends_exactly_after_its_days(db, world, make_visit):
    from app.localtime import visit_day
    from app.planning.services import lockout_of

    before = visited(make_visit, world, days_ago=10)
    day = visit_day(before)
    assert lockout_of(world["msk"], world["shopper"], day + timedelta(days=29), 30).previous == before
    assert lockout_of(world["msk"], world["shopper"], day + timedelta(days=30), 30) is None
