"""Engine set-up per backend (DESIGN.md §5) and small query helpers shared by every feature.

SQLite: WAL journal, a busy timeout, foreign keys on, and every transaction opened with ``BEGIN IMMEDIATE`` so two
writers never both read-then-write (SQLite ignores ``SELECT ... FOR UPDATE``). PostgreSQL: READ COMMITTED, rows
locked explicitly with ``FOR UPDATE`` by the services that need it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def engine_options(uri: str, pool_size: int, pre_ping: bool = False) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # No pre-ping by default: it costs a round trip per request; a connection broken by a database restart fails
    # one request and is then replaced by the pool.
    return {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": pre_ping, "pool_recycle": 1800}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not pysqlite, decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
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
