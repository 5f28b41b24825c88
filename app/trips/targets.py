"""Yearly trip targets: the places an organization aims to allocate in a year, and the places allocated so far."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from ..accounts.models import User
from ..accounts.scope import require_manages
from ..booking.models import Registration, Status
from ..errors import InvalidInput
from ..events.models import Event
from ..extensions import db
from ..orgs.models import Organization
from ..orgs.reference import PROVINCE_ORG_CODE
from .models import TripTarget
from .policy import KIND, year_bounds

DEFAULT_PROVINCE_TARGET = 10_000


def target_places(year: int, organization: Organization) -> int | None:
    """The organization's target for ``year``; the province defaults to 10,000 places."""
    places = db.session.scalar(
        select(TripTarget.places).where(TripTarget.year == year, TripTarget.organization_id == organization.id)
    )
    if places is None and organization.code == PROVINCE_ORG_CODE:
        return DEFAULT_PROVINCE_TARGET
    return places


def allocated_places(year: int, organization: Organization) -> int:
    """Places allocated: registrations of trip departures that year (organized in the subtree) confirmed,
    attended or no-show."""
    start, end = year_bounds(year)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .join(Event, Event.id == Registration.event_id)
            .join(Organization, Organization.id == Event.organization_id)
            .where(
                Event.kind == KIND,
                and_(Event.starts_at >= start, Event.starts_at < end),
                Organization.path.startswith(organization.path, autoescape=True),
                Registration.status.in_([Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW]),
            )
        )
        or 0
    )


def set_target(actor: User, year: int, organization: Organization, places: int) -> TripTarget:
    """An organizer sets the yearly target of an organization they manage (0–1,000,000 places)."""
    require_manages(actor, organization)
    return save_target(year, organization, places)


def save_target(year: int, organization: Organization, places: int) -> TripTarget:
    """Create or update the target of ``organization`` for ``year`` (years 2000–2100, 0–1,000,000 places)."""
    if not 2000 <= year <= 2100 or not 0 <= places <= 1_000_000:
        raise InvalidInput(_("请填写有效的年份和名额数。"))
    target = db.session.scalar(
        select(TripTarget).where(TripTarget.year == year, TripTarget.organization_id == organization.id)
    )
    if target is None:
        target = TripTarget(year=year, organization_id=organization.id, places=places)
        db.session.add(target)
    target.places = places
    db.session.flush()
    return target
