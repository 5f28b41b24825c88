"""The organizer console's own tables: roster tags and the check-in scan log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import Model


class RosterTag(Model):
    """A short label an organizer puts on a registration (e.g. "志愿者", "需接送"); one label once per person."""

    __tablename__ = "roster_tags"
    __table_args__ = (UniqueConstraint("registration_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CheckinScan(Model):
    """One scan made at the door, keyed by the id the device gave it: a scan uploaded twice (a retry after a flaky
    connection, an offline queue synced again) is answered from this row and never counted twice."""

    __tablename__ = "checkin_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_scan_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id", ondelete="SET NULL"))
    result: Mapped[str] = mapped_column(String(20))  # welcome / already / wrong_event / cancelled / not_found / ...
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    scanned_at: Mapped[datetime] = mapped_column()  # on the device (may be earlier than received when offline)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
