"""Registrations and their append-only history (the state machine lives in ``booking.states``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..accounts.models import Gender, User
from ..events.models import Event, Slot
from ..extensions import Model


class Status(enum.StrEnum):
    PENDING = "pending_approval"  # awaiting an organizer's approval or a lottery draw
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class Cause(enum.StrEnum):
    """Why a registration changed, as code reads it (stored in the history beside the free-text ``reason``
    that people read). Receivers branch on the cause, never on the reason's wording."""

    BOOKED = "booked"  # the person booked (confirmed, waitlisted or applied)
    APPROVED = "approved"  # an organizer approved a pending request
    REJECTED = "rejected"  # an organizer rejected a request; the reason is theirs, shown to the person
    LOTTERY = "lottery"  # a lottery draw decided (the lottery feature announces its own results)
    WITHDRAWN = "withdrawn"  # the system withdrew an application (e.g. the person won another departure)
    SEAT_FREED = "seat_freed"  # a freed seat went to the waitlist
    PROMOTED = "promoted"  # an organizer took someone from the waitlist ahead of their turn
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    OFFER_EXPIRED = "offer_expired"
    CANCELLED = "cancelled"  # cancelled by the person, or by an organizer with a reason shown to the person
    CONSENT_WITHDRAWN = "consent_withdrawn"  # the person withdrew a consent the booking needed
    CHECKED_IN = "checked_in"
    CHECK_IN_UNDONE = "check_in_undone"
    NO_SHOW = "no_show"
    MOVED = "moved"  # the seat moved to another slot of the same event
    MANUAL = "manual"  # any other direct change; the reason says why


# Statuses that occupy a seat of the slot's capacity (and of a gender quota).
HOLDING = frozenset({Status.CONFIRMED, Status.OFFERED, Status.ATTENDED, Status.NO_SHOW})
# Statuses that count as "registered" (one per person per slot).
ACTIVE = frozenset(HOLDING | {Status.PENDING, Status.WAITLISTED})


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (
        Index(
            "uq_registrations_active_slot_user",
            "slot_id",
            "user_id",
            unique=True,
            postgresql_where=text("is_active"),
            sqlite_where=text("is_active"),
        ),
        Index(
            "uq_registrations_active_event_user",
            "event_id",
            "user_id",
            unique=True,
            postgresql_where=text("is_active AND single_per_event"),
            sqlite_where=text("is_active AND single_per_event"),
        ),
        Index("ix_registrations_slot_status", "slot_id", "status"),
        Index("ix_registrations_user_status", "user_id", "status"),
        Index("ix_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # NULL once the person deleted their account: the row stays, anonymous, so statistics stay true.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False, length=20))
    is_active: Mapped[bool] = mapped_column(default=True)
    single_per_event: Mapped[bool] = mapped_column(default=True)
    # Snapshot of the person's gender when they booked: quota counters must release what they took.
    gender: Mapped[Gender | None] = mapped_column(Enum(Gender, native_enum=False, length=8))
    priority: Mapped[int] = mapped_column(default=0)  # lower goes first on the waitlist
    ticket_code: Mapped[str] = mapped_column(String(32), unique=True)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    waitlisted_at: Mapped[datetime | None] = mapped_column()
    offer_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    checked_in_at: Mapped[datetime | None] = mapped_column()
    # True when the seat came from the waitlist (statistics: waitlist conversions).
    from_waitlist: Mapped[bool] = mapped_column(default=False)

    slot: Mapped[Slot] = relationship(lazy="joined", innerjoin=True)
    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship(lazy="select")
    history: Mapped[list[RegistrationHistory]] = relationship(
        back_populates="registration", order_by="RegistrationHistory.id", cascade="all, delete-orphan"
    )

    @property
    def holds_seat(self) -> bool:
        return self.status in HOLDING


class RegistrationHistory(Model):
    """One row per change (``booking.states.plan`` decides it, ``booking.store`` writes it); never updated (actor
    becomes NULL if that account is deleted)."""

    __tablename__ = "registration_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[Status | None] = mapped_column(Enum(Status, native_enum=False, length=20))
    to_status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False, length=20))
    # Why, as code reads it (None on rows written before causes were recorded); ``reason`` is for people.
    cause: Mapped[Cause | None] = mapped_column(Enum(Cause, native_enum=False, length=20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=clock.now)

    registration: Mapped[Registration] = relationship(back_populates="history")
