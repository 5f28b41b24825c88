"""Notification rules: which channels a person gets, what each registration change sends, reminders, the
inbox.

Receivers of ``registration_changed`` run inside the booking transaction and only ``enqueue`` (no network), so
a message exists exactly when the change that causes it commits. They branch on the change's typed ``cause``
(``booking.models.Cause``), never on the free-text reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from .. import clock
from ..accounts.models import User
from ..booking.changes import RegistrationChange, replay_each
from ..booking.models import Cause, Registration, Status
from ..errors import NotFound
from ..events.models import Allocation, Event, Slot
from ..events.services import effective_reminder_hours
from ..extensions import db
from ..outbox import cancel_pending, enqueue, enqueue_many
from ..outbox.models import OutboxMessage, OutboxStatus
from .messages import registration_facts, slot_facts
from .models import ChannelPreference, InboxMessage

INBOX_PAGE_SIZE = 30

# Kinds that always reach the inbox whatever the person chose (DESIGN.md §6).
ESSENTIAL_KINDS = frozenset({"booking_offer", "booking_cancelled", "booking_result", "lottery_result", "mixer_reveal"})


# --- channels ---


@dataclass(frozen=True)
class ChannelChoice:
    """A person's channel choices as read (no row: the defaults)."""

    email: bool = True
    sms: bool = False


_preferences = ChannelPreference.__table__.c
_ONE_PREFERENCE = select(_preferences.email, _preferences.sms).where(_preferences.user_id == bindparam("user_id"))


def preferences_for(user_ids: Sequence[int]) -> dict[int, ChannelChoice]:
    """The channel choices of many people (the defaults for those who never chose): one plain SELECT for one
    person (every booking: the outbox resolves its messages' channels in one batch), 900 people per query for
    a lottery's results or a mixer's reveal."""
    wanted = sorted(set(user_ids))
    found: dict[int, ChannelChoice] = {}
    if len(wanted) == 1:
        row = db.session.connection().execute(_ONE_PREFERENCE, {"user_id": wanted[0]}).first()
        found[wanted[0]] = ChannelChoice(row.email, row.sms) if row is not None else ChannelChoice()
    elif wanted:
        _read_preferences(wanted, found)
    return {user_id: found[user_id] for user_id in user_ids}


def _read_preferences(user_ids: Sequence[int], cache: dict[int, ChannelChoice]) -> None:
    """Read the channel choices of many people into ``cache``, 900 per query."""
    # No autoflush: the caller's pending changes need not be written before reading a preference.
    with db.session.no_autoflush:
        for start in range(0, len(user_ids), 900):
            chunk = user_ids[start : start + 900]
            found = {
                row.user_id: ChannelChoice(row.email, row.sms)
                for row in db.session.execute(
                    select(ChannelPreference.user_id, ChannelPreference.email, ChannelPreference.sms).where(
                        ChannelPreference.user_id.in_(chunk)
                    )
                )
            }
            default = ChannelChoice()
            for user_id in chunk:
                cache[user_id] = found.get(user_id, default)


def preference_for(user_id: int) -> ChannelChoice:
    """One person's channel choices (``preferences_for``)."""
    return preferences_for([user_id])[user_id]


def resolve_channels(wanted: Sequence[tuple[Any, str, bool]]) -> dict[tuple[int, str, bool], list[str]]:
    """The outbox's channel resolver, for every (recipient, kind, essential) of a batch at once. Rule: the
    in-app inbox always (essential messages must reach it, and it is the record of every message); email if
    the person has an address and did not turn email off; SMS only if they turned it on and have a phone
    number. A deleted account gets nothing."""
    choices = preferences_for([user.id for user, _kind, _essential in wanted])
    resolved: dict[tuple[int, str, bool], list[str]] = {}
    for user, kind, essential in wanted:
        channels: list[str] = []
        if getattr(user, "deleted_at", None) is None:
            choice = choices[user.id]
            channels.append("inbox")
            if user.email and choice.email:
                channels.append("email")
            if user.phone and choice.sms:
                channels.append("sms")
        resolved[(user.id, kind, essential)] = channels
    return resolved


def save_preferences(user: User, *, email: bool, sms: bool) -> ChannelPreference:
    """Store the person's channel choices; they apply to messages enqueued from now on."""
    preference = db.session.get(ChannelPreference, user.id)
    if preference is None:
        preference = ChannelPreference(user_id=user.id)
        db.session.add(preference)
    preference.email = email
    preference.sms = sms
    db.session.flush()
    return preference


# --- what registration changes send ---


def _subject(registration: Registration, what: str) -> str:
    return f"registration:{registration.id}:{what}"


def reminder_hours(event: Event) -> list[int]:
    """The event's reminder offsets in hours, most first (``events.services.effective_reminder_hours``)."""
    return effective_reminder_hours(event)


def _revive(user_id: int, subject: str, due_at: datetime, expires_at: datetime) -> None:
    """The same reminder may exist, skipped (the event moved away and back): plan it again."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.kind == "reminder",
            OutboxMessage.status == OutboxStatus.SKIPPED,
            OutboxMessage.idempotency_key.startswith(f"{user_id}:{subject}:", autoescape=True),
        )
        .values(status=OutboxStatus.PENDING, due_at=due_at, expires_at=expires_at, attempts=0, last_error=None)
        .execution_options(synchronize_session=False)
    )


def reminder_messages(registration: Registration, user: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    """The reminders of a confirmed registration, as ``enqueue_many`` messages: by default 24 h and 2 h before
    its slot starts (``Event.reminder_hours`` overrides), each expiring at the start so none is ever sent after
    it. Reminders whose time has already passed are left out."""
    return slot_reminder_messages(registration.slot, [(registration.id, user)], now)


def slot_reminder_messages(
    slot: Slot, recipients: Sequence[tuple[int, Any]], now: datetime | None = None
) -> list[dict[str, Any]]:
    """``reminder_messages`` for several confirmed registrations of one slot, given as (registration id,
    recipient) pairs: the slot's facts are read once."""
    now = now or clock.now()
    event = slot.event
    if event.is_cancelled or slot.starts_at <= now or not recipients:
        return []
    stamp = slot.starts_at.strftime("%Y%m%d%H%M")
    facts = slot_facts(slot)
    due_hours = [(hours, slot.starts_at - timedelta(hours=hours)) for hours in reminder_hours(event)]
    return [
        {
            "user": user,
            "kind": "reminder",
            "subject": f"registration:{registration_id}:reminder:{stamp}:{hours}h",
            "template": "reminder",
            "data": {**facts, "registration_id": registration_id, "hours": hours},
            "due_at": due,
            "expires_at": slot.starts_at,
        }
        for registration_id, user in recipients
        for hours, due in due_hours
        if due > now
    ]


def plan_reminders(registration: Registration, now: datetime | None = None, *, revive: bool = True) -> int:
    """Enqueue the registration's reminders (``reminder_messages``); with ``revive`` a reminder skipped earlier
    for the same start time is planned again. Returns how many reminders are planned."""
    user = registration.user or (db.session.get(User, registration.user_id) if registration.user_id else None)
    if user is None:
        return 0
    messages = reminder_messages(registration, user, now)
    enqueue_many(messages)
    if revive:
        for message in messages:
            _revive(user.id, message["subject"], message["due_at"], message["expires_at"])
    return len(messages)


def cancel_reminders(registration: Registration) -> int:
    """Skip the registration's reminders that have not gone out."""
    if registration.user_id is None:
        return 0
    return cancel_pending(registration.user_id, _subject(registration, "reminder:"), "reminder")


def reschedule_reminders(event: Event) -> int:
    """After an event's times changed: skip every pending reminder of its registrations and plan them again
    from the slots' new start times. Idempotent. Flushes; the caller commits. Returns reminders planned."""
    db.session.flush()
    registrations = db.session.scalars(
        select(Registration).where(Registration.event_id == event.id, Registration.status == Status.CONFIRMED)
    ).all()
    planned = 0
    for registration in registrations:
        cancel_reminders(registration)
        planned += plan_reminders(registration)
    return planned


def _notify(registration: Registration, kind: str, what: str, *, essential: bool = False, **extra: Any) -> None:
    user = registration.user or (db.session.get(User, registration.user_id) if registration.user_id else None)
    if user is None:
        return
    data = {**registration_facts(registration), **extra}
    enqueue(
        user,
        kind,
        _subject(registration, what),
        template=kind,
        data=data,
        essential=essential or kind in ESSENTIAL_KINDS,
    )


def _notify_fresh_booking(registration: Registration) -> None:
    user = registration.user or (db.session.get(User, registration.user_id) if registration.user_id else None)
    if user is None:
        return
    confirmation = {
        "user": user,
        "kind": "booking_confirmed",
        "subject": _subject(registration, "confirmed"),
        "template": "booking_confirmed",
        "data": registration_facts(registration),
    }
    enqueue_many([confirmation, *reminder_messages(registration, user)])


def on_registration_changed(
    registration: Registration,
    *,
    from_status: Status | None,
    to_status: Status,
    cause: Cause = Cause.MANUAL,
    actor: User | None = None,
    reason: str = "",
    **_ignored: Any,
) -> None:
    """Enqueue what a registration change tells the person, in the booking transaction: confirmed →
    confirmation (email carries the .ics) and reminders; waitlisted → waitlist notice; offered → an essential
    offer with its deadline; an organizer's approval decision → an essential result (lottery results are
    announced by the lottery feature: only the reminders are planned here); cancelled by an organizer (not by
    the person, not by the system) → an essential cancellation notice with the organizer's reason; an expired
    offer → a notice. Leaving "confirmed" skips the reminders not yet sent; a seat moved to another slot (by
    the person or an organizer) has its reminders planned again for the new start."""
    if registration.user_id is None:
        return
    if cause == Cause.MOVED:
        cancel_reminders(registration)
        plan_reminders(registration)
        return
    decided = from_status == Status.PENDING  # an organizer's approval or a lottery draw
    if decided and (registration.slot.allocation == Allocation.LOTTERY or cause == Cause.LOTTERY):
        # The lottery feature announces its own results (with the draw's details): only plan the reminders.
        if to_status == Status.CONFIRMED:
            plan_reminders(registration, revive=False)
        return
    if to_status == Status.CONFIRMED and from_status in (
        None,
        Status.PENDING,
        Status.WAITLISTED,
        Status.OFFERED,
    ):
        if decided:
            _notify(registration, "booking_result", "result", essential=True, outcome="confirmed")
            plan_reminders(registration, revive=False)
        elif from_status is None:
            # A fresh booking (the flash-sale path): confirmation and reminders in one statement; a new
            # registration has no skipped reminders to revive.
            _notify_fresh_booking(registration)
        else:
            _notify(registration, "booking_confirmed", "confirmed")
            plan_reminders(registration, revive=False)
    elif to_status == Status.WAITLISTED:
        if decided:
            _notify(registration, "booking_result", "result", essential=True, outcome="waitlisted")
        else:
            _notify(registration, "booking_waitlisted", "waitlisted")
    elif to_status == Status.OFFERED:
        slot = registration.slot
        deadline = registration.offer_expires_at or clock.now() + timedelta(hours=slot.offer_hours)
        # One message per offer round: a later offer (after an earlier one expired) is a new message.
        user = registration.user or db.session.get(User, registration.user_id)
        if user is not None:
            enqueue(
                user,
                "booking_offer",
                _subject(registration, f"offer:{deadline.strftime('%Y%m%d%H%M')}"),
                template="booking_offer",
                data={**registration_facts(registration), "deadline": deadline.isoformat()},
                essential=True,
                expires_at=deadline,
            )
    elif to_status == Status.REJECTED:
        _notify(registration, "booking_result", "result", essential=True, outcome="rejected")
    elif to_status == Status.CANCELLED:
        # An organizer (or admin) cancelled. Cancellations by the system (actor None: a trip place released,
        # a consent withdrawn) are announced by the feature that made them.
        by_staff = actor is not None and actor.id != registration.user_id
        if by_staff and cause == Cause.CANCELLED:
            _notify(registration, "booking_cancelled", "cancelled", essential=True, reason=reason)
    elif to_status == Status.EXPIRED and from_status == Status.OFFERED:
        _notify(registration, "booking_offer_expired", "offer-expired")
    if from_status == Status.CONFIRMED and to_status not in (Status.ATTENDED, Status.NO_SHOW):
        cancel_reminders(registration)
    if from_status == Status.OFFERED and to_status != Status.OFFERED:
        cancel_pending(registration.user_id, _subject(registration, "offer:"), "booking_offer")


_replay_notification_changes = replay_each(on_registration_changed)


def on_registrations_changed(
    slot: Slot,
    *,
    changes: Sequence[RegistrationChange],
    to_status: Status,
    cause: Cause = Cause.MANUAL,
    **extra: Any,
) -> None:
    """Set-wise changes (``transition_many``) tell people what single changes tell them. A lottery's decisions
    are announced by the lottery feature, so for them only the winners' reminders are planned, for all winners
    in one statement; any other change is told row by row."""
    lottery = slot.allocation == Allocation.LOTTERY or cause == Cause.LOTTERY
    decided = [change for change in changes if change.from_status == Status.PENDING] if lottery else []
    if decided and to_status == Status.CONFIRMED:
        winners = [c.user_id for c in decided if c.user_id is not None]
        recipients = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(winners)))}
        plan = [(c.registration_id, recipients[c.user_id]) for c in decided if c.user_id in recipients]
        enqueue_many(slot_reminder_messages(slot, plan))
    others = [change for change in changes if change.from_status != Status.PENDING] if lottery else changes
    if others:
        _replay_notification_changes(slot, changes=others, to_status=to_status, cause=cause, **extra)


def on_event_times_changed(event: Event, **_ignored: Any) -> None:
    reschedule_reminders(event)


def on_password_reset_requested(user: User, *, url: str, **_ignored: Any) -> None:
    """A password-reset link goes by email only (it is useless elsewhere) and expires with the token."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    enqueue(
        user,
        "password_reset",
        f"password-reset:{digest}",
        template="password_reset",
        data={"url": url},
        essential=True,
        channels=["email"],
        expires_at=clock.now() + timedelta(hours=2),
    )


# --- the inbox ---


def unread_count(user: User) -> int:
    """Unread in-app messages, counting those already due that the scheduler has not materialised yet."""
    now = clock.now()
    stored = db.session.scalar(
        select(func.count())
        .select_from(InboxMessage)
        .where(InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None))
    )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.user_id == user.id,
            OutboxMessage.channel == "inbox",
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.due_at <= now,
            (OutboxMessage.expires_at.is_(None)) | (OutboxMessage.expires_at > now),
        )
    )
    return int(stored or 0) + int(waiting or 0)


def inbox_page(user: User, page: int = 1) -> tuple[Sequence[InboxMessage], int]:
    """The person's inbox, newest first, after showing anything already due (see
    ``delivery.deliver_inbox_now``). Returns (messages of the page, total)."""
    from .delivery import deliver_inbox_now

    deliver_inbox_now(user)
    page = max(page, 1)
    total = db.session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.user_id == user.id))
    items = db.session.scalars(
        select(InboxMessage)
        .where(InboxMessage.user_id == user.id)
        .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
        .limit(INBOX_PAGE_SIZE)
        .offset((page - 1) * INBOX_PAGE_SIZE)
    ).all()
    return items, int(total or 0)


def mark_read(user: User, message_id: int) -> InboxMessage:
    """Mark one of the person's own messages read; anyone else's answers NotFound."""
    item = db.session.get(InboxMessage, message_id)
    if item is None or item.user_id != user.id:
        raise NotFound(_("没有找到这条消息。"))
    if item.read_at is None:
        item.read_at = clock.now()
    db.session.flush()
    return item


def mark_all_read(user: User) -> int:
    """Mark every unread message of the person read."""
    result = db.session.execute(
        update(InboxMessage)
        .where(InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
