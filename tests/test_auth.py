"""Signing in and out, remember-me, revocation, rate limits, CSRF and language."""
import pytest

from app.models import User
from tests.conftest import PASSWORD


def sign_in(client, email, password=PASSWORD, remember=False, **kwargs):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, **kwargs)


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="email"' in response.data and b'name="password"' in response.data


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_login_with_valid_password(client, manager):
    response = sign_in(client, manager.email.upper())
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/account/password").status_code == 200


def test_wrong_password_is_refused_with_a_message(client, manager):
    response = sign_in(client, manager.email, "wrong password")
    assert response.status_code == 200
    assert b"Wrong email or password" in response.data
    assert client.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = sign_in(client, "nobody@example.com")
    assert b"Wrong email or password" in response.data


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("shopper", active=False)
    response = sign_in(client, user.email)
    assert b"deactivated" in response.data
    assert client.get("/").status_code == 302


def test_passwords_are_hashed(manager):
    assert PASSWORD not in manager.password_hash
    assert manager.password_hash.startswith("scrypt:")


@pytest.mark.parametrize("target", [
    "//evil.example.com/x", "https://evil.example.com/", "javascript:alert(1)",
    # Browsers drop tabs and newlines and read "\\" as "/": each of these leaves the site.
    "/\t/evil.example.com", "/\n/evil.example.com", "/\\evil.example.com", "\t//evil.example.com",
])
def test_login_refuses_non_local_next(client, manager, target):
    response = sign_in(client, manager.email, query_string={"next": target})
    assert response.status_code == 302
    assert response.location == "/"


def test_login_follows_local_next(client, manager):
    response = sign_in(client, manager.email, query_string={"next": "/account/password"})
    assert response.location == "/account/password"


def test_logout_ends_the_session(client, login, manager):
    login(manager)
    assert client.get("/account/password").status_code == 200
    client.post("/logout")
    assert client.get("/account/password").status_code == 302


def remember_cookie(client):
    return client.get_cookie("remember_token")


def test_remember_cookie_lasts_at_most_30_days(client, manager):
    sign_in(client, manager.email, remember=True)
    cookie = remember_cookie(client)
    assert cookie is not None and cookie.http_only
    assert cookie.max_age is None or cookie.max_age <= 30 * 24 * 3600


def test_session_lasts_only_as_long_as_remember_me_says(app, client, manager):
    """Regression: the session cookie lived 30 days even without "keep me signed in"."""
    sign_in(client, manager.email, remember=False)
    session_cookie = client.get_cookie("session")
    assert session_cookie is not None and session_cookie.expires is None  # ends with the browser
    assert remember_cookie(client) is None
    other = app.test_client()
    sign_in(other, manager.email, remember=True)
    lasting = other.get_cookie("session")
    assert lasting.expires is not None  # a dated cookie, the 30 days of "keep me signed in"


def test_remember_cookie_signs_in_a_new_session(app, client, manager):
    sign_in(client, manager.email, remember=True)
    cookie = remember_cookie(client).value
    phone = app.test_client()
    phone.set_cookie("remember_token", cookie)
    assert phone.get("/account/password").status_code == 200


def test_logout_revokes_remember_cookies_everywhere(app, client, manager):
    sign_in(client, manager.email, remember=True)
    stolen = remember_cookie(client).value
    client.post("/logout")
    other = app.test_client()
    other.set_cookie("remember_token", stolen)
    assert other.get("/account/password").status_code == 302


def test_password_change_signs_out_other_devices(app, client, db, manager):
    laptop = app.test_client()
    sign_in(laptop, manager.email, remember=True)
    sign_in(client, manager.email)
    response = client.post("/account/password", data={
        "current": PASSWORD, "new": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this device stays signed in
    assert laptop.get("/account/password").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, manager.id).check_password("a brand new password")


def test_password_change_needs_the_current_password(client, login, manager):
    login(manager)
    response = client.post("/account/password", data={"current": "nope", "new": "x" * 12, "confirm": "x" * 12})
    assert b"current password is wrong" in response.data


def test_deactivation_ends_existing_sessions(client, db, login, shopper):
    login(shopper)
    assert client.get("/account/password").status_code == 200
    shopper.active = False
    shopper.revoke_sessions()
    db.session.commit()
    assert client.get("/account/password").status_code == 302


def test_network_change_keeps_the_shopper_signed_in(client, shopper):
    sign_in(client, shopper.email, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    response = client.get("/account/password", environ_base={"REMOTE_ADDR": "100.64.3.9"})
    assert response.status_code == 200


@pytest.fixture
def limited_app_config(app_config):
    app_config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    return app_config


def test_login_attempts_are_rate_limited(limited_app_config, app, client, manager):
    for _ in range(3):
        assert sign_in(client, manager.email, "wrong").status_code == 200
    response = sign_in(client, manager.email)
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.data


def test_login_form_needs_csrf_token(app_config, app, client, manager):
    app.config["WTF_CSRF_ENABLED"] = True
    response = sign_in(client, manager.email)
    assert response.status_code == 400
    assert b"expired" in response.data


def test_language_switch_translates_the_page(client):
    client.post("/language/ru")
    response = client.get("/login")
    assert b'lang="ru"' in response.data
    assert "Войти".encode() in response.data


def test_browser_language_is_followed(client):
    response = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert b'lang="ru"' in response.data
