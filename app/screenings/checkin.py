"""Screening sub-domain: check-in and outcomes at the truck — finding a booking by ticket or phone, checking
people in, recording what happened (attended, did not attend, came but not screened with a reason from the fixed
list, never anything about their health), marking the absent, and keeping ``screening_bookings`` in step with
the registration's changes (the kind policy's signal receiver).

Statuses change through the booking engine; functions flush but never commit.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock
from ..accounts import services as accounts
from ..accounts.models import User
from ..accounts.scope import require_manages
from ..booking import checkin as booking_checkin
from ..booking import services as booking
from ..booking.changes import transition
from ..booking.errors import IllegalTransition
from ..booking.models import HOLDING, Cause, Registration, Status
from ..errors import DomainError, InvalidInput, NotFound
from ..extensions import db
from .eligibility import parse_package, visit_date
from .models import NotScreenedReason, Outcome, Package, ScreeningBooking, ScreeningVisit


def reason_label(reason: NotScreenedReason | str) -> str:
    return {
        NotScreenedReason.LEFT_EARLY: _("排队时间过长，提前离开"),
        NotScreenedReason.DECLINED: _("本人放弃检查"),
        NotScreenedReason.NOT_SUITABLE_TODAY: _("当日不宜检查"),
        NotScreenedReason.NO_ID: _("未携带身份证件"),
        NotScreenedReason.CAPACITY: _("设备或医务人员原因未能检查"),
        NotScreenedReason.OTHER: _("其他原因"),
    }[NotScreenedReason(reason)]


def reason_choices() -> list[tuple[str, str]]:
    return [(reason.value, reason_label(reason)) for reason in NotScreenedReason]


def find_registration(visit: ScreeningVisit, code_or_phone: str) -> Registration:
    """Find the booking on this visit by the ticket's QR code or by the person's phone number (what staff
    type or scan at the truck). Unknown or belonging to another visit: NotFound with a clear message."""
    text = (code_or_phone or "").strip()
    if not text or len(text) > 64:
        raise InvalidInput(_("请扫描电子票二维码或输入手机号。"))
    query = select(Registration).where(
        Registration.event_id == visit.event_id, Registration.status.in_(HOLDING | {Status.WAITLISTED})
    )
    registration = db.session.scalar(query.where(Registration.ticket_code == text))
    if registration is None:
        phone = accounts.normalize_phone(text)
        if accounts.PHONE_RE.match(phone):
            registration = db.session.scalar(
                query.join(User, User.id == Registration.user_id).where(User.phone == phone)
            )
    if registration is None:
        raise NotFound(_("本次体检没有找到该电子票或手机号的预约。"))
    return registration


def visit_registration(visit: ScreeningVisit, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != visit.event_id:
        raise NotFound()
    return registration


def _screening_booking(registration: Registration) -> ScreeningBooking:
    row = db.session.get(ScreeningBooking, registration.id)
    if row is None:  # a registration made before the visit settings existed
        row = ScreeningBooking(
            registration_id=registration.id,
            two_cancer=parse_package(registration.options) == Package.TWO_CANCER,
        )
        db.session.add(row)
    return row


def _require_visit_day(visit: ScreeningVisit) -> None:
    if clock.today() < visit_date(visit.event):
        raise DomainError(_("体检当天才能签到或登记到场情况。"))


def check_in(actor: User, visit: ScreeningVisit, registration: Registration) -> bool:
    """Check a person in at the truck (from the visit's day on): attended and screened unless staff later
    record otherwise. Returns False when they were already checked in (a repeated scan changes nothing)."""
    require_manages(actor, visit.event.organization)
    if registration.event_id != visit.event_id:
        raise NotFound()
    _require_visit_day(visit)
    changed = booking_checkin.check_in(registration, actor=actor)
    if changed:
        row = _screening_booking(registration)
        row.outcome = Outcome.SCREENED.value
        row.not_screened_reason = None
        row.recorded_at = clock.now()
        db.session.flush()
        audit.record(
            actor, "checkin", "registration", registration.id, {"event": visit.event_id}, org=visit.event.organization
        )
    return changed


ATTENDED = "attended"
NO_SHOW = "no_show"
NOT_SCREENED = "not_screened"
OUTCOME_CHOICES = (ATTENDED, NO_SHOW, NOT_SCREENED)


def outcome_label(choice: str) -> str:
    return {ATTENDED: _("已到场并完成体检"), NO_SHOW: _("未到场"), NOT_SCREENED: _("到场但未体检")}[choice]


def record_outcome(
    actor: User, visit: ScreeningVisit, registration: Registration, choice: str, reason: str | None = None
) -> None:
    """Record what happened at the truck, from the visit's day on: "attended" (checked in and screened),
    "no_show" (did not come) or "not_screened" (came but was not screened, with a reason from the fixed list,
    never free text, never anything about their health). Corrections are allowed; statuses change through
    the engine. Each entry is audited (``screening.outcome``: the choice only, not the reason)."""
    require_manages(actor, visit.event.organization)
    if registration.event_id != visit.event_id:
        raise NotFound()
    if choice not in OUTCOME_CHOICES:
        raise InvalidInput(_("请选择到场情况。"))
    valid_reasons = {r.value for r in NotScreenedReason}
    if choice == NOT_SCREENED and reason not in valid_reasons:
        raise InvalidInput(_("请选择未体检的原因。"))
    _require_visit_day(visit)
    row = _screening_booking(registration)
    if choice in (ATTENDED, NOT_SCREENED):
        booking_checkin.check_in(registration, actor=actor)
        row.outcome = Outcome.SCREENED.value if choice == ATTENDED else Outcome.NOT_SCREENED.value
        row.not_screened_reason = reason if choice == NOT_SCREENED else None
    else:
        slot = booking.lock_slot(registration.slot_id)
        db.session.refresh(registration)
        if registration.status != Status.NO_SHOW:
            if registration.status not in (Status.CONFIRMED, Status.ATTENDED):
                raise IllegalTransition()
            transition(
                registration, Status.NO_SHOW, actor=actor, cause=Cause.NO_SHOW, reason="did not attend", slot=slot
            )
        row.outcome = None
        row.not_screened_reason = None
    row.recorded_at = clock.now()
    db.session.flush()
    audit.record(
        actor,
        "screening.outcome",
        "registration",
        registration.id,
        {"event": visit.event_id, "outcome": choice},
        org=visit.event.organization,
    )


def mark_absent(actor: User, visit: ScreeningVisit) -> int:
    """After the visit has started, everyone still only confirmed becomes "did not attend" (audited, the count)."""
    require_manages(actor, visit.event.organization)
    count = booking_checkin.mark_no_shows(visit.event, actor=actor)
    audit.record(actor, "screening.absent", "event", visit.event_id, {"no_shows": count}, org=visit.event.organization)
    return count


# --- signal receiver ----------------------------------------------------------------------------------------


def keep_booking_row_in_step(registration: Registration, from_status: Status | None, to_status: Status) -> None:
    """The screening kind's reaction to its registrations' changes (``ScreeningPolicy.after_change``): keep
    screening_bookings in step with the registration, in the same transaction, whoever made the change (this
    feature's pages, the organizer console's check-in, the API): a new registration gets its row (the package
    it booked); a check-in marks it screened unless staff record otherwise; leaving "attended" (an undone
    check-in, a correction to "did not attend") clears the outcome."""
    row = db.session.get(ScreeningBooking, registration.id)
    if row is None:
        row = ScreeningBooking(
            registration_id=registration.id,
            two_cancer=parse_package(registration.options) == Package.TWO_CANCER,
        )
        db.session.add(row)
    if to_status == Status.ATTENDED and row.outcome is None:
        row.outcome = Outcome.SCREENED.value
        row.recorded_at = clock.now()
    elif from_status == Status.ATTENDED and to_status != Status.ATTENDED:
        row.outcome = None
        row.not_screened_reason = None
        row.recorded_at = clock.now()
    db.session.flush()
