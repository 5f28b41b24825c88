"""Employee booking actions: book, my bookings, cancel, accept/decline an offer, ticket and .ics."""

from __future__ import annotations

import segno
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from ..errors import NotFound
from ..events.kinds import policy_for
from ..webviews import attempt, me
from . import offers, queries, services
from .ics import registration_ics
from .models import Registration, Status

bp = Blueprint("booking", __name__)


def _options_from_form() -> dict[str, str] | None:
    options = {key[4:]: value for key, value in request.form.items() if key.startswith("opt_")}
    return options or None


@bp.post("/slots/<int:slot_id>/book")
@login_required
def book(slot_id: int) -> ResponseReturnValue:
    # An unknown or unpublished slot answers the same 404 as any object outside one's reach.
    with attempt(let_through=NotFound) as done:
        registration = services.book(
            me(), slot_id, consents=request.form.getlist("consent"), options=_options_from_form()
        )
    if not done:
        event_id = request.form.get("event_id", type=int)
        return redirect(url_for("events.detail", event_id=event_id) if event_id else url_for("events.index"))
    messages = {
        Status.CONFIRMED: _("预约成功！请在活动当天出示电子票。"),
        Status.WAITLISTED: _("名额已满，您已进入候补名单，有空位时会通知您。"),
        Status.PENDING: _("报名已提交，请等待审核或抽签结果。"),
    }
    flash(messages.get(registration.status, _("已提交。")), "success")
    return redirect(url_for("booking.mine"))


@bp.get("/me/bookings")
@login_required
def mine() -> str:
    registrations = queries.my_registrations(me())
    positions = {r.id: queries.waitlist_position(r) for r in registrations if r.status == Status.WAITLISTED}
    return render_template("booking/mine.html", registrations=registrations, positions=positions)


def _own(registration_id: int) -> Registration:
    return queries.get_registration_for(me(), registration_id)


@bp.post("/me/bookings/<int:registration_id>/cancel")
@login_required
def cancel(registration_id: int) -> ResponseReturnValue:
    registration = _own(registration_id)
    with attempt() as done:
        services.cancel(registration, actor=me())
    if done:
        flash(_("已取消预约。"), "success")
    return redirect(url_for("booking.mine"))


@bp.post("/me/bookings/<int:registration_id>/accept")
@login_required
def accept(registration_id: int) -> ResponseReturnValue:
    registration = _own(registration_id)
    with attempt(commit_on_error=True) as done:  # an expired offer is recorded as expired and passed on
        offers.accept_offer(registration, actor=me())
    if done:
        flash(_("已确认候补名额，预约成功！"), "success")
    return redirect(url_for("booking.mine"))


@bp.post("/me/bookings/<int:registration_id>/decline")
@login_required
def decline(registration_id: int) -> ResponseReturnValue:
    registration = _own(registration_id)
    with attempt() as done:
        offers.decline_offer(registration, actor=me())
    if done:
        flash(_("已放弃该候补名额。"), "info")
    return redirect(url_for("booking.mine"))


@bp.get("/me/bookings/<int:registration_id>/ticket")
@login_required
def ticket(registration_id: int) -> str:
    registration = _own(registration_id)
    qr = None
    if registration.status in (Status.CONFIRMED, Status.ATTENDED, Status.OFFERED):
        qr = Markup(  # noqa: S704 - segno writes the SVG itself from the ticket code
            segno.make(registration.ticket_code, error="m").svg_inline(scale=6, dark="#111", light="#fff")
        )
    lines = policy_for(registration.slot.event.kind).ticket_lines(registration)
    return render_template("booking/ticket.html", registration=registration, qr=qr, lines=lines)


@bp.get("/me/bookings/<int:registration_id>/calendar.ics")
@login_required
def calendar(registration_id: int) -> Response:
    registration = _own(registration_id)
    return Response(
        registration_ics(registration),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="zhijia-{registration.id}.ics"'},
    )
