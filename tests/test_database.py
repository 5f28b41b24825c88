"""The engine set-up of app/database.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, inspect, select, text, update

from app.accounts.models import Profile, User
from app.database import RowObjects, ShapeCachingCursor, attach_as_loaded
from app.extensions import db

from . import factories
from .conftest import BACKEND

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="psycopg's cursor: PostgreSQL only")


def _described(sql: str) -> list[tuple[object, ...]]:
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute(sql)
    assert cursor.description is not None
    return [tuple(column) for column in cursor.description]


@postgres_only
def test_a_reused_description_is_the_one_psycopg_builds_for_each_result_shape(app: object) -> None:
    import psycopg

    raw = db.session.connection().connection.driver_connection
    assert isinstance(raw.cursor(), ShapeCachingCursor)
    shapes = [
        "SELECT 1::int AS a, 'x'::varchar(5) AS b",
        "SELECT 1::int AS a, 'x'::varchar(7) AS b",  # same names and types, another modifier
        "SELECT 1::bigint AS a, 2.5::numeric(6, 2) AS b",  # same names, other types
        "SELECT 'x'::text AS b, 1::int AS a",  # same columns, other order
    ]
    for sql in shapes * 2:  # the second round is answered from the cache
        plain = psycopg.Cursor(raw)
        plain.execute(sql)
        assert plain.description is not None
        assert _described(sql) == [tuple(column) for column in plain.description]
    assert _described(shapes[0]) != _described(shapes[1]) != _described(shapes[2])


@postgres_only
def test_statements_without_rows_still_have_no_description(app: object) -> None:
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("SET LOCAL statement_timeout = '5s'")
    assert cursor.description is None
    assert db.session.execute(text("SELECT 1 AS one")).one().one == 1


# --- RowObjects: objects made from one Core row must behave exactly as if the ORM had loaded them ----------------

_PERSON = RowObjects(User, Profile)
_PERSON_BY_ID = (
    select(*_PERSON.columns)
    .select_from(User.__table__.outerjoin(Profile.__table__, Profile.__table__.c.user_id == User.__table__.c.id))
    .where(User.__table__.c.id == text(":user_id"))
)


def _person(user_id: int, *, refresh: bool = False) -> list[Any]:
    row = db.session.connection().execute(_PERSON_BY_ID, {"user_id": user_id}).one()
    return _PERSON.objects(row, refresh=refresh)


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_row_objects_are_in_the_session_as_loaded_objects_unchanged_and_their_relationships_load(app: object) -> None:
    employee = factories.make_employee(name="行对象")
    user_id, city_name = employee.id, employee.profile.city.name
    db.session.remove()

    user, profile = _person(user_id)
    assert inspect(user).persistent and inspect(profile).persistent
    with _statements() as seen:
        assert db.session.get(User, user_id) is user  # from the identity map, no query
        assert db.session.get(Profile, user_id) is profile
        assert not db.session.dirty and not db.session.new
        db.session.flush()  # nothing to write
    assert seen == []
    assert profile.city.name == city_name  # a relationship nobody set loads on access, as for a loaded object
    assert user.name == "行对象" and profile.user is user


def test_a_change_to_a_row_object_is_written_by_the_next_commit(app: object) -> None:
    user_id = factories.make_employee(name="改名前").id
    db.session.remove()
    user, profile = _person(user_id)
    user.name = "改名后"
    profile.model_worker = True
    db.session.commit()
    db.session.remove()
    stored = db.session.get(User, user_id)
    assert stored is not None and stored.name == "改名后" and stored.profile.model_worker is True


def test_an_object_already_in_the_session_is_kept_or_refreshed(app: object) -> None:
    user_id = factories.make_employee(name="旧名").id
    held = db.session.get(User, user_id)
    assert held is not None and held.name == "旧名"
    users = User.__table__
    # Core, behind the session's back: the session's copy is now stale.
    db.session.connection().execute(update(users).where(users.c.id == user_id).values(name="新名"))

    assert _person(user_id)[0] is held and held.name == "旧名"
    assert _person(user_id, refresh=True)[0] is held and held.name == "新名"
    assert not db.session.dirty  # the fresh value is taken as stored, not as a change


def test_an_outer_joined_object_whose_row_is_missing_is_none(app: object) -> None:
    organizer_id = factories.make_organizer().id  # staff have no employee profile
    db.session.remove()
    user, profile = _person(organizer_id)
    assert profile is None and user.id == organizer_id and inspect(user).persistent


def test_only_a_transient_object_can_be_attached_as_loaded(app: object) -> None:
    employee = factories.make_employee()
    with pytest.raises(ValueError):
        attach_as_loaded(employee)
