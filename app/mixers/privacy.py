"""Mixers' part of the privacy rules (``app.personal_data``): a person's own-data export (their side only —
never a pick someone made about them), forgetting on account deletion, and the retention limit of contact
details."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..events.models import Event
from ..extensions import db
from ..personal_data import PersonalData
from .models import MixerAttendee, MixerOutcome, MixerPair, MixerPick, MixerReveal, OutcomeKind

# Contact details given for a match card are kept this many days after the reveal (the last follow-up is at
# 3 months, answerable for two weeks).
DEFAULT_RETENTION_DAYS = 180


def export_for(user: Any) -> list[dict[str, Any]] | None:
    """Each mixer the person attended: badge, nickname, contact choice, their own ticks while the window is
    open, and their mutual matches with their own follow-up answers."""
    attendees = db.session.scalars(
        select(MixerAttendee).where(MixerAttendee.user_id == user.id).order_by(MixerAttendee.id)
    ).all()
    if not attendees:
        return None
    data = []
    for attendee in attendees:
        event = db.session.get(Event, attendee.event_id)
        my_picks = db.session.scalars(
            select(MixerAttendee.badge_no)
            .join(MixerPick, MixerPick.picked_id == MixerAttendee.id)
            .where(MixerPick.picker_id == attendee.id)
            .order_by(MixerAttendee.badge_no)
        ).all()
        matches = []
        pairs = db.session.scalars(
            select(MixerPair).where(
                MixerPair.event_id == attendee.event_id,
                or_(MixerPair.user_a_id == user.id, MixerPair.user_b_id == user.id),
            )
        ).all()
        for pair in pairs:
            if pair.source.value == "app" and db.session.get(MixerReveal, pair.event_id) is None:
                continue
            member = "a" if pair.user_a_id == user.id else "b"
            partner = pair.attendee_b if member == "a" else pair.attendee_a
            answers = db.session.scalars(
                select(MixerOutcome)
                .where(
                    MixerOutcome.pair_id == pair.id,
                    MixerOutcome.kind == OutcomeKind.FOLLOWUP,
                    MixerOutcome.member == member,
                )
                .order_by(MixerOutcome.id)
            ).all()
            matches.append(
                {
                    "matched_at": pair.created_at,
                    "source": pair.source.value,
                    "partner_nickname": partner.display_name if partner else None,
                    "my_followup_answers": [{"stage": a.stage, "answer": a.answer, "at": a.at} for a in answers],
                }
            )
        data.append(
            {
                "mixer": event.title if event else None,
                "badge": attendee.badge_no,
                "nickname": attendee.nickname,
                "share_contact": attendee.share_contact,
                "contact": attendee.contact,
                "my_picks_before_reveal": list(my_picks),
                "matches": matches,
            }
        )
    return data


def forget(user: Any) -> int:
    """On account deletion: at mixers not yet revealed the person leaves (their card and every pick to or from
    them go); at revealed mixers their nickname and contact are wiped, the pairs and counts stay."""
    changed = 0
    attendees = db.session.scalars(select(MixerAttendee).where(MixerAttendee.user_id == user.id)).all()
    for attendee in attendees:
        revealed = db.session.get(MixerReveal, attendee.event_id) is not None
        if not revealed:
            db.session.execute(
                delete(MixerPick).where(or_(MixerPick.picker_id == attendee.id, MixerPick.picked_id == attendee.id))
            )
            db.session.execute(
                update(MixerPair).where(MixerPair.attendee_a_id == attendee.id).values(attendee_a_id=None)
            )
            db.session.execute(
                update(MixerPair).where(MixerPair.attendee_b_id == attendee.id).values(attendee_b_id=None)
            )
            db.session.delete(attendee)
        else:
            attendee.nickname = None
            attendee.contact = None
            attendee.share_contact = False
        changed += 1
    db.session.flush()
    return changed


def expire(now: datetime) -> int:
    """Wipe contact details of mixers revealed more than the retention period ago."""
    days = int(current_app.config.get("MIXER_CONTACT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    old = select(MixerReveal.event_id).where(MixerReveal.revealed_at < now - timedelta(days=days))
    result = db.session.execute(
        update(MixerAttendee)
        .where(MixerAttendee.event_id.in_(old), MixerAttendee.contact.isnot(None))
        .values(contact=None, share_contact=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


PERSONAL_DATA = PersonalData("mixers", "单身联谊", export=export_for, forget=forget, expire=expire)
