"""Trip rules: routes and departures, the frozen applicant list, the verifiable draw, one trip a year,
attendance
details with a deadline, the leader's roster and the yearly target. Functions flush but never commit.

Lock order (DESIGN.md §5): slots first (ascending id, through ``booking.lock_slots``), then people's rows
(``policy.before_hold``). The draw locks, before anything else, its own slot and every other trip slot its
applicants have applied to that year, so two draws sharing applicants serialise instead of deadlocking, and
the
winners' other applications can be withdrawn in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, extract, func, select
from sqlalchemy.orm import aliased

from .. import audit, clock
from ..accounts.models import Profile, User
from ..booking import services as booking
from ..booking.changes import transition_all, transition_many
from ..booking.models import HOLDING, Cause, Registration, Status
from ..booking.window import require_checkin_open
from ..database import insert_rows, is_postgres, update_rows
from ..errors import DomainError, InvalidInput, NotFound
from ..events import services as events
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.reference import PROVINCE_ORG_CODE
from ..orgs.scope import require_manages, scope_condition
from ..outbox import Recipient, enqueue, enqueue_many
from . import lottery
from .errors import AlreadyDrawn, DetailsDeadlinePassed, LotteryNotReady
from .models import (
    DEFAULT_TIERS,
    TIER_RULES,
    Dietary,
    Theme,
    TripAttendance,
    TripDeparture,
    TripLotteryEntry,
    TripRoute,
    TripTarget,
)
from .policy import (
    KIND,
    TripPolicy,
    applicants_holding_a_trip,
    pending_applicants,
    refuse_holders,
    tier_of,
    trips_of_year,
    users_who_have_been,
    year_bounds,
)

DEFAULT_PROVINCE_TARGET = 10_000
POLICY = TripPolicy()

THEME_LABELS = {Theme.RED: "红色", Theme.GREEN: "绿色", Theme.HERITAGE: "古色"}


def theme_label(theme: Theme | str) -> str:
    return _(THEME_LABELS[Theme(theme)])


# --- routes and departures --------------------


@dataclass
class RouteData:
    theme: Theme
    title: str
    organization: Organization
    city: City
    summary: str = ""
    cover_text: str = ""
    itinerary: list[dict[str, Any]] = field(default_factory=list)
    frontline_only: bool = True
    subtree_only: bool = False
    industry_ids: list[int] | None = None


def _clean_itinerary(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for number, day in enumerate(days, start=1):
        places = [str(p).strip()[:40] for p in day.get("places", []) if str(p).strip()]
        cleaned.append({"day": number, "places": places[:10], "text": str(day.get("text", "")).strip()[:500]})
    return cleaned


def create_route(actor: User, data: RouteData) -> TripRoute:
    """An organizer publishes a route for an organization in their subtree: a theme, a title (1–120
    characters) and an itinerary of 1–15 days."""
    require_manages(actor, data.organization)
    errors: dict[str, list[str]] = {}
    if not data.title.strip() or len(data.title) > 120:
        errors["title"] = [_("标题不能为空，且不超过 120 个字符。")]
    if not 1 <= len(data.itinerary) <= 15:
        errors["itinerary"] = [_("行程需为 1 到 15 天。")]
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    route = TripRoute(
        theme=Theme(data.theme),
        title=data.title.strip(),
        summary=data.summary.strip()[:300],
        cover_text=data.cover_text,
        itinerary=_clean_itinerary(data.itinerary),
        organization=data.organization,
        city=data.city,
        frontline_only=data.frontline_only,
        subtree_only=data.subtree_only,
        industry_ids=data.industry_ids,
    )
    db.session.add(route)
    db.session.flush()
    return route


@dataclass
class DepartureData:
    starts_on: date
    seats: int
    signup_opens_at: datetime
    signup_closes_at: datetime
    allocation: Allocation = Allocation.LOTTERY
    venue: str = ""
    tiers: list[str] = field(default_factory=lambda: list(DEFAULT_TIERS))
    never_been_first: bool = True
    details_hours: int = 72
    offer_hours: int = 48
    published: bool = True


def create_departure(actor: User, route: TripRoute, data: DepartureData) -> TripDeparture:
    """A departure (团期) is one trip Event with exactly one Slot whose window is the event's sign-up window.
    Allocation is first-come or lottery; eligibility comes from the route; tiers are known rules."""
    if data.allocation not in (Allocation.FIRST_COME, Allocation.LOTTERY):
        raise InvalidInput(_("分配方式只能是先到先得或截止后抽签。"), fields={"allocation": [_("分配方式无效。")]})
    unknown = [t for t in data.tiers if t not in TIER_RULES]
    if unknown or not data.tiers:
        raise InvalidInput(_("优先档次设置无效。"), fields={"tiers": [_("优先档次设置无效。")]})
    if not 1 <= data.details_hours <= 24 * 30:
        raise InvalidInput(_("确认出行信息时限需在 1 小时到 30 天之间。"), fields={"details_hours": [_("时限无效。")]})
    days = max(route.days, 1)
    starts = datetime.combine(data.starts_on, datetime.min.time()).replace(hour=8)
    # The trip's last day too; checked before any date sum is made from the departure date (the first check
    # keeps the second from overflowing).
    problem = events.date_problem(starts) or events.date_problem(starts + timedelta(days=days))
    if problem:
        raise InvalidInput(problem, fields={"starts_on": [problem]})
    if data.signup_closes_at > starts:
        message = _("报名截止时间须早于出发时间。")
        raise InvalidInput(message, fields={"signup_closes_at": [message]})
    ends = starts + timedelta(days=days - 1, hours=10)
    event = events.create_event(
        actor,
        events.EventData(
            kind=KIND,
            title=_("%(route)s（%(d)s团）", route=route.title, d=data.starts_on.strftime("%m月%d日")),
            city=route.city,
            organization=route.organization,
            starts_at=starts,
            ends_at=ends,
            signup_opens_at=data.signup_opens_at,
            signup_closes_at=data.signup_closes_at,
            description=route.summary,
            venue=data.venue,
            cancel_deadline=starts - timedelta(days=3),
            frontline_only=route.frontline_only,
            subtree_only=route.subtree_only,
            industry_ids=route.industry_ids,
            published=data.published,
            slots=[
                events.SlotData(
                    starts_at=starts,
                    ends_at=ends,
                    capacity=data.seats,
                    allocation=data.allocation,
                    waitlist_policy=WaitlistPolicy.OFFER,
                    offer_hours=data.offer_hours,
                    signup_opens_at=data.signup_opens_at,
                    signup_closes_at=data.signup_closes_at,
                )
            ],
        ),
    )
    departure = TripDeparture(
        event=event,
        route=route,
        tiers=list(data.tiers),
        never_been_first=data.never_been_first,
        details_hours=data.details_hours,
    )
    db.session.add(departure)
    db.session.flush()
    return departure


@dataclass
class RouteCard:
    route: TripRoute
    departures: list[Event]  # not started (or, on a route page, not ended), soonest first
    past: list[Event] = field(default_factory=list)  # started or ended: shown folded, never offered

    @property
    def cover(self) -> tuple[str, str] | None:
        """The picture the route shows (stored name, description): its own cover, else the cover of its soonest
        listed departure that has one, else none."""
        if self.route.cover_image:
            return self.route.cover_image, self.route.cover_alt
        for event in self.departures:
            if event.cover_image:
                return event.cover_image, event.cover_alt
        return None


def month_bounds(month: str | None) -> tuple[datetime, datetime] | None:
    """ "2026-05" → the first moment of May and of June; anything else → None."""
    if not month or not re.fullmatch(r"\d{4}-\d{2}", month):
        return None
    year, number = int(month[:4]), int(month[5:])
    if not 1 <= number <= 12 or not 2000 <= year <= 2100:
        return None
    start = datetime(year, number, 1)
    end = datetime(year + (number == 12), number % 12 + 1, 1)
    return start, end


def list_routes(theme: str | None = None, month: str | None = None) -> list[RouteCard]:
    """Published routes with their published, not cancelled, not yet ended departures (soonest first);
    filtered by theme, and by month (then only routes with a departure starting that month)."""
    query = select(TripRoute).where(TripRoute.published.is_(True)).order_by(TripRoute.theme, TripRoute.id)
    if theme in {t.value for t in Theme}:
        query = query.where(TripRoute.theme == theme)
    routes = list(db.session.scalars(query).unique())
    dep_query = (
        select(Event, TripDeparture.route_id)
        .join(TripDeparture, TripDeparture.event_id == Event.id)
        .where(Event.published.is_(True), Event.cancelled_at.is_(None), Event.ends_at >= clock.now())
        .order_by(Event.starts_at, Event.id)
    )
    bounds = month_bounds(month)
    if bounds:
        dep_query = dep_query.where(Event.starts_at >= bounds[0], Event.starts_at < bounds[1])
    by_route: dict[int, list[Event]] = {}
    for event, route_id in db.session.execute(dep_query).unique():
        by_route.setdefault(route_id, []).append(event)
    cards = [RouteCard(route, by_route.get(route.id, [])) for route in routes]
    if bounds:
        cards = [card for card in cards if card.departures]
    return cards


def get_route(route_id: int) -> RouteCard:
    """A published route with its published departures: those not started yet first, soonest first (cancelled
    ones among them keep their notice), then those that started or ended, latest first, apart (issue 21, item 6)."""
    route = db.session.get(TripRoute, route_id)
    if route is None or not route.published:
        raise NotFound()
    departures = db.session.scalars(
        select(Event)
        .join(TripDeparture, TripDeparture.event_id == Event.id)
        .where(TripDeparture.route_id == route.id, Event.published.is_(True))
        .order_by(Event.starts_at, Event.id)
    ).unique()
    now = clock.now()
    coming: list[Event] = []
    past: list[Event] = []
    for event in departures:
        (coming if event.starts_at > now else past).append(event)
    return RouteCard(route, coming, list(reversed(past)))


def managed_route(actor: User, route_id: int) -> TripRoute:
    """A route (published or not) of an organization the organizer manages; outside their subtree it does not
    exist (404), so ids cannot be probed."""
    route = db.session.get(TripRoute, route_id)
    if route is None:
        raise NotFound()
    require_manages(actor, route.organization)
    return route


def get_departure(event_id: int) -> TripDeparture:
    departure = db.session.get(TripDeparture, event_id)
    if departure is None:
        raise NotFound()
    return departure


def get_public_departure(event_id: int) -> TripDeparture:
    departure = get_departure(event_id)
    if not departure.event.published:
        raise NotFound()
    return departure


def get_managed_departure(actor: User, event_id: int) -> TripDeparture:
    """A departure the organizer manages; outside their subtree it does not exist (404)."""
    departure = get_departure(event_id)
    require_manages(actor, departure.event.organization)
    return departure


def slot_of(departure: TripDeparture) -> Slot:
    return departure.event.slots[0]


# --- the lottery --------------------


def _window_closed(slot: Slot, now: datetime) -> bool:
    return now >= slot.window()[1]


def freeze(departure: TripDeparture, now: datetime | None = None, actor: User | None = None) -> bool:
    """Freeze a lottery departure's applicant list once its window has closed: every pending application gets
    an anonymised id and its tier (computed now), and the canonical list's SHA-256 is recorded. Returns False
    when already frozen; the list never changes afterwards. The freeze is audited (``trip.freeze``: the count
    and the hash; ``actor`` None when the scheduler freezes)."""
    now = now or clock.now()
    slot = slot_of(departure)
    if slot.allocation != Allocation.LOTTERY:
        raise LotteryNotReady(_("该团期为先到先得，无需抽签。"))
    if departure.frozen_at is not None:
        return False
    if not _window_closed(slot, now):
        raise LotteryNotReady(_("报名截止后才能冻结申请名单。"))
    # Plain rows, not ORM objects: a popular departure freezes tens of thousands of applications.
    rows = db.session.execute(
        select(Registration.id, Registration.user_id, Profile.model_worker, Profile.frontline, Profile.industry_id)
        .outerjoin(Profile, Profile.user_id == Registration.user_id)
        .where(Registration.slot_id == slot.id, Registration.status == Status.PENDING)
        .order_by(Registration.id)
    ).all()
    been = users_who_have_been([row.user_id for row in rows if row.user_id is not None], departure.event.starts_at)
    rules = departure.tiers or DEFAULT_TIERS
    secret = current_app.config["SECRET_KEY"]
    applicants = []
    entries = []
    for row in rows:
        profile = row if row.frontline is not None else None  # no profile row: no attribute matches
        tier = tier_of(profile, rules, departure.never_been_first, row.user_id in been)
        anon = lottery.anon_id_for(secret, row.id)
        applicants.append(lottery.Applicant(anon, tier))
        entries.append({"event_id": departure.event_id, "registration_id": row.id, "anon_id": anon, "tier": tier})
    insert_rows(TripLotteryEntry.__table__, entries)  # type: ignore[arg-type]
    departure.applicants_hash = lottery.applicants_hash(applicants)
    departure.algorithm_version = lottery.ALGORITHM_VERSION
    departure.frozen_at = now
    db.session.flush()
    audit.record(
        actor,
        "trip.freeze",
        "event",
        departure.event_id,
        {"applicants": len(applicants), "sha256": departure.applicants_hash},
        org=departure.event.organization,
    )
    return True


def set_public_value(actor: User, event_id: int, value: str, note: str = "", now: datetime | None = None) -> None:
    """The organizer enters the public value once, after the list is frozen (freezing it now if the window has
    closed), so nobody can pick a value knowing the list; it cannot be changed, and not after the draw. Audited
    (``trip.public_value``, with the value: it is public)."""
    now = now or clock.now()
    departure = get_managed_departure(actor, event_id)
    booking.lock_slot(slot_of(departure).id)
    db.session.refresh(departure)
    if departure.drawn_at is not None:
        raise AlreadyDrawn()
    if departure.public_value:
        raise LotteryNotReady(_("公开随机数一经录入不能修改。"))
    cleaned = lottery.normalise_public_value(value)
    if not cleaned or len(cleaned) > lottery.PUBLIC_VALUE_MAX:
        message = _("请填写公开随机数（1 到 64 个字符）。")
        raise InvalidInput(message, fields={"public_value": [message]})
    freeze(departure, now, actor)
    departure.public_value = cleaned
    departure.public_value_note = " ".join(note.split())[:120]
    departure.public_value_set_at = now
    db.session.flush()
    audit.record(
        actor, "trip.public_value", "event", departure.event_id, {"value": cleaned}, org=departure.event.organization
    )


@dataclass
class DrawResult:
    """What a draw decided, in rank order (rows with the registration's ``id`` and ``user_id``)."""

    confirmed: list[Any] = field(default_factory=list)
    waitlisted: list[Any] = field(default_factory=list)
    not_drawn: list[Any] = field(default_factory=list)
    skipped: list[Any] = field(default_factory=list)  # already holding a trip place this year: withdrawn
    withdrawn_elsewhere: int = 0


def _related_slot_ids(slot: Slot, year: int) -> set[int]:
    """Trip slots of the same year where this slot's pending applicants also have a pending/waitlisted
    application."""
    rows = db.session.scalars(
        select(Registration.slot_id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            trips_of_year(year),
            Registration.status.in_([Status.PENDING, Status.WAITLISTED]),
            Registration.user_id.in_(pending_applicants(slot.id)),
        )
        .distinct()
    )
    return set(rows) | {slot.id}


# What the draw reads of each registration: what ``transition_many`` needs, plus who to tell.
_REGISTRATION_STATE = (
    Registration.id,
    Registration.user_id,
    Registration.status,
    Registration.gender,
    Registration.waitlisted_at,
    Registration.confirmed_at,
    Registration.offer_expires_at,
)


def _load_applicants(event_id: int) -> dict[str, Any]:
    """The frozen list's entries with their registrations' current state and whom to tell, as plain rows keyed
    by anonymised id (twenty thousand ORM objects would cost more than the whole draw)."""
    rows = db.session.execute(
        select(TripLotteryEntry.anon_id, *_REGISTRATION_STATE, User.email, User.phone, User.deleted_at)
        .join(Registration, Registration.id == TripLotteryEntry.registration_id)
        .outerjoin(User, User.id == Registration.user_id)
        .where(TripLotteryEntry.event_id == event_id)
    ).all()
    return {row.anon_id: row for row in rows}


def draw_lottery(event_id: int, now: datetime | None = None, actor: User | None = None) -> DrawResult:
    """Draw a lottery departure once: after its window has closed and its public value is set. The frozen list
    is ranked (``trips.lottery``); walking the ranking, applicants take the seats unless they already hold a
    trip this year (skipped and withdrawn) or no longer apply; the rest are waitlisted in rank order (or not
    drawn when the departure keeps no waitlist). Winners' other pending/waitlisted trip applications that year
    are withdrawn. Everyone is told the result once the draw has committed (``announce_results``). A drawn
    departure raises AlreadyDrawn. Callers outside the scheduler check scope first.

    Every decision is written set-wise (one UPDATE and one history INSERT per outcome), so a draw of 20,000
    applicants costs a handful of statements (bench/lottery.py). The draw is audited (``trip.draw``: counts per
    outcome; ``actor`` None when the scheduler draws)."""
    now = now or clock.now()
    departure = get_departure(event_id)
    event = departure.event
    slot = slot_of(departure)
    if slot.allocation != Allocation.LOTTERY:
        raise LotteryNotReady(_("该团期为先到先得，无需抽签。"))
    year = event.starts_at.year
    locked = {s.id: s for s in booking.lock_slots(_related_slot_ids(slot, year))}
    slot = locked[slot.id]
    db.session.refresh(departure)
    if departure.drawn_at is not None:
        raise AlreadyDrawn()
    if event.is_cancelled:
        raise LotteryNotReady(_("该团期已取消。"))
    if not _window_closed(slot, now):
        raise LotteryNotReady(_("报名截止后才能抽签。"))
    if not departure.public_value:
        raise LotteryNotReady(_("请先录入公开随机数。"))
    freeze(departure, now, actor)
    db.session.flush()
    applicants = _load_applicants(event.id)
    entries = db.session.execute(
        select(TripLotteryEntry.id, TripLotteryEntry.anon_id, TripLotteryEntry.tier).where(
            TripLotteryEntry.event_id == event.id
        )
    ).all()
    entry_ids = {entry.anon_id: entry.id for entry in entries}
    ranking = lottery.rank(
        [lottery.Applicant(entry.anon_id, entry.tier) for entry in entries],
        departure.public_value,
        departure.applicants_hash,
    )
    in_rank_order = [(position, applicants.get(a.anon_id), a.anon_id) for position, a in enumerate(ranking, 1)]
    pending = [(position, row) for position, row, _anon in in_rank_order if row and row.status == Status.PENDING]
    result, ranks = _decide(pending, slot, year, event.id)
    outcome_of = {row.id: outcome for outcome, rows in _outcomes(result).items() for row in rows}
    update_rows(
        TripLotteryEntry.__table__,  # type: ignore[arg-type]
        [
            {
                "id": entry_ids[anon],
                "rank": position,
                "outcome": outcome_of.get(row.id, "withdrawn") if row is not None else "withdrawn",
            }
            for position, row, anon in in_rank_order
        ],
    )
    transition_many(
        result.skipped,
        Status.CANCELLED,
        actor=actor,
        cause=Cause.LOTTERY,
        reason="lottery: already holds a trip place this year",
        slot=slot,
    )
    transition_many(
        result.confirmed,
        Status.CONFIRMED,
        actor=actor,
        cause=Cause.LOTTERY,
        reason="lottery: drawn",
        slot=slot,
        values=[{"priority": ranks[row.id]} for row in result.confirmed],
    )
    # Everyone else still pending on the frozen list waits in rank order (or is not drawn), decided by the
    # database in two statements whatever the number of applicants.
    # Joined to the entries rather than filtered by a subquery: the planner picks a good plan even before the
    # freshly written entries have statistics.
    still_pending = and_(
        Registration.status == Status.PENDING,
        TripLotteryEntry.registration_id == Registration.id,
        TripLotteryEntry.event_id == event.id,
    )
    if result.waitlisted:
        transition_all(
            slot,
            still_pending,
            Status.WAITLISTED,
            cause=Cause.LOTTERY,
            reason="lottery: waitlisted",
            values={"priority": TripLotteryEntry.rank},
            actor=actor,
        )
    elif result.not_drawn:
        transition_all(
            slot, still_pending, Status.REJECTED, cause=Cause.LOTTERY, reason="lottery: not drawn", actor=actor
        )
    result.withdrawn_elsewhere = _withdraw_other_applications(
        [row.user_id for row in result.confirmed if row.user_id],
        {i: s for i, s in locked.items() if i != slot.id},
        actor,
    )
    departure.drawn_at = now
    departure.drawn_by_id = actor.id if actor is not None else None
    db.session.flush()
    audit.record(
        actor,
        "trip.draw",
        "event",
        departure.event_id,
        {
            "confirmed": len(result.confirmed),
            "waitlisted": len(result.waitlisted),
            "not_drawn": len(result.not_drawn),
            "skipped": len(result.skipped),
            "withdrawn_elsewhere": result.withdrawn_elsewhere,
        },
        org=event.organization,
    )
    return result


def _decide(pending: list[tuple[int, Any]], slot: Slot, year: int, event_id: int) -> tuple[DrawResult, dict[int, int]]:
    """Walk the pending applicants in rank order: the first ones take the seats, except people who already hold
    a trip place this year (one trip a year, checked again with their rows locked: ``refuse_holders``); the rest
    wait in rank order, or are not drawn when the departure keeps no waitlist."""
    result = DrawResult()
    ranks = {row.id: position for position, row in pending}
    holders = applicants_holding_a_trip(slot.id, year, event_id)
    seats = slot.available
    queue = iter(pending)
    rest: list[Any] = []
    while len(result.confirmed) < seats:
        candidates = []
        for _position, row in queue:
            if row.user_id in holders:
                result.skipped.append(row)
                continue
            candidates.append(row)
            if len(candidates) == seats - len(result.confirmed):
                break
        if not candidates:
            break
        refused = refuse_holders([row.user_id for row in candidates if row.user_id], year, event_id)
        for row in candidates:
            (result.skipped if row.user_id in refused else result.confirmed).append(row)
    for _position, row in queue:
        if row.user_id in holders:
            result.skipped.append(row)
        else:
            rest.append(row)
    if slot.waitlist_policy != WaitlistPolicy.NONE:
        result.waitlisted = rest
    else:
        result.not_drawn = rest
    return result, ranks


def _outcomes(result: DrawResult) -> dict[str, list[Any]]:
    return {
        "confirmed": result.confirmed,
        "waitlisted": result.waitlisted,
        "not_drawn": result.not_drawn,
        "skipped": result.skipped,
    }


def _withdraw_other_applications(user_ids: list[int], other_slots: dict[int, Slot], actor: User | None) -> int:
    """Winning one departure withdraws the person's pending/waitlisted applications to the other (locked)
    departures of that year, set-wise per departure."""
    if not user_ids or not other_slots:
        return 0
    by_slot: dict[int, list[Any]] = {}
    for offset in range(0, len(user_ids), 900):
        for row in db.session.execute(
            select(Registration.slot_id, *_REGISTRATION_STATE)
            .where(
                Registration.user_id.in_(user_ids[offset : offset + 900]),
                Registration.slot_id.in_(sorted(other_slots)),
                Registration.status.in_([Status.PENDING, Status.WAITLISTED]),
            )
            .order_by(Registration.slot_id, Registration.id)
        ):
            by_slot.setdefault(row.slot_id, []).append(row)
    for slot_id, rows in by_slot.items():
        transition_many(
            rows,
            Status.CANCELLED,
            actor=actor,
            cause=Cause.WITHDRAWN,
            reason="withdrawn: won another departure this year",
            slot=other_slots[slot_id],
        )
    return sum(len(rows) for rows in by_slot.values())


def _withdraw(registration: Registration, actor: User | None, reason: str) -> None:
    booking.cancel(registration, actor=actor, reason=reason, by_organizer=True, cause=Cause.WITHDRAWN)


def announce_results(now: datetime) -> int:
    """Scheduler task: tell every applicant of a drawn departure their result — one essential "lottery_result"
    message each (confirmed with the details deadline, waitlisted with the position, or not drawn), written in
    one statement. The draw commits the decision alone, so its locks are held briefly; the messages follow within
    a tick. Safe on several schedulers (the departure row is claimed) and if run twice (idempotency keys).
    Returns how many departures were announced."""
    claim = (
        select(TripDeparture)
        .where(TripDeparture.drawn_at.is_not(None), TripDeparture.results_announced_at.is_(None))
        .order_by(TripDeparture.event_id)
    )
    if is_postgres():
        claim = claim.with_for_update(skip_locked=True, of=TripDeparture)
    departures = db.session.scalars(claim).unique().all()
    for departure in departures:
        _announce(departure)
        departure.results_announced_at = now
    db.session.flush()
    return len(departures)


def _announce(departure: TripDeparture) -> None:
    """The result messages of one drawn departure, in rank order. The message carries the facts; its words are
    rendered at delivery in the recipient's language (``notifications/messages/lottery_result.txt``)."""
    event = departure.event
    rows = db.session.execute(
        select(
            TripLotteryEntry.outcome,
            Registration.id,
            Registration.confirmed_at,
            User.id.label("user_id"),
            User.email,
            User.phone,
            User.deleted_at,
        )
        .join(Registration, Registration.id == TripLotteryEntry.registration_id)
        .join(User, User.id == Registration.user_id)
        .where(
            TripLotteryEntry.event_id == event.id,
            TripLotteryEntry.outcome.in_(["confirmed", "waitlisted", "not_drawn"]),
        )
        .order_by(TripLotteryEntry.rank)
    ).all()
    base = {"event_id": event.id, "event_title": event.title, "link": f"/events/{event.id}"}
    messages = []
    waitlisted = 0
    for row in rows:
        facts: dict[str, Any] = {"outcome": row.outcome}
        if row.outcome == "confirmed" and row.confirmed_at is not None:
            facts["details_deadline"] = _details_deadline_from(row.confirmed_at, departure).isoformat(sep=" ")
        elif row.outcome == "waitlisted":
            waitlisted += 1
            facts["waitlist_position"] = waitlisted
        messages.append(
            {
                "user": Recipient(row.user_id, row.email, row.phone, row.deleted_at),
                "kind": "lottery_result",
                "subject": f"trip-lottery:{event.id}",
                "template": "lottery_result",
                "data": {**base, "registration_id": row.id, **facts},
                "essential": True,
            }
        )
    enqueue_many(messages)


def draw_due(now: datetime) -> int:
    """Scheduler task: freeze lottery departures whose window has closed, draw those whose public value is
    set,
    and withdraw applications superseded by a place won elsewhere. Returns how many things it did."""
    done = 0
    due = db.session.execute(
        select(TripDeparture.event_id, TripDeparture.frozen_at, TripDeparture.public_value)
        .join(Slot, Slot.event_id == TripDeparture.event_id)
        .join(Event, Event.id == TripDeparture.event_id)
        .where(
            TripDeparture.drawn_at.is_(None),
            Slot.allocation == Allocation.LOTTERY,
            Event.cancelled_at.is_(None),
            Event.published.is_(True),
            func.coalesce(Slot.signup_closes_at, Event.signup_closes_at) <= now,
        )
        .order_by(TripDeparture.event_id)
    ).all()
    for event_id, frozen_at, public_value in due:
        try:
            with db.session.begin_nested():
                if public_value:
                    draw_lottery(event_id, now)
                    done += 1
                elif frozen_at is None:
                    departure = get_departure(event_id)
                    booking.lock_slot(slot_of(departure).id)
                    db.session.refresh(departure)
                    done += int(freeze(departure, now))
        except DomainError:
            continue
    return done + withdraw_superseded(now)


def withdraw_superseded(now: datetime) -> int:
    """Withdraw pending/waitlisted applications to departures not yet started whose applicant already holds a
    trip place in that calendar year (e.g. won by a first-come booking or an accepted offer elsewhere)."""
    held = aliased(Registration)
    held_event = aliased(Event)
    superseded = exists().where(
        held.user_id == Registration.user_id,
        held.status.in_(list(HOLDING)),
        held_event.id == held.event_id,
        held_event.kind == KIND,
        held_event.id != Event.id,
        extract("year", held_event.starts_at) == extract("year", Event.starts_at),
    )
    ids = db.session.scalars(
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Event.kind == KIND,
            Event.starts_at > now,
            Registration.status.in_([Status.PENDING, Status.WAITLISTED]),
            superseded,
        )
        .order_by(Registration.slot_id, Registration.id)
    ).all()
    count = 0
    for registration_id in ids:
        registration = db.session.get(Registration, registration_id)
        if registration is None or registration.status not in (Status.PENDING, Status.WAITLISTED):
            continue
        _withdraw(registration, None, "withdrawn: holds another trip place this year")
        count += 1
    return count


def lottery_export(event_id: int, *, published_only: bool = True) -> dict[str, Any]:
    """The published record of a departure's lottery: enough for anyone to re-run it (``lottery.verify``)."""
    departure = get_public_departure(event_id) if published_only else get_departure(event_id)
    event = departure.event
    entries = list(
        db.session.scalars(
            select(TripLotteryEntry).where(TripLotteryEntry.event_id == event.id).order_by(TripLotteryEntry.anon_id)
        )
    )
    ranked = sorted((e for e in entries if e.rank is not None), key=lambda e: e.rank or 0)
    return {
        "algorithm_version": departure.algorithm_version or lottery.ALGORITHM_VERSION,
        "departure_id": event.id,
        "title": event.title,
        "seats": slot_of(departure).capacity,
        "frozen_at": departure.frozen_at.isoformat(sep=" ") if departure.frozen_at else None,
        "applicants_hash": departure.applicants_hash,
        "public_value": departure.public_value,
        "public_value_note": departure.public_value_note,
        "drawn_at": departure.drawn_at.isoformat(sep=" ") if departure.drawn_at else None,
        "applicants": [{"id": e.anon_id, "tier": e.tier} for e in entries],
        "ranking": [e.anon_id for e in ranked],
        "outcomes": {e.anon_id: e.outcome for e in ranked},
    }


def verify_departure(event_id: int) -> lottery.Verification:
    """Re-run a drawn departure's lottery from what is stored and published."""
    departure = get_departure(event_id)
    if departure.drawn_at is None:
        return lottery.Verification(False, "not drawn yet")
    return lottery.verify(lottery_export(event_id, published_only=False))


def my_entry(user: User, event_id: int) -> TripLotteryEntry | None:
    return db.session.scalar(
        select(TripLotteryEntry)
        .join(Registration, Registration.id == TripLotteryEntry.registration_id)
        .where(TripLotteryEntry.event_id == event_id, Registration.user_id == user.id)
    )


def anon_id_preview(registration: Registration) -> str:
    """The lottery number an application will carry (shown before the freeze, so people can find
    themselves)."""
    return lottery.anon_id_for(current_app.config["SECRET_KEY"], registration.id)


# --- after allocation --------------------


def details_deadline(registration: Registration, departure: TripDeparture) -> datetime | None:
    """Confirmed people give attendance details within ``details_hours`` of confirmation, and at the latest a
    day before departure."""
    if registration.confirmed_at is None:
        return None
    return _details_deadline_from(registration.confirmed_at, departure)


def _details_deadline_from(confirmed_at: datetime, departure: TripDeparture) -> datetime:
    return min(
        confirmed_at + timedelta(hours=departure.details_hours),
        departure.event.starts_at - timedelta(days=1),
    )


@dataclass
class DetailsData:
    emergency_name: str
    emergency_phone: str
    dietary: str = Dietary.NONE.value
    dietary_note: str = ""


PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def get_own_trip_registration(user: User, registration_id: int) -> tuple[Registration, TripDeparture]:
    registration = booking.get_registration_for(user, registration_id)
    departure = db.session.get(TripDeparture, registration.event_id)
    if departure is None:
        raise NotFound()
    return registration, departure


def attendance_for(registration_id: int) -> TripAttendance | None:
    return db.session.get(TripAttendance, registration_id)


def submit_details(user: User, registration_id: int, data: DetailsData, now: datetime | None = None) -> TripAttendance:
    """A confirmed person confirms attendance details (an emergency contact with a valid phone number, dietary
    needs) before their deadline; they may correct them until then."""
    now = now or clock.now()
    registration, departure = get_own_trip_registration(user, registration_id)
    if registration.status != Status.CONFIRMED:
        raise DomainError(_("只有已确认名额的职工需要确认出行信息。"))
    deadline = details_deadline(registration, departure)
    if deadline is not None and now > deadline:
        raise DetailsDeadlinePassed()
    errors: dict[str, list[str]] = {}
    name = " ".join(data.emergency_name.split())
    phone = data.emergency_phone.strip()
    if not 1 <= len(name) <= 60:
        errors["emergency_name"] = [_("请填写紧急联系人姓名。")]
    if not PHONE_RE.match(phone):
        errors["emergency_phone"] = [_("请填写正确的紧急联系人电话。")]
    if data.dietary not in {d.value for d in Dietary}:
        errors["dietary"] = [_("请选择饮食需求。")]
    if len(data.dietary_note) > 200:
        errors["dietary_note"] = [_("备注不超过 200 个字。")]
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    attendance = db.session.get(TripAttendance, registration.id) or TripAttendance(registration_id=registration.id)
    attendance.emergency_name = name
    attendance.emergency_phone = phone
    attendance.dietary = Dietary(data.dietary)
    attendance.dietary_note = data.dietary_note.strip()
    attendance.confirmed_at = now
    db.session.add(attendance)
    db.session.flush()
    return attendance


def expire_details(now: datetime) -> int:
    """Scheduler task: a confirmed person who has not confirmed attendance details by their deadline loses the
    place, which passes to the next on the waitlist (an offer). Returns how many places were released."""
    rows = db.session.execute(
        select(Registration.id, TripDeparture.event_id)
        .join(TripDeparture, TripDeparture.event_id == Registration.event_id)
        .join(Event, Event.id == Registration.event_id)
        .outerjoin(TripAttendance, TripAttendance.registration_id == Registration.id)
        .where(
            Registration.status == Status.CONFIRMED,
            TripAttendance.registration_id.is_(None),
            Event.starts_at > now,
            Event.cancelled_at.is_(None),
        )
        .order_by(Registration.slot_id, Registration.id)
    ).all()
    released = 0
    for registration_id, event_id in rows:
        departure = get_departure(event_id)
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            continue
        deadline = details_deadline(registration, departure)
        if deadline is None or now < deadline:
            continue
        _withdraw(registration, None, "attendance details not confirmed by the deadline")
        if registration.status == Status.CANCELLED and registration.user is not None:
            enqueue(
                registration.user,
                "trip_place_lost",
                f"trip-details:{registration.id}",
                template="trip_place_lost",
                data={
                    "event_id": event_id,
                    "event_title": departure.event.title,
                    "title": _("疗休养名额已释放：%(t)s", t=departure.event.title),
                    "body": _(
                        "您未在截止时间前确认出行信息，「%(t)s」的名额已让给候补职工。如有疑问请联系组织者。",
                        t=departure.event.title,
                    ),
                    "link": f"/events/{event_id}",
                },
                essential=True,
            )
            released += 1
    return released


@dataclass
class RosterRow:
    registration: Registration
    attendance: TripAttendance | None
    deadline: datetime | None


def roster(actor: User, event_id: int) -> tuple[TripDeparture, list[RosterRow], list[Registration]]:
    """The trip leader's roster: people holding a place with their attendance details, then the waitlist."""
    departure = get_managed_departure(actor, event_id)
    slot = slot_of(departure)
    holding = db.session.scalars(
        select(Registration)
        .join(User, User.id == Registration.user_id, isouter=True)
        .where(Registration.slot_id == slot.id, Registration.status.in_(list(HOLDING)))
        .order_by(User.name, Registration.id)
    ).all()
    details = {
        a.registration_id: a
        for a in db.session.scalars(
            select(TripAttendance).where(TripAttendance.registration_id.in_([r.id for r in holding] or [0]))
        )
    }
    rows = [RosterRow(r, details.get(r.id), details_deadline(r, departure)) for r in holding]
    waiting = db.session.scalars(
        select(Registration)
        .where(Registration.slot_id == slot.id, Registration.status == Status.WAITLISTED)
        .order_by(Registration.priority, Registration.waitlisted_at, Registration.id)
    ).all()
    return departure, rows, list(waiting)


def check_in_participant(actor: User, event_id: int, registration_id: int) -> bool:
    """The leader records attendance for someone on this departure's roster, only inside the check-in window
    (from a few hours before departure to the trip's end); a repeat is harmless."""
    departure = get_managed_departure(actor, event_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != departure.event_id:
        raise NotFound()
    if registration.status in (Status.CONFIRMED, Status.NO_SHOW):  # the others are refused by the engine
        require_checkin_open(departure.event, clock.now())
    return booking.check_in(registration, actor=actor)


def managed_departures(actor: User) -> list[TripDeparture]:
    return list(
        db.session.scalars(
            select(TripDeparture)
            .join(Event, Event.id == TripDeparture.event_id)
            .join(Organization, Organization.id == Event.organization_id)
            .where(scope_condition(actor, Organization.path))
            .order_by(Event.starts_at.desc())
        ).unique()
    )


def draw_by_organizer(actor: User, event_id: int) -> DrawResult:
    """The organizer's button: the same draw as the scheduler's, for a departure in their subtree."""
    get_managed_departure(actor, event_id)
    return draw_lottery(event_id, clock.now(), actor)


# --- targets --------------------


def target_places(year: int, organization: Organization) -> int | None:
    """The organization's target for ``year``; the province defaults to 10,000 places."""
    places = db.session.scalar(
        select(TripTarget.places).where(TripTarget.year == year, TripTarget.organization_id == organization.id)
    )
    if places is None and organization.code == PROVINCE_ORG_CODE:
        return DEFAULT_PROVINCE_TARGET
    return places


def allocated_places(year: int, organization: Organization) -> int:
    """Places allocated: registrations of trip departures that year (organized in the subtree) confirmed,
    attended or no-show."""
    start, end = year_bounds(year)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .join(Event, Event.id == Registration.event_id)
            .join(Organization, Organization.id == Event.organization_id)
            .where(
                Event.kind == KIND,
                and_(Event.starts_at >= start, Event.starts_at < end),
                Organization.path.startswith(organization.path, autoescape=True),
                Registration.status.in_([Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW]),
            )
        )
        or 0
    )


def set_target(actor: User, year: int, organization: Organization, places: int) -> TripTarget:
    """An organizer sets the yearly target of an organization they manage (0–1,000,000 places)."""
    require_manages(actor, organization)
    return save_target(year, organization, places)


def save_target(year: int, organization: Organization, places: int) -> TripTarget:
    """Create or update the target of ``organization`` for ``year`` (years 2000–2100, 0–1,000,000 places)."""
    if not 2000 <= year <= 2100 or not 0 <= places <= 1_000_000:
        raise InvalidInput(_("请填写有效的年份和名额数。"))
    target = db.session.scalar(
        select(TripTarget).where(TripTarget.year == year, TripTarget.organization_id == organization.id)
    )
    if target is None:
        target = TripTarget(year=year, organization_id=organization.id, places=places)
        db.session.add(target)
    target.places = places
    db.session.flush()
    return target
