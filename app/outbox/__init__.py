"""Outbox (core): ``enqueue`` writes messages in the caller's transaction; the notifications feature delivers.

Which channels a message goes to is decided by a resolver that the notifications feature registers
(user preferences; essential messages always reach the in-app inbox). Without one, messages go to the inbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..extensions import db
from .models import OutboxMessage, OutboxStatus

ChannelResolver = Callable[[Any, str, bool], Sequence[str]]
_resolver: ChannelResolver | None = None


def set_channel_resolver(resolver: ChannelResolver) -> None:
    global _resolver
    _resolver = resolver


def channels_for(user: Any, kind: str, essential: bool) -> list[str]:
    if _resolver is None:
        return ["inbox"]
    return list(_resolver(user, kind, essential))


def enqueue(
    user: Any,
    kind: str,
    subject: str,
    *,
    template: str | None = None,
    data: dict[str, Any] | None = None,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
    essential: bool = False,
    channels: Sequence[str] | None = None,
) -> int:
    """Write one outbox row per channel for ``user`` in the current transaction. ``subject`` names what the
    message is about (e.g. "registration:42" or "registration:42:24h"); with the recipient, kind and channel it
    forms the idempotency key, so enqueueing the same message twice is a no-op. Returns rows inserted."""
    chosen = list(channels) if channels is not None else channels_for(user, kind, essential)
    if not chosen:
        return 0
    now = clock.now()
    rows = [
        {
            "user_id": user.id,
            "channel": channel,
            "kind": kind,
            "template": template or kind,
            "data": data or {},
            "essential": essential,
            "idempotency_key": f"{user.id}:{subject}:{kind}:{channel}"[:200],
            "due_at": due_at or now,
            "expires_at": expires_at,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for channel in chosen
    ]
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    # One multi-row statement: a booking writes several messages and this path is hot (bench/flash_sale.py).
    statement = insert(OutboxMessage).values(rows).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return db.session.execute(statement).rowcount or 0  # type: ignore[attr-defined,no-any-return]


def cancel_pending(user_id: int, subject_prefix: str, kind: str | None = None) -> int:
    """Skip not-yet-sent messages about a subject (e.g. reminders of a cancelled registration)."""
    from sqlalchemy import update

    condition = [
        OutboxMessage.user_id == user_id,
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.idempotency_key.startswith(f"{user_id}:{subject_prefix}", autoescape=True),
    ]
    if kind is not None:
        condition.append(OutboxMessage.kind == kind)
    result = db.session.execute(update(OutboxMessage).where(*condition).values(status=OutboxStatus.SKIPPED))
    return result.rowcount or 0  # type: ignore[attr-defined,no-any-return]


def init_app(app: Flask) -> None:
    """Nothing to register: the outbox is a model and two functions."""
