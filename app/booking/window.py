"""The check-in window: when a person may be checked in at the door of an event (issue 23, item 3).

Check-in opens ``CHECKIN_OPENS_HOURS_BEFORE`` hours (setting, default 3) before the event starts and closes when
the event ends. Outside it a scan is refused unless the organizer overrides with a reason (audited by the
caller). This module is the one place that decides the window; the console's scan, its photo scan, the offline
queue's sync and the JSON API all ask it through ``organizer.attendance.scan``; a mixer's badge desk and a trip
leader's attendance list through ``require_checkin_open``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext

from ..errors import DomainError
from ..events.models import Event

DEFAULT_OPENS_HOURS_BEFORE = 3

TOO_EARLY = "too_early"
ENDED = "ended"


@dataclass(frozen=True)
class CheckinWindow:
    opens_at: datetime
    closes_at: datetime

    def refusal(self, moment: datetime) -> str | None:
        """``too_early`` before the window, ``ended`` after it, None inside it (both ends included)."""
        if moment < self.opens_at:
            return TOO_EARLY
        if moment > self.closes_at:
            return ENDED
        return None


def opens_hours_before() -> int:
    """The configured lead time in hours (never negative)."""
    value = current_app.config.get("CHECKIN_OPENS_HOURS_BEFORE", DEFAULT_OPENS_HOURS_BEFORE)
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return DEFAULT_OPENS_HOURS_BEFORE


def checkin_window(event: Event) -> CheckinWindow:
    """The rule: check-in is accepted from the configured number of hours before the event starts until the
    event's end."""
    return CheckinWindow(event.starts_at - timedelta(hours=opens_hours_before()), event.ends_at)


class OutsideCheckinWindow(DomainError):
    """A check-in outside the event's window, refused (the console's scanner answers with a result instead)."""

    code = "checkin_window"
    http_status = 409


def refusal_message(event: Event, refusal: str) -> str:
    """What the door is told outside the window: when check-in opens, or that the event has ended."""
    if refusal == TOO_EARLY:
        opens = checkin_window(event).opens_at
        return gettext("签到尚未开始，%(time)s 起可签到。", time=opens.strftime("%m-%d %H:%M"))
    return gettext("活动已结束，不能签到。")


def require_checkin_open(event: Event, moment: datetime) -> None:
    """The rule for every check-in path without an override (mixer badges, trip attendance): refuse outside the
    window with a message saying when it opens or that the event has ended."""
    refusal = checkin_window(event).refusal(moment)
    if refusal is not None:
        raise OutsideCheckinWindow(refusal_message(event, refusal), refusal=refusal)


def checkin_closed_message(event: Event, moment: datetime) -> str | None:
    """For pages: why check-in cannot happen now (the buttons are then left out), or None inside the window."""
    refusal = checkin_window(event).refusal(moment)
    return None if refusal is None else refusal_message(event, refusal)
