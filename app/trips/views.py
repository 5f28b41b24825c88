"""Trip pages. Employees: the route list (theme, month), a route, a departure's public lottery record and its
JSON export, their attendance details. Organizers (/organizer/trips, scoped to their subtree, 404 outside it):
departures and the yearly target, routes and departures to publish, the lottery panel, the roster and
check-in.
Thin: parse, call one service, commit once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from wtforms import SelectChoice

from .. import clock
from ..accounts import profile_flags
from ..accounts.scope import require_manages
from ..booking import queries as booking_queries
from ..booking.models import Registration, Status
from ..booking.window import checkin_closed_message
from ..errors import DomainError, InvalidInput
from ..events.forms import CoverForm
from ..events.models import Allocation, Event
from ..extensions import db
from ..orgs.models import City
from ..webviews import attempt, flash_or_404, me
from . import attendance, catalogue, covers, lottery_draw, lottery_record, priority, targets
from .forms import TIER_PRESETS, DepartureForm, DetailsForm, ModelWorkerForm, PublicValueForm, RouteForm, TargetForm
from .models import Theme, TripDeparture
from .policy import tier_label

bp = Blueprint("trips", __name__, url_prefix="/trips")
organizer_bp = Blueprint("trips_organizer", __name__, url_prefix="/organizer/trips")


def _month_choices() -> list[tuple[str, str]]:
    today = clock.today()
    year, month = today.year, today.month
    choices = []
    for _i in range(12):
        choices.append((f"{year:04d}-{month:02d}", _("%(y)d年%(m)d月", y=year, m=month)))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return choices


# --- employees --------------------


@bp.get("/")
def index() -> str:
    theme = request.args.get("theme") or None
    month = request.args.get("month") or None
    if theme not in {t.value for t in Theme}:
        theme = None
    if catalogue.month_bounds(month) is None:
        month = None
    cards = catalogue.list_routes(theme, month)
    return render_template(
        "trips/index.html", cards=cards, theme=theme, month=month, months=_month_choices(), themes=list(Theme)
    )


@bp.get("/routes/<int:route_id>")
def route(route_id: int) -> str:
    card = catalogue.get_route(route_id)
    return render_template("trips/route.html", card=card, route=card.route)


@bp.get("/departures/<int:event_id>/lottery")
@login_required
def lottery_page(event_id: int) -> str:
    departure = catalogue.get_public_departure(event_id)
    export = lottery_record.lottery_export(event_id)
    mine = lottery_record.my_entry(me(), event_id)
    return render_template("trips/lottery.html", departure=departure, export=export, mine=mine, tier_label=tier_label)


@bp.get("/departures/<int:event_id>/lottery.json")
@login_required
def lottery_json(event_id: int) -> Response:
    export = lottery_record.lottery_export(event_id)
    response = jsonify(export)
    response.headers["Content-Disposition"] = f'attachment; filename="trip-lottery-{event_id}.json"'
    return response


@bp.route("/me/<int:registration_id>/details", methods=["GET", "POST"])
@login_required
def details(registration_id: int) -> ResponseReturnValue:
    registration, departure = attendance.get_own_trip_registration(me(), registration_id)
    existing = attendance.attendance_for(registration.id)
    form = DetailsForm(obj=existing)
    if form.validate_on_submit():
        with attempt(form) as done:
            attendance.submit_details(
                me(),
                registration_id,
                attendance.DetailsData(
                    emergency_name=form.emergency_name.data or "",
                    emergency_phone=form.emergency_phone.data or "",
                    dietary=form.dietary.data or "none",
                    dietary_note=form.dietary_note.data or "",
                ),
            )
        if done:
            flash(_("出行信息已确认，祝您旅途愉快！"), "success")
            return redirect(url_for("events.detail", event_id=registration.event_id))
    return render_template(
        "trips/details.html",
        form=form,
        registration=registration,
        departure=departure,
        deadline=attendance.details_deadline(registration, departure),
    )


# --- organizers --------------------


@organizer_bp.before_request
@login_required
def _organizers_only() -> None:
    if not me().is_organizer:
        abort(404)


@organizer_bp.get("/", endpoint="index")
def org_index() -> str:
    actor = me()
    year = clock.today().year
    organization = actor.organization
    target = targets.target_places(year, organization) if organization else None
    allocated = targets.allocated_places(year, organization) if organization else 0
    form = TargetForm(year=year, places=target)
    routes = [card.route for card in catalogue.list_routes()]
    managed_routes = (
        [r for r in routes if organization and organization.contains(r.organization)] if not actor.is_admin else routes
    )
    return render_template(
        "trips/organizer_index.html",
        departures=catalogue.managed_departures(actor),
        target=target,
        allocated=allocated,
        year=year,
        form=form,
        routes=managed_routes,
    )


@organizer_bp.post("/target")
def set_target() -> ResponseReturnValue:
    form = TargetForm()
    actor = me()
    if form.validate_on_submit() and actor.organization is not None:
        with attempt() as done:
            targets.set_target(actor, int(form.year.data or 0), actor.organization, int(form.places.data or 0))
        if done:
            flash(_("年度目标已保存。"), "success")
    else:
        flash(_("请填写有效的年份和名额数。"), "error")
    return redirect(url_for("trips_organizer.index"))


def _parse_itinerary(text: str) -> list[dict[str, Any]]:
    days = []
    for line in text.splitlines():
        if not line.strip():
            continue
        places, _sep, rest = line.partition("|")
        days.append({"places": [p for p in places.replace("，", "、").replace(",", "、").split("、")], "text": rest})
    return days


def _flash_with_fields(error: DomainError) -> None:
    """The message and every field's messages, flashed as one line."""
    fields = error.fields if isinstance(error, InvalidInput) else {}
    flash(error.message + " " + "；".join(m for ms in fields.values() for m in ms), "error")


@organizer_bp.route("/routes/new", methods=["GET", "POST"])
def new_route() -> ResponseReturnValue:
    actor = me()
    form = RouteForm()
    cities = list(db.session.scalars(select(City).order_by(City.sort_order)))
    form.city.choices = [SelectChoice(c.code, c.name) for c in cities]
    if form.validate_on_submit() and actor.organization is not None:
        city = next(c for c in cities if c.code == form.city.data)
        with attempt(catch=InvalidInput, show=_flash_with_fields) as done:
            created = catalogue.create_route(
                actor,
                catalogue.RouteData(
                    theme=Theme(form.theme.data),
                    title=form.title.data or "",
                    organization=actor.organization,
                    city=city,
                    summary=form.summary.data or "",
                    cover_text=form.cover_text.data or "",
                    itinerary=_parse_itinerary(form.itinerary.data or ""),
                ),
            )
        if done:
            flash(_("线路已发布。"), "success")
            return redirect(url_for("trips_organizer.new_departure", route_id=created.id))
    return render_template("trips/organizer_route_form.html", form=form)


@organizer_bp.get("/routes/<int:route_id>", endpoint="route")
def org_route(route_id: int) -> str:
    found = catalogue.managed_route(me(), route_id)
    return render_template("trips/organizer_route.html", route=found, form=CoverForm())


@organizer_bp.post("/routes/<int:route_id>/cover")
def route_cover(route_id: int) -> ResponseReturnValue:
    form = CoverForm()
    with attempt(form, catch=InvalidInput) as done:
        covers.set_route_cover(me(), route_id, form.picture_bytes(), form.alt.data)
    if not done:
        found = catalogue.managed_route(me(), route_id)
        return render_template("trips/organizer_route.html", route=found, form=form), 422
    flash(_("封面图片已更新。"), "success")
    return redirect(url_for("trips_organizer.route", route_id=route_id) + "#cover")


@organizer_bp.route("/routes/<int:route_id>/departures/new", methods=["GET", "POST"])
def new_departure(route_id: int) -> ResponseReturnValue:
    actor = me()
    card = catalogue.get_route(route_id)
    require_manages(actor, card.route.organization)
    form = DepartureForm()
    if form.validate_on_submit():
        with attempt(catch=InvalidInput, show=_flash_with_fields) as done:
            departure = catalogue.create_departure(
                actor,
                card.route,
                catalogue.DepartureData(
                    starts_on=form.starts_on.data or clock.today(),
                    seats=int(form.seats.data or 0),
                    signup_opens_at=form.signup_opens_at.data,
                    signup_closes_at=form.signup_closes_at.data,
                    allocation=Allocation(form.allocation.data),
                    venue=form.venue.data or "",
                    tiers=list(TIER_PRESETS.get(form.tiers.data or "default", TIER_PRESETS["default"])),
                    never_been_first=bool(form.never_been_first.data),
                ),
            )
        if done:
            flash(_("团期已发布。"), "success")
            return redirect(url_for("trips_organizer.departure", event_id=departure.event_id))
    return render_template("trips/organizer_departure_form.html", form=form, route=card.route)


@organizer_bp.route("/model-workers", methods=["GET", "POST"])
def model_workers() -> ResponseReturnValue:
    form = ModelWorkerForm()
    if form.validate_on_submit():
        with attempt() as done:
            person = priority.mark_model_worker(me(), phone=form.phone.data or "", value=True)
        if done:
            flash(_("已将%(name)s标记为劳模工匠。", name=person.name), "success")
            return redirect(url_for("trips_organizer.model_workers"))
    return render_template("trips/organizer_model_workers.html", form=form, people=profile_flags.model_workers(me()))


@organizer_bp.post("/model-workers/<int:user_id>/remove")
def remove_model_worker(user_id: int) -> ResponseReturnValue:
    with attempt(show=flash_or_404) as done:
        priority.mark_model_worker(me(), user_id=user_id, value=False)
    if done:
        flash(_("已取消劳模工匠标记。"), "success")
    return redirect(url_for("trips_organizer.model_workers"))


@organizer_bp.get("/<int:event_id>")
def departure(event_id: int) -> str:
    found, rows, waiting = attendance.roster(me(), event_id)
    export = lottery_record.lottery_export(event_id, published_only=False) if found.frozen_at else None
    return render_template(
        "trips/organizer_departure.html",
        departure=found,
        slot=catalogue.slot_of(found),
        rows=rows,
        waiting=waiting,
        export=export,
        form=PublicValueForm(),
        now=clock.now(),
        checkin_closed=checkin_closed_message(found.event, clock.now()),
    )


@organizer_bp.post("/<int:event_id>/public-value")
def public_value(event_id: int) -> ResponseReturnValue:
    catalogue.get_managed_departure(me(), event_id)
    form = PublicValueForm()
    if not form.validate_on_submit():
        flash(_("请填写公开随机数（1 到 64 个字符）。"), "error")
    else:
        with attempt() as done:
            lottery_draw.set_public_value(me(), event_id, form.public_value.data or "", form.note.data or "")
        if done:
            flash(_("公开随机数已录入，可以抽签了。"), "success")
    return redirect(url_for("trips_organizer.departure", event_id=event_id))


@organizer_bp.post("/<int:event_id>/draw")
def draw(event_id: int) -> ResponseReturnValue:
    with attempt(show=flash_or_404) as done:
        result = lottery_draw.draw_by_organizer(me(), event_id)
    if done:
        flash(
            _(
                "抽签完成：确认 %(c)d 人，候补 %(w)d 人。结果通知将在一分钟内发给每位申请人。",
                c=len(result.confirmed),
                w=len(result.waitlisted),
            ),
            "success",
        )
    return redirect(url_for("trips_organizer.departure", event_id=event_id))


@organizer_bp.post("/<int:event_id>/checkin/<int:registration_id>")
def check_in(event_id: int, registration_id: int) -> ResponseReturnValue:
    with attempt(show=flash_or_404) as done:
        changed = attendance.check_in_participant(me(), event_id, registration_id)
    if done:
        flash(_("已签到。") if changed else _("此前已签到。"), "success")
    return redirect(url_for("trips_organizer.departure", event_id=event_id) + "#roster")


# --- template helpers --------------------


class TripPanel:
    """What the event page's trip section shows for one departure and (if logged in) the viewer."""

    def __init__(self, event: Event, user: Any) -> None:
        self.event = event
        self.departure: TripDeparture | None = db.session.get(TripDeparture, event.id)
        self.route = self.departure.route if self.departure else None
        self.slot = event.slots[0] if event.slots else None
        self.is_lottery = bool(self.slot and self.slot.allocation == Allocation.LOTTERY)
        self.registration: Registration | None = None
        self.withdrawn: Registration | None = None
        self.entry = None
        self.position: int | None = None
        self.deadline = None
        self.attendance = None
        self.lottery_number: str | None = None
        if self.departure is None or not getattr(user, "is_authenticated", False):
            return
        mine = [r for r in booking_queries.my_registrations(user) if r.event_id == event.id]
        active = [r for r in mine if r.is_active]
        self.registration = active[0] if active else None
        if self.registration is None and mine:
            self.withdrawn = mine[0] if mine[0].status == Status.CANCELLED else None
        self.entry = lottery_record.my_entry(user, event.id)
        chosen = self.registration or (mine[0] if mine else None)
        if chosen is not None and self.is_lottery:
            self.lottery_number = self.entry.anon_id if self.entry else lottery_record.anon_id_preview(chosen)
        if self.registration is not None:
            self.position = booking_queries.waitlist_position(self.registration)
            if self.registration.status == Status.CONFIRMED:
                self.deadline = attendance.details_deadline(self.registration, self.departure)
                self.attendance = attendance.attendance_for(self.registration.id)

    @property
    def withdrawn_reason(self) -> str:
        if self.withdrawn is None:
            return ""
        last = self.withdrawn.history[-1].reason if self.withdrawn.history else ""
        if "won another" in last or "holds another" in last or "already holds" in last:
            return _("您今年已获得其他团期的疗休养名额，本团期申请已自动撤回。")
        if "attendance details" in last:
            return _("未在截止时间前确认出行信息，名额已让给候补职工。")
        return _("该申请已取消。")


def template_helpers() -> dict[str, Any]:
    return {
        "trip_panel": TripPanel,
        "trip_theme_label": catalogue.theme_label,
    }
