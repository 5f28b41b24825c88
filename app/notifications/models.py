"""The in-app inbox and each person's channel choices (DESIGN.md §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..accounts.models import User
from ..extensions import Model


class InboxMessage(Model):
    """One message in a person's in-app inbox, materialised from exactly one outbox row (``outbox_id`` is
    unique, so a delivery that runs twice cannot show a message twice)."""

    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_messages_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))  # a same-site path, never an absolute URL
    essential: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column()

    @property
    def unread(self) -> bool:
        return self.read_at is None


class ChannelPreference(Model):
    """Which channels besides the inbox a person wants. No row means the defaults: email on (when they have an
    address), SMS off. The inbox is always on."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[bool] = mapped_column(default=True)
    sms: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    user: Mapped[User] = relationship()
