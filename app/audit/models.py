"""The audit trail: one append-only row per action that decides or reveals something about people (who, what,
which object, when, from where, and for which organization).

Rows are never updated or deleted by the app; ``detail`` holds ids, counts and codes, never personal data.
``org_path`` is the path of the organization the object belongs to ("/1/4/17/"), so that an organizer reads
their subtree's rows with one indexed prefix query (``scope_condition``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..accounts.models import User
from ..extensions import Model


class AuditEntry(Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_org_path", "org_path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    # The organization the object belongs to (its path), and where the action came from (web, api, cli,
    # scheduler). Rows from before these columns have neither: only admins see them.
    org_path: Mapped[str | None] = mapped_column(String(255))
    origin: Mapped[str | None] = mapped_column(String(12))

    actor: Mapped[User | None] = relationship(lazy="joined")
