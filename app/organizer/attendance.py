"""Organizer services for check-in at the door: scans by ticket code or search (idempotent per device scan id,
inside the event's check-in window unless overridden with a reason), undoing a check-in, marking no-shows, and
what the scanner says for each result.

Every function checks the actor's scope itself; attendance goes through ``booking.checkin``; every action writes
an audit row. Functions flush but never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock
from ..accounts.models import User
from ..accounts.scope import require_manages
from ..booking import checkin as booking_checkin
from ..booking.errors import IllegalTransition
from ..booking.models import Registration, Status
from ..booking.window import ENDED, TOO_EARLY, checkin_window, refusal_message
from ..errors import InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..freetext import TextRefused, clean_text, text_problem
from .models import CheckinScan
from .rosters import RosterFilter, counts, roster

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
        changed = booking_checkin.check_in(registration, actor=actor)
    except IllegalTransition:
        return RESULT_NOT_CONFIRMED
    return RESULT_WELCOME if changed else RESULT_ALREADY


def previous_scan(client_scan_id: str) -> CheckinScan | None:
    """The scan already recorded under a device's scan id, if any: a scan id is answered once."""
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
        audit.record(actor, action, "registration", registration.id, detail, org=event.organization)
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


def undo_check_in(actor: User, registration: Registration) -> None:
    """Undo a mistaken check-in (back to confirmed)."""
    require_manages(actor, registration.slot.event.organization)
    booking_checkin.undo_check_in(registration, actor=actor)
    audit.record(actor, "checkin.undo", "registration", registration.id, None, org=registration.slot.event.organization)


def mark_no_shows(actor: User, event: Event) -> int:
    """After the event has started, every confirmed person not checked in becomes a no-show."""
    require_manages(actor, event.organization)
    count = booking_checkin.mark_no_shows(event, actor=actor)
    audit.record(actor, "event.no_shows", "event", event.id, {"no_shows": count}, org=event.organization)
    return count
