"""The trip kind's policy for the booking engine: one trip a year (atomically, in ``before_hold``), priority
tiers (``waitlist_priority``) and the lines a trip ticket shows.

Tiers: a departure lists rules in priority order (default: 劳模工匠, frontline workers of the key chains and
clusters, everyone else). With ``never_been_first`` each rule splits in two: tier ``2k+1`` for people who have
never been on a union trip, ``2k+2`` for those who have. "Been" means an earlier trip registration (a
departure
that started before this one) that is attended or confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, select

from ..accounts.models import User
from ..booking.models import HOLDING, Registration, Status
from ..events.kinds import KindPolicy
from ..events.models import Event
from ..extensions import db
from .errors import OneTripPerYear
from .figures import TripFigures
from .models import DEFAULT_TIERS, TripDeparture, TripLotteryEntry

if TYPE_CHECKING:
    from ..events.models import Slot

KIND = "trip"

RULE_LABELS: dict[str, Any] = {
    "model_worker": _l("劳模工匠"),
    "key_industry_frontline": _l("重点产业链（集群）一线职工"),
    "frontline": _l("一线职工"),
    "everyone": _l("其他符合条件的职工"),
}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


class TierAttributes(Protocol):
    """What the tier rules read of a person: a ``Profile`` or a row with these columns."""

    @property
    def model_worker(self) -> bool: ...
    @property
    def frontline(self) -> bool: ...
    @property
    def industry_id(self) -> int | None: ...


def matches(rule: str, profile: TierAttributes | None) -> bool:
    if rule == "everyone":
        return True
    if profile is None:
        return False
    if rule == "model_worker":
        return bool(profile.model_worker)
    if rule == "key_industry_frontline":
        return bool(profile.frontline) and profile.industry_id is not None
    if rule == "frontline":
        return bool(profile.frontline)
    return False


def tier_of(profile: TierAttributes | None, rules: Sequence[str], never_been_first: bool, been: bool) -> int:
    """1-based tier: the first matching rule (or one past the last), split by "never been" when asked."""
    index = next((i for i, rule in enumerate(rules) if matches(rule, profile)), len(rules))
    if never_been_first:
        return 2 * index + (2 if been else 1)
    return index + 1


def tier_label(departure: TripDeparture, tier: int) -> str:
    rules = departure.tiers or DEFAULT_TIERS
    if departure.never_been_first:
        index, been = divmod(tier - 1, 2)
        rule = RULE_LABELS.get(rules[index], "") if index < len(rules) else _("其他")
        suffix = _("参加过") if been else _("首次参加")
        return _("第 %(n)d 档 · %(rule)s · %(s)s", n=tier, rule=rule, s=suffix)
    rule = RULE_LABELS.get(rules[tier - 1], "") if tier - 1 < len(rules) else _("其他")
    return _("第 %(n)d 档 · %(rule)s", n=tier, rule=rule)


def users_who_have_been(user_ids: Iterable[int], before: datetime) -> set[int]:
    """People with an attended or confirmed registration of a trip that started before ``before``."""
    ids = list(user_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        rows = db.session.scalars(
            select(Registration.user_id)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Event.kind == KIND,
                Event.starts_at < before,
                Registration.user_id.in_(chunk),
                Registration.status.in_([Status.ATTENDED, Status.CONFIRMED]),
            )
            .distinct()
        )
        found.update(uid for uid in rows if uid is not None)
    return found


def trips_of_year(year: int) -> ColumnElement[bool]:
    """The condition "a trip departing in calendar ``year``" (for queries that join Event)."""
    start, end = year_bounds(year)
    return and_(Event.kind == KIND, Event.starts_at >= start, Event.starts_at < end)


def pending_applicants(slot_id: int) -> Select[int | None]:
    """The people with a pending application to ``slot_id``, as a subquery."""
    return select(Registration.user_id).where(Registration.slot_id == slot_id, Registration.status == Status.PENDING)


def _holders(year: int, *conditions: ColumnElement[bool]) -> set[int]:
    rows = db.session.scalars(
        select(Registration.user_id)
        .join(Event, Event.id == Registration.event_id)
        .where(trips_of_year(year), Registration.status.in_(list(HOLDING)), *conditions)
        .distinct()
    )
    return {user_id for user_id in rows if user_id is not None}


def trip_holders(user_ids: Iterable[int], year: int, exclude_event_id: int | None = None) -> set[int]:
    """People holding a trip place (confirmed, offered, attended, no-show) in calendar ``year``."""
    ids = list(user_ids)
    elsewhere = [Registration.event_id != exclude_event_id] if exclude_event_id is not None else []
    found: set[int] = set()
    for offset in range(0, len(ids), 900):
        found |= _holders(year, Registration.user_id.in_(ids[offset : offset + 900]), *elsewhere)
    return found


def applicants_holding_a_trip(slot_id: int, year: int, event_id: int) -> set[int]:
    """``trip_holders`` for everyone with a pending application to ``slot_id``, in one query (a draw's
    twenty thousand applicants)."""
    return _holders(year, Event.id != event_id, Registration.user_id.in_(pending_applicants(slot_id)))


def lock_person(user_id: int) -> None:
    """Lock the person's row for the rest of the transaction (PostgreSQL ``FOR UPDATE``; SQLite's
    ``BEGIN IMMEDIATE`` already serialises writers), so two departures cannot both give them a place."""
    if current_app.config.get("BOOKING_LOCKING", True):
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def holding_count(user_id: int, year: int, exclude_registration_id: int | None) -> int:
    query = (
        select(func.count())
        .select_from(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(trips_of_year(year), Registration.user_id == user_id, Registration.status.in_(list(HOLDING)))
    )
    if exclude_registration_id is not None:
        query = query.where(Registration.id != exclude_registration_id)
    return db.session.scalar(query) or 0


def get_departure(event_id: int) -> TripDeparture | None:
    return db.session.get(TripDeparture, event_id)


class TripPolicy(KindPolicy):
    kind = KIND
    label = _l("职工疗休养")
    figures = TripFigures()

    def extra_reasons(self, user: User, event: Event, slot: Slot | None) -> list[str]:
        """Someone who already holds a trip place this calendar year cannot apply for another departure."""
        if trip_holders([user.id], event.starts_at.year, exclude_event_id=event.id):
            return [_("每位职工每年只能参加一次疗休养，您今年已获得名额。")]
        return []

    def waitlist_priority(self, user: User, slot: Slot) -> int:
        """The person's tier on this departure (1 first); the lottery re-computes it when it freezes the
        list."""
        departure = get_departure(slot.event_id)
        rules = (departure.tiers if departure else None) or DEFAULT_TIERS
        never_been_first = departure.never_been_first if departure else True
        been = bool(users_who_have_been([user.id], slot.event.starts_at))
        return tier_of(user.profile, rules, never_been_first, been)

    def before_hold(self, registration: Registration, slot: Slot) -> None:
        """One trip a year: with the slot locked, lock the person's row and refuse a second place that
        year."""
        if registration.user_id is None:
            return
        # Without autoflush: a lottery draw holds thousands of pending transitions of *other* people, and
        # flushing them one by one before each lock made draws slow; this person's places are all flushed.
        with db.session.no_autoflush:
            lock_person(registration.user_id)
            held = holding_count(registration.user_id, slot.event.starts_at.year, registration.id)
        if held > 0:
            raise OneTripPerYear()

    def ticket_lines(self, registration: Registration) -> list[tuple[str, str]]:
        departure = get_departure(registration.event_id)
        lines: list[tuple[str, str]] = []
        if departure is not None:
            lines.append((_("线路"), departure.route.title))
            entry = db.session.scalar(
                select(TripLotteryEntry).where(TripLotteryEntry.registration_id == registration.id)
            )
            if entry is not None:
                lines.append((_("抽签编号"), entry.anon_id))
        return lines


POLICY = TripPolicy()  # registered with the kind registry by ``trips.init_app``


def refuse_holders(user_ids: Sequence[int], year: int, event_id: int) -> set[int]:
    """One trip a year for many people at once (a lottery's winners): lock their rows in ascending id order (the
    order every caller uses), then return those who already hold a trip place in ``year`` on another departure
    — checked under the locks, so a concurrent draw or booking elsewhere cannot give them a second place."""
    ids = sorted(set(user_ids))
    if current_app.config.get("BOOKING_LOCKING", True):
        for offset in range(0, len(ids), 900):
            db.session.execute(
                select(User.id).where(User.id.in_(ids[offset : offset + 900])).order_by(User.id).with_for_update()
            )
    return trip_holders(ids, year, exclude_event_id=event_id)
