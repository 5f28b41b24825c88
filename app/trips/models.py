"""Recuperation trips (职工疗休养): themed routes, departures (each one core Event of kind "trip" with
exactly one
Slot), the frozen lottery entries, attendance details and the yearly targets.

Other features read these tables by name (statistics: ``trip_targets``, ``trip_departures``, ``trip_routes``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..events.models import Event
from ..extensions import Model
from ..orgs.models import City, Organization


class Theme(enum.StrEnum):
    RED = "red"  # 红色：革命传统
    GREEN = "green"  # 绿色：生态
    HERITAGE = "heritage"  # 古色：传统文化


# The tier rules a departure may list, in priority order. A person's tier is the first rule they match.
TIER_RULES = ("model_worker", "key_industry_frontline", "frontline", "everyone")
DEFAULT_TIERS = ["model_worker", "key_industry_frontline", "everyone"]


class TripRoute(Model):
    """A themed route with its day-by-day itinerary: ``[{"day": 1, "places": ["井冈山"], "text": "..."}]``."""

    __tablename__ = "trip_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[Theme] = mapped_column(Enum(Theme, native_enum=False, length=16), index=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(300), default="")
    cover_text: Mapped[str] = mapped_column(Text, default="")
    # Cover picture (trips.covers, stored by events.covers): its stored name and the words that describe it.
    cover_image: Mapped[str | None] = mapped_column(String(64))
    cover_alt: Mapped[str] = mapped_column(String(120), default="", server_default="")
    itinerary: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    # Eligibility copied to each new departure (its Event): frontline by default, optionally a subtree or
    # industries.
    frontline_only: Mapped[bool] = mapped_column(default=True)
    subtree_only: Mapped[bool] = mapped_column(default=False)
    industry_ids: Mapped[list[int] | None] = mapped_column(JSON)
    published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    organization: Mapped[Organization] = relationship(lazy="joined")
    city: Mapped[City] = relationship(lazy="joined")
    departures: Mapped[list[TripDeparture]] = relationship(back_populates="route")

    @property
    def days(self) -> int:
        return len(self.itinerary or [])


class TripDeparture(Model):
    """A departure (团期) is one Event of kind "trip"; this row adds its route, tier rules and lottery record.

    Lottery record: ``frozen_at`` and ``applicants_hash`` (SHA-256 hex of the canonical applicant list) are
    set once when the list is frozen; ``public_value`` is entered by the organizer afterwards; ``drawn_at`` is
    set once by the draw, after which nothing here changes but ``results_announced_at``: set when every
    applicant's result message has been written (by a scheduler task, after the draw has committed).
    """

    __tablename__ = "trip_departures"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("trip_routes.id"), index=True)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_TIERS))
    never_been_first: Mapped[bool] = mapped_column(default=True)
    # Hours a confirmed person has to confirm attendance details before the place passes on.
    details_hours: Mapped[int] = mapped_column(default=72)
    frozen_at: Mapped[datetime | None] = mapped_column()
    applicants_hash: Mapped[str | None] = mapped_column(String(64))
    public_value: Mapped[str | None] = mapped_column(String(64))
    public_value_note: Mapped[str] = mapped_column(String(120), default="")
    public_value_set_at: Mapped[datetime | None] = mapped_column()
    algorithm_version: Mapped[str | None] = mapped_column(String(40))
    drawn_at: Mapped[datetime | None] = mapped_column()
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    results_announced_at: Mapped[datetime | None] = mapped_column()

    event: Mapped[Event] = relationship(lazy="joined")
    route: Mapped[TripRoute] = relationship(back_populates="departures", lazy="joined")


class TripLotteryEntry(Model):
    """One applicant of a frozen lottery, by anonymised id, with their tier and (after the draw)
    rank/outcome.

    The draw writes every entry's rank and outcome once. Neither column is indexed and PostgreSQL leaves half of
    each page free (fillfactor 50), so those writes are heap-only updates that touch no index: a draw of 20,000
    applicants writes its entries in about half the time (bench/README.md). The published ranking is read by
    event and sorted (one departure's entries), which needs no index on the rank."""

    __tablename__ = "trip_lottery_entries"
    __table_args__ = (
        UniqueConstraint("event_id", "anon_id"),
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("trip_departures.event_id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    anon_id: Mapped[str] = mapped_column(String(16))
    tier: Mapped[int] = mapped_column()
    rank: Mapped[int | None] = mapped_column()
    # confirmed / waitlisted / withdrawn (no longer applying) / skipped (already holds a trip this year)
    outcome: Mapped[str | None] = mapped_column(String(16))


class Dietary(enum.StrEnum):
    NONE = "none"
    VEGETARIAN = "vegetarian"
    HALAL = "halal"
    OTHER = "other"


class TripAttendance(Model):
    """Attendance details a confirmed person gives before their deadline (deleted with the registration)."""

    __tablename__ = "trip_attendance"

    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True)
    emergency_name: Mapped[str] = mapped_column(String(60))
    emergency_phone: Mapped[str] = mapped_column(String(20))
    dietary: Mapped[Dietary] = mapped_column(Enum(Dietary, native_enum=False, length=16), default=Dietary.NONE)
    dietary_note: Mapped[str] = mapped_column(String(200), default="")
    confirmed_at: Mapped[datetime] = mapped_column(default=clock.now)


class TripTarget(Model):
    """The yearly target of trip places for an organization (default 10,000 for the province, code "jx")."""

    __tablename__ = "trip_targets"
    __table_args__ = (UniqueConstraint("year", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    places: Mapped[int] = mapped_column()
