"""Mixer sub-domain: check-in at the door and badges — the next badge number for each checked-in registrant, kept
in step with the booking engine's check-ins — and the attendee's card profile (nickname, contact sharing).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select

from .. import clock
from ..accounts.models import User
from ..booking import checkin as booking_checkin
from ..booking.models import Registration, Status
from ..booking.window import require_checkin_open
from ..errors import InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..freetext import TextRefused, clean_text
from .errors import AlreadyRevealed, NotAnAttendee
from .models import MixerAttendee, MixerPick
from .policy import CONTACT_MAX, NICKNAME_MAX, clean_nickname
from .windows import ensure_settings, get_managed_mixer, get_mixer, is_revealed


def attendee_for(user: User, event_id: int) -> MixerAttendee | None:
    """The person's badge at this mixer, if they were checked in (only attendees have one)."""
    return db.session.scalar(
        select(MixerAttendee).where(MixerAttendee.event_id == event_id, MixerAttendee.user_id == user.id)
    )


def check_in(
    actor: User, event_id: int, *, registration_id: int | None = None, ticket_code: str | None = None
) -> MixerAttendee:
    """An organizer checks a confirmed registrant in (through the booking engine) and gives them the next badge
    number of this mixer, only inside the check-in window (from a few hours before the start to the end).
    Checking in again returns the same badge."""
    event = get_managed_mixer(actor, event_id)
    if registration_id is None and not (ticket_code or "").strip():
        raise InvalidInput(_("请选择嘉宾或输入电子票码。"))
    condition = (
        Registration.id == registration_id
        if registration_id is not None
        else Registration.ticket_code == (ticket_code or "").strip()
    )
    registration = db.session.scalar(select(Registration).where(condition, Registration.event_id == event.id))
    if registration is None or registration.user_id is None:
        raise NotFound(_("没有找到该报名（请核对电子票）。"))
    if registration.status in (Status.CONFIRMED, Status.NO_SHOW):  # the others are refused by the engine
        require_checkin_open(event, clock.now())
    booking_checkin.check_in(registration, actor=actor)  # the badge is handed out by the receiver below
    attendee = db.session.scalar(
        select(MixerAttendee).where(MixerAttendee.event_id == event.id, MixerAttendee.user_id == registration.user_id)
    )
    if attendee is None:  # checked in before this feature saw it (e.g. data from before the receiver existed)
        attendee = _give_badge(event, registration)
    return attendee


def _signup_nickname(raw: object) -> str | None:
    """The nickname chosen at sign-up, if it still passes the free-text rule: one stored before the rule (a NUL
    byte, a line break) is left out, so the person is checked in and picks a nickname on their card page."""
    try:
        return clean_text(raw, max_length=NICKNAME_MAX) or None
    except TextRefused:
        return None


def _give_badge(event: Event, registration: Registration) -> MixerAttendee:
    """The next badge number of this mixer for a checked-in registrant, with the nickname chosen at sign-up.
    Runs while the booking engine holds the slot's lock, so numbers are handed out one at a time."""
    existing = db.session.scalar(
        select(MixerAttendee).where(MixerAttendee.event_id == event.id, MixerAttendee.user_id == registration.user_id)
    )
    if existing is not None:
        return existing
    ensure_settings(event)
    last = db.session.scalar(select(func.max(MixerAttendee.badge_no)).where(MixerAttendee.event_id == event.id))
    options = registration.options or {}
    attendee = MixerAttendee(
        event_id=event.id,
        user_id=registration.user_id,
        registration_id=registration.id,
        badge_no=(last or 0) + 1,
        gender=registration.gender,
        nickname=_signup_nickname(options.get("nickname")),
        share_contact=bool(options.get("share_contact")),
        checked_in_at=clock.now(),
    )
    db.session.add(attendee)
    db.session.flush()
    return attendee


def keep_badges_in_step(registration: Registration, from_status: Status | None, to_status: Status) -> None:
    """The mixer kind's reaction to its registrations' changes (``MixerPolicy.after_change``): whoever checks a
    mixer registrant in (this feature's door page, the organizer console, a QR scan) gives them a badge;
    undoing a check-in before the reveal takes the badge and any picks to or from it away."""
    if registration.user_id is None:
        return
    event = registration.slot.event
    if to_status == Status.ATTENDED:
        _give_badge(event, registration)
    elif from_status == Status.ATTENDED and not is_revealed(event.id):
        attendee = db.session.scalar(
            select(MixerAttendee).where(
                MixerAttendee.event_id == event.id, MixerAttendee.user_id == registration.user_id
            )
        )
        if attendee is not None:
            db.session.execute(
                delete(MixerPick).where(or_(MixerPick.picker_id == attendee.id, MixerPick.picked_id == attendee.id))
            )
            db.session.delete(attendee)
            db.session.flush()


def update_card_profile(
    user: User, event_id: int, *, nickname: str, share_contact: bool, contact: str | None = None
) -> MixerAttendee:
    """An attendee sets the nickname others see (never their real name) and whether to share contact details
    with a mutual match; allowed until the reveal."""
    event = get_mixer(event_id)
    attendee = attendee_for(user, event.id)
    if attendee is None:
        raise NotAnAttendee()
    if is_revealed(event.id):
        raise AlreadyRevealed()
    attendee.nickname = clean_nickname(nickname, user.name, required=True)
    attendee.share_contact = share_contact
    try:
        text = " ".join(clean_text(contact or "", max_length=CONTACT_MAX).split())
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"contact": [refused.message]}) from None
    attendee.contact = text or None
    db.session.flush()
    return attendee
