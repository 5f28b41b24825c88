"""Fixtures: app → db → client → logged-in users (DESIGN.md §8).

The suite runs on a file SQLite database by default. With ``ZHIJIA_TEST_DB=postgres`` (``make test`` does this when
``TEST_DATABASE_URL`` is set) it runs against PostgreSQL instead, in a database it creates and drops itself.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.globals import _cv_app, _cv_request
from flask.testing import FlaskClient
from sqlalchemy import make_url, text

from app import clock, create_app
from app.extensions import db as _db
from app.extensions import limiter
from app.orgs.services import seed_reference_data

from . import factories

BACKEND = os.environ.get("ZHIJIA_TEST_DB", "sqlite")


def _postgres_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        raise pytest.UsageError("ZHIJIA_TEST_DB=postgres needs TEST_DATABASE_URL")
    return url


def _create_pg_database() -> tuple[str, str]:
    import psycopg

    admin = make_url(_postgres_admin_url()).set(drivername="postgresql")
    name = f"zhijia_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    test_url = admin.set(drivername="postgresql+psycopg", database=name)
    return name, test_url.render_as_string(hide_password=False)


def _drop_pg_database(name: str) -> None:
    import psycopg

    admin = make_url(_postgres_admin_url()).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "postgres":
        name, url = _create_pg_database()
        yield url
        _drop_pg_database(name)
    else:
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"


TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "RATELIMIT_STORAGE_URI": "memory://",
    "SERVER_BASE_URL": "http://localhost",
    "MAIL_PORT": 1,  # nothing listens: tests that send mail start their own SMTP server
}


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context, as in production: its own ``g``, its own database
    session. The test's session commits first (so SQLite's write lock is free and the request sees the test's
    data) and its objects reload afterwards."""

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if _cv_app.get(None) is not None:
            _db.session.commit()

        def run() -> Any:
            _cv_app.set(None)  # type: ignore[arg-type]
            _cv_request.set(None)  # type: ignore[arg-type]
            return super(IsolatedClient, self).open(*args, **kwargs)

        response = contextvars.copy_context().run(run)
        if _cv_app.get(None) is not None:
            _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    application.test_client_class = IsolatedClient
    with application.app_context():
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _wipe() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture(autouse=True)
def db(app: Flask) -> Iterator[object]:
    """Every test starts with an empty database holding only the reference data, and the real clock."""
    with app.app_context():
        seed_reference_data()
        _db.session.commit()
        limiter.reset()
        yield _db
        _db.session.rollback()
        _wipe()
        _db.session.remove()
    clock.set_now(None)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def employee():  # type: ignore[no-untyped-def]
    return factories.make_employee()


@pytest.fixture
def organizer():  # type: ignore[no-untyped-def]
    return factories.make_organizer()


@pytest.fixture
def admin():  # type: ignore[no-untyped-def]
    return factories.make_admin()


@pytest.fixture
def employee_client(app: Flask, employee) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, employee)
    return client


@pytest.fixture
def organizer_client(app: Flask, organizer) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, organizer)
    return client


@pytest.fixture
def admin_client(app: Flask, admin) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, admin)
    return client
