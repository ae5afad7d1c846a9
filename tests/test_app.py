"""The application factory and configuration."""
import re

import pytest
from flask import Flask

from app import create_app
from app.config import database_url, load_config


def test_postgres_urls_use_psycopg3():
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("FIELDAUDIT_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    # Regression: after `make run` wrote the development key, production started with it.
    (tmp_path / "secret_key").write_text("k" * 64 + "\n")
    app = Flask("fieldaudit_test", instance_path=str(tmp_path))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(app)


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("FIELDAUDIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_DURATION"] <= 30 * 24 * 3600


def test_development_generates_a_key_instead_of_hard_coding_one(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FIELDAUDIT_ENV", raising=False)
    keys = []
    for _ in range(2):
        app = Flask("fieldaudit_test", instance_path=str(tmp_path))
        load_config(app)
        keys.append(app.config["SECRET_KEY"])
    assert keys[0] != keys[1]
    assert len(keys[0]) >= 32


def test_development_key_file_in_instance_is_used(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("k" * 64 + "\n")
    app = Flask("fieldaudit_test", instance_path=str(tmp_path))
    load_config(app)
    assert app.config["SECRET_KEY"] == "k" * 64


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setenv("FIELDAUDIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "secret")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.internal/fieldaudit")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.internal/fieldaudit"


def test_behind_a_proxy_the_client_address_comes_from_the_proxy(app_config):
    app_config["PROXY_COUNT"] = 1
    proxied = create_app(app_config)
    seen = {}

    @proxied.get("/whoami")
    def whoami():
        from flask import request

        seen["addr"] = request.remote_addr
        return ""

    whoami.access = "public"
    proxied.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"},
                              environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen["addr"] == "203.0.113.7"


def test_production_counts_rate_limits_in_redis(monkeypatch):
    """Per-process limits let each gunicorn worker allow the full limit: production refuses them."""
    monkeypatch.setenv("FIELDAUDIT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(RuntimeError, match="Redis"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["RATELIMIT_STORAGE_URI"] == \
        "redis://127.0.0.1:6379/15"
    monkeypatch.delenv("FIELDAUDIT_ENV")
    monkeypatch.delenv("REDIS_URL")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_every_page_has_an_icon_that_is_served(client, login, make_user):
    """No favicon 404 beside every page: the pages link the icon, and /favicon.ico leads to it too."""
    assert client.get("/login").get_data(as_text=True).count('rel="icon"') == 1
    login(make_user("admin"))
    page = client.get("/admin/").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    response = client.get(icon)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    response.close()
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 301 and redirect.location.endswith(icon)
