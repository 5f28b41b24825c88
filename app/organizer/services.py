"""The organizer console's rules: scoped look-ups, event lifecycle, rosters, check-in at the door, messages.

Every function takes the acting organizer (or admin) first and checks the scope itself (an object outside the
actor's organization subtree raises NotFound, never Forbidden). Seat changes go through ``booking.services``.
Every action writes an audit row. Functions flush but never commit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import selectinload

from .. import audit, clock, outbox
from ..accounts import services as accounts
from ..accounts.models import Gender, Role, User
from ..booking import services as booking
from ..booking.errors import IllegalTransition
from ..booking.models import ACTIVE, HOLDING, Registration, Status
from ..booking.window import ENDED, TOO_EARLY, checkin_window, refusal_message
from ..errors import DomainError, Forbidden, InvalidInput, NotFound
from ..events.kinds import policy_for
from ..events.models import Event, Slot
from ..events.services import (
    EventData,
    SlotData,
    clean_reminder_hours,
    create_event,
    date_range,
    managed_event,
    validate_event,
)
from ..extensions import db
from ..freetext import TextRefused, clean_text, text_problem
from ..orgs.models import Organization
from ..orgs.scope import manages, require_manages, scope_condition
from ..signals import event_times_changed
from .models import CheckinScan, RosterTag

MAX_TAG_LENGTH = 20
MAX_MESSAGE_RECIPIENTS = 2000


# --- scope ----------------------------------------------------------------------------------------------------


def require_organizer(actor: User) -> None:
    """Only organizers and admins use the console; anyone else is refused with Forbidden."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in (Role.ORGANIZER, Role.ADMIN):
        raise Forbidden()


def audit_trail(actor: User, filters: audit.AuditFilter) -> tuple[list[audit.AuditEntry], int]:
    """The audit rows an organizer may read: those of their organization's subtree (one prefix query on the
    row's organization path), without the ``view.*`` rows (who looked at whose data), which admins alone read."""
    require_organizer(actor)
    return audit.search(filters, viewer=actor)


def export_audit_trail(actor: User, filters: audit.AuditFilter) -> list[audit.AuditEntry]:
    """Every row of ``audit_trail`` that matches, for a CSV; the export is itself audited (``audit.export``)."""
    require_organizer(actor)
    entries = audit.all_matching(filters, viewer=actor)
    audit.record(actor, "audit.export", "audit", None, {"rows": len(entries), "action": filters.action})
    return entries


def require_admin(actor: User) -> None:
    """Pages for the whole province (the audit trail) are for admins only."""
    if actor is None or actor.role != Role.ADMIN:
        raise Forbidden()


def get_event(actor: User, event_id: int) -> Event:
    """An event of an organization the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    return managed_event(actor, event_id)


def get_slot(actor: User, slot_id: int) -> Slot:
    """A slot of an event the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise NotFound()
    require_manages(actor, slot.event.organization)
    return slot


def get_registration(actor: User, registration_id: int) -> Registration:
    """A registration for an event the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise NotFound()
    require_manages(actor, registration.slot.event.organization)
    return registration


def get_tag(actor: User, tag_id: int) -> RosterTag:
    require_organizer(actor)
    tag = db.session.get(RosterTag, tag_id)
    if tag is None:
        raise NotFound()
    get_event(actor, tag.event_id)
    return tag


def managed_organizations(actor: User, limit: int = 500) -> list[Organization]:
    """The organizations the actor may hold events for (their subtree), shallowest first."""
    require_organizer(actor)
    return list(
        db.session.scalars(
            select(Organization)
            .where(scope_condition(actor, Organization.path))
            .order_by(func.length(Organization.path), Organization.path)
            .limit(limit)
        )
    )


# --- events ---------------------------------------------------------------------------------------------------


@dataclass
class EventListFilter:
    q: str = ""
    kind: str | None = None
    state: str | None = None  # upcoming / past / draft / cancelled
    page: int = 1
    per_page: int = 20


def _scoped_events(actor: User) -> Select[Any]:
    return (
        select(Event)
        .join(Organization, Organization.id == Event.organization_id)
        .where(scope_condition(actor, Organization.path))
    )


def list_events(actor: User, filters: EventListFilter) -> tuple[list[Event], int]:
    """Events of the actor's subtree only, soonest upcoming first, a page at a time; returns the total too."""
    require_organizer(actor)
    now = clock.now()
    query = _scoped_events(actor)
    if filters.q.strip():
        query = query.where(Event.title.contains(filters.q.strip()[:60], autoescape=True))
    if filters.kind:
        query = query.where(Event.kind == filters.kind)
    if filters.state == "upcoming":
        query = query.where(Event.ends_at >= now, Event.cancelled_at.is_(None))
    elif filters.state == "past":
        query = query.where(Event.ends_at < now)
    elif filters.state == "draft":
        query = query.where(Event.published.is_(False), Event.cancelled_at.is_(None))
    elif filters.state == "cancelled":
        query = query.where(Event.cancelled_at.isnot(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(filters.page, 1)
    order = (Event.ends_at < now, Event.starts_at, Event.id)
    events: list[Event] = list(
        db.session.scalars(query.order_by(*order).limit(filters.per_page).offset((page - 1) * filters.per_page))
        .unique()
        .all()
    )
    return events, total


def save_new_event(actor: User, data: EventData, ip: str | None = None) -> Event:
    """Create an event through the events core (scope, validation) and audit it."""
    require_organizer(actor)
    event = create_event(actor, data)
    audit.record(
        actor,
        "event.create",
        "event",
        event.id,
        {"kind": event.kind, "slots": len(event.slots)},
        ip,
        org=event.organization,
    )
    return event


def _slot_problems(slot: Slot, data: SlotData) -> list[str]:
    problems = []
    if data.capacity < slot.taken:
        problems.append(_("名额不能少于已占用的 %(n)d 个。", n=slot.taken))
    if data.quota_female is not None and data.quota_female < slot.taken_female:
        problems.append(_("女性名额不能少于已占用的 %(n)d 个。", n=slot.taken_female))
    if data.quota_male is not None and data.quota_male < slot.taken_male:
        problems.append(_("男性名额不能少于已占用的 %(n)d 个。", n=slot.taken_male))
    return problems


def _apply_slot(slot: Slot, data: SlotData) -> None:
    slot.label = data.label
    slot.starts_at = data.starts_at
    slot.ends_at = data.ends_at
    slot.quota_female = data.quota_female
    slot.quota_male = data.quota_male
    slot.waitlist_policy = data.waitlist_policy
    slot.allocation = data.allocation
    slot.offer_hours = data.offer_hours
    slot.max_waitlist = data.max_waitlist
    slot.signup_opens_at = data.signup_opens_at
    slot.signup_closes_at = data.signup_closes_at


def update_event(
    actor: User, event: Event, data: EventData, slot_ids: list[int | None], ip: str | None = None
) -> Event:
    """Edit an event of the actor's subtree (and keep it there). The kind never changes. A slot keeps at least
    the seats already held (overall and per gender); a slot that anyone ever registered for cannot be removed;
    a slot that grew serves its waitlist at once; new times or reminder offsets re-plan the reminders not yet
    sent. Invalid data raises InvalidInput and changes nothing."""
    require_manages(actor, event.organization)
    require_manages(actor, data.organization)
    if event.is_cancelled:
        raise DomainError(_("已取消的活动不能再编辑。"))
    data.kind = event.kind
    errors = validate_event(data)
    existing = {slot.id: slot for slot in event.slots}
    kept = {slot_id for slot_id in slot_ids if slot_id is not None}
    if kept - existing.keys():
        raise NotFound()
    for index, (slot_id, slot_data) in enumerate(zip(slot_ids, data.slots, strict=True)):
        if slot_id is not None:
            for problem in _slot_problems(existing[slot_id], slot_data):
                errors.setdefault(f"slots[{index}]", []).append(problem)
    removed = [slot for slot_id, slot in existing.items() if slot_id not in kept]
    for slot in removed:
        used = db.session.scalar(select(func.count()).select_from(Registration).where(Registration.slot_id == slot.id))
        if used:
            errors.setdefault("slots", []).append(
                _("场次“%(label)s”已有报名记录，不能删除；可将其名额调小或关闭。", label=slot.label or slot.starts_at)
            )
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)

    times_before = (
        event.starts_at,
        event.ends_at,
        [(slot.id, slot.starts_at) for slot in event.slots],
        event.reminder_hours,
    )
    event.title = data.title.strip()
    event.description = data.description
    event.organization = data.organization
    event.city = data.city
    event.venue = data.venue
    event.starts_at = data.starts_at
    event.ends_at = data.ends_at
    event.signup_opens_at = data.signup_opens_at
    event.signup_closes_at = data.signup_closes_at
    event.cancel_deadline = data.cancel_deadline
    event.allow_multiple_slots = data.allow_multiple_slots
    event.min_age = data.min_age
    event.max_age = data.max_age
    event.gender = data.gender
    event.frontline_only = data.frontline_only
    event.subtree_only = data.subtree_only
    if data.industry_ids is not None:
        event.industry_ids = data.industry_ids
    if data.reminder_hours is not None:
        event.reminder_hours = clean_reminder_hours(data.reminder_hours)
    for slot in removed:
        event.slots.remove(slot)
    db.session.flush()
    for slot_id, slot_data in zip(slot_ids, data.slots, strict=True):
        if slot_id is None:
            new_slot = Slot(capacity=slot_data.capacity, starts_at=slot_data.starts_at, ends_at=slot_data.ends_at)
            _apply_slot(new_slot, slot_data)
            event.slots.append(new_slot)
            continue
        slot = booking.lock_slot(slot_id)
        _apply_slot(slot, slot_data)
        db.session.flush()
        booking.resize_slot(slot.id, slot_data.capacity, actor=actor)
    db.session.flush()
    times_after = (
        event.starts_at,
        event.ends_at,
        [(slot.id, slot.starts_at) for slot in event.slots],
        event.reminder_hours,
    )
    if times_before != times_after:
        event_times_changed.send(event)  # reminders follow the new times and offsets (notifications)
    audit.record(
        actor,
        "event.edit",
        "event",
        event.id,
        {"slots": len(data.slots), "removed": len(removed)},
        ip,
        org=event.organization,
    )
    return event


def set_published(actor: User, event: Event, published: bool, ip: str | None = None) -> None:
    """Publish or unpublish an event of the actor's subtree; a cancelled event stays unpublishable."""
    require_manages(actor, event.organization)
    if event.is_cancelled and published:
        raise DomainError(_("已取消的活动不能发布。"))
    if event.published == published:
        return
    event.published = published
    db.session.flush()
    audit.record(
        actor, "event.publish" if published else "event.unpublish", "event", event.id, None, ip, org=event.organization
    )


def cancel_event(actor: User, event: Event, reason: str, ip: str | None = None) -> int:
    """Cancel an event: every active registration is cancelled by the organizer with the reason (waitlist and
    pending first, so no freed seat is offered on), and each person gets one essential "event_cancelled"
    message. Cancelling an already cancelled event changes nothing (returns 0): no seat is freed twice and
    nobody is told twice. Returns how many registrations were cancelled."""
    require_manages(actor, event.organization)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写取消原因，报名者会看到它。"), fields={"reason": [_("请填写取消原因。")]})
    if event.is_cancelled:
        return 0
    event.cancelled_at = clock.now()
    for slot in event.slots:
        slot.closed = True
    db.session.flush()
    rows = list(
        db.session.scalars(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.is_active.is_(True),
                Registration.status.notin_([Status.ATTENDED, Status.NO_SHOW]),
            )
        )
    )
    rows.sort(key=lambda r: (r.status in HOLDING, r.slot_id, r.id))
    notified: set[int] = set()
    cancelled = 0
    for registration in rows:
        db.session.refresh(registration)
        if registration.status not in ACTIVE or registration.status in (Status.ATTENDED, Status.NO_SHOW):
            continue
        booking.cancel(registration, actor=actor, reason=reason, by_organizer=True)
        cancelled += 1
        if registration.user_id is None:
            continue
        # The per-registration notices (a cancellation notice, reminders, an unsent confirmation) give way to
        # the one event-wide message below: each person hears about the cancellation once.
        outbox.cancel_pending(registration.user_id, f"registration:{registration.id}:")
        if registration.user_id not in notified:
            notified.add(registration.user_id)
            person = db.session.get(User, registration.user_id)
            if person is not None:
                _tell_cancelled(person, event, reason)
    audit.record(
        actor,
        "event.cancel",
        "event",
        event.id,
        {"registrations": cancelled, "notified": len(notified)},
        ip,
        org=event.organization,
    )
    return cancelled


def _tell_cancelled(person: User, event: Event, reason: str) -> None:
    when = event.starts_at.strftime("%Y-%m-%d %H:%M")
    outbox.enqueue(
        person,
        "event_cancelled",
        f"event:{event.id}:cancelled",
        template="event_cancelled",
        data={
            # title / body / link: what the generic message template shows.
            "title": _("活动已取消：%(title)s", title=event.title),
            "body": _(
                "很抱歉，您报名的「%(title)s」（%(when)s）已被%(org)s取消，您的报名已一并取消。取消原因：%(reason)s",
                title=event.title,
                when=when,
                org=event.organization.name,
                reason=reason,
            ),
            "link": f"/events/{event.id}",
            "event_id": event.id,
            "event_title": event.title,
            "reason": reason,
            "starts_at": event.starts_at.isoformat(),
        },
        essential=True,
    )


def duplicate_event(actor: User, event: Event, shift_days: int = 7, ip: str | None = None) -> Event:
    """Copy an event of the actor's subtree as a draft for the next one: same settings and slots (no
    registrations), every time moved by ``shift_days`` days, unpublished until the organizer publishes it. The
    moved dates must stay inside the dates events may take (``events.date_range``)."""
    require_manages(actor, event.organization)
    if not -3650 <= shift_days <= 3650:
        raise InvalidInput(_("平移天数需在 -3650 到 3650 之间。"), fields={"shift_days": [_("天数无效。")]})
    delta = timedelta(days=shift_days)
    earliest, latest = date_range()
    dates = [event.starts_at, event.ends_at, event.signup_opens_at, event.signup_closes_at, event.cancel_deadline]
    for slot in event.slots:
        dates += [slot.starts_at, slot.ends_at, slot.signup_opens_at, slot.signup_closes_at]
    # Compared before adding, so a row from before the date rule cannot overflow the calendar here.
    if any(value is not None and not earliest - delta <= value <= latest - delta for value in dates):
        message = _(
            "顺延后的日期需在 %(first)s 至 %(last)s 之间。",
            first=earliest.date().isoformat(),
            last=latest.date().isoformat(),
        )
        raise InvalidInput(message, fields={"shift_days": [message]})

    def moved(value: datetime | None) -> datetime | None:
        return value + delta if value is not None else None

    copy = Event(
        kind=event.kind,
        title=(event.title + _("（副本）"))[:120],
        description=event.description,
        organization=event.organization,
        city=event.city,
        venue=event.venue,
        starts_at=event.starts_at + delta,
        ends_at=event.ends_at + delta,
        signup_opens_at=event.signup_opens_at + delta,
        signup_closes_at=event.signup_closes_at + delta,
        cancel_deadline=moved(event.cancel_deadline),
        allow_multiple_slots=event.allow_multiple_slots,
        min_age=event.min_age,
        max_age=event.max_age,
        gender=event.gender,
        frontline_only=event.frontline_only,
        subtree_only=event.subtree_only,
        industry_ids=list(event.industry_ids) if event.industry_ids else event.industry_ids,
        reminder_hours=list(event.reminder_hours) if event.reminder_hours else event.reminder_hours,
        published=False,
        created_by_id=actor.id,
    )
    for slot in event.slots:
        copy.slots.append(
            Slot(
                label=slot.label,
                starts_at=slot.starts_at + delta,
                ends_at=slot.ends_at + delta,
                capacity=slot.capacity,
                quota_female=slot.quota_female,
                quota_male=slot.quota_male,
                waitlist_policy=slot.waitlist_policy,
                allocation=slot.allocation,
                offer_hours=slot.offer_hours,
                max_waitlist=slot.max_waitlist,
                signup_opens_at=moved(slot.signup_opens_at),
                signup_closes_at=moved(slot.signup_closes_at),
                settings=dict(slot.settings) if slot.settings else slot.settings,
            )
        )
    db.session.add(copy)
    db.session.flush()
    audit.record(
        actor,
        "event.duplicate",
        "event",
        copy.id,
        {"source": event.id, "shift_days": shift_days},
        ip,
        org=event.organization,
    )
    return copy


# --- rosters --------------------------------------------------------------------------------------------------


@dataclass
class RosterFilter:
    q: str = ""
    status: str | None = None
    gender: str | None = None
    organization_id: int | None = None
    tag: str | None = None
    slot_id: int | None = None


@dataclass
class RosterRow:
    registration: Registration
    user: User | None
    tags: list[RosterTag] = field(default_factory=list)


def roster(actor: User, event: Event, filters: RosterFilter, limit: int = 2000) -> list[RosterRow]:
    """The people registered for an event of the actor's subtree, filtered by name or phone, status, gender,
    organization (with its subtree), tag and slot; in slot order, then by time of registration."""
    require_manages(actor, event.organization)
    query = (
        select(Registration, User)
        .outerjoin(User, User.id == Registration.user_id)
        .where(Registration.event_id == event.id)
        .options(selectinload(User.organization))
    )
    text = filters.q.strip()[:40]
    if text:
        digits = re.sub(r"\D", "", text)
        conditions = [User.name.contains(text, autoescape=True)]
        if len(digits) >= 3:
            conditions.append(User.phone.contains(digits, autoescape=True))
        query = query.where(or_(*conditions))
    if filters.status in {status.value for status in Status}:
        query = query.where(Registration.status == Status(filters.status))
    if filters.gender in (Gender.FEMALE.value, Gender.MALE.value):
        query = query.where(Registration.gender == Gender(filters.gender))
    if filters.organization_id:
        chosen = db.session.get(Organization, filters.organization_id)
        if chosen is not None:
            query = query.join(Organization, Organization.id == User.organization_id).where(
                Organization.path.startswith(chosen.path, autoescape=True)
            )
    if filters.tag:
        query = query.where(
            Registration.id.in_(
                select(RosterTag.registration_id).where(RosterTag.event_id == event.id, RosterTag.label == filters.tag)
            )
        )
    if filters.slot_id:
        query = query.where(Registration.slot_id == filters.slot_id)
    rows = db.session.execute(
        query.order_by(Registration.slot_id, Registration.created_at, Registration.id).limit(limit)
    ).all()
    tags = tags_by_registration([registration.id for registration, _user in rows])
    return [RosterRow(registration, user, tags.get(registration.id, [])) for registration, user in rows]


def view_roster(actor: User, event: Event, filters: RosterFilter, limit: int = 2000) -> list[RosterRow]:
    """The roster as a person reads it (console page, JSON API): the same rows as ``roster``, and the look is
    audited (``view.roster``: who read which event's roster and how many rows; admins read these entries)."""
    rows = roster(actor, event, filters, limit=limit)
    audit.record(actor, "view.roster", "event", event.id, {"rows": len(rows)}, org=event.organization)
    return rows


def view_registration(actor: User, registration_id: int) -> Registration:
    """One person's registration details as an organizer opens them (scoped like ``get_registration``); the
    look is audited (``view.person``: whose data, through which registration)."""
    registration = get_registration(actor, registration_id)
    audit.record(
        actor,
        "view.person",
        "user",
        registration.user_id,
        {"registration": registration.id, "event": registration.event_id},
        org=registration.slot.event.organization,
    )
    return registration


def tags_by_registration(registration_ids: list[int]) -> dict[int, list[RosterTag]]:
    if not registration_ids:
        return {}
    result: dict[int, list[RosterTag]] = {}
    for tag in db.session.scalars(
        select(RosterTag).where(RosterTag.registration_id.in_(registration_ids)).order_by(RosterTag.label)
    ):
        result.setdefault(tag.registration_id, []).append(tag)
    return result


def event_tags(event: Event) -> list[str]:
    return list(
        db.session.scalars(
            select(RosterTag.label).where(RosterTag.event_id == event.id).distinct().order_by(RosterTag.label)
        )
    )


@dataclass
class RosterCounts:
    by_status: dict[str, int]
    by_slot: dict[int, dict[str, int]]
    by_gender: dict[str, int]

    @property
    def attended(self) -> int:
        return self.by_status.get(Status.ATTENDED.value, 0)

    @property
    def expected(self) -> int:
        return self.by_status.get(Status.CONFIRMED.value, 0) + self.attended


def counts(event: Event) -> RosterCounts:
    """Counts at a glance: per status, per slot and status, and per gender among seat holders."""
    by_status: Counter[str] = Counter()
    by_slot: dict[int, dict[str, int]] = {slot.id: {} for slot in event.slots}
    by_gender: Counter[str] = Counter()
    rows = db.session.execute(
        select(Registration.slot_id, Registration.status, Registration.gender, func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.slot_id, Registration.status, Registration.gender)
    ).all()
    for slot_id, status, gender, count in rows:
        by_status[status.value] += count
        slot_counts = by_slot.setdefault(slot_id, {})
        slot_counts[status.value] = slot_counts.get(status.value, 0) + count
        if status in HOLDING and gender is not None:
            by_gender[gender.value] += count
    return RosterCounts(dict(by_status), by_slot, dict(by_gender))


def approve(actor: User, registration: Registration, ip: str | None = None) -> Status:
    """Approve a pending request (a seat if there is room, else the waitlist, else Full)."""
    require_manages(actor, registration.slot.event.organization)
    status = booking.approve(registration, actor=actor)
    audit.record(
        actor,
        "registration.approve",
        "registration",
        registration.id,
        {"status": status.value},
        ip,
        org=registration.slot.event.organization,
    )
    return status


def reject(actor: User, registration: Registration, reason: str, ip: str | None = None) -> None:
    """Reject a pending or waitlisted request; a reason is required because the person will see it."""
    require_manages(actor, registration.slot.event.organization)
    reason = _reason_text(reason)
    if not reason:
        raise InvalidInput(_("请填写不通过的原因。"), fields={"reason": [_("请填写不通过的原因。")]})
    booking.reject(registration, actor=actor, reason=reason)
    audit.record(
        actor,
        "registration.reject",
        "registration",
        registration.id,
        None,
        ip,
        org=registration.slot.event.organization,
    )


def promote(actor: User, registration: Registration, ip: str | None = None) -> None:
    """Confirm a waitlisted person into a free seat ahead of their turn."""
    require_manages(actor, registration.slot.event.organization)
    booking.promote(registration, actor=actor)
    audit.record(
        actor,
        "registration.promote",
        "registration",
        registration.id,
        None,
        ip,
        org=registration.slot.event.organization,
    )


def cancel_registration(actor: User, registration: Registration, reason: str, ip: str | None = None) -> None:
    """An organizer cancels one person's registration (also after the cancellation deadline), with a reason."""
    require_manages(actor, registration.slot.event.organization)
    reason = _reason_text(reason)
    if not reason:
        raise InvalidInput(_("请填写取消原因。"), fields={"reason": [_("请填写取消原因。")]})
    booking.cancel(registration, actor=actor, reason=reason, by_organizer=True)
    audit.record(
        actor,
        "registration.cancel",
        "registration",
        registration.id,
        None,
        ip,
        org=registration.slot.event.organization,
    )


def move(actor: User, registration: Registration, to_slot_id: int, ip: str | None = None) -> None:
    """Move a confirmed person to another slot of the same event (room for their gender required)."""
    event = registration.slot.event
    require_manages(actor, event.organization)
    if to_slot_id not in {slot.id for slot in event.slots}:
        raise NotFound()
    source = registration.slot_id
    booking.move(registration, to_slot_id, actor=actor, by_organizer=True)
    audit.record(
        actor,
        "registration.move",
        "registration",
        registration.id,
        {"from": source, "to": to_slot_id},
        ip,
        org=registration.slot.event.organization,
    )


def add_person(actor: User, event: Event, slot_id: int, phone: str, ip: str | None = None) -> Registration:
    """Register someone by phone number on their behalf. The same rules apply as when they book themselves
    (eligibility, one registration per event, capacity, quotas, waitlist) except the sign-up window; consents
    the kind needs must already have been given by the person — an organizer cannot consent for anyone."""
    require_manages(actor, event.organization)
    if slot_id not in {slot.id for slot in event.slots}:
        raise NotFound()
    person = accounts.find_by_phone(phone or "")
    if person is None or not person.is_active or person.role != Role.EMPLOYEE:
        raise InvalidInput(_("没有找到该手机号的职工账号。"), fields={"phone": [_("没有找到该手机号的职工账号。")]})
    required = policy_for(event.kind).required_consents(event)
    given = [purpose for purpose in required if accounts.has_consent(person.id, purpose)]
    if len(given) < len(required):
        raise DomainError(_("该职工尚未同意本类活动所需的敏感个人信息处理，请其本人在手机上报名。"))
    registration = booking.book(person, slot_id, consents=given, actor=actor, enforce_window=False)
    audit.record(
        actor,
        "registration.add",
        "registration",
        registration.id,
        {"status": registration.status.value},
        ip,
        org=registration.slot.event.organization,
    )
    return registration


def _reason_text(reason: str) -> str:
    """A reason the person will read: free text under the app's rule (one line, at most 200 characters)."""
    try:
        return clean_text(reason or "", max_length=200)
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"reason": [refused.message]}) from None


def _clean_label(label: str) -> str:
    try:
        label = re.sub(r"\s+", " ", clean_text(label or "", max_length=MAX_TAG_LENGTH))
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"label": [refused.message]}) from None
    if not label:
        raise InvalidInput(
            _("标签不能为空，且不超过 %(n)d 个字。", n=MAX_TAG_LENGTH),
            fields={"label": [_("标签不能为空，且不超过 %(n)d 个字。", n=MAX_TAG_LENGTH)]},
        )
    return label


def add_tag(actor: User, registrations: list[Registration], label: str, ip: str | None = None) -> int:
    """Put a tag on registrations of one event in the actor's subtree; a tag already there is left alone.
    Returns how many were newly tagged."""
    label = _clean_label(label)
    added = 0
    for registration in registrations:
        require_manages(actor, registration.slot.event.organization)
        exists = db.session.scalar(
            select(RosterTag.id).where(RosterTag.registration_id == registration.id, RosterTag.label == label)
        )
        if exists is None:
            db.session.add(
                RosterTag(
                    registration_id=registration.id, event_id=registration.event_id, label=label, created_by_id=actor.id
                )
            )
            added += 1
    db.session.flush()
    if added:
        audit.record(
            actor,
            "roster.tag",
            "event",
            registrations[0].event_id,
            {"tagged": added, "registrations": [r.id for r in registrations][:200]},
            ip,
            org=registrations[0].slot.event.organization,
        )
    return added


def remove_tag(actor: User, tag: RosterTag, ip: str | None = None) -> None:
    """Take a tag off (scope checked through the tag's event)."""
    tag_org = get_event(actor, tag.event_id).organization
    registration_id, event_id = tag.registration_id, tag.event_id
    db.session.execute(delete(RosterTag).where(RosterTag.id == tag.id))
    db.session.flush()
    audit.record(actor, "roster.untag", "event", event_id, {"registration": registration_id}, ip, org=tag_org)


def registrations_of(actor: User, event: Event, ids: list[int]) -> list[Registration]:
    """The registrations among ``ids`` that belong to ``event`` (others are ignored, never revealed)."""
    require_manages(actor, event.organization)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Registration).where(
                Registration.event_id == event.id, Registration.id.in_(ids[:MAX_MESSAGE_RECIPIENTS])
            )
        )
    )


def message(
    actor: User,
    event: Event,
    registrations: list[Registration],
    title: str,
    body: str,
    nonce: str,
    ip: str | None = None,
) -> int:
    """Send a message to the chosen people of an event through the outbox (kind "organizer_message"). The form's
    nonce is part of the idempotency key, so a double-submitted form sends each person one message.
    Returns how many people it was queued for."""
    require_manages(actor, event.organization)
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not title or len(title) > 60:
        errors["title"] = [_("标题不能为空，且不超过 60 个字。")]
    if not body or len(body) > 1000:
        errors["body"] = [_("内容不能为空，且不超过 1000 个字。")]
    if not registrations:
        errors["ids"] = [_("请至少选择一位收件人。")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], fields=errors)
    nonce = re.sub(r"[^A-Za-z0-9_-]", "", nonce or "")[:32] or clock.now().strftime("%Y%m%d%H%M%S")
    people: dict[int, User] = {}
    for registration in registrations:
        if registration.event_id != event.id:
            raise NotFound()
        if registration.user_id is not None and registration.user_id not in people:
            person = db.session.get(User, registration.user_id)
            if person is not None and person.is_active:
                people[person.id] = person
    for person in people.values():
        outbox.enqueue(
            person,
            "organizer_message",
            f"event:{event.id}:message:{nonce}",
            template="organizer_message",
            data={
                "event_id": event.id,
                "event_title": event.title,
                "title": title,
                "body": body,
                "from": event.organization.name,
            },
        )
    audit.record(actor, "roster.message", "event", event.id, {"recipients": len(people)}, ip, org=event.organization)
    return len(people)


# --- check-in -------------------------------------------------------------------------------------------------

RESULT_WELCOME = "welcome"
RESULT_ALREADY = "already"
RESULT_WRONG_EVENT = "wrong_event"
RESULT_CANCELLED = "cancelled"
RESULT_NOT_CONFIRMED = "not_confirmed"
RESULT_NOT_FOUND = "not_found"
RESULT_TOO_EARLY = TOO_EARLY  # outside the check-in window (booking.window): the organizer may override
RESULT_ENDED = ENDED
OUTSIDE_WINDOW = (RESULT_TOO_EARLY, RESULT_ENDED)

SCAN_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class ScanResult:
    result: str
    registration: Registration | None
    replay: bool = False

    def as_dict(self, event: Event) -> dict[str, Any]:
        registration = self.registration if self.result not in (RESULT_WRONG_EVENT, RESULT_NOT_FOUND) else None
        person = registration.user if registration is not None else None
        return {
            "result": self.result,
            "message": scan_message(self.result, event),
            "replay": self.replay,
            "can_override": self.result in OUTSIDE_WINDOW and registration is not None,
            "registration_id": registration.id if registration is not None else None,
            "name": person.name if person is not None else None,
            "slot": (registration.slot.label or registration.slot.starts_at.strftime("%m-%d %H:%M"))
            if registration is not None
            else None,
            "attended": counts(event).attended,
        }


def scan_message(result: str, event: Event | None = None) -> str:
    """What the scanner says for a result, in the organizer's language."""
    if result in OUTSIDE_WINDOW and event is not None:
        return refusal_message(event, result)
    return {
        RESULT_TOO_EARLY: _("签到尚未开始。"),
        RESULT_ENDED: _("活动已结束，不能签到。"),
        RESULT_WELCOME: _("签到成功，欢迎！"),
        RESULT_ALREADY: _("已签到过，请勿重复签到。"),
        RESULT_WRONG_EVENT: _("这不是本场活动的电子票。"),
        RESULT_CANCELLED: _("该报名已取消或未通过，不能签到。"),
        RESULT_NOT_CONFIRMED: _("该报名尚未确认（待审核或候补中），不能签到。"),
        RESULT_NOT_FOUND: _("没有找到该票码，请核对后重试。"),
    }.get(result, _("操作未能完成。"))


def _judge(actor: User, event: Event, registration: Registration | None) -> str:
    if registration is None:
        return RESULT_NOT_FOUND
    if registration.event_id != event.id:
        return RESULT_WRONG_EVENT
    status = registration.status
    if status == Status.ATTENDED:
        return RESULT_ALREADY
    if status in (Status.CANCELLED, Status.REJECTED, Status.EXPIRED):
        return RESULT_CANCELLED
    if status in (Status.PENDING, Status.WAITLISTED, Status.OFFERED):
        return RESULT_NOT_CONFIRMED
    try:
        changed = booking.check_in(registration, actor=actor)
    except IllegalTransition:
        return RESULT_NOT_CONFIRMED
    return RESULT_WELCOME if changed else RESULT_ALREADY


def previous_scan(client_scan_id: str) -> CheckinScan | None:
    return db.session.scalar(select(CheckinScan).where(CheckinScan.client_scan_id == client_scan_id))


def scan(
    actor: User,
    event: Event,
    client_scan_id: str,
    *,
    ticket_code: str | None = None,
    registration_id: int | None = None,
    scanned_at: datetime | None = None,
    override_reason: str | None = None,
    ip: str | None = None,
) -> ScanResult:
    """Check someone in at the door of an event in the actor's subtree, by ticket code (the QR) or by the
    registration found through a phone search. Each scan carries an id made on the device: a scan id seen
    before is answered with its first result and changes nothing, so an offline queue uploaded twice never
    counts anyone twice. Results: welcome / already / wrong_event / cancelled / not_confirmed / not_found /
    too_early / ended.

    Check-in is accepted only inside the event's window (``booking.window``: from a configured number of hours
    before the start to the end), judged at the moment of the scan (an offline scan keeps the time it was made
    on the device, within a week). Outside it a confirmed person is answered too_early or ended and stays
    unchanged, unless ``override_reason`` is given: then they are checked in and the override is audited
    (``checkin.override``, with the reason). An override without a reason is refused on that field."""
    require_manages(actor, event.organization)
    if not SCAN_ID_RE.match(client_scan_id or ""):
        raise InvalidInput(_("扫码记录编号无效。"), fields={"scan_id": [_("扫码记录编号无效。")]})
    reason: str | None = None
    if override_reason is not None:
        reason = _override_reason(override_reason)
    previous = previous_scan(client_scan_id)
    if previous is not None:
        if previous.event_id != event.id:
            raise NotFound()
        found = db.session.get(Registration, previous.registration_id) if previous.registration_id else None
        return ScanResult(previous.result, found, replay=True)
    code = (ticket_code or "").strip()
    if code.startswith(("http://", "https://")) and "/" in code:
        code = code.rstrip("/").rsplit("/", 1)[-1]
    registration: Registration | None = None
    if code:
        if text_problem(code, max_length=64) is None:  # a code no ticket can have is simply not found
            registration = db.session.scalar(select(Registration).where(Registration.ticket_code == code))
    elif registration_id is not None:
        registration = db.session.get(Registration, registration_id)
        if registration is not None and registration.event_id != event.id:
            registration = None  # a search result always belongs to this event: anything else was tampered with
    else:
        raise InvalidInput(_("请输入票码或选择报名人。"), fields={"code": [_("请输入票码。")]})
    now = clock.now()
    when = scanned_at if scanned_at is not None and abs((scanned_at - now).days) < 7 else now
    record = CheckinScan(
        client_scan_id=client_scan_id,
        event_id=event.id,
        registration_id=registration.id if registration is not None else None,
        result="pending",
        actor_id=actor.id,
        scanned_at=when,
        received_at=now,
    )
    db.session.add(record)
    db.session.flush()  # a concurrent upload of the same scan id fails here, before anything is counted
    refusal = None
    if registration is not None and registration.event_id == event.id and registration.status in _CAN_CHECK_IN:
        refusal = checkin_window(event).refusal(when)
    result = refusal if refusal is not None and reason is None else _judge(actor, event, registration)
    record.result = result
    if result == RESULT_WRONG_EVENT:
        record.registration_id = None
    db.session.flush()
    if result == RESULT_WELCOME and registration is not None:
        detail: dict[str, Any] = {"event": event.id, "scan": record.id}
        if refusal is not None and reason is not None:
            detail.update(outside=refusal, reason=reason, scanned_at=when.isoformat(timespec="minutes"))
        action = "checkin.override" if refusal is not None else "checkin"
        audit.record(actor, action, "registration", registration.id, detail, ip, org=event.organization)
    return ScanResult(result, registration)


_CAN_CHECK_IN = (Status.CONFIRMED, Status.NO_SHOW)


def _override_reason(raw: str) -> str:
    """The reason an organizer gives for checking someone in outside the window: free text, required."""
    try:
        reason = clean_text(raw or "", max_length=200)
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"override_reason": [refused.message]}) from None
    if not reason:
        message = _("在签到时间之外签到，请填写原因。")
        raise InvalidInput(message, fields={"override_reason": [message]})
    return reason


def search_attendees(actor: User, event: Event, text: str, limit: int = 10) -> list[Registration]:
    """Find people of this event by name or by (part of) their phone number, for check-in without a ticket."""
    require_manages(actor, event.organization)
    text = (text or "").strip()
    if len(text) < 2 or text_problem(text, max_length=40) is not None:
        return []
    rows = roster(actor, event, RosterFilter(q=text), limit=limit)
    return [row.registration for row in rows]


def undo_check_in(actor: User, registration: Registration, ip: str | None = None) -> None:
    """Undo a mistaken check-in (back to confirmed)."""
    require_manages(actor, registration.slot.event.organization)
    booking.undo_check_in(registration, actor=actor)
    audit.record(
        actor, "checkin.undo", "registration", registration.id, None, ip, org=registration.slot.event.organization
    )


def mark_no_shows(actor: User, event: Event, ip: str | None = None) -> int:
    """After the event has started, every confirmed person not checked in becomes a no-show."""
    require_manages(actor, event.organization)
    count = booking.mark_no_shows(event, actor=actor)
    audit.record(actor, "event.no_shows", "event", event.id, {"no_shows": count}, ip, org=event.organization)
    return count


def record_export(actor: User, event: Event, fmt: str, rows: int, ip: str | None = None) -> None:
    """Every export of a roster is audited (format and row count, never the content)."""
    require_manages(actor, event.organization)
    audit.record(actor, "roster.export", "event", event.id, {"format": fmt, "rows": rows}, ip, org=event.organization)


def can_manage(actor: User, event: Event) -> bool:
    return manages(actor, event.organization)
