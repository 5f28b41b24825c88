"""Reads that may lag go to a streaming replica (``DATABASE_REPLICA_URL``); everything else reads the primary.

Views whose answer may be a few seconds old (statistics pages, the public figures, their exports) are decorated
with ``reads_replica``: while they run, the request's session sends its statements to the replica's engine, and
only the statements issued by the view itself (the logged-in user is loaded from the primary first, and the
teardown's writes go to the primary again). Everything that books or decides never uses it.

The replica is used only while it is usable: it answered its last check (at most every
``DATABASE_REPLICA_CHECK_SECONDS``) and it is at most ``DATABASE_REPLICA_MAX_LAG_SECONDS`` behind the primary.
Otherwise — and when a statement fails on it in the middle of a view — the view runs (again) on the primary:
statistics keep answering when the replica is stopped, only from the primary.

Routing works by the session's ``get_bind``, the hook SQLAlchemy documents for choosing an engine per statement
(Flask-SQLAlchemy's Session subclassed as its documentation says, ``session_options={"class_": ...}``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar, cast

import flask_sqlalchemy.session
from flask import Flask, current_app, has_app_context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("zhijia.replica")

F = TypeVar("F", bound=Callable[..., Any])

_reading_replica: ContextVar[bool] = ContextVar("zhijia_reading_replica", default=False)

# How far the replica is behind, in seconds: 0 when it has replayed everything it received and is still
# streaming; else the age of the last transaction it replayed (a replica cut off from its primary ages).
_LAG_SQL = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0.0 "
    "WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() "
    "AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0.0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 1e9)::float END"
)


def measure_lag(connection: Connection) -> float:
    """Seconds the database behind ``connection`` is behind its primary (0 for a primary or SQLite)."""
    if connection.dialect.name != "postgresql":
        return 0.0
    return float(connection.execute(_LAG_SQL).scalar_one())


@dataclass
class ReplicaState:
    engine: Engine
    usable: bool = False
    checked_at: float = float("-inf")
    reason: str = "not checked yet"
    lock: threading.Lock = field(default_factory=threading.Lock)


def _state(app: Flask) -> ReplicaState | None:
    return app.extensions.get("zhijia_replica")


def _check(state: ReplicaState, max_lag: float) -> None:
    try:
        with state.engine.connect() as connection:
            lag = measure_lag(connection)
    except DBAPIError as error:
        usable, reason = False, f"unreachable ({type(error.orig).__name__})"
    else:
        usable, reason = lag <= max_lag, f"{lag:.1f} s behind (limit {max_lag:g} s)"
    if usable != state.usable:
        log.warning("read replica %s: %s", "in use" if usable else "not used", reason)
    state.usable, state.reason, state.checked_at = usable, reason, time.monotonic()


def replica_engine() -> Engine | None:
    """The replica's engine if it is usable now (checked at most every DATABASE_REPLICA_CHECK_SECONDS)."""
    state = _state(current_app)
    if state is None:
        return None
    config = current_app.config
    if time.monotonic() - state.checked_at >= float(config["DATABASE_REPLICA_CHECK_SECONDS"]):
        with state.lock:
            if time.monotonic() - state.checked_at >= float(config["DATABASE_REPLICA_CHECK_SECONDS"]):
                _check(state, float(config["DATABASE_REPLICA_MAX_LAG_SECONDS"]))
    return state.engine if state.usable else None


def mark_unusable(reason: str) -> None:
    """A statement failed on the replica: use the primary until the next check finds it usable again."""
    state = _state(current_app)
    if state is not None:
        state.usable, state.reason, state.checked_at = False, reason, time.monotonic()


class RoutingSession(flask_sqlalchemy.session.Session):
    """Flask-SQLAlchemy's session, sending a ``reads_replica`` view's statements to the usable replica."""

    def get_bind(
        self, mapper: Any | None = None, clause: Any | None = None, bind: Any | None = None, **kwargs: Any
    ) -> Any:
        if bind is None and _reading_replica.get() and has_app_context():
            engine = replica_engine()
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def reads_replica(view: F) -> F:
    """Run a read-only view against the replica when it is usable, else (or if it fails midway) the primary."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flask_login import current_user

        from . import metrics
        from .extensions import db

        if _state(current_app) is None:
            return view(*args, **kwargs)
        _ = current_user.is_authenticated  # the login is read from the primary, before the switch
        token = _reading_replica.set(True)
        source = reading_source()
        try:
            metrics.count_read(source)
            return view(*args, **kwargs)
        except DBAPIError as error:
            if source != "replica":
                raise
            log.warning("read replica failed midway (%s): answering from the primary", type(error.orig).__name__)
            mark_unusable(f"failed midway ({type(error.orig).__name__})")
        finally:
            _reading_replica.reset(token)
        db.session.rollback()
        metrics.count_read("primary")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def reading_source() -> str:
    """Where a ``reads_replica`` view running now reads from: "replica" or "primary" (metrics, tests)."""
    return "replica" if _reading_replica.get() and replica_engine() is not None else "primary"


def init_app(app: Flask) -> None:
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    from .database import engine_options

    options = engine_options(url, app.config["SQLALCHEMY_POOL_SIZE"], pre_ping=True)
    if url.startswith("postgresql"):
        options.setdefault("connect_args", {})["connect_timeout"] = 3
    app.extensions["zhijia_replica"] = ReplicaState(engine=create_engine(url, **options))
