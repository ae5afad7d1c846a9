"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import database_url
from app.extensions import db
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def empty_database_url(tmp_path):
    """Yield the URL of a brand-new, empty database of the engine under test.

    On PostgreSQL that is a fresh schema first on the search path: creating and dropping a
    whole database costs a checkpoint each time.
    """
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    url = make_url(database_url(TEST_DATABASE_URL))
    schema = f"fa_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_upgrade_creates_the_models_schema(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        try:
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
            assert differences == [], f"models and migrations differ: {differences}"
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        finally:
            db.engine.dispose()


def test_regions_that_existed_get_the_default_time_zone(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x",
                      "DEFAULT_TIMEZONE": "Asia/Vladivostok"})
    with app.app_context():
        try:
            upgrade(revision="88e04c4c0a34")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO regions (code, name) VALUES ('VVO', 'Приморье')"))
            upgrade()
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT timezone FROM regions")).scalar_one() == "Asia/Vladivostok"
            downgrade(revision="base")
        finally:
            db.engine.dispose()
