"""Security headers on every response: a CSP without inline script, no framing, referrer policy, nosniff."""
import pytest

from app import create_app
from tests.test_access import ROUTES, _url

SAFE = [p for p in ROUTES if p.values[1] == "GET"]


def assert_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["script-src"] == "'self'", csp  # no 'unsafe-inline', no nonce needed anywhere
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(("endpoint", "method", "args", "access"), SAFE)
def test_every_page_sends_the_security_headers(app, client, login, make_user, endpoint, method, args, access):
    login(make_user("admin"))
    assert_headers(client.get(_url(app, endpoint, args)))


def test_errors_and_anonymous_pages_send_them_too(client):
    assert_headers(client.get("/login"))
    assert_headers(client.get("/no/such/page"))
    assert_headers(client.get("/api/v1/visits"))  # 401 JSON


def test_no_page_template_has_inline_script_or_handler():
    """The CSP would block them: scripts live in static files, handlers are added by those scripts."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "app"
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|\son[a-z]+\s*=", re.I)
    offenders = [str(p) for p in root.rglob("*.html") if "reports/pdf" not in str(p) and inline.search(p.read_text())]
    assert offenders == []


def test_hsts_in_production_over_https(monkeypatch, tmp_path):
    monkeypatch.setenv("FIELDAUDIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    secure = app.test_client().get("/login", base_url="https://fieldaudit.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31556926")  # one year
    monkeypatch.delenv("FIELDAUDIT_ENV")
    plain = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}).test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers  # development over plain HTTP
