"""Engine set-up per backend (DESIGN.md §5) and small query helpers shared by every feature.

SQLite: WAL journal, a busy timeout (the lock timeout, ``DB_LOCK_TIMEOUT_SECONDS``), foreign keys on, and every
transaction opened with ``BEGIN IMMEDIATE`` so two writers never both read-then-write (SQLite ignores
``SELECT ... FOR UPDATE``). PostgreSQL: READ COMMITTED, rows locked explicitly with ``FOR UPDATE`` by the services
that need it, each wait bounded by ``lock_timeout``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import Table, bindparam, column, event, func, insert, make_url, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from .errors import Busy
from .extensions import db

DEFAULT_LOCK_TIMEOUT_SECONDS = 20.0


def engine_options(
    uri: str, pool_size: int, pre_ping: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Engine settings per backend. ``lock_timeout`` (seconds) bounds every wait for a lock: PostgreSQL's
    ``lock_timeout``, set for each pooled connection when it opens (no statement per transaction), and SQLite's
    busy timeout. A wait that runs out becomes ``Busy`` (``locks_may_time_out``): a clear, retryable answer
    instead of a request that hangs behind a stuck transaction."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": lock_timeout, "check_same_thread": False}}
    # No pre-ping by default: it costs a round trip per request; a connection broken by a database restart fails
    # one request and is then replaced by the pool.
    options: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_pre_ping": pre_ping,
        "pool_recycle": 1800,
    }
    if uri.startswith("postgresql"):
        # Server options given in the URL (``?options=-csearch_path%3Dzhijia``) are kept beside the lock timeout:
        # connect_args would otherwise replace them.
        given = make_url(uri).query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        lock = f"-c lock_timeout={max(int(lock_timeout * 1000), 1)}"
        options["connect_args"] = {"options": f"{given} {lock}".strip()}
    return options


def is_lock_timeout(error: OperationalError) -> bool:
    """True when the database gave up waiting for a lock: PostgreSQL's ``lock_not_available`` (SQLSTATE 55P03)
    or SQLite's "database is locked" once its busy timeout has passed."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "55P03")
    return "database is locked" in str(error.orig)


@contextmanager
def locks_may_time_out() -> Iterator[None]:
    """Run statements that may wait for a lock (the booking engine's row locks and writes): a wait that runs
    out raises ``Busy`` (retry shortly) instead of a database error; any other error passes unchanged."""
    try:
        yield
    except OperationalError as error:
        if is_lock_timeout(error):
            raise Busy() from error
        raise


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not pysqlite, decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-32000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # BOOKING_LOCKING=False exists only to demonstrate the race in a control test.
        immediate = not has_app_context() or current_app.config.get("BOOKING_LOCKING", True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_database(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def update_rows(table: Table, ids: Sequence[int], columns: dict[str, Sequence[Any]]) -> None:
    """Update many rows by primary key: row ``ids[i]`` gets ``columns[name][i]`` for every column name, bypassing
    the ORM's unit of work, so thousands of rows (a lottery draw's ranks and outcomes) cost one statement.
    PostgreSQL: ``UPDATE … FROM unnest(…)`` with one array per column as bind parameters; SQLite, where a
    statement costs no round trip: one executemany. Objects already loaded in the session are not refreshed."""
    if not ids:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        given = {"id": ids, **columns}
        arrays = [
            bindparam(f"values_{name}", list(values), type_=postgresql.ARRAY(table.c[name].type))
            for name, values in given.items()
        ]
        rows = func.unnest(*arrays).table_valued(*(column(name, table.c[name].type) for name in given)).render_derived()
        connection.execute(
            update(table).where(table.c.id == rows.c.id).values({name: rows.c[name] for name in columns})
        )
        return
    names = list(columns)
    statement = update(table).where(table.c.id == bindparam("row_id")).values({name: bindparam(name) for name in names})
    params = [dict(zip(["row_id", *names], values, strict=True)) for values in zip(ids, *columns.values(), strict=True)]
    connection.execute(statement, params)


def insert_rows(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in one executemany, bypassing the ORM's unit of work (append-only rows such as history)."""
    if rows:
        db.session.connection().execute(insert(table), list(rows))
