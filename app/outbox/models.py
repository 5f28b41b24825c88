"""The outbox: every message that leaves the process is first a row here, written in the same transaction as
the change that causes it (DESIGN.md §4, §6). The scheduler delivers due rows."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import Model


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts; shown to admins
    SKIPPED = "skipped"  # past its usefulness (e.g. a reminder after the event started) or cancelled


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the recipient deleted their account (the row's data is wiped at the same time).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # email / inbox / sms
    kind: Mapped[str] = mapped_column(String(40))  # e.g. booking_confirmed, reminder, offer, reveal
    template: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    essential: Mapped[bool] = mapped_column(default=False)
    # (recipient, subject, kind, channel): a second insert with the same key is a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=16), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
