"""Organizer services for events and their slots: listing the subtree's events, creating, editing (slots
included), publishing, cancelling and duplicating an event.

Every function checks the actor's scope itself; seat changes go through ``booking.services``; every action writes
an audit row (the address comes from the audit context). Functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from .. import audit, clock, outbox
from ..accounts.models import User
from ..accounts.scope import require_manages, scope_condition
from ..booking import services as booking
from ..booking.models import ACTIVE, HOLDING, Registration, Status
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import Event, Slot
from ..events.services import (
    EventData,
    SlotData,
    clean_reminder_hours,
    create_event,
    date_range,
    slot_like,
    validate_event,
)
from ..extensions import db
from ..orgs.models import Organization
from ..signals import event_times_changed
from .access import require_organizer


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


def save_new_event(actor: User, data: EventData) -> Event:
    """Create an event through the events core (scope, validation) and audit it."""
    require_organizer(actor)
    event = create_event(actor, data)
    audit.record(
        actor,
        "event.create",
        "event",
        event.id,
        {"kind": event.kind, "slots": len(event.slots)},
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


def update_event(actor: User, event: Event, data: EventData, slot_ids: list[int | None]) -> Event:
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
        org=event.organization,
    )
    return event


def set_published(actor: User, event: Event, published: bool) -> None:
    """Publish or unpublish an event of the actor's subtree; a cancelled event stays unpublishable."""
    require_manages(actor, event.organization)
    if event.is_cancelled and published:
        raise DomainError(_("已取消的活动不能发布。"))
    if event.published == published:
        return
    event.published = published
    db.session.flush()
    audit.record(
        actor, "event.publish" if published else "event.unpublish", "event", event.id, None, org=event.organization
    )


def cancel_event(actor: User, event: Event, reason: str) -> int:
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


def duplicate_event(actor: User, event: Event, shift_days: int = 7) -> Event:
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
        slot_copy = slot_like(slot, delta)
        slot_copy.settings = dict(slot.settings) if slot.settings else slot.settings
        copy.slots.append(slot_copy)
    db.session.add(copy)
    db.session.flush()
    audit.record(
        actor,
        "event.duplicate",
        "event",
        copy.id,
        {"source": event.id, "shift_days": shift_days},
        org=event.organization,
    )
    return copy
