"""iCalendar (RFC 5545) files for bookings: times written in UTC so every calendar shows them right."""

from __future__ import annotations

from datetime import datetime

from .. import clock
from .models import Registration


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(moment: datetime) -> str:
    return clock.to_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def registration_ics(registration: Registration, host: str = "zhijia.local") -> str:
    slot = registration.slot
    event = slot.event
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Zhijia//Union services//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:registration-{registration.id}@{host}",
        f"DTSTAMP:{_utc(clock.now())}",
        f"DTSTART:{_utc(slot.starts_at)}",
        f"DTEND:{_utc(slot.ends_at)}",
        f"SUMMARY:{_escape(event.title)}",
        f"LOCATION:{_escape(event.venue or event.city.name)}",
        f"DESCRIPTION:{_escape(event.description[:500])}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
