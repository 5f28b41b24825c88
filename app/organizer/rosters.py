"""Organizer services for an event's roster: reading it (filtered, counted, audited looks) and the actions on
one registration (approve, reject, promote, cancel, move, add someone by phone), and auditing roster exports.

Every function checks the actor's scope itself; seat changes go through the booking engine; every action writes
an audit row. Functions flush but never commit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..accounts import services as accounts
from ..accounts.models import Gender, Role, User
from ..accounts.scope import require_manages
from ..booking import approval as booking_approval
from ..booking import moves as booking_moves
from ..booking import services as booking
from ..booking.models import HOLDING, Registration, Status
from ..errors import DomainError, InvalidInput, NotFound
from ..events.kinds import policy_for
from ..events.models import Event
from ..extensions import db
from ..freetext import TextRefused, clean_text
from ..orgs.models import Organization
from .access import get_registration
from .models import RosterTag
from .tags import tags_by_registration


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


def approve(actor: User, registration: Registration) -> Status:
    """Approve a pending request (a seat if there is room, else the waitlist, else Full)."""
    require_manages(actor, registration.slot.event.organization)
    status = booking_approval.approve(registration, actor=actor)
    audit.record(
        actor,
        "registration.approve",
        "registration",
        registration.id,
        {"status": status.value},
        org=registration.slot.event.organization,
    )
    return status


def reject(actor: User, registration: Registration, reason: str) -> None:
    """Reject a pending or waitlisted request; a reason is required because the person will see it."""
    require_manages(actor, registration.slot.event.organization)
    reason = _reason_text(reason)
    if not reason:
        raise InvalidInput(_("请填写不通过的原因。"), fields={"reason": [_("请填写不通过的原因。")]})
    booking_approval.reject(registration, actor=actor, reason=reason)
    audit.record(
        actor,
        "registration.reject",
        "registration",
        registration.id,
        None,
        org=registration.slot.event.organization,
    )


def promote(actor: User, registration: Registration) -> None:
    """Confirm a waitlisted person into a free seat ahead of their turn."""
    require_manages(actor, registration.slot.event.organization)
    booking_approval.promote(registration, actor=actor)
    audit.record(
        actor,
        "registration.promote",
        "registration",
        registration.id,
        None,
        org=registration.slot.event.organization,
    )


def cancel_registration(actor: User, registration: Registration, reason: str) -> None:
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
        org=registration.slot.event.organization,
    )


def move(actor: User, registration: Registration, to_slot_id: int) -> None:
    """Move a confirmed person to another slot of the same event (room for their gender required)."""
    event = registration.slot.event
    require_manages(actor, event.organization)
    if to_slot_id not in {slot.id for slot in event.slots}:
        raise NotFound()
    source = registration.slot_id
    booking_moves.move(registration, to_slot_id, actor=actor, by_organizer=True)
    audit.record(
        actor,
        "registration.move",
        "registration",
        registration.id,
        {"from": source, "to": to_slot_id},
        org=registration.slot.event.organization,
    )


def add_person(actor: User, event: Event, slot_id: int, phone: str) -> Registration:
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
        org=registration.slot.event.organization,
    )
    return registration


def _reason_text(reason: str) -> str:
    """A reason the person will read: free text under the app's rule (one line, at most 200 characters)."""
    try:
        return clean_text(reason or "", max_length=200)
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"reason": [refused.message]}) from None


def record_export(actor: User, event: Event, fmt: str, rows: int) -> None:
    """Every export of a roster is audited (format and row count, never the content)."""
    require_manages(actor, event.organization)
    audit.record(actor, "roster.export", "event", event.id, {"format": fmt, "rows": rows}, org=event.organization)
