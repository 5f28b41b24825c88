"""Screening pages. Organizer: plan a visit with its grid, watch it fill, resize/close slots, check people in,
record outcomes (scoped to the organizer's subtree: anything else is 404). Employee: move a booking.

Booking itself happens on the core event page (``events/detail.html``) through the engine's book view; this
feature only contributes the package choice and the move form there (``events/kinds/screening*.html``).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from ..accounts.models import Role, User
from ..accounts.scope import scope_condition
from ..accounts.services import require_role
from ..booking.labels import status_label
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..orgs.models import Organization
from ..orgs.services import all_cities
from ..webviews import attempt, me
from . import checkin, eligibility, moves, packages, visits
from .forms import (
    AddSlotsForm,
    CheckInForm,
    MoveForm,
    OutcomeForm,
    ResizeForm,
    TwoCancerSettingsForm,
    VisitForm,
)
from .models import ScreeningVisit

# One convention for every kind: the employee's pages on ``bp`` under /<kind>, the organizer's on ``organizer_bp``
# under /organizer/<kind> (and a kind's own JSON endpoints on ``api_bp`` under /api/v1/<kind>).
bp = Blueprint("screenings", __name__, url_prefix="/screenings")
organizer_bp = Blueprint("screenings_organizer", __name__, url_prefix="/organizer/screenings")


def _organizer() -> User:
    """The console's own pages are for organizers and admins (anyone else: 403)."""
    user = me()
    require_role(user, Role.ORGANIZER, Role.ADMIN)
    return user


def _manager(event_id: int) -> tuple[User, ScreeningVisit]:
    """A visit the current user manages; anyone else, employees included, gets 404 (ids cannot be probed)."""
    user = me()
    return user, visits.managed_visit(user, event_id)


def _visit_url(event_id: int) -> str:
    return url_for("screenings_organizer.visit", event_id=event_id)


def _console_url(endpoint: str, **values: Any) -> str | None:
    """A link into the organizer console when it offers the page (camera scanning, offline queue)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- employee -----------------------------------------------------------------------------------------------


@bp.post("/bookings/<int:registration_id>/move")
@login_required
def move(registration_id: int) -> ResponseReturnValue:
    form = MoveForm()
    if not form.validate():
        flash(_("请选择要改到的时段。"), "error")
        return redirect(url_for("booking.mine"))
    with attempt(let_through=NotFound) as done:
        registration = moves.move_booking(me(), registration_id, form.to_slot_id.data)
    if not done:
        event_id = request.form.get("event_id", type=int)
        return redirect(url_for("events.detail", event_id=event_id) if event_id else url_for("booking.mine"))
    flash(_("已改到 %(label)s，请以新的时段到场。", label=registration.slot.label), "success")
    return redirect(url_for("events.detail", event_id=registration.event_id))


# --- organizer ----------------------------------------------------------------------------------------------


def _organization_choices(user: User) -> list[SelectChoice]:
    orgs = db.session.scalars(
        select(Organization).where(scope_condition(user, Organization.path)).order_by(Organization.path).limit(500)
    )
    return [SelectChoice(org.id, org.name) for org in orgs]


@organizer_bp.get("/")
@login_required
def index() -> str:
    user = _organizer()
    return render_template(
        "screenings/index.html",
        upcoming=visits.list_visits(user, upcoming=True),
        past=visits.list_visits(user, upcoming=False, limit=20),
    )


def _show_on_visit_form(form: VisitForm, error: DomainError) -> None:
    """The field messages on their fields (those the form lacks on the site's name), then the message flashed."""
    fields = error.fields if isinstance(error, InvalidInput) else {}
    for name, messages in fields.items():
        target = getattr(form, name, None) or form.site_name
        target.errors = [*target.errors, *messages]
    flash(error.message, "error")


@organizer_bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    user = _organizer()
    form = VisitForm()
    form.organization_id.choices = _organization_choices(user)
    form.city_id.choices = [SelectChoice(city.id, city.name) for city in all_cities()]
    if request.method == "GET" and user.organization is not None:
        form.organization_id.data = user.organization.id
        if user.organization.city_id:
            form.city_id.data = user.organization.city_id
    if form.validate_on_submit():
        organization = db.session.get(Organization, form.organization_id.data)
        city = next(c for c in all_cities() if c.id == form.city_id.data)
        data = visits.VisitData(
            title=form.title.data or "",
            organization=organization,  # type: ignore[arg-type]
            city=city,
            site_name=form.site_name.data or "",
            venue=form.venue.data or "",
            description=form.description.data or "",
            day=form.day.data,
            start=form.start.data or time(8, 30),
            end=form.end.data or time(16, 30),
            interval_minutes=form.interval.data or 0,
            per_slot=form.per_slot.data or 0,
            offers_two_cancer=bool(form.offers_two_cancer.data),
            two_cancer_min_age=form.two_cancer_min_age.data or 0,
            two_cancer_max_age=form.two_cancer_max_age.data or 0,
            repeat_interval_years=form.repeat_interval_years.data or 0,
            two_cancer_per_slot=form.two_cancer_per_slot.data,
            frontline_only=bool(form.frontline_only.data),
        )
        with attempt(catch=InvalidInput, show=lambda error: _show_on_visit_form(form, error)) as done:
            event = visits.plan_visit(user, data)
        if done:
            flash(_("已创建体检安排，共 %(n)d 个时段。", n=len(event.slots)), "success")
            return redirect(_visit_url(event.id))
    elif request.method == "POST":
        flash(_("请检查填写的内容。"), "error")
    return render_template("screenings/new.html", form=form)


@organizer_bp.get("/<int:event_id>")
@login_required
def visit(event_id: int) -> str:
    _user, found = _manager(event_id)
    return render_template(
        "screenings/visit.html",
        visit=found,
        event=found.event,
        rows=visits.grid(found),
        checkin=CheckInForm(),
        add_form=AddSlotsForm(),
        settings_form=TwoCancerSettingsForm(obj=found),
        camera_checkin_url=_console_url("organizer.checkin", event_id=found.event_id),
        visit_day=eligibility.visit_date(found.event),
    )


@organizer_bp.post("/<int:event_id>/slots/<int:slot_id>")
@login_required
def resize(event_id: int, slot_id: int) -> ResponseReturnValue:
    user, found = _manager(event_id)
    form = ResizeForm()
    if not form.validate():
        flash(_("人数需在 0 到 500 之间。"), "error")
        return redirect(_visit_url(event_id))
    if not any(slot.id == slot_id for slot in found.event.slots):
        return redirect(_visit_url(event_id))
    with attempt() as done:
        slot = visits.resize(user, slot_id, form.capacity.data or 0, closed=bool(form.closed.data))
    if done:
        flash(_("时段 %(label)s 已更新。", label=slot.label), "success")
    return redirect(_visit_url(event_id) + f"#slot-{slot_id}")


@organizer_bp.post("/<int:event_id>/settings")
@login_required
def settings(event_id: int) -> ResponseReturnValue:
    user, found = _manager(event_id)
    form = TwoCancerSettingsForm()
    if not form.validate():
        flash(_("请检查填写的内容。"), "error")
        return redirect(_visit_url(event_id) + "#settings")
    data = visits.TwoCancerSettings(
        offers_two_cancer=bool(form.offers_two_cancer.data),
        min_age=form.two_cancer_min_age.data or 0,
        max_age=form.two_cancer_max_age.data or 0,
        repeat_interval_years=form.repeat_interval_years.data or 0,
        per_slot=form.two_cancer_per_slot.data,
    )
    with attempt(details=True) as done:
        visits.update_two_cancer_settings(user, found, data)
    if done:
        flash(_("“两癌”筛查设置已保存。"), "success")
    return redirect(_visit_url(event_id) + "#settings")


@organizer_bp.post("/<int:event_id>/slots")
@login_required
def add_slots(event_id: int) -> ResponseReturnValue:
    user, found = _manager(event_id)
    form = AddSlotsForm()
    if not form.validate():
        flash(_("请检查填写的内容。"), "error")
        return redirect(_visit_url(event_id))
    with attempt(details=True) as done:
        created = visits.add_slots(
            user,
            found.event,
            form.start.data,
            form.end.data,
            form.interval.data or 0,
            form.per_slot.data or 0,
        )
    if done:
        flash(_("已增加 %(n)d 个时段。", n=len(created)), "success")
    return redirect(_visit_url(event_id))


@organizer_bp.post("/<int:event_id>/check-in")
@login_required
def check_in(event_id: int) -> ResponseReturnValue:
    user, found = _manager(event_id)
    form = CheckInForm()
    if not form.validate():
        flash(_("请扫描电子票二维码或输入手机号。"), "error")
        return redirect(_visit_url(event_id) + "#check-in")
    with attempt() as done:
        registration = checkin.find_registration(found, form.code.data or "")
        changed = checkin.check_in(user, found, registration)
    if not done:
        return redirect(_visit_url(event_id) + "#check-in")
    package = packages.package_label(eligibility.parse_package(registration.options))
    name = registration.user.name if registration.user else _("已注销用户")
    if changed:
        flash(
            _(
                "%(name)s 签到成功：%(slot)s · %(package)s",
                name=name,
                slot=registration.slot.label,
                package=package,
            ),
            "success",
        )
    else:
        flash(_("%(name)s 已经签到过了。", name=name), "info")
    return redirect(_visit_url(event_id) + "#check-in")


@organizer_bp.get("/<int:event_id>/roster")
@login_required
def roster(event_id: int) -> str:
    _user, found = _manager(event_id)
    slot_id = request.args.get("slot", type=int)
    return render_template(
        "screenings/roster.html",
        visit=found,
        event=found.event,
        slot_id=slot_id,
        rows=visits.roster(found, slot_id),
        reasons=checkin.reason_choices(),
        outcomes=[(choice, checkin.outcome_label(choice)) for choice in checkin.OUTCOME_CHOICES],
        visit_day=eligibility.visit_date(found.event),
    )


@organizer_bp.post("/<int:event_id>/registrations/<int:registration_id>/outcome")
@login_required
def outcome(event_id: int, registration_id: int) -> ResponseReturnValue:
    user, found = _manager(event_id)
    registration = checkin.visit_registration(found, registration_id)
    form = OutcomeForm()
    form.reason.choices = [SelectChoice("", _("请选择"))] + [
        SelectChoice(value, label) for value, label in checkin.reason_choices()
    ]
    shown_slot = request.args.get("slot", type=int)  # the roster's slot filter, kept on the way back
    back = url_for("screenings_organizer.roster", event_id=event_id, slot=shown_slot) + f"#r-{registration_id}"
    if not form.validate():
        flash(_("请选择到场情况。"), "error")
        return redirect(back)
    with attempt() as done:
        checkin.record_outcome(user, found, registration, form.outcome.data or "", form.reason.data or None)
    if done:
        flash(_("已登记：%(o)s", o=checkin.outcome_label(form.outcome.data or "")), "success")
    return redirect(back)


@organizer_bp.post("/<int:event_id>/absent")
@login_required
def absent(event_id: int) -> ResponseReturnValue:
    user, found = _manager(event_id)
    with attempt() as done:
        count = checkin.mark_absent(user, found)
    if done:
        flash(_("已将 %(n)d 人登记为未到场。", n=count), "success")
    return redirect(url_for("screenings_organizer.roster", event_id=event_id))


# --- template helper ----------------------------------------------------------------------------------------


def package_offer_for(event: Event) -> packages.PackageOffer:
    """The event page's package panel, computed once per request for the current user."""
    cache = g.setdefault("_screening_offers", {})
    if event.id not in cache:
        user = current_user if current_user.is_authenticated else None
        cache[event.id] = packages.package_offer(user, event)
    return cache[event.id]


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["screening_offer"] = package_offer_for
    app.jinja_env.globals["screening_package_label"] = packages.package_label
    app.jinja_env.globals["screening_reason_label"] = checkin.reason_label
    app.jinja_env.globals.setdefault("status_label", status_label)
