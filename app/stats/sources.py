"""The feature tables the statistics read, named by table (the statistics never import another feature).

Contracts (see issue 9): mixers record ``mixer_pairs`` and the append-only ``mixer_outcomes`` log; screenings record
``screening_visits`` and ``screening_bookings``; trips record ``trip_departures`` and ``trip_targets``. A table that
is not part of the app's metadata (its feature is not installed) reads as empty.
"""

from __future__ import annotations

from sqlalchemy import Boolean, DateTime, Integer, String, column, table

from ..extensions import db

mixer_pairs = table(
    "mixer_pairs",
    column("id", Integer),
    column("event_id", Integer),
    column("created_at", DateTime),
    column("source", String),
)
mixer_outcomes = table(
    "mixer_outcomes",
    column("id", Integer),
    column("pair_id", Integer),
    column("kind", String),
    column("at", DateTime),
)
screening_visits = table("screening_visits", column("event_id", Integer))
screening_bookings = table(
    "screening_bookings",
    column("registration_id", Integer),
    column("two_cancer", Boolean),
    column("outcome", String),
    column("recorded_at", DateTime),
)
trip_departures = table("trip_departures", column("event_id", Integer), column("route_id", Integer))
trip_targets = table(
    "trip_targets",
    column("year", Integer),
    column("organization_id", Integer),
    column("places", Integer),
)

# Enum columns may store the member's name or its value depending on the column type: accept both spellings.
COUPLE_OUTCOMES = ("dating", "DATING")  # 牵手成功, confirmed by both
NOT_SCREENED = ("not_screened", "NOT_SCREENED")


def available(name: str, *columns: str) -> bool:
    """True when the app defines table ``name`` (with these columns): its feature is installed."""
    defined = db.metadata.tables.get(name)
    return defined is not None and all(c in defined.c for c in columns)
