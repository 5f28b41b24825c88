"""Scratch databases for the benchmarks: a PostgreSQL database created for one run and dropped afterwards (even
on failure), or an SQLite file in a temporary folder. Every benchmark uses these, so none touches a real
database.

The PostgreSQL server comes from BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres); ``make bench`` sets one.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url(default: str | None = DEFAULT_ADMIN_URL) -> str | None:
    """The PostgreSQL server to create scratch databases on (None when not configured and no default)."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or default


def libpq_url(url: str) -> str:
    """``url`` as libpq (psycopg, pgbench) spells it: no SQLAlchemy driver name."""
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_postgres(prefix: str = "zhijia_bench") -> tuple[str, str]:
    """Create an empty PostgreSQL database; returns its name and SQLAlchemy URL (psycopg 3 driver)."""
    import psycopg
    from sqlalchemy import make_url

    server = libpq_url(admin_url() or DEFAULT_ADMIN_URL)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(drivername="postgresql+psycopg", database=name)
    return name, url.render_as_string(hide_password=False)


def drop_postgres(name: str) -> None:
    """Drop a database made by ``create_postgres`` (its connections are closed first)."""
    import psycopg

    with psycopg.connect(libpq_url(admin_url() or DEFAULT_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for the block; yields its SQLAlchemy URL (psycopg 3 driver)."""
    name, url = create_postgres()
    try:
        yield url
    finally:
        drop_postgres(name)


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    """A new SQLite file in a temporary folder for the block; yields its SQLAlchemy URL."""
    with tempfile.TemporaryDirectory(prefix="zhijia-bench-") as folder:
        yield f"sqlite:///{folder}/bench.sqlite3"


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """``fresh_postgres`` or ``fresh_sqlite`` by name ("postgresql" / "sqlite")."""
    context = fresh_postgres() if backend == "postgresql" else fresh_sqlite()
    with context as url:
        yield url
