"""Mixer sub-domain: match cards — whom an attendee may pick and their own picks while the window is open.

Privacy rule (DESIGN.md §2, §7): a one-sided pick is never shown to anyone; nothing here returns who picked whom
except to the picker themself while the window is open.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, select

from .. import clock
from ..accounts.models import User
from ..extensions import db
from .checkin import attendee_for
from .errors import InvalidPick, NicknameRequired, NotAnAttendee, PickWindowClosed, TooManyPicks
from .models import MixerAttendee, MixerPick, MixerSettings
from .windows import get_mixer, is_revealed, lock_settings


def candidates(attendee: MixerAttendee, settings: MixerSettings) -> list[MixerAttendee]:
    """Whom an attendee may pick: the other attendees (of the other gender unless the mixer is open to all)."""
    query = select(MixerAttendee).where(MixerAttendee.event_id == attendee.event_id, MixerAttendee.id != attendee.id)
    if settings.other_gender_only and attendee.gender is not None:
        query = query.where(MixerAttendee.gender != attendee.gender)
    return list(db.session.scalars(query.order_by(MixerAttendee.badge_no)))


def my_picks(attendee: MixerAttendee) -> list[int]:
    """The badge numbers the attendee ticked (shown only to themself, only before the reveal)."""
    rows = db.session.scalars(
        select(MixerAttendee.badge_no)
        .join(MixerPick, MixerPick.picked_id == MixerAttendee.id)
        .where(MixerPick.picker_id == attendee.id)
        .order_by(MixerAttendee.badge_no)
    )
    return list(rows)


def set_picks(user: User, event_id: int, badges: list[int], now: datetime | None = None) -> list[int]:
    """Replace the attendee's match card. Only checked-in attendees, only while the window is open (from the
    mixer's start until the close time, never after the reveal), at most K distinct badges, each an attendee of
    this mixer other than oneself (and of the other gender unless the mixer is open to all)."""
    now = now or clock.now()
    event = get_mixer(event_id)
    settings = lock_settings(event, shared=True)
    attendee = attendee_for(user, event.id)
    if attendee is None:
        raise NotAnAttendee()
    if is_revealed(event.id) or not event.starts_at <= now < settings.pick_closes_at:
        raise PickWindowClosed()
    if not attendee.nickname:
        raise NicknameRequired()
    wanted = sorted(set(badges))
    if len(wanted) > settings.max_picks:
        raise TooManyPicks(_("每人最多选择 %(k)d 位。", k=settings.max_picks))
    allowed = {c.badge_no: c for c in candidates(attendee, settings)}
    if any(badge not in allowed for badge in wanted):
        raise InvalidPick()
    db.session.execute(delete(MixerPick).where(MixerPick.picker_id == attendee.id))
    for badge in wanted:
        db.session.add(MixerPick(event_id=event.id, picker_id=attendee.id, picked_id=allowed[badge].id))
    db.session.flush()
    return wanted
