"""Admin pages: accounts, regions, locations, the audit log, and who may use them."""
import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from app.access import scope_of
from app.admin import services
from app.labels import AUDIT_ACTION_LABELS, AUDIT_GROUP_LABELS
from app.models import AuditLog, Location, Region, Role, User
from tests.conftest import PASSWORD, TEST_DATABASE_URL

NEW_PASSWORD = "a brand new password"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_config(app_config):
    """On PostgreSQL, close connections when released: each test builds an app and an engine of its own."""
    if TEST_DATABASE_URL:
        app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": NullPool}
    return app_config

ADMIN_PAGES = [
    "/admin/", "/admin/users", "/admin/users/new", "/admin/regions", "/admin/regions/new",
    "/admin/locations", "/admin/locations/new", "/admin/audit",
]


def audit_actions(db, action=None):
    query = select(AuditLog).order_by(AuditLog.id)
    if action:
        query = query.where(AuditLog.action == action)
    return db.session.scalars(query).all()


def page_text(response) -> str:
    """Return the page's HTML with tags removed and spaces collapsed, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# -- access -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ADMIN_PAGES)
@pytest.mark.parametrize("role", ["manager", "shopper"])
def test_non_admins_get_403(client, make_user, login, url, role):
    login(make_user(role))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.location


def test_non_admin_cannot_post_changes(client, manager, shopper, login, db):
    login(manager)
    for url in (f"/admin/users/{shopper.id}/deactivate", f"/admin/users/{shopper.id}",
                f"/admin/users/{shopper.id}/password", "/admin/regions/new", "/admin/locations/new"):
        form = {"name": "x", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post(url, data=form).status_code == 403
    db.session.refresh(shopper)
    assert shopper.active and shopper.check_password(PASSWORD)
    assert audit_actions(db) == []


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_render(client, admin, login, make_location, url):
    make_location()
    login(admin)
    response = client.get(url)
    assert response.status_code == 200
    assert 'class="admin-tabs"' in response.get_data(as_text=True)


def test_index_shows_counts_and_links(client, admin, login, make_user, make_location):
    make_user("shopper"), make_user("shopper"), make_user("manager"), make_user("shopper", active=False)
    make_location(), make_location(active=False)
    login(admin)
    text = page_text(client.get("/admin/"))
    assert "2 Mystery shoppers" in text
    assert "1 Quality managers" in text
    assert "1 Deactivated accounts" in text
    assert "1 Active locations" in text and "1 Deactivated locations" in text


# -- users --------------------------------------------------------------------------------------

def test_create_shopper(client, admin, login, db):
    login(admin)
    response = client.post("/admin/users/new", data=sent({
        "name": "Анна Смирнова", "email": " Anna@Example.com ", "role": "shopper", "shopper_code": "MS-101",
        "password": NEW_PASSWORD,
    }))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "anna@example.com"))
    assert user.name == "Анна Смирнова" and user.role == Role.shopper and user.shopper_code == "MS-101"
    assert user.check_password(NEW_PASSWORD)
    [entry] = audit_actions(db, "user.create")
    assert entry.user_id == admin.id and entry.target_id == user.id
    assert entry.details["role"] == "shopper"
    assert "Анна Смирнова" in client.get("/admin/users").get_data(as_text=True)


def test_create_manager_limited_to_regions(client, admin, login, db, make_region):
    moscow, kazan = make_region("Москва"), make_region("Казань")
    login(admin)
    client.post("/admin/users/new", data=sent({
        "name": "Max", "email": "max@example.com", "role": "manager", "regions": [str(moscow.id)],
        "password": NEW_PASSWORD,
    }))
    user = db.session.scalar(select(User).where(User.email == "max@example.com"))
    assert scope_of(user).regions == {moscow.id}
    assert not scope_of(user).sees_region(kazan.id)


@pytest.mark.parametrize("data, message", [
    ({"email": "taken@example.com"}, "Another account already uses this email."),
    ({"email": "TAKEN@example.com"}, "Another account already uses this email."),
    ({"email": "not-an-email"}, "Invalid email address."),
    ({"shopper_code": ""}, "Shoppers need a code"),
    ({"shopper_code": "MS-001"}, "Another shopper already has this code."),
    ({"shopper_code": "MS 001"}, "Use letters, digits"),
    ({"password": "short"}, "at least 10 characters"),
    ({"name": "  "}, "This field is required."),
])
def test_create_user_validation_errors(client, admin, login, make_user, db, data, message):
    make_user("shopper", email="taken@example.com", shopper_code="MS-001")
    login(admin)
    form = {"name": "New", "email": "new@example.com", "role": "shopper", "shopper_code": "MS-900",
            "password": NEW_PASSWORD, **data}
    before = db.session.scalar(select(db.func.count()).select_from(User))
    response = client.post("/admin/users/new", data=sent(form))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == before
    assert audit_actions(db, "user.create") == []


def test_new_form_suggests_the_next_shopper_code(client, admin, login, make_user):
    make_user("shopper", shopper_code="MS-041")
    login(admin)
    assert 'value="MS-042"' in client.get("/admin/users/new").get_data(as_text=True)


@pytest.mark.parametrize("code", ["", "MS-042"])  # MS-042: the suggestion left in the hidden field
def test_managers_and_admins_get_no_shopper_code(client, admin, login, db, code):
    login(admin)
    response = client.post("/admin/users/new", data=sent({
        "name": "Ira", "email": "ira@example.com", "role": "manager", "shopper_code": code, "password": NEW_PASSWORD,
    }))
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "ira@example.com")).shopper_code is None


def test_edit_manager_regions_and_clear_them(client, admin, login, db, make_user, make_region):
    moscow, spb = make_region("Москва"), make_region("Санкт-Петербург")
    manager = make_user("manager", regions=[moscow])
    login(admin)
    form = {"name": "Renamed", "email": manager.email, "role": "manager", "regions": [str(spb.id)]}
    assert client.post(f"/admin/users/{manager.id}", data=sent(form)).status_code == 302
    db.session.refresh(manager)
    assert manager.name == "Renamed" and scope_of(manager).regions == {spb.id}
    [entry] = audit_actions(db, "user.update")
    assert entry.details["changes"]["name"][1] == "Renamed"
    assert entry.details["changes"]["regions"] == [[moscow.code], [spb.code]]

    form.pop("regions")  # nothing ticked: the whole network
    client.post(f"/admin/users/{manager.id}", data=sent(form))
    db.session.refresh(manager)
    assert manager.regions == [] and scope_of(manager).whole_network


def test_edit_form_explains_empty_regions(client, admin, login, make_user, make_region):
    make_region("Москва")
    manager = make_user("manager")
    login(admin)
    text = page_text(client.get(f"/admin/users/{manager.id}"))
    assert "Tick none for the whole network" in text


def test_edit_rejects_email_of_another_account(client, admin, login, make_user, db):
    other = make_user("shopper", email="other@example.com")
    target = make_user("shopper")
    login(admin)
    response = client.post(f"/admin/users/{target.id}", data=sent({
        "name": target.name, "email": "other@example.com", "role": "shopper", "shopper_code": target.shopper_code,
    }))
    assert "Another account already uses this email." in response.get_data(as_text=True)
    db.session.refresh(target)
    assert target.email != other.email


def test_deactivated_users_session_ends_on_next_request(app, client, admin, shopper, login, db):
    shopper_client = app.test_client()
    login(shopper, shopper_client)
    assert "/login" not in (shopper_client.get("/").location or "")

    login(admin)
    response = client.post(f"/admin/users/{shopper.id}/deactivate", follow_redirects=True)
    assert "signed out everywhere" in response.get_data(as_text=True)
    db.session.refresh(shopper)
    assert shopper.active is False
    assert audit_actions(db, "user.deactivate")[0].target_id == shopper.id

    response = shopper_client.get("/")
    assert response.status_code == 302 and "/login" in response.location
    # Reactivation does not bring the old session back.
    client.post(f"/admin/users/{shopper.id}/reactivate")
    db.session.refresh(shopper)
    assert shopper.active is True
    assert "/login" in shopper_client.get("/").location
    assert audit_actions(db, "user.reactivate")


def test_deactivation_mentions_open_visits(client, admin, login, make_visit):
    visit = make_visit()
    login(admin)
    response = client.post(f"/admin/users/{visit.shopper_id}/deactivate", follow_redirects=True)
    assert "1 open visits are still assigned" in page_text(response)


def test_admin_cannot_deactivate_themselves(client, admin, login, db):
    login(admin)
    response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active
    assert audit_actions(db, "user.deactivate") == []


def test_admin_cannot_demote_themselves(client, admin, login, db, make_user):
    make_user("admin")  # even with another admin around
    login(admin)
    response = client.post(f"/admin/users/{admin.id}", data=sent({"name": admin.name, "email": admin.email,
                                                            "role": "manager"}))
    assert "You cannot take away your own administrator role" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == Role.admin


def test_another_admin_can_be_demoted(client, admin, login, db, make_user):
    other = make_user("admin")
    login(admin)
    client.post(f"/admin/users/{other.id}", data=sent({"name": other.name, "email": other.email, "role": "manager"}))
    db.session.refresh(other)
    assert other.role == Role.manager


def test_last_active_admin_is_kept(db, admin, make_user):
    former = make_user("admin", active=False)
    with pytest.raises(services.AdminRuleError, match="last_admin"):
        services.update_user(former, admin, email=admin.email, name=admin.name, role=Role.manager)
    with pytest.raises(services.AdminRuleError, match="last_admin"):
        services.deactivate_user(former, admin)
    assert admin.active and admin.role == Role.admin


def test_reset_password_ends_sessions(app, client, admin, shopper, login, db):
    shopper_client = app.test_client()
    login(shopper, shopper_client)
    login(admin)
    response = client.post(f"/admin/users/{shopper.id}/password",
                           data={"password": NEW_PASSWORD, "confirm": "something else"})
    assert "The passwords differ." in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{shopper.id}/password",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(shopper)
    assert shopper.check_password(NEW_PASSWORD) and not shopper.check_password(PASSWORD)
    assert "/login" in shopper_client.get("/").location
    assert audit_actions(db, "user.password_reset")[0].target_id == shopper.id


def test_users_list_filters(client, admin, login, make_user, make_region):
    moscow = make_region("Москва")
    make_user("manager", name="Moscow Manager", regions=[moscow])
    make_user("manager", name="Network Manager")
    make_user("shopper", name="Sleeping Shopper", active=False)
    make_user("shopper", name="Busy Shopper", shopper_code="MS-777")
    login(admin)

    def names(**args):
        html = client.get("/admin/users", query_string=args).get_data(as_text=True)
        text = html[html.find("<tbody>"):]  # the header shows the signed-in admin's name
        return {n for n in ("Moscow Manager", "Network Manager", "Sleeping Shopper", "Busy Shopper", "Ada Admin")
                if n in text}

    assert names(role="manager") == {"Moscow Manager", "Network Manager"}
    assert names(region=moscow.id) == {"Moscow Manager"}
    assert names(status="inactive") == {"Sleeping Shopper"}
    assert names(status="active", role="shopper") == {"Busy Shopper"}
    assert names(q="ms-777") == {"Busy Shopper"}
    assert names(role="nonsense") == {"Moscow Manager", "Network Manager", "Sleeping Shopper", "Busy Shopper",
                                      "Ada Admin"}
    assert "Whole network" in client.get("/admin/users", query_string={"role": "manager"}).get_data(as_text=True)


def test_unknown_user_is_404(client, admin, login):
    login(admin)
    assert client.get("/admin/users/9999").status_code == 404
    assert client.post("/admin/users/9999/deactivate").status_code == 404


# -- regions ------------------------------------------------------------------------------------

def test_create_and_rename_region(client, admin, login, db):
    login(admin)
    assert client.post("/admin/regions/new", data=sent({"code": "KZN", "name": "Казань"})).status_code == 302
    region = db.session.scalar(select(Region).where(Region.code == "KZN"))
    assert region.name == "Казань"
    client.post(f"/admin/regions/{region.id}", data=sent({"code": "KZN", "name": "Казань и область"}))
    db.session.refresh(region)
    assert region.name == "Казань и область"
    assert [e.action for e in audit_actions(db)] == ["region.create", "region.update"]
    assert "Казань и область" in client.get("/admin/regions").get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    ({"code": "msk"}, "Another region already has this code."),
    ({"name": "москва"}, "Another region already has this name."),
    ({"code": ""}, "This field is required."),
    ({"code": "M S K"}, "Use letters, digits"),
])
def test_region_validation(client, admin, login, db, make_region, data, message):
    make_region("Москва", code="MSK")
    login(admin)
    response = client.post("/admin/regions/new", data=sent({"code": "NEW", "name": "New", **data}))
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Region)) == 1


def test_region_list_counts_locations_and_managers(client, admin, login, make_location, make_region, make_user):
    region = make_region("Москва")
    make_location(region), make_location(region), make_location(region, active=False)
    make_user("manager", regions=[region])
    login(admin)
    text = page_text(client.get("/admin/regions"))
    assert "Москва Moscow, UTC+3 2 + 1 deactivated 1" in text


# -- locations ----------------------------------------------------------------------------------

def sent(data: dict) -> dict:
    """Return form data as a browser sends it: every text field (empty when left blank) and the marker."""
    return {"shopper_code": "", "timezone": "Europe/Moscow", "complete": "1", **data}


def location_form(region, **changes):
    return {"complete": "1", "code": "MSK-01", "name": "Тверская", "address": "ул. Тверская, 12, Москва",
            "region_id": region.id, "latitude": "55.7616", "longitude": "37.6090", "timezone": "", "active": "y",
            **changes}


def test_create_and_edit_location(client, admin, login, db, make_region):
    region, other = make_region("Москва"), make_region("Казань")
    login(admin)
    assert client.post("/admin/locations/new", data=location_form(region)).status_code == 302
    location = db.session.scalar(select(Location).where(Location.code == "MSK-01"))
    assert (location.name, location.latitude, location.longitude, location.active) == ("Тверская", 55.7616, 37.609,
                                                                                       True)
    # A decimal comma is accepted; coordinates can be removed together.
    client.post(f"/admin/locations/{location.id}",
                data=location_form(other, latitude="55,79", longitude="49,12", name="Баумана"))
    db.session.refresh(location)
    assert (location.region_id, location.name, location.latitude, location.longitude) == (other.id, "Баумана",
                                                                                         55.79, 49.12)
    client.post(f"/admin/locations/{location.id}", data=location_form(other, latitude="", longitude=""))
    db.session.refresh(location)
    assert location.latitude is None and location.longitude is None
    actions = [e.action for e in audit_actions(db)]
    assert actions == ["location.create", "location.update", "location.update"]
    assert audit_actions(db, "location.update")[0].details["changes"]["region_id"] == [region.id, other.id]


@pytest.mark.parametrize("changes, message", [
    ({"latitude": "91"}, "Latitude must be between -90 and 90."),
    ({"longitude": "-181"}, "Longitude must be between -180 and 180."),
    ({"latitude": "north"}, "Enter a number in decimal degrees"),
    ({"longitude": ""}, "Enter both latitude and longitude, or leave both empty."),
    ({"latitude": ""}, "Enter both latitude and longitude, or leave both empty."),
    ({"code": "l001"}, "Another location already has this code."),
    ({"region_id": "0"}, "Choose a region."),
    ({"name": ""}, "This field is required."),
])
def test_location_validation(client, admin, login, db, make_region, make_location, changes, message):
    region = make_region()
    make_location(region, code="L001")
    login(admin)
    response = client.post("/admin/locations/new", data=location_form(region, **changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Location)) == 1


def test_location_list_filters(client, admin, login, make_location, make_region):
    moscow, kazan = make_region("Москва"), make_region("Казань")
    make_location(moscow, code="MSK-01", name="Тверская")
    make_location(moscow, code="MSK-02", name="Арбат", address="ул. Арбат, 24", active=False)
    make_location(kazan, code="KZN-01", name="Баумана")
    login(admin)

    def codes(**args):
        text = client.get("/admin/locations", query_string=args).get_data(as_text=True)
        return {code for code in ("MSK-01", "MSK-02", "KZN-01") if code in text}

    assert codes() == {"MSK-01", "MSK-02", "KZN-01"}
    assert codes(region=moscow.id) == {"MSK-01", "MSK-02"}
    assert codes(q="арбат") == {"MSK-02"}
    assert codes(status="active", region=moscow.id) == {"MSK-01"}


def test_location_list_is_paginated(client, admin, login, make_region, db):
    region = make_region()
    db.session.add_all([Location(code=f"P{n:03d}", name=f"Store {n}", region=region) for n in range(60)])
    db.session.commit()
    login(admin)
    first = client.get("/admin/locations").get_data(as_text=True)
    assert "P000" in first and "P049" in first and "P050" not in first
    assert "Page 1 of 2" in first
    second = client.get("/admin/locations?page=2").get_data(as_text=True)
    assert "P050" in second and "P000" not in second
    assert client.get("/admin/locations?page=99").status_code == 200


def test_deactivate_and_reactivate_location(client, admin, login, make_location, db):
    location = make_location()
    login(admin)
    response = client.post(f"/admin/locations/{location.id}/deactivate", follow_redirects=True)
    assert "past visits stay in the reports" in response.get_data(as_text=True)
    db.session.refresh(location)
    assert location.active is False
    client.post(f"/admin/locations/{location.id}/reactivate")
    db.session.refresh(location)
    assert location.active is True
    assert [e.action for e in audit_actions(db)] == ["location.deactivate", "location.reactivate"]


def test_deactivate_location_does_not_redirect_off_site(client, admin, login, make_location):
    location = make_location()
    login(admin)
    response = client.post(f"/admin/locations/{location.id}/deactivate", data={"next": "https://evil.example/"})
    assert response.location.endswith(f"/admin/locations/{location.id}")


# -- audit log ----------------------------------------------------------------------------------

def test_audit_log_newest_first_with_filters(client, admin, login, db, make_user, make_region):
    other_admin = make_user("admin", name="Boris Admin")
    region = make_region()
    for n in range(55):
        db.session.add(AuditLog(user_id=admin.id, action="region.update", target_type="region",
                                target_id=region.id, details={"n": n}))
    db.session.add(AuditLog(user_id=other_admin.id, action="user.create", target_type="user",
                            target_id=other_admin.id, details={"email": "marker@example.com"}))
    db.session.commit()
    login(admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert first.index("marker@example.com") < first.index("n: 54")
    assert "n: 4<" not in first and "Page 1 of 2" in first  # entries 0..4 are on page 2
    assert "n: 0" in client.get("/admin/audit?page=2").get_data(as_text=True)

    by_user = client.get(f"/admin/audit?user={other_admin.id}").get_data(as_text=True)
    assert "marker@example.com" in by_user and 'title="region.update"' not in by_user
    by_action = client.get("/admin/audit?action=region.update").get_data(as_text=True)
    assert "marker@example.com" not in by_action and "55 entries" in page_text(client.get(
        "/admin/audit?action=region.update"))
    by_group = page_text(client.get("/admin/audit?action=user."))
    assert "1 entry" in by_group


def written_audit_actions() -> set[str]:
    """Return every audit action code the app's source writes: record(), AuditLog(action=...), the demo's log()."""
    codes: set[str] = set()

    def constants(node: ast.expr) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return constants(node.body) + constants(node.orelse)
        if isinstance(node, ast.Dict):  # the demo's {status: "visit.approve", ...}
            return [c for v in node.values if v is not None for c in constants(v)]
        return []

    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("record", "log") and len(node.args) >= 2:
                    codes.update(constants(node.args[1]))
                for keyword in node.keywords:
                    if name == "AuditLog" and keyword.arg == "action":
                        codes.update(constants(keyword.value))
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "decisions" for t in node.targets):
                codes.update(constants(node.value))
    return {code for code in codes if re.fullmatch(r"[a-z]+\.[a-z_]+", code)}


def test_every_audit_action_the_app_writes_has_words():
    written = written_audit_actions()
    assert {"visit.return", "user.create", "reports.batch", "location.deactivate", "visit.approve"} <= written
    assert written - set(AUDIT_ACTION_LABELS) == set()
    assert {code.split(".")[0] for code in AUDIT_ACTION_LABELS} <= set(AUDIT_GROUP_LABELS)


@pytest.mark.parametrize(("lang", "words", "target"), [
    ("en", ["Visit returned for correction", "Account created", "Visits: all actions"], "Visit #"),
    ("ru", ["Визит возвращён на доработку", "Учётная запись создана", "Визиты: все действия"], "Визит #"),
])
def test_audit_log_shows_actions_in_words(client, admin, login, db, make_user, lang, words, target):
    """Admins read what happened, in their language, on the audit log and the admin home page: no raw codes."""
    db.session.add(AuditLog(user_id=admin.id, action="visit.return", target_type="visit", target_id=7,
                            details={"comment": "photo missing"}))
    db.session.add(AuditLog(user_id=admin.id, action="user.create", target_type="user", target_id=admin.id))
    db.session.commit()
    login(admin)
    with client.session_transaction() as session:
        session["lang"] = lang
    for url in ("/admin/audit", "/admin/"):
        text = page_text(client.get(url))
        assert words[0] in text and words[1] in text and f"{target}7" in text
        assert "visit.return" not in text and "user.create" not in text
    assert words[2] in page_text(client.get("/admin/audit"))


# -- CSRF ---------------------------------------------------------------------------------------

@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def csrf_token(client, url) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_csrf_is_enforced_on_admin_forms(csrf_on, client, admin, shopper, login, db):
    login(admin)
    form = sent({"code": "KZN", "name": "Казань"})
    assert client.post("/admin/regions/new", data=form).status_code == 400
    assert client.post(f"/admin/users/{shopper.id}/deactivate").status_code == 400
    db.session.refresh(shopper)
    assert shopper.active
    assert db.session.scalar(select(Region).where(Region.code == "KZN")) is None

    token = csrf_token(client, "/admin/regions/new")
    assert client.post("/admin/regions/new", data={**form, "csrf_token": token}).status_code == 302
    assert db.session.scalar(select(Region).where(Region.code == "KZN")) is not None
    token = csrf_token(client, f"/admin/users/{shopper.id}")
    assert client.post(f"/admin/users/{shopper.id}/deactivate", data={"csrf_token": token}).status_code == 302
    db.session.refresh(shopper)
    assert not shopper.active


def test_an_incomplete_post_changes_nothing(client, admin, login, db, make_location, make_region):
    """Regression: a location post without its fields deactivated the location and cleared its coordinates."""
    login(admin)
    location = make_location(make_region(), latitude=55.76, longitude=37.61)
    response = client.post(f"/admin/locations/{location.id}", data={"complete": "1", "code": location.code,
                                                                    "name": "Renamed"})
    assert response.status_code == 200
    assert "The form arrived incomplete" in response.get_data(as_text=True)
    db.session.refresh(location)
    assert location.active and location.latitude == 55.76 and location.name != "Renamed"
    # A form without the marker (not sent by the page) is refused too, even with every field.
    full = {k: v for k, v in location_form(location.region, code=location.code).items() if k != "complete"}
    assert "The form arrived incomplete" in client.post(f"/admin/locations/{location.id}", data=full).get_data(
        as_text=True)
    # Unticking "active" in the page is still a change the form makes.
    untick = {k: v for k, v in location_form(location.region, code=location.code).items() if k != "active"}
    assert client.post(f"/admin/locations/{location.id}", data=untick).status_code == 302
    db.session.refresh(location)
    assert not location.active


def test_list_pages_say_previous_and_next_page_in_russian(client, admin, login, make_user):
    """"Previous" of a list is the previous page ("Предыдущая"), not "Back" ("Назад")."""
    for _ in range(50):
        make_user("shopper")
    login(admin)
    with client.session_transaction() as session:
        session["lang"] = "ru"
    first, second = page_text(client.get("/admin/users")), page_text(client.get("/admin/users?page=2"))
    assert "Следующая →" in first and "Предыдущая" not in first
    assert "← Предыдущая" in second and "Назад" not in second
