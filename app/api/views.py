"""JSON API v1: the same services as the HTML pages, with token auth and stable error codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _

from .. import clock, metrics
from ..accounts import services as accounts
from ..accounts.bearer import api_token_id, api_user, token_required
from ..accounts.models import Gender, Role
from ..accounts.sessions import device_summary
from ..booking import offers as booking_offers
from ..booking import queries as booking_queries
from ..booking import services as booking
from ..booking.models import Registration
from ..errors import Busy, DomainError, InvalidInput
from ..events import services as events
from ..events.models import Allocation, Event, WaitlistPolicy
from ..events.status import event_state, slot_state
from ..events.vocabulary import registration_state
from ..extensions import csrf, db, limiter
from ..orgs.models import City
from ..orgs.services import get_by_code
from .idempotency import idempotent, remember_answer
from .openapi import openapi_document
from .parsing import Fields, json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    # Nothing of the refused request is kept: closing the session rolls its transaction back and lets go of its
    # objects without first expiring each of them, as a rollback would (refusals are common in a flash sale).
    db.session.close()
    if request.endpoint == "api.create_registration":
        metrics.count_booking(error.code)
    body: dict[str, Any] = {"error": error.code, "message": error.message}
    if isinstance(error, InvalidInput) and error.fields:
        body["fields"] = error.fields
    if "reasons" in error.details:
        body["reasons"] = error.details["reasons"]
    if "purposes" in error.details:
        body["purposes"] = error.details["purposes"]
    response = jsonify(body)
    response.status_code = error.http_status
    if isinstance(error, Busy):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def iso(moment: datetime | None) -> str | None:
    """A stored time (China wall-clock, naive) as ISO 8601 with its offset: 2026-06-15T10:00:00+08:00."""
    return moment.replace(tzinfo=clock.CHINA).isoformat() if moment is not None else None


def slot_json(availability: booking_queries.SlotAvailability) -> dict[str, Any]:
    slot = availability.slot
    data: dict[str, Any] = {
        "id": slot.id,
        "label": slot.label,
        "starts_at": iso(slot.starts_at),
        "ends_at": iso(slot.ends_at),
        "capacity": slot.capacity,
        "confirmed": slot.taken,
        "available": slot.available,
        "waitlisted": availability.waitlisted,
        "waitlist": slot.waitlist_policy.value,
        "allocation": slot.allocation.value,
        "closed": slot.closed,
        "state": slot_state(slot).state.value,
    }
    if slot.has_quotas:
        data["gender_quota"] = {"female": slot.quota_female, "male": slot.quota_male}
        data["available_by_gender"] = {
            "female": slot.available_for(Gender.FEMALE),
            "male": slot.available_for(Gender.MALE),
        }
    return data


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "title": event.title,
        "description": event.description,
        "city": event.city.name,
        "venue": event.venue,
        "organization": event.organization.code,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "signup_opens_at": iso(event.signup_opens_at),
        "signup_closes_at": iso(event.signup_closes_at),
        "cancelled": event.is_cancelled,
        "state": event_state(event).state.value,
        "slots": [slot_json(a) for a in booking_queries.availability(event)],
    }


def registration_json(registration: Registration) -> dict[str, Any]:
    return {
        "id": registration.id,
        "slot_id": registration.slot_id,
        "event_id": registration.event_id,
        "status": registration.status.value,
        "state": registration_state(registration),
        "waitlist_position": booking_queries.waitlist_position(registration),
        "offer_expires_at": iso(registration.offer_expires_at),
        "created_at": iso(registration.created_at),
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


def _token_phone_key() -> str:
    body = request.get_json(silent=True)
    phone = body.get("phone") if isinstance(body, dict) else None
    return "token-phone:" + (accounts.normalize_phone(phone)[:20] if isinstance(phone, str) else "")


def _login_limit() -> str:
    from flask import current_app

    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.post("/tokens")
@limiter.limit("10 per minute")
@limiter.limit(_login_limit, key_func=_token_phone_key, deduct_when=lambda r: r.status_code != 201)
def create_token() -> tuple[Response, int]:
    fields = Fields(json_body())
    phone = fields.string("phone", max_length=20)
    password = fields.secret("password", max_length=128)
    fields.done()
    user = accounts.authenticate(phone or "", password or "")
    token = accounts.issue_api_token(user, device=device_summary(request.headers.get("User-Agent")))
    db.session.commit()
    return jsonify({"token": token}), 201


@bp.delete("/tokens/current")
@token_required
def revoke_current_token() -> tuple[str, int]:
    """The client logs out: the token this request came with is refused from now on."""
    accounts.revoke_api_token(api_user(), api_token_id())
    db.session.commit()
    return "", 204


@bp.get("/events")
def list_events() -> Response:
    kind = request.args.get("kind") or None
    city = request.args.get("city") or None
    if city and not city.isascii():
        found = db.session.scalar(db.select(City.code).where(City.name == city))
        city = found or city
    page = request.args.get("page", "1")
    filters = events.EventFilter(
        kind=kind,
        city=city,
        available_only=request.args.get("available") in {"1", "true"},
        page=int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1,
        per_page=50,
    )
    found_events, total = events.list_events(filters)
    return jsonify({"events": [event_json(e) for e in found_events], "total": total, "page": filters.page})


@bp.get("/events/<int:event_id>")
def get_event(event_id: int) -> Response:
    return jsonify(event_json(events.get_published_event(event_id)))


@bp.post("/slots/<int:slot_id>/registrations")
@token_required
@idempotent
def create_registration(slot_id: int) -> tuple[Response, int]:
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    consents = data.get("consents", [])
    options = data.get("options")
    if not isinstance(consents, list) or not all(isinstance(c, str) for c in consents):
        raise InvalidInput(fields={"consents": [_("必须是文本列表。")]})
    if options is not None and not isinstance(options, dict):
        raise InvalidInput(fields={"options": [_("必须是 JSON 对象。")]})
    booked = booking.place_booking(api_user(), slot_id, consents=consents, options=options)
    body = {"id": booked.id, "status": booked.status.value, "waitlist_position": booked.waitlist_place}
    remember_answer(body, 201)
    # The answer is already built: nothing reads the session's objects after this commit, so it need not
    # expire them.
    db.session().expire_on_commit = False
    db.session.commit()
    metrics.count_booking(booked.status.value)
    return jsonify(body), 201


@limiter.request_filter
def _booking_skips_rate_limits() -> bool:
    """A booking has no rate limit (the slot's lock and the person's token bound it, and a per-address limit
    would refuse the many employees behind one company gateway during a flash sale), so Flask-Limiter is told
    so before it looks up the limits of every request to it (public ``request_filter``; about 0.2 M machine
    instructions per booking, bench/README.md). Only this endpoint: every other one keeps its limits."""
    return request.endpoint == "api.create_registration"


@bp.delete("/registrations/<int:registration_id>")
@token_required
@idempotent
def delete_registration(registration_id: int) -> Response:
    registration = booking_queries.get_registration_for(api_user(), registration_id)
    booking.cancel(registration, actor=api_user())
    body = registration_json(registration)
    remember_answer(body, 200)
    db.session.commit()
    return jsonify(body)


@bp.get("/me/registrations")
@token_required
def my_registrations() -> Response:
    return jsonify({"registrations": [registration_json(r) for r in booking_queries.my_registrations(api_user())]})


@bp.post("/registrations/<int:registration_id>/accept-offer")
@token_required
def accept_offer(registration_id: int) -> Response:
    registration = booking_queries.get_registration_for(api_user(), registration_id)
    try:
        booking_offers.accept_offer(registration, actor=api_user())
    except DomainError:
        db.session.commit()  # keep the expiry that accept_offer recorded
        raise
    db.session.commit()
    return jsonify(registration_json(registration))


@bp.post("/registrations/<int:registration_id>/decline-offer")
@token_required
def decline_offer(registration_id: int) -> Response:
    registration = booking_queries.get_registration_for(api_user(), registration_id)
    booking_offers.decline_offer(registration, actor=api_user())
    db.session.commit()
    return jsonify(registration_json(registration))


def _slot_data(raw: Any, index: int, fields: Fields) -> events.SlotData | None:
    if not isinstance(raw, dict):
        fields.error(f"slots[{index}]", _("必须是 JSON 对象。"))
        return None
    sub = Fields(raw)
    starts = sub.datetime("starts_at")
    ends = sub.datetime("ends_at")
    capacity = sub.integer("capacity")
    label = sub.string("label", required=False, max_length=120)
    waitlist = sub.string("waitlist", required=False, max_length=10) or "offer"
    allocation = sub.string("allocation", required=False, max_length=12) or "first_come"
    quota = raw.get("gender_quota")
    female = male = None
    if quota is not None:
        if not isinstance(quota, dict):
            sub.error("gender_quota", _("必须是 JSON 对象。"))
        else:
            quota_fields = Fields(quota)
            female = quota_fields.integer("female", required=False)
            male = quota_fields.integer("male", required=False)
            for name, messages in quota_fields.errors.items():
                for message in messages:
                    sub.error(f"gender_quota.{name}", message)
    if waitlist not in {w.value for w in WaitlistPolicy}:
        sub.error("waitlist", _("必须是 none、auto 或 offer。"))
    if allocation not in {a.value for a in Allocation}:
        sub.error("allocation", _("必须是 first_come、approval 或 lottery。"))
    for name, messages in sub.errors.items():
        for message in messages:
            fields.error(f"slots[{index}].{name}", message)
    if sub.errors or starts is None or ends is None or capacity is None:
        return None
    return events.SlotData(
        starts_at=starts,
        ends_at=ends,
        capacity=capacity,
        quota_female=female,
        quota_male=male,
        waitlist_policy=WaitlistPolicy(waitlist),
        allocation=Allocation(allocation),
        label=label or "",
    )


@bp.post("/events")
@token_required
def create_event() -> tuple[Response, int]:
    user = api_user()
    if user.role not in (Role.ORGANIZER, Role.ADMIN):
        raise _forbidden()
    data = json_body()
    fields = Fields(data)
    kind = fields.string("kind", max_length=20)
    title = fields.string("title", max_length=120)
    city_name = fields.string("city", max_length=40)
    starts = fields.datetime("starts_at")
    ends = fields.datetime("ends_at")
    opens = fields.datetime("signup_opens_at")
    closes = fields.datetime("signup_closes_at")
    cancel_deadline = fields.datetime("cancel_deadline", required=False)
    description = fields.string("description", required=False, max_length=5000, multiline=True) or ""
    venue = fields.string("venue", required=False, max_length=200) or ""
    min_age = fields.integer("min_age", required=False, maximum=120)
    max_age = fields.integer("max_age", required=False, maximum=120)
    org_code = fields.string("organization", required=False, max_length=64)
    reminder_hours = _reminder_hours(data, fields, required=False)
    city = None
    if city_name is not None:
        city = db.session.scalar(db.select(City).where((City.name == city_name) | (City.code == city_name)))
        if city is None:
            fields.error("city", _("未知的城市。"))
    organization = get_by_code(org_code) if org_code else user.organization
    if org_code and organization is None:
        fields.error("organization", _("未知的组织。"))
    raw_slots = data.get("slots")
    slots: list[events.SlotData] = []
    if not isinstance(raw_slots, list) or not raw_slots:
        fields.error("slots", _("至少需要一个场次。"))
    elif len(raw_slots) > events.MAX_SLOTS:
        too_many = _("一个活动最多 %(n)d 个场次（收到 %(got)d 个）。", n=events.MAX_SLOTS, got=len(raw_slots))
        fields.error("slots", too_many)
    else:
        for index, raw in enumerate(raw_slots):
            slot = _slot_data(raw, index, fields)
            if slot is not None:
                slots.append(slot)
    fields.done()
    assert kind and title and city and organization and starts and ends and opens and closes
    event = events.create_event(
        user,
        events.EventData(
            kind=kind,
            title=title,
            city=city,
            organization=organization,
            starts_at=starts,
            ends_at=ends,
            signup_opens_at=opens,
            signup_closes_at=closes,
            cancel_deadline=cancel_deadline,
            description=description,
            venue=venue,
            min_age=min_age,
            max_age=max_age,
            reminder_hours=reminder_hours,
            slots=slots,
        ),
    )
    body = {
        "id": event.id,
        "published": event.published,
        "reminder_hours": events.effective_reminder_hours(event),
        "slots": [{"id": s.id} for s in event.slots],
    }
    db.session.commit()
    return jsonify(body), 201


def _reminder_hours(data: dict[str, Any], fields: Fields, *, required: bool) -> list[int] | None:
    """``reminder_hours`` of a JSON body: null (the defaults) or a list of whole hours; the rule on its values is
    the events service's (``reminder_hours_problem``)."""
    if "reminder_hours" not in data:
        if required:
            fields.error("reminder_hours", _("必填。"))
        return None
    value = data["reminder_hours"]
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 50:
        fields.error("reminder_hours", _("必须是整数列表（小时），或 null。"))
        return None
    problem = events.reminder_hours_problem(value)
    if problem:
        fields.error("reminder_hours", problem)
        return None
    return value


@bp.patch("/events/<int:event_id>")
@token_required
def update_event(event_id: int) -> Response:
    """Narrow: only the reminder offsets change here (any other field is refused by name)."""
    user = api_user()
    if user.role not in (Role.ORGANIZER, Role.ADMIN):
        raise _forbidden(_("只有组织者或管理员可以修改活动。"))
    data = json_body()
    fields = Fields(data)
    for name in sorted(set(data) - {"reminder_hours"})[:20]:
        fields.error(str(name)[:40], _("此接口只能修改 reminder_hours。"))
    hours = _reminder_hours(data, fields, required=True)
    fields.done()
    event = events.set_reminder_hours(user, event_id, hours)
    body = {"id": event.id, "reminder_hours": events.effective_reminder_hours(event)}
    db.session.commit()
    return jsonify(body)


def _forbidden(message: str | None = None) -> DomainError:
    from ..errors import Forbidden

    return Forbidden(message or _("只有组织者或管理员可以创建活动。"))
