"""The organizer console (/organizer/...): its blueprint, the helpers its pages share, and the events' own pages
(list, create, edit, publish, cancel, duplicate, cover). Rosters, check-in, exports and the audit trail are on the
same blueprint in ``roster_views``, ``checkin_views`` and ``export_views``.

Thin views: parse a form or JSON, call one service, commit once, render or redirect. Every look-up goes through a
scoped service (another organization's object answers 404); employees get 403; anonymous visitors the login page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock
from ..accounts.models import Role
from ..booking.models import Status
from ..errors import DomainError, InvalidInput, NotFound
from ..events import covers
from ..events.forms import CoverForm
from ..events.models import Event
from ..events.services import kind_choices
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.services import all_cities
from ..webviews import attempt, flash_form_errors, me
from . import access, lifecycle, rosters
from .forms import DuplicateForm, EventForm, ReasonForm

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


def organizer_required(view: F) -> F:
    """Anonymous → the login page; logged in but not an organizer or admin → 403."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.role not in (Role.ORGANIZER, Role.ADMIN):
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def int_arg(name: str) -> int | None:
    """A positive integer from the query string or the form, else None."""
    try:
        value = int(request.values.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def parse_when(value: Any) -> datetime | None:
    """An ISO time (a scan's, a filter's) as a naive China wall-clock time, else None."""
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


def status_text(status: Status) -> str:
    from ..booking.labels import status_label

    return status_label(status)


def roster_filter() -> rosters.RosterFilter:
    """The roster's filters, from the query string or (so that a searched name or phone never reaches a URL or a
    log) the posted form."""
    values = request.values
    return rosters.RosterFilter(
        q=values.get("q", "")[:40],
        status=values.get("status") or None,
        gender=values.get("gender") or None,
        organization_id=int_arg("org"),
        tag=(values.get("tag") or None),
        slot_id=int_arg("slot"),
    )


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    return response


# --- events ---------------------------------------------------------------------------------------------------


@bp.get("/")
@organizer_required
def index() -> str:
    filters = lifecycle.EventListFilter(
        q=request.args.get("q", "")[:60],
        kind=request.args.get("kind") or None,
        state=request.args.get("state") or None,
        page=int_arg("page") or 1,
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


def _show_event_error(form: EventForm, error: DomainError) -> None:
    """The event form's refusals: the slots' messages together, the others on their fields (or flashed)."""
    if not isinstance(error, InvalidInput):
        flash(error.message, "error")
        return
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
def new_event() -> ResponseReturnValue:
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
    with attempt(catch=InvalidInput, show=lambda error: _show_event_error(form, error)) as done:
        organization, city = _resolve(form)
        _ids, slots, slot_errors = form.slot_rows()
        if slot_errors:
            raise InvalidInput(_("请检查填写的内容。"), fields=slot_errors)
        event = lifecycle.save_new_event(me(), form.to_data(organization, city, slots))
    if not done:
        return _render_event_form(form, None, 422)
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
def event_cover(event_id: int) -> ResponseReturnValue:
    form = CoverForm()
    with attempt(catch=InvalidInput) as done:
        covers.set_event_cover(me(), event_id, form.picture_bytes(), form.alt.data)
    if done:
        flash(_("封面图片已更新。"), "success")
    return redirect(url_for("organizer.event", event_id=event_id))


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_event(event_id: int) -> ResponseReturnValue:
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
    with attempt(let_through=NotFound, show=lambda error: _show_event_error(form, error)) as done:
        organization, city = _resolve(form)
        ids, slots, slot_errors = form.slot_rows(set(request.form.getlist("remove_slot")))
        if slot_errors:
            raise InvalidInput(_("请检查填写的内容。"), fields=slot_errors)
        lifecycle.update_event(me(), found, form.to_data(organization, city, slots), ids)
    if isinstance(done.error, InvalidInput):
        return _render_event_form(form, found, 422)
    if done:
        flash(_("活动已保存。"), "success")
    return redirect(url_for("organizer.event", event_id=event_id))


def event_action(event_id: int, action: Callable[[Event], Any], success: str) -> ResponseReturnValue:
    """Run ``action`` on one of the organizer's events and come back to its page with the outcome flashed."""
    found = access.get_event(me(), event_id)
    with attempt(let_through=NotFound) as done:
        action(found)
    if done:
        flash(success, "success")
    return redirect(url_for("organizer.event", event_id=event_id))


@bp.post("/events/<int:event_id>/publish")
@organizer_required
def publish(event_id: int) -> ResponseReturnValue:
    return event_action(event_id, lambda e: lifecycle.set_published(me(), e, True), _("活动已发布。"))


@bp.post("/events/<int:event_id>/unpublish")
@organizer_required
def unpublish(event_id: int) -> ResponseReturnValue:
    return event_action(event_id, lambda e: lifecycle.set_published(me(), e, False), _("活动已撤回发布。"))


@bp.post("/events/<int:event_id>/cancel")
@organizer_required
def cancel_event(event_id: int) -> ResponseReturnValue:
    found = access.get_event(me(), event_id)
    form = ReasonForm()
    if not form.validate():
        flash_form_errors(form)
        return redirect(url_for("organizer.event", event_id=event_id))
    with attempt(let_through=NotFound) as done:
        count = lifecycle.cancel_event(me(), found, form.reason.data or "")
    if done:
        flash(_("活动已取消，已通知 %(n)d 条报名的职工。", n=count), "success")
    return redirect(url_for("organizer.event", event_id=event_id))


@bp.post("/events/<int:event_id>/duplicate")
@organizer_required
def duplicate(event_id: int) -> ResponseReturnValue:
    found = access.get_event(me(), event_id)
    form = DuplicateForm()
    if not form.validate():
        flash_form_errors(form)
        return redirect(url_for("organizer.event", event_id=event_id))
    with attempt(catch=InvalidInput) as done:
        copy = lifecycle.duplicate_event(me(), found, form.shift_days.data or 7)
    if not done:
        return redirect(url_for("organizer.event", event_id=event_id))
    flash(_("已复制为新的草稿活动，请检查时间后发布。"), "success")
    return redirect(url_for("organizer.edit_event", event_id=copy.id))
