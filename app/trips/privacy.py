"""Trips' part of the privacy rules (``app.personal_data``): a person's own-data export, deletion of attendance
details when an account is deleted, and their retention limit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from ..booking.models import Registration
from ..events.models import Event
from ..extensions import db
from ..personal_data import PersonalData
from .models import TripAttendance, TripLotteryEntry

# Attendance details (an emergency contact, dietary needs) are kept this many days after the trip ended.
DEFAULT_RETENTION_DAYS = 90


def export_for(user: Any) -> list[dict[str, Any]] | None:
    """The person's trip applications with their lottery number, rank and attendance details."""
    rows = db.session.execute(
        select(Registration, Event, TripLotteryEntry, TripAttendance)
        .join(Event, Event.id == Registration.event_id)
        .outerjoin(TripLotteryEntry, TripLotteryEntry.registration_id == Registration.id)
        .outerjoin(TripAttendance, TripAttendance.registration_id == Registration.id)
        .where(Registration.user_id == user.id, Event.kind == "trip")
        .order_by(Registration.id)
    ).all()
    if not rows:
        return None
    data = []
    for registration, event, entry, attendance in rows:
        data.append(
            {
                "departure": event.title,
                "starts_at": event.starts_at,
                "status": registration.status.value,
                "lottery_number": entry.anon_id if entry else None,
                "lottery_tier": entry.tier if entry else None,
                "lottery_rank": entry.rank if entry else None,
                "emergency_contact": attendance.emergency_name if attendance else None,
                "emergency_phone": attendance.emergency_phone if attendance else None,
                "dietary": attendance.dietary.value if attendance else None,
                "dietary_note": attendance.dietary_note if attendance else None,
            }
        )
    return data


def forget(user: Any) -> int:
    """On account deletion: delete the person's attendance details (the registrations stay, anonymous, so the
    statistics and the published lottery records stay true)."""
    ids = select(Registration.id).where(Registration.user_id == user.id)
    result = db.session.execute(delete(TripAttendance).where(TripAttendance.registration_id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def expire(now: datetime) -> int:
    """Delete attendance details of trips that ended more than the retention period ago."""
    days = int(current_app.config.get("TRIP_ATTENDANCE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    ended = (
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(Event.kind == "trip", Event.ends_at < now - timedelta(days=days))
    )
    result = db.session.execute(delete(TripAttendance).where(TripAttendance.registration_id.in_(ended)))
    return int(getattr(result, "rowcount", 0) or 0)


PERSONAL_DATA = PersonalData("trips", "职工疗休养", export=export_for, forget=forget, expire=expire)
