"""The engine set-up of app/database.py."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.database import ShapeCachingCursor
from app.extensions import db

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
