"""Reach figures: who the screening trucks reached (for the statistics issue, which may redo this in SQL)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import extract, func, select

from ..accounts.models import Profile
from ..booking.models import HOLDING, Registration, Status
from ..events.models import Event
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.services import in_subtree
from .models import Outcome, Package, ScreeningBooking, ScreeningVisit


@dataclass
class ReachFigures:
    year: int
    visits: int = 0
    booked: int = 0
    attended: int = 0
    screened: dict[str, int] = field(default_factory=dict)  # per package
    women_two_cancer: int = 0
    women_two_cancer_by_enterprise_type: dict[str, int] = field(default_factory=dict)
    screened_by_city: dict[str, int] = field(default_factory=dict)
    screened_by_park: dict[str, int] = field(default_factory=dict)
    frontline_screened: int = 0


def reach_figures(year: int, organization: Organization | None = None) -> ReachFigures:
    """Who the trucks reached in ``year`` (by visit date), for the province or one organization's subtree.
    "Screened" = registration attended and outcome not "not_screened"; every screened person had the general
    check; two-cancer counts those who booked that package (only women can). Split by the person's enterprise
    type (people whose account was deleted count as "unknown"), by city and by park."""
    figures = ReachFigures(year=year)
    base = (
        select(ScreeningVisit.event_id)
        .join(Event, Event.id == ScreeningVisit.event_id)
        .where(extract("year", Event.starts_at) == year, Event.cancelled_at.is_(None))
    )
    if organization is not None:
        base = base.join(Organization, Organization.id == Event.organization_id).where(in_subtree(organization))
    event_ids = base.subquery()
    figures.visits = db.session.scalar(select(func.count()).select_from(event_ids)) or 0
    regs = select(Registration).where(Registration.event_id.in_(select(event_ids.c.event_id)))
    figures.booked = (
        db.session.scalar(select(func.count()).select_from(regs.where(Registration.status.in_(HOLDING)).subquery()))
        or 0
    )
    rows = db.session.execute(
        select(
            ScreeningBooking.two_cancer,
            ScreeningBooking.outcome,
            Profile.enterprise_type,
            Profile.frontline,
            City.name,
            ScreeningVisit.site_name,
        )
        .select_from(ScreeningBooking)
        .join(Registration, Registration.id == ScreeningBooking.registration_id)
        .join(Event, Event.id == Registration.event_id)
        .join(City, City.id == Event.city_id)
        .join(ScreeningVisit, ScreeningVisit.event_id == Event.id)
        .outerjoin(Profile, Profile.user_id == Registration.user_id)
        .where(Registration.event_id.in_(select(event_ids.c.event_id)), Registration.status == Status.ATTENDED)
    ).all()
    packages: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    by_city: Counter[str] = Counter()
    by_park: Counter[str] = Counter()
    for two_cancer, outcome, enterprise_type, frontline, city_name, site in rows:
        figures.attended += 1
        if outcome == Outcome.NOT_SCREENED.value:
            continue
        packages[Package.GENERAL.value] += 1
        by_city[city_name] += 1
        by_park[site] += 1
        if frontline:
            figures.frontline_screened += 1
        if two_cancer:
            packages[Package.TWO_CANCER.value] += 1
            by_type[enterprise_type.value if enterprise_type is not None else "unknown"] += 1
    figures.screened = {package.value: packages.get(package.value, 0) for package in Package}
    figures.women_two_cancer = figures.screened[Package.TWO_CANCER.value]
    figures.women_two_cancer_by_enterprise_type = dict(by_type)
    figures.screened_by_city = dict(by_city)
    figures.screened_by_park = dict(by_park)
    return figures
