"""The "screening" kind policy: what the booking engine asks a health-truck visit (DESIGN.md §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.consents import HEALTH_SCREENING
from ..accounts.models import User
from ..events.kinds import KindPolicy
from ..extensions import db
from . import checkin, eligibility, packages
from .figures import ScreeningFigures
from .models import KIND, ScreeningBooking, ScreeningVisit

if TYPE_CHECKING:
    from ..booking.models import Registration
    from ..booking.states import Plan
    from ..events.models import Event, Slot


class ScreeningPolicy(KindPolicy):
    """A visit is open to every member for the general check (subject to the event's generic rules); the
    two-cancer package adds its own rules (``eligibility.check_package``) and its own per-slot cap
    (``eligibility.ensure_two_cancer_room``). Booking always needs the separate health-information consent."""

    kind = KIND
    label = _l("健康体检")
    consents = (HEALTH_SCREENING,)
    self_service_move = True
    figures = ScreeningFigures()

    def required_consents(self, event: Event, options: dict[str, Any] | None = None) -> tuple[str, ...]:
        return self.consents

    def validate_options(self, user: User, slot: Slot, options: dict[str, Any] | None) -> dict[str, Any] | None:
        return eligibility.check_package(user, slot, options)

    def anonymised_options(self, options: dict[str, Any] | None) -> dict[str, Any] | None:
        """The package stays on an anonymised booking: the two-cancer figures count it; it names nobody."""
        package = (options or {}).get("package")
        return {"package": package} if package in {p.value for p in eligibility.Package} else None

    def before_hold(self, registration: Registration, slot: Slot) -> None:
        eligibility.ensure_two_cancer_room(registration, slot)

    def after_change(self, registration: Registration, plan: Plan) -> None:
        checkin.keep_booking_row_in_step(registration, plan.from_status, plan.to_status)

    def ticket_lines(self, registration: Registration) -> list[tuple[str, str]]:
        package = eligibility.parse_package(registration.options)
        lines = [(_("体检项目"), packages.package_label(package))]
        visit = db.session.get(ScreeningVisit, registration.event_id)
        if visit is not None:
            lines.append((_("园区/站点"), visit.site_name))
        row = db.session.get(ScreeningBooking, registration.id)
        if row is not None and row.outcome == "not_screened" and row.not_screened_reason:
            lines.append((_("未体检原因"), checkin.reason_label(row.not_screened_reason)))
        return lines
