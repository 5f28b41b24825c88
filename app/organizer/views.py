"""The organizer console (/organizer/...): events, rosters, check-in at the door, exports, the audit trail.

Thin views: parse a form or JSON, call one service, commit once, render or redirect. Every look-up goes through a
scoped service (another organization's object answers 404); employees get 403; anonymous visitors the login page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from .. import audit, clock
from ..accounts.models import Role, User
from ..booking.models import ACTIVE, Status
from ..booking.window import checkin_window
from ..errors import DomainError, InvalidInput, NotFound
from ..events import covers
from ..events.forms import CoverForm
from ..events.models import Event
from ..events.services import kind_choices
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.services import all_cities
from . import access, attendance, exports, lifecycle, messaging, photo_scan, rosters, tags
from .forms import (
    AddPersonForm,
    BulkTagForm,
    CheckinForm,
    CheckinOverrideForm,
    CheckinPhotoForm,
    DuplicateForm,
    EventForm,
    MessageForm,
    MoveForm,
    ReasonForm,
    TagForm,
)

bp = Blueprint("organizer", __name__, url_prefix="/organizer")

F = TypeVar("F", bound=Callable[..., Any])

STATUS_ORDER = [
    Status.PENDING,
    Status.CONFIRMED,
    Status.OFFERED,
    Status.WAITLISTED,
    Status.ATTENDED,
    Status.NO_SHOW,
    Status.CANCELLED,
    Status.REJECTED,
    Status.EXPIRED,
]


def me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def organizer_required(view: F) -> F:
    """Anonymous → the login page; logged in but not an organizer or admin → 403."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.role not in (Role.ORGANIZER, Role.ADMIN):
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _back(default: str) -> Response:
    from ..web import safe_next

    return redirect(safe_next(request.form.get("next"), default))  # type: ignore[return-value]


def _flash_form_errors(form: Any) -> None:
    for messages in form.errors.values():
        for message in messages if isinstance(messages, list) else [messages]:
            flash(str(message) if not isinstance(message, dict) else _("请检查填写的内容。"), "error")


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.values.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


# --- events ---------------------------------------------------------------------------------------------------


@bp.get("/")
@organizer_required
def index() -> str:
    filters = lifecycle.EventListFilter(
        q=request.args.get("q", "")[:60],
        kind=request.args.get("kind") or None,
        state=request.args.get("state") or None,
        page=_int_arg("page") or 1,
    )
    events, total = lifecycle.list_events(me(), filters)
    pages = max((total + filters.per_page - 1) // filters.per_page, 1)
    return render_template(
        "organizer/index.html", events=events, total=total, filters=filters, pages=pages, kinds=kind_choices()
    )


def _event_form(event: Event | None = None) -> EventForm:
    form = EventForm()
    form.setup(kind_choices(), access.managed_organizations(me()), all_cities(), spare_slots=0)
    return form


def _resolve(form: EventForm) -> tuple[Organization, City]:
    organization = db.session.get(Organization, form.organization.data)
    city = db.session.get(City, form.city.data)
    if organization is None or city is None:
        raise InvalidInput(_("请检查填写的内容。"), fields={"organization": [_("请选择主办工会。")]})
    return organization, city


def _apply_field_errors(form: EventForm, error: InvalidInput) -> None:
    for name, messages in error.fields.items():
        if name.startswith("slots"):
            flash(_("场次：") + "；".join(messages), "error")
            continue
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            flash("；".join(messages), "error")


def _render_event_form(form: EventForm, event: Event | None, status: int = 200) -> tuple[str, int]:
    return render_template("organizer/event_form.html", form=form, event=event), status


def _adding_slot(form: EventForm) -> bool:
    """The no-JavaScript "＋ 添加场次": the form comes back as typed, with one more empty slot block; nothing is
    checked or stored yet."""
    if "add_slot" not in request.form:
        return False
    form.add_spare_row()
    return True


@bp.route("/events/new", methods=["GET", "POST"])
@organizer_required
def new_event() -> Any:
    form = _event_form()
    if request.method == "GET":
        form.organization.data = me().organization_id
        home = me().organization
        if home is not None and home.city_id:
            form.city.data = home.city_id
        form.prefill_new(clock.now())
        return _render_event_form(form, None)
    if _adding_slot(form):
        return _render_event_form(form, None)
    if not form.validate():
        return _render_event_form(form, None, 422)
    try:
        organization, city = _resolve(form)
        _ids, slots, slot_errors = form.slot_rows()
        if slot_errors:
            raise InvalidInput(_("请检查填写的内容。"), fields=slot_errors)
        event = lifecycle.save_new_event(me(), form.to_data(organization, city, slots))
    except InvalidInput as error:
        db.session.rollback()
        _apply_field_errors(form, error)
        return _render_event_form(form, None, 422)
    db.session.commit()
    flash(_("活动已创建。") if not event.published else _("活动已创建并发布。"), "success")
    return redirect(url_for("organizer.event", event_id=event.id))


def _kind_page(found: Event) -> str | None:
    """The kind feature's own organizer page for this event (/organizer/<kind>s/<event_id>), if it has one."""
    wanted = f"/organizer/{found.kind}s/<int:event_id>"
    for rule in current_app.url_map.iter_rules():
        if rule.rule == wanted and "GET" in (rule.methods or ()):
            return url_for(rule.endpoint, event_id=found.id)
    return None


@bp.get("/events/<int:event_id>")
@organizer_required
def event(event_id: int) -> str:
    found = access.get_event(me(), event_id)
    return render_template(
        "organizer/event.html",
        event=found,
        kind_page=_kind_page(found),
        counts=rosters.counts(found),
        reason_form=ReasonForm(),
        duplicate_form=DuplicateForm(),
        cover_form=CoverForm(),
        status_order=STATUS_ORDER,
        started=clock.now() >= found.starts_at,
    )


@bp.post("/events/<int:event_id>/cover")
@organizer_required
def event_cover(event_id: int) -> Response:
    form = CoverForm()
    try:
        covers.set_event_cover(me(), event_id, form.picture_bytes(), form.alt.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("封面图片已更新。"), "success")
    return redirect(url_for("organizer.event", event_id=event_id))  # type: ignore[return-value]


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_event(event_id: int) -> Any:
    found = access.get_event(me(), event_id)
    form = _event_form(found)
    form.kind.render_kw = {"disabled": True}
    if request.method == "GET":
        form.fill_from(found)
        return _render_event_form(form, found)
    form.kind.data = found.kind
    if _adding_slot(form):
        return _render_event_form(form, found)
    if not form.validate():
        return _render_event_form(form, found, 422)
    try:
        organization, city = _resolve(form)
        ids, slots, slot_errors = form.slot_rows(set(request.form.getlist("remove_slot")))
        if slot_errors:
            raise InvalidInput(_("请检查填写的内容。"), fields=slot_errors)
        lifecycle.update_event(me(), found, form.to_data(organization, city, slots), ids)
    except InvalidInput as error:
        db.session.rollback()
        _apply_field_errors(form, error)
        return _render_event_form(form, found, 422)
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organizer.event", event_id=event_id))
    db.session.commit()
    flash(_("活动已保存。"), "success")
    return redirect(url_for("organizer.event", event_id=event_id))


def _event_action(event_id: int, action: Callable[[Event], Any], success: str) -> Response:
    found = access.get_event(me(), event_id)
    try:
        action(found)
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("organizer.event", event_id=event_id))  # type: ignore[return-value]


@bp.post("/events/<int:event_id>/publish")
@organizer_required
def publish(event_id: int) -> Response:
    return _event_action(event_id, lambda e: lifecycle.set_published(me(), e, True), _("活动已发布。"))


@bp.post("/events/<int:event_id>/unpublish")
@organizer_required
def unpublish(event_id: int) -> Response:
    return _event_action(event_id, lambda e: lifecycle.set_published(me(), e, False), _("活动已撤回发布。"))


@bp.post("/events/<int:event_id>/cancel")
@organizer_required
def cancel_event(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    form = ReasonForm()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for("organizer.event", event_id=event_id))  # type: ignore[return-value]
    try:
        count = lifecycle.cancel_event(me(), found, form.reason.data or "")
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("活动已取消，已通知 %(n)d 条报名的职工。", n=count), "success")
    return redirect(url_for("organizer.event", event_id=event_id))  # type: ignore[return-value]


@bp.post("/events/<int:event_id>/duplicate")
@organizer_required
def duplicate(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    form = DuplicateForm()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for("organizer.event", event_id=event_id))  # type: ignore[return-value]
    try:
        copy = lifecycle.duplicate_event(me(), found, form.shift_days.data or 7)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organizer.event", event_id=event_id))  # type: ignore[return-value]
    db.session.commit()
    flash(_("已复制为新的草稿活动，请检查时间后发布。"), "success")
    return redirect(url_for("organizer.edit_event", event_id=copy.id))  # type: ignore[return-value]


@bp.post("/events/<int:event_id>/no-shows")
@organizer_required
def no_shows(event_id: int) -> Response:
    return _event_action(event_id, lambda e: attendance.mark_no_shows(me(), e), _("已将未签到的确认报名标记为未到场。"))


# --- rosters --------------------------------------------------------------------------------------------------


def _roster_filter() -> rosters.RosterFilter:
    values = request.values
    return rosters.RosterFilter(
        q=values.get("q", "")[:40],
        status=values.get("status") or None,
        gender=values.get("gender") or None,
        organization_id=_int_arg("org"),
        tag=(values.get("tag") or None),
        slot_id=_int_arg("slot"),
    )


@bp.route("/events/<int:event_id>/roster", methods=["GET", "POST"])
@organizer_required
def roster(event_id: int) -> str:
    # Filters may come by POST so that a searched name or phone number never appears in a URL or a log.
    found = access.get_event(me(), event_id)
    filters = _roster_filter()
    rows = rosters.view_roster(me(), found, filters)
    db.session.commit()  # the audited look
    add_form = AddPersonForm(formdata=None)
    add_form.slot.choices = [SelectChoice(slot.id, exports.slot_name(slot)) for slot in found.slots]
    message_form = MessageForm(formdata=None)
    message_form.nonce.data = secrets.token_hex(8)
    return render_template(
        "organizer/roster.html",
        event=found,
        rows=rows,
        filters=filters,
        counts=rosters.counts(found),
        tags=tags.event_tags(found),
        organizations=sorted(
            {row.user.organization for row in rows if row.user is not None and row.user.organization is not None},
            key=lambda org: org.path,
        ),
        status_order=STATUS_ORDER,
        add_form=add_form,
        message_form=message_form,
        tag_form=BulkTagForm(formdata=None),
    )


@bp.post("/events/<int:event_id>/add-person")
@organizer_required
def add_person(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    form = AddPersonForm()
    form.slot.choices = [SelectChoice(slot.id, exports.slot_name(slot)) for slot in found.slots]
    back = url_for("organizer.roster", event_id=event_id)
    if not form.validate():
        _flash_form_errors(form)
        return redirect(back)  # type: ignore[return-value]
    try:
        registration = rosters.add_person(me(), found, form.slot.data, form.phone.data or "")
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)  # type: ignore[return-value]
    db.session.commit()
    flash(_("已为该职工报名，当前状态：%(s)s。", s=str(_status(registration.status))), "success")
    return redirect(back)  # type: ignore[return-value]


def _status(status: Status) -> str:
    from ..booking.views import status_label

    return status_label(status)


def _selected(found: Event, scope: str = "selected") -> list[Any]:
    if scope == "active":
        rows = rosters.roster(me(), found, rosters.RosterFilter())
        return [row.registration for row in rows if row.registration.status in ACTIVE]
    ids = []
    for value in request.form.getlist("ids"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return messaging.registrations_of(me(), found, ids)


@bp.post("/events/<int:event_id>/message")
@organizer_required
def message(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    form = MessageForm()
    back = url_for("organizer.roster", event_id=event_id)
    if not form.validate():
        _flash_form_errors(form)
        return redirect(back)  # type: ignore[return-value]
    try:
        sent = messaging.message(
            me(),
            found,
            _selected(found, form.scope.data or "selected"),
            form.title.data or "",
            form.body.data or "",
            form.nonce.data or "",
        )
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)  # type: ignore[return-value]
    db.session.commit()
    flash(_("消息已发送给 %(n)d 人。", n=sent), "success")
    return redirect(back)  # type: ignore[return-value]


@bp.post("/events/<int:event_id>/tags")
@organizer_required
def bulk_tag(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    form = BulkTagForm()
    back = url_for("organizer.roster", event_id=event_id)
    if not form.validate():
        _flash_form_errors(form)
        return redirect(back)  # type: ignore[return-value]
    selected = _selected(found)
    if not selected:
        flash(_("请至少勾选一人。"), "error")
        return redirect(back)  # type: ignore[return-value]
    try:
        added = tags.add_tag(me(), selected, form.label.data or "")
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)  # type: ignore[return-value]
    db.session.commit()
    flash(_("已为 %(n)d 人加上标签。", n=added), "success")
    return redirect(back)  # type: ignore[return-value]


@bp.get("/registrations/<int:registration_id>")
@organizer_required
def registration(registration_id: int) -> str:
    found = rosters.view_registration(me(), registration_id)
    db.session.commit()  # the audited look
    move_form = MoveForm(formdata=None)
    move_form.slot.choices = [
        SelectChoice(s.id, exports.slot_name(s)) for s in found.slot.event.slots if s.id != found.slot_id
    ]
    return render_template(
        "organizer/registration.html",
        registration=found,
        person=found.user,
        tags=tags.tags_by_registration([found.id]).get(found.id, []),
        reason_form=ReasonForm(formdata=None),
        move_form=move_form,
        tag_form=TagForm(formdata=None),
    )


def _registration_action(registration_id: int, action: Callable[[Any], Any], success: str) -> Response:
    found = access.get_registration(me(), registration_id)
    try:
        action(found)
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return _back(url_for("organizer.registration", registration_id=registration_id))


@bp.post("/registrations/<int:registration_id>/approve")
@organizer_required
def approve(registration_id: int) -> Response:
    return _registration_action(registration_id, lambda r: rosters.approve(me(), r), _("已通过审核。"))


@bp.post("/registrations/<int:registration_id>/reject")
@organizer_required
def reject(registration_id: int) -> Response:
    reason = request.form.get("reason", "")
    return _registration_action(registration_id, lambda r: rosters.reject(me(), r, reason), _("已标记为未通过。"))


@bp.post("/registrations/<int:registration_id>/promote")
@organizer_required
def promote(registration_id: int) -> Response:
    return _registration_action(registration_id, lambda r: rosters.promote(me(), r), _("已从候补转为确认。"))


@bp.post("/registrations/<int:registration_id>/cancel")
@organizer_required
def cancel_registration(registration_id: int) -> Response:
    reason = request.form.get("reason", "")
    return _registration_action(
        registration_id, lambda r: rosters.cancel_registration(me(), r, reason), _("已取消该报名。")
    )


@bp.post("/registrations/<int:registration_id>/move")
@organizer_required
def move(registration_id: int) -> Response:
    access.get_registration(me(), registration_id)  # scope first: another organization's id answers 404
    to_slot = _int_arg("slot")
    if to_slot is None:
        flash(_("请选择场次。"), "error")
        return redirect(url_for("organizer.registration", registration_id=registration_id))  # type: ignore[return-value]
    return _registration_action(registration_id, lambda r: rosters.move(me(), r, to_slot), _("已调整到新的场次。"))


@bp.post("/registrations/<int:registration_id>/tags")
@organizer_required
def tag(registration_id: int) -> Response:
    label = request.form.get("label", "")
    return _registration_action(registration_id, lambda r: tags.add_tag(me(), [r], label), _("已添加标签。"))


@bp.post("/tags/<int:tag_id>/delete")
@organizer_required
def untag(tag_id: int) -> Response:
    found = tags.get_tag(me(), tag_id)
    registration_id = found.registration_id
    tags.remove_tag(me(), found)
    db.session.commit()
    flash(_("已移除标签。"), "success")
    return _back(url_for("organizer.registration", registration_id=registration_id))


@bp.post("/registrations/<int:registration_id>/undo-checkin")
@organizer_required
def undo_checkin(registration_id: int) -> Response:
    found = access.get_registration(me(), registration_id)
    try:
        attendance.undo_check_in(me(), found)
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        if request.is_json:
            return _json({"ok": False, "message": error.message}, 409)
        flash(error.message, "error")
        return _back(url_for("organizer.registration", registration_id=registration_id))
    db.session.commit()
    if request.is_json:
        return _json({"ok": True, "message": _("已撤销签到。"), "attended": rosters.counts(found.slot.event).attended})
    flash(_("已撤销签到。"), "success")
    return _back(url_for("organizer.registration", registration_id=registration_id))


# --- check-in -------------------------------------------------------------------------------------------------


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    return response


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


def _parse_when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        from ..clock import CHINA

        parsed = parsed.astimezone(CHINA).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


@bp.post("/events/<int:event_id>/checkin/scan")
@organizer_required
def checkin_scan(event_id: int) -> Any:
    """JSON (from checkin.js, CSRF token in the X-CSRFToken header) or a plain form post (no JavaScript)."""
    found = access.get_event(me(), event_id)
    if request.is_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return _json({"result": "invalid", "message": _("请求无效。")}, 400)
        registration_id = payload.get("registration_id")
        reason = payload.get("override_reason")

        def attempt() -> attendance.ScanResult:
            return attendance.scan(
                me(),
                found,
                str(payload.get("scan_id") or ""),
                ticket_code=str(payload.get("code") or "") or None,
                registration_id=registration_id if isinstance(registration_id, int) else None,
                scanned_at=_parse_when(payload.get("scanned_at")),
                override_reason=reason if isinstance(reason, str) else None,
            )

        try:
            try:
                outcome = attempt()
                db.session.commit()
            except IntegrityError:
                # The same scan uploaded twice at once: the other upload won; answer with its result.
                db.session.rollback()
                outcome = attempt()
                db.session.commit()
        except InvalidInput as error:
            db.session.rollback()
            return _json({"result": "invalid", "message": error.message, "fields": error.fields}, 422)
        return _json(outcome.as_dict(found))
    form = CheckinForm()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for("organizer.checkin", event_id=event_id))
    try:
        outcome = attendance.scan(me(), found, form.scan_id.data or secrets.token_hex(12), ticket_code=form.code.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organizer.checkin", event_id=event_id))
    db.session.commit()
    return _checkin_page(found, outcome.as_dict(found))


@bp.post("/events/<int:event_id>/checkin/override")
@organizer_required
def checkin_override(event_id: int) -> Any:
    """Without JavaScript: check in, outside the window, the person the last scan found, with a reason."""
    found = access.get_event(me(), event_id)
    form = CheckinOverrideForm()
    registration_id = _int_arg("registration_id")
    if registration_id is None:
        return redirect(url_for("organizer.checkin", event_id=event_id))
    if not form.validate():
        registration = access.get_registration(me(), registration_id)
        if registration.event_id != found.id:
            raise NotFound()
        shown = attendance.ScanResult(attendance.RESULT_TOO_EARLY, registration).as_dict(found)
        shown["result"], shown["message"] = "invalid", _("请检查填写的内容。")
        return _checkin_page(found, shown, override_form=form, status=422)
    try:
        outcome = attendance.scan(
            me(),
            found,
            secrets.token_hex(12),
            registration_id=registration_id,
            override_reason=form.override_reason.data or "",
        )
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organizer.checkin", event_id=event_id))
    db.session.commit()
    return _checkin_page(found, outcome.as_dict(found))


@bp.post("/events/<int:event_id>/checkin/photo")
@organizer_required
def checkin_photo(event_id: int) -> Any:
    """A photo of the ticket (``<input capture>``, for browsers without a barcode detector), read on the server."""
    found = access.get_event(me(), event_id)
    form = CheckinPhotoForm()
    upload = form.photo.data
    data = upload.read(photo_scan.MAX_PHOTO_BYTES + 1) if upload and form.validate() else b""
    try:
        outcome = photo_scan.scan_photo(me(), found, data)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("organizer.checkin", event_id=event_id))
    db.session.commit()
    return _checkin_page(found, outcome.as_dict(found))


@bp.post("/events/<int:event_id>/checkin/search")
@organizer_required
def checkin_search(event_id: int) -> Response:
    """Find attendees by name or phone digits (POSTed, so no personal data in the URL)."""
    found = access.get_event(me(), event_id)
    payload = request.get_json(silent=True) if request.is_json else request.form
    text = str((payload or {}).get("q", ""))[:40]
    people = attendance.search_attendees(me(), found, text)
    return _json(
        {
            "results": [
                {
                    "registration_id": r.id,
                    "name": r.user.name if r.user else "",
                    "phone": exports.masked_phone(r.user.phone if r.user else None),
                    "status": r.status.value,
                    "status_label": _status(r.status),
                    "slot": exports.slot_name(r.slot),
                }
                for r in people
            ]
        }
    )


# --- exports --------------------------------------------------------------------------------------------------


def _export_rows(found: Event) -> list[exports.ExportRow]:
    filters = _roster_filter()
    return exports.export_rows(rosters.roster(me(), found, filters, limit=100_000))


def _filename(found: Event, ext: str) -> str:
    return f"roster-{found.id}-{clock.today():%Y%m%d}.{ext}"


@bp.get("/events/<int:event_id>/export.csv")
@organizer_required
def export_csv(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    rows = _export_rows(found)
    rosters.record_export(me(), found, "csv", len(rows))
    db.session.commit()
    return Response(
        exports.to_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(found, "csv")}"'},
    )


@bp.get("/events/<int:event_id>/export.xlsx")
@organizer_required
def export_xlsx(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    rows = _export_rows(found)
    rosters.record_export(me(), found, "xlsx", len(rows))
    db.session.commit()
    return Response(
        exports.to_xlsx(found, rows),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_filename(found, "xlsx")}"'},
    )


@bp.get("/events/<int:event_id>/signin-sheet")
@organizer_required
def signin_sheet(event_id: int) -> str:
    found = access.get_event(me(), event_id)
    rows = [
        row
        for row in rosters.roster(me(), found, rosters.RosterFilter(slot_id=_int_arg("slot")), limit=100_000)
        if row.registration.status in (Status.CONFIRMED, Status.ATTENDED, Status.OFFERED)
    ]
    rosters.record_export(me(), found, "signin_sheet", len(rows))
    db.session.commit()
    return render_template("organizer/signin_sheet.html", event=found, rows=rows, masked=exports.masked_phone)


# --- audit trail (admins: everything; organizers: their subtree without the view.* rows) -----------------------


def _audit_filter() -> audit.AuditFilter:
    return audit.AuditFilter(
        action=(request.args.get("action") or "")[:40] or None,
        object_type=(request.args.get("object_type") or "")[:40] or None,
        object_id=_int_arg("object_id"),
        actor_id=_int_arg("actor_id"),
        since=_parse_when(request.args.get("since")),
        until=_parse_when(request.args.get("until")),
        page=min(_int_arg("page") or 1, 100_000),
    )


@bp.get("/audit")
@organizer_required
def audit_log() -> str:
    filters = _audit_filter()
    entries, total = access.audit_trail(me(), filters)
    pages = max((total + filters.per_page - 1) // filters.per_page, 1)
    return render_template(
        "organizer/audit.html",
        entries=entries,
        total=total,
        filters=filters,
        pages=pages,
        actions=audit.actions(me()),
    )


@bp.get("/audit.csv")
@organizer_required
def audit_csv() -> Response:
    entries = access.export_audit_trail(me(), _audit_filter())
    db.session.commit()  # the export is itself audited
    return Response(
        exports.audit_csv(entries),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{clock.today():%Y%m%d}.csv"'},
    )
