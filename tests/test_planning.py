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
    from app.visits import services

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
