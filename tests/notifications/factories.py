"""Builders for notification tests."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest

from app import clock
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.extensions import db
from app.outbox import enqueue
from app.outbox.models import OutboxMessage, OutboxStatus

from .. import factories

BACKEND = os.environ.get("ZHIJIA_TEST_DB", "sqlite")
postgres_only = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs PostgreSQL: several schedulers claim rows with FOR UPDATE SKIP LOCKED (SQLite runs one scheduler)",
)

_emails = iter(range(1, 1_000_000))


def person(**kwargs: Any) -> User:
    kwargs.setdefault("email", f"worker{next(_emails)}@example.cn")
    return factories.make_employee(**kwargs)


def book(user: User, event: Any, slot_index: int = 0) -> Registration:
    registration = booking.book(user, event.slots[slot_index].id)
    db.session.commit()
    return registration


def generic(
    user: User,
    subject: str,
    *,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
    channels: tuple[str, ...] = ("email",),
    title: str = "测试通知",
) -> list[int]:
    """Enqueue a template-less message (rendered from its data) and return the outbox ids."""
    enqueue(
        user,
        "notice",
        subject,
        template="notice",
        data={"title": f"{title} {subject}", "body": "正文", "link": "/me/bookings"},
        due_at=due_at or clock.now(),
        expires_at=expires_at,
        channels=list(channels),
    )
    db.session.commit()
    return rows(user_id=user.id, key_part=subject)


def rows(**filters: Any) -> list[int]:
    query = db.select(OutboxMessage.id).order_by(OutboxMessage.id)
    if "user_id" in filters:
        query = query.where(OutboxMessage.user_id == filters["user_id"])
    if "key_part" in filters:
        query = query.where(OutboxMessage.idempotency_key.contains(filters["key_part"]))
    return list(db.session.scalars(query))


def outbox(user: User | None = None, kind: str | None = None, channel: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = db.select(OutboxMessage).order_by(OutboxMessage.due_at, OutboxMessage.id)
    if user is not None:
        query = query.where(OutboxMessage.user_id == user.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return list(db.session.scalars(query))


def statuses(user: User | None = None, kind: str | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in outbox(user, kind):
        counts[row.status.value] = counts.get(row.status.value, 0) + 1
    return counts


def freeze(moment: datetime | None = None) -> datetime:
    moment = (moment or clock.now()).replace(second=0, microsecond=0)
    clock.set_now(moment)
    return moment


def later(**delta: float) -> datetime:
    return clock.advance(timedelta(**delta))


__all__ = ["OutboxStatus", "book", "freeze", "generic", "later", "outbox", "person", "postgres_only", "statuses"]
