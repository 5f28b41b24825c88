"""What the figures read: the period and subtree asked for (``Filters``), the events counted in it, the roll-up's
sums by kind, city, month and person dimension, and the people reached. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from ..booking.models import Registration, Status
from ..events.models import Event, Slot
from ..extensions import db
from ..orgs.models import Organization
from ..orgs.services import in_subtree
from .models import DIM_ALL, PERSON_DIMS, StatsReach, StatsRollup, StatsRollupMonth
from .rollup import MEASURES


@dataclass(frozen=True)
class Filters:
    """The period (inclusive), the organization subtree and the kind (``None``: every kind) the figures count."""

    start: date
    end: date  # inclusive
    org: Organization
    kind: str | None = None

    @property
    def whole_year(self) -> int | None:
        if self.start == date(self.start.year, 1, 1) and self.end == date(self.start.year, 12, 31):
            return self.start.year
        return None

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time())

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())


def events_where(filters: Filters, model: Any = Event) -> list[Any]:
    """The conditions of an event counted for ``filters``: not cancelled, starting inside the period, organized
    in the subtree, of the kind chosen (if any)."""
    conditions = [
        model.cancelled_at.is_(None),
        model.starts_at >= filters.start_at,
        model.starts_at < filters.end_before,
        model.organization_id.in_(select(Organization.id).where(in_subtree(filters.org))),
    ]
    if filters.kind:
        conditions.append(model.kind == filters.kind)
    return conditions


def _rollup_source(filters: Filters) -> tuple[Any, Any]:
    """The roll-up to read and its date column: per month when the period is made of whole months (a year),
    per event otherwise."""
    if filters.start.day == 1 and (filters.end + timedelta(days=1)).day == 1:
        return StatsRollupMonth, StatsRollupMonth.month
    return StatsRollup, StatsRollup.day


def _rollup_where(filters: Filters, dims: tuple[str, ...]) -> list[Any]:
    model, day = _rollup_source(filters)
    conditions = [
        model.dim.in_(dims) if len(dims) > 1 else model.dim == dims[0],
        day >= filters.start,
        day <= filters.end,
        model.org_path.startswith(filters.org.path, autoescape=True),
    ]
    if filters.kind:
        conditions.append(model.kind == filters.kind)
    return conditions


def _sums(model: Any) -> list[Any]:
    return [func.coalesce(func.sum(getattr(model, m)), 0) for m in MEASURES]


def event_counts(filters: Filters) -> list[tuple[str, int, int, int, int]]:
    """(kind, city id, year, month, events) of the events counted in the period."""
    year = func.extract("year", Event.starts_at)
    month = func.extract("month", Event.starts_at)
    stmt = (
        select(Event.kind, Event.city_id, year, month, func.count())
        .where(*events_where(filters))
        .group_by(Event.kind, Event.city_id, year, month)
    )
    return [(k, c, int(y), int(m), n) for k, c, y, m, n in db.session.execute(stmt)]


def slots_offered(filters: Filters, kind: str) -> int:
    """Places offered: the capacity of every slot of the counted events of ``kind``."""
    stmt = select(func.coalesce(func.sum(Slot.capacity), 0)).join(Event, Event.id == Slot.event_id)
    stmt = stmt.where(*events_where(filters), Event.kind == kind)
    return int(db.session.scalar(stmt) or 0)


def people_reached(filters: Filters) -> dict[str, int]:
    """Distinct people who attended, in total ("") and per kind: from ``stats_reach`` for a whole year, else
    counted live (then each anonymous row of a deleted account counts as one person)."""
    if filters.whole_year is not None:
        rows = dict(
            db.session.execute(
                select(StatsReach.kind, StatsReach.people).where(
                    StatsReach.year == filters.whole_year, StatsReach.organization_id == filters.org.id
                )
            ).all()
        )
        counted = rows or db.session.scalar(
            select(func.count()).select_from(StatsReach).where(StatsReach.year == filters.year)
        )
        if counted:  # the year was counted (an empty subtree simply has no rows)
            if filters.kind:
                return {"": rows.get(filters.kind, 0), filters.kind: rows.get(filters.kind, 0)}
            return {kind: int(people) for kind, people in rows.items()}
    people = func.count(func.distinct(Registration.user_id))
    anonymous = func.coalesce(func.sum(case((Registration.user_id.is_(None), 1), else_=0)), 0)
    base = (
        select(people, anonymous)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.status == Status.ATTENDED, *events_where(filters))
    )
    distinct, anonymous_rows = db.session.execute(base).one()
    result = {"": int(distinct or 0) + int(anonymous_rows or 0)}
    for kind, distinct, anonymous_rows in db.session.execute(
        base.with_only_columns(Event.kind, people, anonymous).group_by(Event.kind)
    ):
        result[kind] = int(distinct or 0) + int(anonymous_rows or 0)
    return result


def rollup_all(filters: Filters) -> list[Any]:
    """Roll-up totals by kind, city and month."""
    model, day = _rollup_source(filters)
    year = func.extract("year", day)
    month = func.extract("month", day)
    stmt = (
        select(model.kind, model.city_id, year, month, *_sums(model))
        .where(*_rollup_where(filters, (DIM_ALL,)))
        .group_by(model.kind, model.city_id, year, month)
    )
    return list(db.session.execute(stmt).all())


def rollup_people(filters: Filters) -> list[Any]:
    """Roll-up totals by person dimension and value; two-cancer screenings by enterprise type come from here
    (only screenings have two-cancer counts, so no need to group by kind)."""
    model, _day = _rollup_source(filters)
    stmt = (
        select(model.dim, model.value, *_sums(model))
        .where(*_rollup_where(filters, PERSON_DIMS))
        .group_by(model.dim, model.value)
    )
    return list(db.session.execute(stmt).all())


def refreshed_at() -> datetime | None:
    """When the roll-up was last written (its newest row: a primary-key lookup, not a scan)."""
    return db.session.scalar(select(StatsRollup.refreshed_at).order_by(StatsRollup.id.desc()).limit(1))
