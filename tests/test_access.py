"""Every route declares who may use it; anonymous users and wrong roles are refused."""
import pytest
from werkzeug.routing import IntegerConverter

from app import create_app
from app.access import PUBLIC
from app.models import Role


def _sample_value(converter):
    """Return a value the URL converter accepts; ids that exist nowhere, so 404 is fine."""
    kind = type(converter).__name__
    if isinstance(converter, IntegerConverter):
        return 999_999
    if kind == "AnyConverter":
        return sorted(converter.items)[0]
    if kind == "UUIDConverter":
        return "00000000-0000-0000-0000-000000000000"
    return "x"


def _methods(endpoint: str) -> set[str]:
    """Return every HTTP method the endpoint's rules accept."""
    return {m for rule in _APP.url_map.iter_rules(endpoint) for m in rule.methods}


_APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})


def _routes():
    app = _APP
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        args = {arg: _sample_value(rule._converters[arg]) for arg in rule.arguments}
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        rules.append(pytest.param(rule.endpoint, method, args, access, id=f"{method} {rule.rule}"))
    return rules


ROUTES = _routes()


def _url(app, endpoint, args):
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


@pytest.mark.parametrize(("endpoint", "method", "args", "access"), ROUTES)
def test_route_declares_access(endpoint, method, args, access):
    assert access is not None, f"{endpoint} does not declare who may use it"
    assert access == PUBLIC or (access and access <= set(Role))


PROTECTED = [p for p in ROUTES if p.values[3] != PUBLIC]
REFUSED = [
    pytest.param(*p.values, role, id=f"{p.id} as {role.value}")
    for p in PROTECTED for role in Role if p.values[3] and role not in p.values[3]
]


@pytest.mark.parametrize(("endpoint", "method", "args", "access"), PROTECTED)
def test_anonymous_users_are_refused(app, client, endpoint, method, args, access):
    response = client.open(_url(app, endpoint, args), method=method)
    if response.status_code == 302:
        assert "/login" in response.location
    else:
        assert response.status_code == 401
        assert response.is_json


@pytest.mark.parametrize(("endpoint", "method", "args", "access", "role"), REFUSED)
def test_wrong_roles_are_refused(app, client, login, make_user, endpoint, method, args, access, role):
    login(make_user(role.value))
    response = client.open(_url(app, endpoint, args), method=method)
    assert response.status_code == 403


def test_there_are_routes_for_every_role():
    roles = set()
    for param in ROUTES:
        access = param.values[3]
        if access and access != PUBLIC:
            roles |= access
    assert roles == set(Role)


UNSAFE = [
    pytest.param(p.values[0], method, p.values[2], id=f"{method} {p.id.split(' ', 1)[1]}")
    for p in ROUTES
    for method in sorted(_methods(p.values[0]) & {"POST", "PUT", "PATCH", "DELETE"})
]


@pytest.mark.parametrize(("endpoint", "method", "args"), UNSAFE)
def test_every_change_needs_a_csrf_token(app, client, endpoint, method, args):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.open(_url(app, endpoint, args), method=method)
    assert response.status_code == 400
    if endpoint.startswith("api."):
        assert response.json["error"] == "csrf"
    else:
        assert b"expired" in response.data
