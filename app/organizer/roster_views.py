"""The organizer console's roster pages (on the ``organizer`` blueprint): an event's roster, adding a person,
messaging and tagging the people chosen, one registration's page and the actions on it (approve, reject, promote,
cancel, move, tag)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from ..booking.models import ACTIVE, Registration
from ..errors import NotFound
from ..events.models import Event
from ..extensions import db
from ..webviews import attempt, back, flash_form_errors, me
from . import access, exports, messaging, rosters, tags
from .forms import AddPersonForm, BulkTagForm, MessageForm, MoveForm, ReasonForm, TagForm
from .views import STATUS_ORDER, bp, int_arg, organizer_required, roster_filter, status_text


@bp.route("/events/<int:event_id>/roster", methods=["GET", "POST"])
@organizer_required
def roster(event_id: int) -> str:
    # Filters may come by POST so that a searched name or phone number never appears in a URL or a log.
    found = access.get_event(me(), event_id)
    filters = roster_filter()
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
def add_person(event_id: int) -> ResponseReturnValue:
    found = access.get_event(me(), event_id)
    form = AddPersonForm()
    form.slot.choices = [SelectChoice(slot.id, exports.slot_name(slot)) for slot in found.slots]
    back_url = url_for("organizer.roster", event_id=event_id)
    if not form.validate():
        flash_form_errors(form)
        return redirect(back_url)
    with attempt(let_through=NotFound) as done:
        registration = rosters.add_person(me(), found, form.slot.data, form.phone.data or "")
    if done:
        flash(_("已为该职工报名，当前状态：%(s)s。", s=str(status_text(registration.status))), "success")
    return redirect(back_url)


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
def message(event_id: int) -> ResponseReturnValue:
    found = access.get_event(me(), event_id)
    form = MessageForm()
    back_url = url_for("organizer.roster", event_id=event_id)
    if not form.validate():
        flash_form_errors(form)
        return redirect(back_url)
    with attempt(let_through=NotFound) as done:
        sent = messaging.message(
            me(),
            found,
            _selected(found, form.scope.data or "selected"),
            form.title.data or "",
            form.body.data or "",
            form.nonce.data or "",
        )
    if done:
        flash(_("消息已发送给 %(n)d 人。", n=sent), "success")
    return redirect(back_url)


@bp.post("/events/<int:event_id>/tags")
@organizer_required
def bulk_tag(event_id: int) -> ResponseReturnValue:
    found = access.get_event(me(), event_id)
    form = BulkTagForm()
    back_url = url_for("organizer.roster", event_id=event_id)
    if not form.validate():
        flash_form_errors(form)
        return redirect(back_url)
    selected = _selected(found)
    if not selected:
        flash(_("请至少勾选一人。"), "error")
        return redirect(back_url)
    with attempt(let_through=NotFound) as done:
        added = tags.add_tag(me(), selected, form.label.data or "")
    if done:
        flash(_("已为 %(n)d 人加上标签。", n=added), "success")
    return redirect(back_url)


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


def _registration_action(
    registration_id: int, action: Callable[[Registration], Any], success: str
) -> ResponseReturnValue:
    found = access.get_registration(me(), registration_id)
    with attempt(let_through=NotFound) as done:
        action(found)
    if done:
        flash(success, "success")
    return back(url_for("organizer.registration", registration_id=registration_id))


@bp.post("/registrations/<int:registration_id>/approve")
@organizer_required
def approve(registration_id: int) -> ResponseReturnValue:
    return _registration_action(registration_id, lambda r: rosters.approve(me(), r), _("已通过审核。"))


@bp.post("/registrations/<int:registration_id>/reject")
@organizer_required
def reject(registration_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "")
    return _registration_action(registration_id, lambda r: rosters.reject(me(), r, reason), _("已标记为未通过。"))


@bp.post("/registrations/<int:registration_id>/promote")
@organizer_required
def promote(registration_id: int) -> ResponseReturnValue:
    return _registration_action(registration_id, lambda r: rosters.promote(me(), r), _("已从候补转为确认。"))


@bp.post("/registrations/<int:registration_id>/cancel")
@organizer_required
def cancel_registration(registration_id: int) -> ResponseReturnValue:
    reason = request.form.get("reason", "")
    return _registration_action(
        registration_id, lambda r: rosters.cancel_registration(me(), r, reason), _("已取消该报名。")
    )


@bp.post("/registrations/<int:registration_id>/move")
@organizer_required
def move(registration_id: int) -> ResponseReturnValue:
    access.get_registration(me(), registration_id)  # scope first: another organization's id answers 404
    to_slot = int_arg("slot")
    if to_slot is None:
        flash(_("请选择场次。"), "error")
        return redirect(url_for("organizer.registration", registration_id=registration_id))
    return _registration_action(registration_id, lambda r: rosters.move(me(), r, to_slot), _("已调整到新的场次。"))


@bp.post("/registrations/<int:registration_id>/tags")
@organizer_required
def tag(registration_id: int) -> ResponseReturnValue:
    label = request.form.get("label", "")
    return _registration_action(registration_id, lambda r: tags.add_tag(me(), [r], label), _("已添加标签。"))


@bp.post("/tags/<int:tag_id>/delete")
@organizer_required
def untag(tag_id: int) -> ResponseReturnValue:
    found = tags.get_tag(me(), tag_id)
    registration_id = found.registration_id
    tags.remove_tag(me(), found)
    db.session.commit()
    flash(_("已移除标签。"), "success")
    return back(url_for("organizer.registration", registration_id=registration_id))
