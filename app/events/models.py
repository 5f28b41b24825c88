"""Events and their bookable slots: the capacity every service books against (DESIGN.md §4)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..accounts.models import Gender
from ..extensions import Model
from ..orgs.models import City, Organization


class WaitlistPolicy(enum.StrEnum):
    NONE = "none"  # full means full
    AUTO = "auto"  # a freed seat goes straight to the next person on the waitlist
    OFFER = "offer"  # the next person gets an offer to accept before a deadline


class Allocation(enum.StrEnum):
    FIRST_COME = "first_come"
    APPROVAL = "approval"
    LOTTERY = "lottery"


class Event(Model):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_starts", "kind", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    venue: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    signup_opens_at: Mapped[datetime] = mapped_column()
    signup_closes_at: Mapped[datetime] = mapped_column()
    cancel_deadline: Mapped[datetime | None] = mapped_column()
    published: Mapped[bool] = mapped_column(default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # One active registration per person per event unless the event allows several (e.g. several trip dates).
    allow_multiple_slots: Mapped[bool] = mapped_column(default=False)
    # Generic eligibility, evaluated on the event's date.
    min_age: Mapped[int | None] = mapped_column()
    max_age: Mapped[int | None] = mapped_column()
    gender: Mapped[Gender | None] = mapped_column(Enum(Gender, native_enum=False, length=8))
    frontline_only: Mapped[bool] = mapped_column(default=False)
    subtree_only: Mapped[bool] = mapped_column(default=False)
    industry_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # Hours before the start at which reminders go out.
    reminder_hours: Mapped[list[int] | None] = mapped_column(JSON)
    # Cover picture (events.covers): the stored name of its re-encoded sizes, and the words that describe it.
    cover_image: Mapped[str | None] = mapped_column(String(64))
    cover_alt: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    organization: Mapped[Organization] = relationship(lazy="joined")
    city: Mapped[City] = relationship(lazy="joined")
    slots: Mapped[list[Slot]] = relationship(
        back_populates="event", order_by="Slot.starts_at, Slot.id", cascade="all, delete-orphan"
    )

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def signup_open(self, at: datetime) -> bool:
        return self.signup_opens_at <= at < self.signup_closes_at


class Slot(Model):
    """A bookable unit: a mixer, a screening time slot, a trip departure.

    ``taken`` counts the registrations holding a seat (confirmed, offered, attended, no-show) and ``waitlisted``
    those waiting; both are changed only by the booking engine while it holds this row's lock, and the database
    refuses ``taken > capacity``.
    """

    __tablename__ = "slots"
    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
        CheckConstraint("quota_female IS NULL OR taken_female <= quota_female", name="female_within_quota"),
        CheckConstraint("quota_male IS NULL OR taken_male <= quota_male", name="male_within_quota"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("waitlisted >= 0", name="waitlisted_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    capacity: Mapped[int] = mapped_column()
    quota_female: Mapped[int | None] = mapped_column()
    quota_male: Mapped[int | None] = mapped_column()
    taken: Mapped[int] = mapped_column(default=0)
    taken_female: Mapped[int] = mapped_column(default=0)
    taken_male: Mapped[int] = mapped_column(default=0)
    waitlisted: Mapped[int] = mapped_column(default=0, server_default="0")
    waitlist_policy: Mapped[WaitlistPolicy] = mapped_column(
        Enum(WaitlistPolicy, native_enum=False, length=16), default=WaitlistPolicy.OFFER
    )
    offer_hours: Mapped[int] = mapped_column(default=24)
    allocation: Mapped[Allocation] = mapped_column(
        Enum(Allocation, native_enum=False, length=16), default=Allocation.FIRST_COME
    )
    max_waitlist: Mapped[int | None] = mapped_column()
    closed: Mapped[bool] = mapped_column(default=False)
    # A slot may have its own application window (a trip departure); otherwise the event's applies.
    signup_opens_at: Mapped[datetime | None] = mapped_column()
    signup_closes_at: Mapped[datetime | None] = mapped_column()
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    event: Mapped[Event] = relationship(back_populates="slots", lazy="joined")

    @property
    def available(self) -> int:
        return max(self.capacity - self.taken, 0)

    def quota_for(self, gender: Gender | None) -> int | None:
        if gender == Gender.FEMALE:
            return self.quota_female
        if gender == Gender.MALE:
            return self.quota_male
        return None

    def taken_for(self, gender: Gender | None) -> int:
        if gender == Gender.FEMALE:
            return self.taken_female
        if gender == Gender.MALE:
            return self.taken_male
        return 0

    def available_for(self, gender: Gender | None) -> int:
        """Seats a person of ``gender`` could still take: the slot's room, capped by their gender's quota."""
        room = self.available
        quota = self.quota_for(gender)
        if quota is not None:
            room = min(room, max(quota - self.taken_for(gender), 0))
        return room

    @property
    def has_quotas(self) -> bool:
        return self.quota_female is not None or self.quota_male is not None

    def window(self) -> tuple[datetime, datetime]:
        return (
            self.signup_opens_at or self.event.signup_opens_at,
            self.signup_closes_at or self.event.signup_closes_at,
        )
