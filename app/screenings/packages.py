"""Screening sub-domain: the packages (常规体检, “两癌”筛查) — their labels and what the event page offers one
person (the packages they can book and why not the others, their booking and the slots they could move it to).
The two-cancer rules themselves are in ``eligibility``. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..booking.models import Registration, Status
from ..events.models import Event, Slot
from ..extensions import db
from .eligibility import two_cancer_counts, two_cancer_reasons
from .models import Package, ScreeningBooking, ScreeningVisit
from .visits import visit_for


def package_label(package: Package | str) -> str:
    return {
        Package.GENERAL: _("常规体检"),
        Package.TWO_CANCER: _("常规体检 + “两癌”筛查"),
    }[Package(package)]


@dataclass
class PackageOffer:
    """What the event page shows one person: which packages they can book and why not the others."""

    visit: ScreeningVisit | None
    two_cancer_reasons: list[str] = field(default_factory=list)
    two_cancer_counts: dict[int, int] = field(default_factory=dict)
    registration: Registration | None = None
    booking: ScreeningBooking | None = None
    move_targets: list[Slot] = field(default_factory=list)

    @property
    def two_cancer_ok(self) -> bool:
        return self.visit is not None and not self.two_cancer_reasons

    def two_cancer_full(self, slot: Slot) -> bool:
        cap = self.visit.two_cancer_per_slot if self.visit else None
        return cap is not None and self.two_cancer_counts.get(slot.id, 0) >= cap


def package_offer(user: User | None, event: Event) -> PackageOffer:
    """The packages on offer to ``user`` at this visit, the reasons they cannot book two-cancer screening,
    their current booking and the slots they could move it to (open, not started, room for their package)."""
    visit = visit_for(event)
    offer = PackageOffer(visit=visit)
    if visit is None:
        return offer
    offer.two_cancer_counts = two_cancer_counts([slot.id for slot in event.slots])
    if user is None or not getattr(user, "is_authenticated", False):
        return offer
    registration = db.session.scalar(
        select(Registration).where(
            Registration.user_id == user.id,
            Registration.event_id == event.id,
            Registration.is_active.is_(True),
        )
    )
    offer.registration = registration
    if registration is not None:
        offer.booking = db.session.get(ScreeningBooking, registration.id)
        two_cancer = offer.booking is not None and offer.booking.two_cancer
        # Eligibility is judged again only for a new booking; the held one is not second-guessed.
        offer.two_cancer_reasons = [] if two_cancer else two_cancer_reasons(user, visit)
        if registration.status == Status.CONFIRMED and not event.is_cancelled:
            now = clock.now()
            offer.move_targets = [
                slot
                for slot in event.slots
                if slot.id != registration.slot_id
                and not slot.closed
                and slot.window()[0] <= now < slot.window()[1]
                and slot.available_for(registration.gender) > 0
                and not (two_cancer and offer.two_cancer_full(slot))
            ]
    else:
        offer.two_cancer_reasons = two_cancer_reasons(user, visit)
    return offer
