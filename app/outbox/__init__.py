"""Outbox (core): ``enqueue`` writes messages in the caller's transaction; the notifications feature delivers.

Which channels a message goes to is decided by a resolver that the notifications feature registers
(user preferences; essential messages always reach the in-app inbox). Without one, messages go to the inbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from flask import Flask
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..extensions import db
from .models import OutboxMessage, OutboxStatus


class Recipient(NamedTuple):
    """Who a message goes to, as ``enqueue`` reads a person: callers holding plain rows (a lottery telling
    twenty thousand applicants) pass this instead of a ``User``."""

    id: int
    email: str | None
    phone: str | None
    deleted_at: datetime | None


# Given the (recipient, kind, essential) triples of a batch of messages, the channels each one goes to.
ChannelResolver = Callable[[Sequence[tuple[Any, str, bool]]], dict[tuple[int, str, bool], list[str]]]
_resolver: ChannelResolver | None = None


def set_channel_resolver(resolver: ChannelResolver) -> None:
    """The resolver sees every recipient of an ``enqueue_many`` call at once, so it can read what it needs
    (people's channel choices) in a few queries however many messages there are."""
    global _resolver
    _resolver = resolver


def _resolve(wanted: Sequence[tuple[Any, str, bool]]) -> dict[tuple[int, str, bool], list[str]]:
    if _resolver is None:
        return {(user.id, kind, essential): ["inbox"] for user, kind, essential in wanted}
    return _resolver(wanted)


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
) -> None:
    """Write one outbox row per channel for ``user`` in the current transaction. ``subject`` names what the
    message is about (e.g. "registration:42" or "registration:42:24h"); with the recipient, kind and channel it
    forms the idempotency key, so enqueueing the same message twice is a no-op."""
    enqueue_many(
        [
            {
                "user": user,
                "kind": kind,
                "subject": subject,
                "template": template,
                "data": data,
                "due_at": due_at,
                "expires_at": expires_at,
                "essential": essential,
                "channels": channels,
            }
        ]
    )


def enqueue_many(messages: Sequence[dict[str, Any]]) -> None:
    """``enqueue`` for many messages in one statement (a booking writes a confirmation and reminders; a mixer's
    reveal notifies hundreds of people). Each dict holds ``enqueue``'s arguments: user, kind, subject and
    optionally template, data, due_at, expires_at, essential, channels. Channels are resolved once per
    (recipient, kind, essential), for all messages in one resolver call. A repeated idempotency key inserts
    nothing."""
    now = clock.now()
    wanted: dict[tuple[int, str, bool], tuple[Any, str, bool]] = {}
    for message in messages:
        if message.get("channels") is None:
            user, kind, essential = message["user"], message["kind"], bool(message.get("essential", False))
            wanted.setdefault((user.id, kind, essential), (user, kind, essential))
    resolved = _resolve(list(wanted.values())) if wanted else {}
    rows: list[dict[str, Any]] = []
    for message in messages:
        user, kind, essential = message["user"], message["kind"], bool(message.get("essential", False))
        chosen = message.get("channels")
        if chosen is None:
            chosen = resolved[(user.id, kind, essential)]
        for channel in chosen:
            rows.append(
                {
                    "user_id": user.id,
                    "channel": channel,
                    "kind": kind,
                    "template": message.get("template") or kind,
                    "data": message.get("data") or {},
                    "essential": essential,
                    "idempotency_key": f"{user.id}:{message['subject']}:{kind}:{channel}"[:200],
                    "due_at": message.get("due_at") or now,
                    "expires_at": message.get("expires_at"),
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                }
            )
    if not rows:
        return
    # One executemany of one statement built (and compiled) once: psycopg sends the rows in a pipeline, and
    # SQLAlchemy reuses the compiled statement (a multi-row VALUES statement differs with each row count, so it
    # is compiled anew every time). No RETURNING: no caller reads the ids, and it slows large inserts.
    connection = db.session.connection()
    connection.execute(_INSERT[connection.dialect.name], rows)


# ``inline()``: a single row (one message on one channel) would otherwise come back with RETURNING of its id.
_INSERT = {
    dialect: insert_for(OutboxMessage.__table__)  # type: ignore[arg-type]
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .inline()
    for dialect, insert_for in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


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
    return result.rowcount or 0  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """The outbox's backlog figures join ``/metrics``."""
    from ..metrics import register_database_collector
    from .figures import outbox_figures

    register_database_collector(outbox_figures)
