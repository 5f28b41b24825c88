"""The statistics roll-up: identifier-free counters the dashboard reads instead of scanning every registration.

``stats_rollup`` holds, per event and per breakdown cell (dimension, value), how many registrations reached each
state; ``stats_rollup_month`` the same summed per organization and month (what a year's dashboard reads). Both
are rebuilt event by event by the scheduler task ``stats.refresh`` from the booking tables; every registration
transition appends the event to ``stats_dirty`` in the booking's own transaction (a database trigger on the
registration history, below), so the task knows which events to recount. ``stats_reach`` holds the number of
distinct people who attended, per year, organization subtree and kind (distinct counts do not add up, so they
are counted per subtree).

None of these tables holds a person's identifier: deleting an account changes nothing here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, MetaData, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import Model

# Breakdown dimensions stored in ``stats_rollup.dim``. City and month come from the event (``city_id``, ``day``)
# of the ``all`` rows; the others from the registration's gender snapshot and the person's profile.
DIM_ALL = "all"
DIM_GENDER = "gender"
DIM_AGE = "age"
DIM_ETYPE = "etype"
DIM_INDUSTRY = "industry"
PERSON_DIMS = (DIM_GENDER, DIM_AGE, DIM_ETYPE, DIM_INDUSTRY)


class MeasureCounts:
    """The counts a cell of the statistics holds, one column per measure (``rollup.MEASURES``)."""

    signups: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)
    attended: Mapped[int] = mapped_column(default=0)
    no_show: Mapped[int] = mapped_column(default=0)
    converted: Mapped[int] = mapped_column(default=0)
    two_cancer: Mapped[int] = mapped_column(default=0)


class RolledUpCell(MeasureCounts):
    """A breakdown cell of the roll-up: whose (organization, its path in the tree, city), which kind, which
    dimension and value, and its counts. ``StatsRollup`` adds the event and its day, ``StatsRollupMonth`` the
    month."""

    kind: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    org_path: Mapped[str] = mapped_column(String(255))
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    dim: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(40), default="")


# What the dashboard's covering indexes carry besides their keys (PostgreSQL ``INCLUDE``).
_COVERED = ["kind", "city_id", "value", "signups", "allocated", "attended", "no_show", "converted", "two_cancer"]


class StatsRollup(RolledUpCell, Model):
    __tablename__ = "stats_rollup"
    __table_args__ = (
        # Covering on PostgreSQL: the dashboard's sums are answered by an index-only scan of the period.
        Index("ix_stats_rollup_dim_day", "dim", "day", "org_path", postgresql_include=_COVERED),
        Index("ix_stats_rollup_event", "event_id"),
        Index("ix_stats_rollup_bucket", "organization_id", "kind", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column()
    refreshed_at: Mapped[datetime] = mapped_column(default=clock.now)


class StatsRollupMonth(RolledUpCell, Model):
    """The same counts summed per month and organization (``month`` is the month's first day): what the dashboard
    reads for periods made of whole months, a few times fewer rows than per event. Rewritten bucket by bucket
    (organization, kind, month) from ``stats_rollup`` whenever events of the bucket are recounted."""

    __tablename__ = "stats_rollup_month"
    __table_args__ = (
        Index("ix_stats_rollup_month_dim_month", "dim", "month", "org_path", postgresql_include=_COVERED),
        Index("ix_stats_rollup_month_bucket", "organization_id", "kind", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column()


class StatsDirty(Model):
    """An append-only queue of events whose registrations changed since the roll-up last counted them."""

    __tablename__ = "stats_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()  # no foreign key: a deleted event is simply dropped by the task
    at: Mapped[datetime] = mapped_column(default=clock.now)


class StatsReach(Model):
    """Distinct people who attended anything (kind "") or one kind, in a year, in an organization's subtree."""

    __tablename__ = "stats_reach"
    __table_args__ = (Index("ix_stats_reach_year_org", "year", "organization_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="")
    people: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(default=clock.now)


class StatsCarry(MeasureCounts, Model):
    """Where the registrations of deleted accounts belonged, per event and breakdown cell, counted when the account
    was deleted (the profile is gone afterwards). A recount moves these counts out of the "unknown" cell back to
    the cell they were in, so deleting an account leaves every figure as it was. Counts only: no identifier."""

    __tablename__ = "stats_carry"
    __table_args__ = (Index("ix_stats_carry_event", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    dim: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(40))


class StatsReachAdjust(Model):
    """Corrections to people reached for deleted accounts: their anonymous registrations can no longer be told
    apart, so a person who attended k times in a subtree would count k times; this row takes the k - 1 back."""

    __tablename__ = "stats_reach_adjust"
    __table_args__ = (Index("ix_stats_reach_adjust_year", "year", "organization_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="")
    delta: Mapped[int] = mapped_column(default=0)


class StatsSkipped(Model):
    """An event the refresh could not count (a row the rules would refuse today, e.g. dated at the calendar's
    end): left out so every other event is still counted, and shown on the admin's system page until a later
    refresh counts it."""

    __tablename__ = "stats_skipped"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    skipped_at: Mapped[datetime] = mapped_column(default=clock.now)


# Every row appended to the registration history (each change, set-wise ones included, and each move: all of them
# written by ``booking.store``, whose docstring names this trigger) notes
# its event in ``stats_dirty``, written by the database as part of the same INSERT: a booking spends no statement
# of its own on the statistics while it holds its slot's lock (bench/flash_sale.py). PostgreSQL notes each event
# once per statement (a lottery's twenty thousand history rows give one notice). SQLite notes an event only if it
# is not already noted: ``stats.refresh`` reads and consumes the notices inside one write transaction, which on
# SQLite no booking can interleave with. The migration that created them (0bfd7efd0472) holds its own copy.
NOTE_HISTORY_DDL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION stats_note_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty (event_id, at)
    SELECT r.event_id, max(h.at) FROM noted_history h JOIN registrations r ON r.id = h.registration_id
    GROUP BY r.event_id;
    RETURN NULL;
END $$""",
        "DROP TRIGGER IF EXISTS stats_note_history ON registration_history",
        """CREATE TRIGGER stats_note_history AFTER INSERT ON registration_history
REFERENCING NEW TABLE AS noted_history FOR EACH STATEMENT EXECUTE FUNCTION stats_note_history()""",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS stats_note_history",
        """CREATE TRIGGER stats_note_history AFTER INSERT ON registration_history
BEGIN
    INSERT INTO stats_dirty (event_id, at)
    SELECT r.event_id, NEW.at FROM registrations r
    WHERE r.id = NEW.registration_id AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.event_id = r.event_id);
END""",
    ],
}


@event.listens_for(Model.metadata, "after_create")
def _create_note_history_trigger(metadata: MetaData, connection: Any, **_: Any) -> None:
    """``create_all`` (tests, a new database without migrations) installs the trigger too."""
    for statement in NOTE_HISTORY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
