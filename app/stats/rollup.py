"""Keeping the roll-up true: what changes mark, what the scheduler task recounts.

Consistency model (a *scheduler job*, with the change notices written by the same transactions):
- every registration transition appends its event id to ``stats_dirty`` inside the booking's transaction (a
  trigger on ``registration_history``: ``models.NOTE_HISTORY_DDL``), so a notice exists exactly when the change
  committed;
- the task ``stats.refresh`` (every minute) recounts the noticed events from the booking tables, plus events edited
  or screening outcomes recorded in the last minutes, replaces their roll-up rows and the monthly sums of their
  (organization, kind, month) buckets, then deletes the notices it consumed — all in one transaction, under a
  PostgreSQL advisory lock so two scheduler hosts never interleave;
- ``flask stats refresh --all`` rebuilds everything (after a bulk import, or to repair).
The dashboard therefore lags the bookings by at most one task interval. Deleting an account keeps every figure:
the ``account-deleting`` receiver records, as identifier-free counts, where the person's rows were counted.

One cohesive thing at about 500 lines: the recount and the monthly sums must agree with each other, so the
statements that build them stay side by side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, literal, select, text
from sqlalchemy.exc import DataError, IntegrityError

from .. import clock
from ..accounts.models import Profile
from ..booking.models import Registration, Status
from ..events.figures import RegistrationCount
from ..events.kinds import registered_kinds
from ..events.models import Event
from ..extensions import db
from ..orgs.models import Industry, Organization
from ..progress import Progress, no_progress
from .models import (
    DIM_AGE,
    DIM_ALL,
    DIM_ETYPE,
    DIM_GENDER,
    DIM_INDUSTRY,
    StatsCarry,
    StatsDirty,
    StatsReach,
    StatsReachAdjust,
    StatsRollup,
    StatsRollupMonth,
    StatsSkipped,
)

ALLOCATED = frozenset({Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW})
UNKNOWN = "unknown"  # the person's profile is gone (account deleted) or the snapshot is missing
OTHER_INDUSTRY = "other"  # neither a key chain nor a cluster (其他)
AGE_BANDS: list[tuple[str, int, int]] = [
    ("18-24", 0, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55+", 55, 200),
]
LOOKBACK = timedelta(minutes=10)
STATE_MEASURES = ("signups", "allocated", "attended", "no_show", "converted")
# Measures a kind fills per attended registration (``events.figures.RegistrationCount``), beyond the states.
KIND_MEASURES = ("two_cancer",)
MEASURES = STATE_MEASURES + KIND_MEASURES
_CHUNK = 400
# What one event's own data can make its recount raise (a date at the calendar's end, a value the database
# refuses). Anything else — a lost connection, a bug — still fails the whole refresh and shows as the task's error.
BAD_ROW_ERRORS = (ArithmeticError, LookupError, TypeError, ValueError, DataError, IntegrityError)


def age_band(birth_date: date | None, on: date) -> str:
    if birth_date is None:
        return UNKNOWN
    age = clock.age_on(birth_date, on)
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return UNKNOWN


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _counts(row: Any) -> tuple[int, ...]:
    """What one registration adds to each measure (in MEASURES order)."""
    status = Status(row.status)
    allocated = status in ALLOCATED
    attended = status == Status.ATTENDED
    return (
        1,
        int(allocated),
        int(attended),
        int(status == Status.NO_SHOW),
        int(allocated and bool(row.from_waitlist)),
        *(int(attended and bool(getattr(row, name))) for name in KIND_MEASURES),
    )


def _cell_keys(row: Any, day: date, industries: dict[int, str]) -> list[tuple[str, str]]:
    """The (dimension, value) cells one registration counts in."""
    has_profile = row.profile_user is not None
    return [
        (DIM_ALL, ""),
        (DIM_GENDER, str(row.gender) if row.gender else UNKNOWN),
        (DIM_AGE, age_band(row.birth_date, day) if has_profile else UNKNOWN),
        (DIM_ETYPE, str(row.enterprise_type) if has_profile else UNKNOWN),
        (DIM_INDUSTRY, industries.get(row.industry_id, OTHER_INDUSTRY) if has_profile else UNKNOWN),
    ]


def _apply_carry(cells: dict[tuple[int, str, str], list[int]], event_ids: list[int]) -> None:
    """Move deleted accounts' counts from each "unknown" cell back to the cells they were counted in, never more
    than the unknown cell holds (if an anonymous registration changed state since, the rest stays unknown)."""
    carries = db.session.scalars(
        select(StatsCarry).where(StatsCarry.event_id.in_(event_ids)).order_by(StatsCarry.id)
    ).all()
    for carry in carries:
        unknown = cells.get((carry.event_id, carry.dim, UNKNOWN))
        if unknown is None:
            continue
        target = cells[(carry.event_id, carry.dim, carry.value)]
        for index, name in enumerate(MEASURES):
            moved = min(int(getattr(carry, name)), unknown[index])
            unknown[index] -= moved
            target[index] += moved
    for key in [key for key, counts in cells.items() if key[2] == UNKNOWN and not any(counts)]:
        del cells[key]


def registration_counts() -> list[RegistrationCount]:
    """What the registered kinds count per registration beyond its state (the kind registry names their rows)."""
    return [count for policy in registered_kinds().values() for count in policy.figures.registration_counts]


def _registration_rows(event_ids: list[int], user_id: int | None = None) -> Any:
    columns: list[Any] = [
        Registration.event_id,
        Registration.status,
        Registration.from_waitlist,
        Registration.gender,
        Profile.birth_date,
        Profile.enterprise_type,
        Profile.industry_id,
        Profile.user_id.label("profile_user"),
    ]
    stmt = select(*columns).outerjoin(Profile, Profile.user_id == Registration.user_id)
    filled: set[str] = set()
    for count in registration_counts():
        if count.measure not in KIND_MEASURES or count.measure in filled:
            raise RuntimeError(f"a kind counts {count.measure!r}, not a measure of its own in the roll-up")
        filled.add(count.measure)
        stmt = stmt.outerjoin(count.table, count.registration_id == Registration.id)
        stmt = stmt.add_columns(count.counts.label(count.measure))
    stmt = stmt.add_columns(*(literal(None).label(name) for name in KIND_MEASURES if name not in filled))
    if user_id is not None:
        return db.session.execute(stmt.where(Registration.user_id == user_id)).all()
    return db.session.execute(stmt.where(Registration.event_id.in_(event_ids))).all()


def recount_events(event_ids: Iterable[int], *, months: bool = True, progress: Progress = no_progress) -> int:
    """Replace the roll-up rows of ``event_ids`` with counts taken now from the registrations (a cancelled or
    deleted event keeps no rows). Returns how many events were recounted; ``progress`` hears of each chunk."""
    ids = sorted(set(event_ids))
    done = 0
    industries = {row[0]: row[1] for row in db.session.execute(select(Industry.id, Industry.code))}
    now = clock.now()
    buckets: set[tuple[int, str, date]] = set()
    for chunk in _chunks(ids):
        progress(done, len(ids))
        done += len(chunk)
        buckets |= {
            (org_id, kind, day.replace(day=1))
            for org_id, kind, day in db.session.execute(
                select(StatsRollup.organization_id, StatsRollup.kind, StatsRollup.day)
                .where(StatsRollup.event_id.in_(chunk))
                .distinct()
            )
        }
        db.session.execute(delete(StatsRollup).where(StatsRollup.event_id.in_(chunk)))
        events = {
            row.id: row
            for row in db.session.execute(
                select(Event.id, Event.kind, Event.organization_id, Organization.path, Event.city_id, Event.starts_at)
                .join(Organization, Organization.id == Event.organization_id)
                .where(Event.id.in_(chunk), Event.cancelled_at.is_(None))
            )
        }
        if not events:
            continue
        buckets |= {(e.organization_id, e.kind, e.starts_at.date().replace(day=1)) for e in events.values()}
        cells: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0] * len(MEASURES))
        for row in _registration_rows(list(events)):
            day = events[row.event_id].starts_at.date()
            counts = _counts(row)
            for dim, value in _cell_keys(row, day, industries):
                cell = cells[(row.event_id, dim, value)]
                for index, count in enumerate(counts):
                    cell[index] += count
        _apply_carry(cells, list(events))
        payload = []
        for (event_id, dim, value), totals in cells.items():
            event = events[event_id]
            payload.append(
                {
                    "event_id": event_id,
                    "kind": event.kind,
                    "organization_id": event.organization_id,
                    "org_path": event.path,
                    "city_id": event.city_id,
                    "day": event.starts_at.date(),
                    "dim": dim,
                    "value": value,
                    "refreshed_at": now,
                    **dict(zip(MEASURES, totals, strict=True)),
                }
            )
        if payload:
            db.session.execute(insert(StatsRollup), payload)
    progress(len(ids), len(ids))
    db.session.flush()
    if months:
        rebuild_months(buckets)
    return len(ids)


def _year_span(year: int) -> tuple[datetime, datetime]:
    """The first and the last moment of ``year`` (the last, not the next year's first: year 9999 has no next)."""
    return datetime(year, 1, 1), datetime(year, 12, 31, 23, 59, 59, 999999)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def rebuild_months(buckets: set[tuple[int, str, date]] | None, year: int | None = None) -> None:
    """Rewrite ``stats_rollup_month`` for these (organization, kind, month) buckets from ``stats_rollup``;
    ``None`` rewrites the whole table (or the months of ``year``)."""
    columns = [
        StatsRollup.kind,
        StatsRollup.organization_id,
        StatsRollup.org_path,
        StatsRollup.city_id,
        StatsRollup.day,
        StatsRollup.dim,
        StatsRollup.value,
        *(getattr(StatsRollup, m) for m in MEASURES),
    ]
    if buckets is None and year is not None:
        first, last = date(year, 1, 1), date(year, 12, 31)
        db.session.execute(
            delete(StatsRollupMonth).where(StatsRollupMonth.month >= first, StatsRollupMonth.month <= last)
        )
        selections = [select(*columns).where(StatsRollup.day >= first, StatsRollup.day <= last)]
    elif buckets is None:
        db.session.execute(delete(StatsRollupMonth))
        selections = [select(*columns)]
    else:
        selections = []
        for org_id, kind, month in sorted(buckets):
            db.session.execute(
                delete(StatsRollupMonth).where(
                    StatsRollupMonth.organization_id == org_id,
                    StatsRollupMonth.kind == kind,
                    StatsRollupMonth.month == month,
                )
            )
            selections.append(
                select(*columns).where(
                    StatsRollup.organization_id == org_id,
                    StatsRollup.kind == kind,
                    StatsRollup.day >= month,
                    StatsRollup.day < _next_month(month),
                )
            )
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    for stmt in selections:
        for kind, org_id, path, city_id, day, dim, value, *counts in db.session.execute(stmt):
            cell = sums[(kind, org_id, path, city_id, day.replace(day=1), dim, value)]
            for index, count in enumerate(counts):
                cell[index] += count
    payload = [
        {
            "kind": kind,
            "organization_id": org_id,
            "org_path": path,
            "city_id": city_id,
            "month": month,
            "dim": dim,
            "value": value,
            **dict(zip(MEASURES, counts, strict=True)),
        }
        for (kind, org_id, path, city_id, month, dim, value), counts in sums.items()
    ]
    for start in range(0, len(payload), 5_000):
        db.session.execute(insert(StatsRollupMonth), payload[start : start + 5_000])
    db.session.flush()


def _lock() -> bool:
    """Only one refresher at a time across hosts (PostgreSQL); SQLite runs a single scheduler."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(7331001)")))


def _recent_event_ids(since: datetime) -> set[int]:
    """Events edited since ``since``, and those whose figures a kind says changed meanwhile without a
    registration changing state (a screening outcome recorded)."""
    ids = set(db.session.scalars(select(Event.id).where(Event.updated_at >= since)))
    for policy in registered_kinds().values():
        ids |= policy.figures.changed_events(since)
    return ids


def refresh(now: datetime | None = None) -> int:
    """The scheduler task: recount the events noticed in ``stats_dirty`` (and those edited or whose screening
    outcomes were recorded in the last minutes), consume the notices, and recount the people reached of the
    years concerned when that count is older than STATS_REACH_SECONDS. Returns the number of events recounted."""
    now = now or clock.now()
    if not _lock():
        return 0
    # The notices visible now; exactly these are consumed below (one committed meanwhile waits for the next run).
    notices = db.session.execute(select(StatsDirty.id, StatsDirty.event_id)).all()
    # Changes that write no notice (event edits, screening outcomes) are found by time: since the last recount
    # (minus a margin), so a scheduler that was down for a while catches up.
    last = db.session.scalar(select(StatsRollup.refreshed_at).order_by(StatsRollup.id.desc()).limit(1))
    since = min(now, last or now) - LOOKBACK
    ids = {event_id for _id, event_id in notices} | _recent_event_ids(since)
    counted = recount_apart(sorted(ids), now) if ids else []
    consumed = [notice_id for notice_id, _event in notices]
    for start in range(0, len(consumed), 1_000):
        db.session.execute(delete(StatsDirty).where(StatsDirty.id.in_(consumed[start : start + 1_000])))
    years: set[int] = set()
    for chunk in _chunks(counted):
        years |= {starts.year for starts in db.session.scalars(select(Event.starts_at).where(Event.id.in_(chunk)))}
    max_age = timedelta(seconds=current_app.config.get("STATS_REACH_SECONDS", 900))
    for year in sorted(years):
        computed = db.session.scalar(select(func.min(StatsReach.computed_at)).where(StatsReach.year == year))
        if computed is None or computed <= now - max_age:
            refresh_reach(year)
    db.session.flush()
    return len(counted)


def _recount_or_split(ids: list[int], skipped: dict[int, str]) -> None:
    try:
        with db.session.begin_nested():
            recount_events(ids)
    except BAD_ROW_ERRORS as error:
        if len(ids) == 1:
            skipped[ids[0]] = (f"{type(error).__name__}: {error}")[:200]
            return
        middle = len(ids) // 2
        _recount_or_split(ids[:middle], skipped)
        _recount_or_split(ids[middle:], skipped)


def recount_apart(ids: list[int], now: datetime) -> list[int]:
    """Recount ``ids`` so that one bad event cannot stop the others: when a batch fails on its own data, it is
    rolled back to its savepoint and recounted in halves, down to the single events that fail, which are left out
    and listed in ``stats_skipped`` (the admin's system page shows them) until a later refresh counts them.
    Returns the ids counted."""
    skipped: dict[int, str] = {}
    _recount_or_split(ids, skipped)
    counted = [event_id for event_id in ids if event_id not in skipped]
    for chunk in _chunks(ids):
        db.session.execute(delete(StatsSkipped).where(StatsSkipped.event_id.in_(chunk)))
    if skipped:
        payload = [{"event_id": key, "reason": reason, "skipped_at": now} for key, reason in skipped.items()]
        db.session.execute(insert(StatsSkipped), payload)
    db.session.flush()
    return counted


def skipped_events(limit: int = 50) -> list[tuple[int, str, str, datetime]]:
    """The events the last refreshes left out: (event id, title, reason, when), newest first."""
    stmt = (
        select(StatsSkipped.event_id, Event.title, StatsSkipped.reason, StatsSkipped.skipped_at)
        .join(Event, Event.id == StatsSkipped.event_id)
        .order_by(StatsSkipped.skipped_at.desc(), StatsSkipped.event_id)
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(stmt)]  # type: ignore[misc]


def rebuild(year: int | None = None, *, progress: Progress = no_progress) -> int:
    """Recount every event (of ``year``), its months and its people reached. Queued notices stay: the next
    refresh recounts those events once more, which is harmless."""
    stmt = select(Event.id)
    if year is not None:
        first, last = _year_span(year)
        stmt = stmt.where(Event.starts_at >= first, Event.starts_at <= last)
    count = recount_events(db.session.scalars(stmt), months=False, progress=progress)
    if year is None:
        db.session.execute(delete(StatsRollup).where(StatsRollup.event_id.not_in(select(Event.id))))
    rebuild_months(None, year)
    years = (
        [year] if year is not None else sorted({starts.year for starts in db.session.scalars(select(Event.starts_at))})
    )
    for each in years:
        refresh_reach(each)
    db.session.flush()
    return count


def _reach_counts(year: int) -> dict[tuple[int, str], int]:
    """People who attended in ``year`` per (organization subtree, kind or "" for all). The subtree of every
    ancestor is filled from each event's organization path in one pass. Rows whose account was deleted cannot be
    told apart, so each counts as one person (``stats_reach_adjust`` corrects that)."""
    stmt = (
        select(Organization.path, Event.kind, Registration.user_id, Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .join(Organization, Organization.id == Event.organization_id)
        .where(
            Registration.status == Status.ATTENDED,
            Event.cancelled_at.is_(None),
            Event.starts_at >= _year_span(year)[0],
            Event.starts_at <= _year_span(year)[1],
        )
    )
    people: dict[tuple[int, str], set[int | str]] = defaultdict(set)
    ancestors: dict[str, list[int]] = {}
    for path, kind, user_id, registration_id in db.session.execute(stmt):
        chain = ancestors.get(path)
        if chain is None:
            chain = ancestors[path] = [int(part) for part in path.strip("/").split("/") if part]
        who: int | str = user_id if user_id is not None else f"r{registration_id}"
        for org_id in chain:
            people[(org_id, kind)].add(who)
            people[(org_id, "")].add(who)
    return {key: len(members) for key, members in people.items()}


def refresh_reach(year: int) -> None:
    """Recount the distinct people reached in ``year`` for every organization subtree, in total and per kind."""
    now = clock.now()
    db.session.execute(delete(StatsReach).where(StatsReach.year == year))
    adjust: dict[tuple[int, str], int] = defaultdict(int)
    for org_id, kind, delta in db.session.execute(
        select(StatsReachAdjust.organization_id, StatsReachAdjust.kind, StatsReachAdjust.delta).where(
            StatsReachAdjust.year == year
        )
    ):
        adjust[(org_id, kind)] += delta
    payload = [
        {
            "year": year,
            "organization_id": org_id,
            "kind": kind,
            "people": max(count + adjust[(org_id, kind)], 0),
            "computed_at": now,
        }
        for (org_id, kind), count in _reach_counts(year).items()
    ]
    if payload:
        db.session.execute(insert(StatsReach), payload)
    db.session.flush()


def remember_deleted(user: Any) -> int:
    """Receiver of the ``account-deleting`` signal, run while the profile is still readable: record, as counts
    without any identifier, which cells the person's registrations were counted in (``stats_carry``) and how much
    their now-anonymous attended registrations would overcount people reached (``stats_reach_adjust``), so every
    figure stays as it was after the account is gone. Returns rows written."""
    rows = _registration_rows([], user_id=user.id)
    if not rows:
        return 0
    industries = {row[0]: row[1] for row in db.session.execute(select(Industry.id, Industry.code))}
    event_rows = db.session.execute(
        select(Event.id, Event.kind, Event.starts_at, Event.cancelled_at, Organization.path)
        .join(Organization, Organization.id == Event.organization_id)
        .where(Event.id.in_({row.event_id for row in rows}))
    ).all()
    events = {event.id: event for event in event_rows}
    carry: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    attended: dict[tuple[int, int, str], int] = defaultdict(int)
    for row in rows:
        event = events[row.event_id]
        counts = _counts(row)
        for dim, value in _cell_keys(row, event.starts_at.date(), industries):
            if dim in (DIM_AGE, DIM_ETYPE, DIM_INDUSTRY):
                cell = carry[(row.event_id, dim, value)]
                for index, count in enumerate(counts):
                    cell[index] += count
        if Status(row.status) == Status.ATTENDED and event.cancelled_at is None:
            for org_id in (int(part) for part in event.path.strip("/").split("/") if part):
                attended[(event.starts_at.year, org_id, event.kind)] += 1
                attended[(event.starts_at.year, org_id, "")] += 1
    carry_rows = [
        {"event_id": event_id, "dim": dim, "value": value, **dict(zip(MEASURES, counts, strict=True))}
        for (event_id, dim, value), counts in carry.items()
    ]
    adjust_rows = [
        {"year": year, "organization_id": org_id, "kind": kind, "delta": 1 - times}
        for (year, org_id, kind), times in attended.items()
        if times > 1
    ]
    if carry_rows:
        db.session.execute(insert(StatsCarry), carry_rows)
    if adjust_rows:
        db.session.execute(insert(StatsReachAdjust), adjust_rows)
    db.session.flush()
    return len(carry_rows) + len(adjust_rows)
