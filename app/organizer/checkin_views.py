"""The organizer console's check-in at the door (on the ``organizer`` blueprint): the scanning page, a scan
(JSON from checkin.js, or a plain form), the override outside the window, a ticket photo read on the server, the
attendee search, undoing a check-in, and marking the no-shows."""

from __future__ import annotations

import secrets
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..booking.window import checkin_window
from ..errors import InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..webviews import attempt, back, flash_form_errors, me
from . import access, attendance, exports, photo_scan, rosters
from .forms import CheckinForm, CheckinOverrideForm, CheckinPhotoForm
from .views import bp, event_action, int_arg, json_response, organizer_required, parse_when, status_text


@bp.post("/events/<int:event_id>/no-shows")
@organizer_required
def no_shows(event_id: int) -> ResponseReturnValue:
    return event_action(event_id, lambda e: attendance.mark_no_shows(me(), e), _("已将未签到的确认报名标记为未到场。"))


@bp.post("/registrations/<int:registration_id>/undo-checkin")
@organizer_required
def undo_checkin(registration_id: int) -> ResponseReturnValue:
    found = access.get_registration(me(), registration_id)
    with attempt(let_through=NotFound, show=(lambda error: None) if request.is_json else None) as done:
        attendance.undo_check_in(me(), found)
    if done.error is not None:
        if request.is_json:
            return json_response({"ok": False, "message": done.error.message}, 409)
        return back(url_for("organizer.registration", registration_id=registration_id))
    if request.is_json:
        return json_response(
            {"ok": True, "message": _("已撤销签到。"), "attended": rosters.counts(found.slot.event).attended}
        )
    flash(_("已撤销签到。"), "success")
    return back(url_for("organizer.registration", registration_id=registration_id))


def _checkin_page(
    found: Event,
    outcome: dict[str, Any] | None = None,
    override_form: CheckinOverrideForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The check-in page with a fresh scan id, and (after a scan outside the window) the override form."""
    form = CheckinForm(formdata=None)
    form.scan_id.data = secrets.token_hex(12)
    if override_form is None:
        override_form = CheckinOverrideForm(formdata=None)
        if outcome is not None and outcome.get("can_override"):
            override_form.registration_id.data = str(outcome["registration_id"])
    page = render_template(
        "organizer/checkin.html",
        event=found,
        counts=rosters.counts(found),
        form=form,
        override_form=override_form,
        window=checkin_window(found),
        outcome=outcome,
    )
    return page, status


@bp.get("/events/<int:event_id>/checkin")
@organizer_required
def checkin(event_id: int) -> tuple[str, int]:
    return _checkin_page(access.get_event(me(), event_id))


@bp.post("/events/<int:event_id>/checkin/scan")
@organizer_required
def checkin_scan(event_id: int) -> ResponseReturnValue:
    """JSON (from checkin.js, CSRF token in the X-CSRFToken header) or a plain form post (no JavaScript)."""
    found = access.get_event(me(), event_id)
    if request.is_json:
        return _json_scan(found)
    form = CheckinForm()
    if not form.validate():
        flash_form_errors(form)
        return redirect(url_for("organizer.checkin", event_id=event_id))
    with attempt(catch=InvalidInput) as done:
        outcome = attendance.scan(me(), found, form.scan_id.data or secrets.token_hex(12), ticket_code=form.code.data)
    if not done:
        return redirect(url_for("organizer.checkin", event_id=event_id))
    return _checkin_page(found, outcome.as_dict(found))


def _json_scan(found: Event) -> ResponseReturnValue:
    """checkin.js's scan: the outcome as JSON; a scan uploaded twice at once answers with the first one's result."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return json_response({"result": "invalid", "message": _("请求无效。")}, 400)
    registration_id = payload.get("registration_id")
    reason = payload.get("override_reason")

    def attempt_scan() -> attendance.ScanResult:
        return attendance.scan(
            me(),
            found,
            str(payload.get("scan_id") or ""),
            ticket_code=str(payload.get("code") or "") or None,
            registration_id=registration_id if isinstance(registration_id, int) else None,
            scanned_at=parse_when(payload.get("scanned_at")),
            override_reason=reason if isinstance(reason, str) else None,
        )

    try:
        try:
            outcome = attempt_scan()
            db.session.commit()
        except IntegrityError:
            # The same scan uploaded twice at once: the other upload won; answer with its result.
            db.session.rollback()
            outcome = attempt_scan()
            db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        return json_response({"result": "invalid", "message": error.message, "fields": error.fields}, 422)
    return json_response(outcome.as_dict(found))


@bp.post("/events/<int:event_id>/checkin/override")
@organizer_required
def checkin_override(event_id: int) -> ResponseReturnValue:
    """Without JavaScript: check in, outside the window, the person the last scan found, with a reason."""
    found = access.get_event(me(), event_id)
    form = CheckinOverrideForm()
    registration_id = int_arg("registration_id")
    if registration_id is None:
        return redirect(url_for("organizer.checkin", event_id=event_id))
    if not form.validate():
        registration = access.get_registration(me(), registration_id)
        if registration.event_id != found.id:
            raise NotFound()
        shown = attendance.ScanResult(attendance.RESULT_TOO_EARLY, registration).as_dict(found)
        shown["result"], shown["message"] = "invalid", _("请检查填写的内容。")
        return _checkin_page(found, shown, override_form=form, status=422)
    with attempt(catch=InvalidInput) as done:
        outcome = attendance.scan(
            me(),
            found,
            secrets.token_hex(12),
            registration_id=registration_id,
            override_reason=form.override_reason.data or "",
        )
    if not done:
        return redirect(url_for("organizer.checkin", event_id=event_id))
    return _checkin_page(found, outcome.as_dict(found))


@bp.post("/events/<int:event_id>/checkin/photo")
@organizer_required
def checkin_photo(event_id: int) -> ResponseReturnValue:
    """A photo of the ticket (``<input capture>``, for browsers without a barcode detector), read on the server."""
    found = access.get_event(me(), event_id)
    form = CheckinPhotoForm()
    upload = form.photo.data
    data = upload.read(photo_scan.MAX_PHOTO_BYTES + 1) if upload and form.validate() else b""
    with attempt(catch=InvalidInput) as done:
        outcome = photo_scan.scan_photo(me(), found, data)
    if not done:
        return redirect(url_for("organizer.checkin", event_id=event_id))
    return _checkin_page(found, outcome.as_dict(found))


@bp.post("/events/<int:event_id>/checkin/search")
@organizer_required
def checkin_search(event_id: int) -> ResponseReturnValue:
    """Find attendees by name or phone digits (POSTed, so no personal data in the URL)."""
    found = access.get_event(me(), event_id)
    payload = request.get_json(silent=True) if request.is_json else request.form
    text = str((payload or {}).get("q", ""))[:40]
    people = attendance.search_attendees(me(), found, text)
    return json_response(
        {
            "results": [
                {
                    "registration_id": r.id,
                    "name": r.user.name if r.user else "",
                    "phone": exports.masked_phone(r.user.phone if r.user else None),
                    "status": r.status.value,
                    "status_label": status_text(r.status),
                    "slot": exports.slot_name(r.slot),
                }
                for r in people
            ]
        }
    )
