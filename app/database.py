"""Engine set-up per backend (DESIGN.md §5) and small query helpers shared by every feature.

SQLite: WAL journal, a busy timeout, foreign keys on, and every transaction opened with ``BEGIN IMMEDIATE`` so two
writers never both read-then-write (SQLite ignores ``SELECT ... FOR UPDATE``). PostgreSQL: READ COMMITTED, rows
locked explicitly with ``FOR UPDATE`` by the services that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import psycopg
from flask import Flask, current_app, has_app_context
from psycopg import Column
from sqlalchemy import ColumnElement, Row, Table, bindparam, event, insert, update
from sqlalchemy import inspect as inspect_mapped
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from .extensions import db


def engine_options(uri: str, pool_size: int, pre_ping: bool = False) -> dict[str, Any]:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # No pre-ping by default: it costs a round trip per request; a connection broken by a database restart fails
    # one request and is then replaced by the pool.
    options: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_pre_ping": pre_ping,
        "pool_recycle": 1800,
    }
    if uri.startswith("postgresql+psycopg:"):
        options["connect_args"] = {"cursor_factory": ShapeCachingCursor}
    return options


_DESCRIPTIONS_KEPT = 4096


class ShapeCachingCursor(psycopg.Cursor[Any]):
    """psycopg's cursor, except that ``description`` is built once per result shape and then reused.

    SQLAlchemy reads ``cursor.description`` after every statement, and psycopg builds it anew each time: one
    Python object per column, decoded and looked up in the type registry. For the few dozen statements an
    application repeats, that was a tenth of the interpreter's work on a booking request (bench/README.md). A
    column's description depends only on what the result says of it (name, type and its modifier), which this
    reads from the result itself, so a reused description is the one psycopg would have built. The cache is
    per process and bounded (statements written in code give a few hundred shapes; ad-hoc text SQL could give
    more, and past the bound descriptions are simply built as before)."""

    _described: ClassVar[dict[tuple[Any, ...], list[Column]]] = {}

    @property
    def description(self) -> list[Column] | None:
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description
        # The size psycopg also reads (PQfsize) is the type's fixed length, given by the type: not part of the key.
        fields = range(result.nfields)
        shape = (*map(result.fname, fields), *map(result.ftype, fields), *map(result.fmod, fields))
        columns = self._described.get(shape)
        if columns is None:
            columns = super().description
            if columns is not None and len(self._described) < _DESCRIPTIONS_KEPT:
                self._described[shape] = columns
        return list(columns) if columns is not None else None


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


def update_rows(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Update many rows by primary key ``id`` in one executemany (each dict holds ``id`` and the same other
    columns). Core, not the ORM's bulk update: thousands of rows (a lottery draw) in milliseconds instead of
    seconds. Objects already loaded in the session are not refreshed."""
    if not rows:
        return
    statement = update(table).where(table.c.id == bindparam("row_id"))
    params = [{"row_id": row["id"], **{key: value for key, value in row.items() if key != "id"}} for row in rows]
    db.session.connection().execute(statement, params)


def insert_rows(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in one executemany, bypassing the ORM's unit of work (append-only rows such as history)."""
    if rows:
        db.session.connection().execute(insert(table), list(rows))


def attach_as_loaded(instance: Any, identity_key: Any = None, session: Session | None = None) -> None:
    """Put a transient ``instance`` whose ``__dict__`` holds every column as stored (and no related object that
    is not already in the session) into the session as persistent and unchanged, as if a query had loaded it.

    What ``make_transient_to_detached`` and ``Session.add`` do together, less their two walks over every mapped
    attribute (expiring the unloaded ones, cascading to related objects), which find nothing for such an
    instance: they were three quarters of ``RowObjects.objects``'s work and a tenth of a booking request's
    (bench/README.md). It relies on two private parts of SQLAlchemy 2 (``InstanceState._commit_all``,
    ``Session._update_impl``, the pair ``make_transient_to_detached`` and ``Session.add`` call); the tests of
    this module fail if they change."""
    state = instance_state(instance)
    if state.key is not None or state.session_id is not None:
        raise ValueError("only a transient object can be attached as loaded")
    state.key = identity_key if identity_key is not None else state.mapper.identity_key_from_instance(instance)
    state._commit_all(state.dict)  # the values set so far are the stored ones, not changes
    (session or db.session())._update_impl(state)


class RowObjects:
    """Persistent ORM objects of several mapped classes, read from one Core row that selects all their columns
    (``columns``, in order; an outer-joined class whose row is missing gives None).

    For the two statements every booking runs (the API request's person, the slot it locks): the ORM's loading
    machinery, set up anew on each execution, cost more than the query itself (bench/README.md). The objects
    join the session exactly as loaded ones do: persistent, unchanged, in the identity map; relationships not
    set by the caller stay unloaded and load on access as usual. An object already in the session is returned
    as it is, or with ``refresh`` given the values just read, as ``populate_existing`` would."""

    def __init__(self, *models: type[Any]) -> None:
        self._parts: list[tuple[Mapper[Any], tuple[str, ...], slice, tuple[int, ...]]] = []
        self.columns: list[ColumnElement[Any]] = []
        for model in models:
            mapper: Mapper[Any] = inspect_mapped(model)
            properties = list(mapper.column_attrs)
            keys = tuple(prop.key for prop in properties)
            identity = tuple(keys.index(mapper.get_property_by_column(column).key) for column in mapper.primary_key)
            start = len(self.columns)
            self.columns.extend(prop.columns[0] for prop in properties)
            self._parts.append((mapper, keys, slice(start, len(self.columns)), identity))

    def objects(self, row: Row[Any], *, refresh: bool = False) -> list[Any]:
        """The objects of ``row`` (selected with ``columns``), one per class, in the session."""
        session = db.session()
        found: list[Any] = []
        for mapper, keys, part, identity_positions in self._parts:
            values = row[part]
            identity = tuple(values[position] for position in identity_positions)
            if identity[0] is None:
                found.append(None)
                continue
            identity_key = mapper.identity_key_from_primary_key(identity)
            existing = session.identity_map.get(identity_key)
            if existing is not None:
                if refresh:
                    for key, value in zip(keys, values, strict=True):
                        set_committed_value(existing, key, value)
                found.append(existing)
                continue
            instance = mapper.class_manager.new_instance()
            instance.__dict__.update(zip(keys, values, strict=True))
            attach_as_loaded(instance, identity_key, session)
            found.append(instance)
        return found
