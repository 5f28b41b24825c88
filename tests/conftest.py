"""Fixtures: app → db → client → logged-in users (DESIGN.md §8).

The suite runs on a file SQLite database by default. With ``ZHIJIA_TEST_DB=postgres`` (``make test`` does this when
``TEST_DATABASE_URL`` is set) it runs against PostgreSQL instead, in a database it creates and drops itself.

Time is an input. Every test starts with ``app.clock`` frozen at the suite's moment: an ordinary weekday morning
by default, or the China wall-clock time given as ``ZHIJIA_TEST_NOW`` (ISO 8601, e.g. ``2026-12-31T23:30``), so the
whole suite can be run at any moment of the year (``.ci/run`` runs it once more at a year end). A test that needs
another moment sets it with ``clock.set_now``; one that needs the wall clock asks for the ``wall_clock`` fixture.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import Integer, make_url, text
from sqlalchemy.exc import OperationalError

from app import clock, create_app
from app.extensions import db as _db
from app.extensions import limiter
from app.orgs.services import seed_reference_data

from . import factories
from .moment import suite_moment

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
        # A test database need not survive a crash: commits don't wait for the disk (every connection, the
        # suite's worker processes included). The suite commits thousands of times.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
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
    data) and its objects reload afterwards.

    The request runs in a thread of its own: a new thread starts with no context variables, so Flask pushes a
    fresh application context for the request instead of reusing the test's."""

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        in_test_context = has_app_context()
        if in_test_context:
            _db.session.commit()
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["response"] = super(IsolatedClient, self).open(*args, **kwargs)
            except BaseException as error:  # re-raised in the test's thread
                outcome["error"] = error

        worker = threading.Thread(target=run, name="test-request")
        worker.start()
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        if in_test_context:
            _db.session.expire_all()
        return outcome["response"]


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
        _wipe_postgres(tables)
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


def _wipe_postgres(tables: list[Any]) -> None:
    """Empty the tables a test wrote, children first, and restart their ids as SQLite does.

    A test writes a few of the ~70 tables: one round trip finds them. DELETE on a few small tables is much faster
    than TRUNCATE, which cascades through every table referencing the organisations and gives each a new file; on
    large tables it is the other way round."""
    probe = " UNION ALL ".join(
        f'SELECT {i}, EXISTS (SELECT 1 FROM "{t.name}" OFFSET 1000) FROM (SELECT 1 FROM "{t.name}" LIMIT 1) AS t{i}'
        for i, t in enumerate(tables)
    )
    found = sorted(tuple(row) for row in _db.session.execute(text(probe)))
    written = [tables[i] for i, _big in found]
    if not written:
        return
    if any(big for _i, big in found):  # a province-scale test: TRUNCATE beats DELETE on large tables
        names = ", ".join(f'"{t.name}"' for t in written)
        statements = [f"TRUNCATE {names} RESTART IDENTITY CASCADE"]
    else:
        statements = [f'DELETE FROM "{t.name}"' for t in written]
        statements += [
            f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', '{column.name}'), 1, false)"
            for t in written
            for column in t.primary_key.columns
            if isinstance(column.type, Integer)
        ]
    # A connection a test left behind (a thread still finishing) can deadlock the wipe; PostgreSQL aborts one
    # side, and the wipe simply tries again.
    for attempt in range(3):
        try:
            for statement in statements:
                _db.session.execute(text(statement))
            return
        except OperationalError:
            _db.session.rollback()
            if attempt == 2:
                raise


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    """Every test runs with the clock frozen at the suite's moment; it is thawed again afterwards."""
    moment = suite_moment()
    clock.set_now(moment)
    yield moment
    clock.set_now(None)


@pytest.fixture
def wall_clock(frozen_clock: datetime) -> Iterator[None]:
    """For the few tests that need real time to pass (leases, timers): the clock follows the wall clock."""
    clock.set_now(None)
    yield


@pytest.fixture(autouse=True)
def db(app: Flask, frozen_clock: datetime) -> Iterator[object]:
    """Every test starts with an empty database holding only the reference data, and the frozen clock."""
    with app.app_context():
        seed_reference_data()
        _db.session.commit()
        limiter.reset()
        yield _db
        _db.session.rollback()
        _wipe()
        _db.session.remove()


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite must leave no non-daemon thread behind (a timer, a server, a sender): pytest has to exit by
    itself. Threads get a moment to finish; any still alive fails the run and is named."""
    leftovers = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in leftovers:
        thread.join(timeout=2)
    alive = [t.name for t in leftovers if t.is_alive()]
    if alive:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nnon-daemon threads still running at the end of the suite: {', '.join(alive)}")
