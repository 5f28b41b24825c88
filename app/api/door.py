"""The door through the API (issue 23, item 7): a kiosk or a third-party scanner reads an event's roster and
checks people in, through the same services as the organizer console — the same scope (another organization's
event answers 404, an employee's token 403), the same check-in window and override with a reason, the same
idempotent scan ids and the same audit."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from sqlalchemy.exc import IntegrityError

from ..accounts.bearer import api_user, token_required
from ..booking.models import Status
from ..booking.window import checkin_window
from ..events.vocabulary import registration_state
from ..extensions import db
from ..organizer import access, attendance, exports, rosters
from .parsing import Fields, json_body
from .views import bp, iso


def _positive(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


def _row_json(row: rosters.RosterRow) -> dict[str, Any]:
    registration, person = row.registration, row.user
    return {
        "registration_id": registration.id,
        "slot_id": registration.slot_id,
        "slot": exports.slot_name(registration.slot),
        "status": registration.status.value,
        "state": registration_state(registration),
        "checked_in": registration.status == Status.ATTENDED,
        "name": person.name if person is not None else None,
        "phone": exports.masked_phone(person.phone if person is not None else None),
        "unit": person.organization.name if person is not None and person.organization is not None else None,
        "tags": [tag.label for tag in row.tags],
    }


@bp.get("/organizer/events/<int:event_id>/roster")
@token_required
def door_roster(event_id: int) -> Response:
    """The people of an event of the token holder's subtree (filters: status, slot; never a name or phone in
    the URL), with the check-in window and counts. The read is audited (view.roster)."""
    user = api_user()
    event = access.get_event(user, event_id)
    status = request.args.get("status") or None
    rows = rosters.view_roster(user, event, rosters.RosterFilter(status=status, slot_id=_positive("slot")))
    window = checkin_window(event)
    counts = rosters.counts(event)
    body = {
        "event_id": event.id,
        "title": event.title,
        "checkin_opens_at": iso(window.opens_at),
        "checkin_closes_at": iso(window.closes_at),
        "attended": counts.attended,
        "expected": counts.expected,
        "registrations": [_row_json(row) for row in rows],
    }
    db.session.commit()
    return jsonify(body)


@bp.post("/organizer/events/<int:event_id>/checkins")
@token_required
def door_checkin(event_id: int) -> Response:
    """One scan at the door: a ticket code or a registration id, with the device's scan id (a repeated id gets
    the first answer and counts nobody twice), optionally the time it was made (offline queue) and an override
    reason for a check-in outside the window."""
    user = api_user()
    event = access.get_event(user, event_id)
    fields = Fields(json_body())
    scan_id = fields.string("scan_id", max_length=64)
    code = fields.string("code", required=False, max_length=200)
    registration_id = fields.integer("registration_id", required=False, minimum=1, maximum=2**31 - 1)
    scanned_at = fields.datetime("scanned_at", required=False)
    reason = fields.string("override_reason", required=False, max_length=200)
    fields.done()

    def attempt() -> attendance.ScanResult:
        return attendance.scan(
            user,
            event,
            scan_id or "",
            ticket_code=code,
            registration_id=registration_id,
            scanned_at=scanned_at,
            override_reason=reason,
        )

    try:
        outcome = attempt()
        db.session.commit()
    except IntegrityError:
        # The same scan uploaded twice at once: the other upload won; answer with its result.
        db.session.rollback()
        outcome = attempt()
        db.session.commit()
    return jsonify(outcome.as_dict(event))
