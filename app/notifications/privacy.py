"""Notifications' part of the privacy rules (``app.personal_data``): the person's inbox and channel choices in
their own-data export, deleted with their account, and the inbox's retention limit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from ..accounts.models import User
from ..extensions import db
from ..personal_data import PersonalData
from .models import ChannelPreference, InboxMessage
from .services import preference_for

# Inbox messages are kept this many days (``NOTIFY_INBOX_RETENTION_DAYS``).
INBOX_RETENTION_DAYS = 365


def inbox_export(user: User) -> list[dict[str, Any]]:
    """The person's own inbox messages, oldest first, for "download my data" (reads only)."""
    items = db.session.scalars(
        select(InboxMessage).where(InboxMessage.user_id == user.id).order_by(InboxMessage.created_at, InboxMessage.id)
    ).all()
    return [
        {
            "kind": item.kind,
            "title": item.title,
            "body": item.body,
            "link": item.link,
            "created_at": item.created_at,
            "read_at": item.read_at,
        }
        for item in items
    ]


def channel_choices_export(user: User) -> dict[str, bool]:
    """The person's channel choices for "download my data" (the inbox is always on)."""
    preference = preference_for(user.id)
    return {"inbox": True, "email": preference.email, "sms": preference.sms}


def forget(user: User) -> int:
    """On account deletion: the person's inbox and channel choices are deleted (nothing in them feeds the
    statistics)."""
    removed = db.session.execute(delete(InboxMessage).where(InboxMessage.user_id == user.id)).rowcount or 0  # type: ignore[attr-defined]
    removed += db.session.execute(delete(ChannelPreference).where(ChannelPreference.user_id == user.id)).rowcount or 0  # type: ignore[attr-defined]
    return int(removed)


def purge_old_inbox(now: datetime) -> int:
    """Retention: inbox messages older than ``NOTIFY_INBOX_RETENTION_DAYS`` (default 365) are deleted."""
    days = int(current_app.config.get("NOTIFY_INBOX_RETENTION_DAYS", INBOX_RETENTION_DAYS))
    result = db.session.execute(delete(InboxMessage).where(InboxMessage.created_at < now - timedelta(days=days)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


INBOX = PersonalData("inbox", _l("站内消息"), export=inbox_export, forget=forget, expire=purge_old_inbox)
CHANNEL_CHOICES = PersonalData("channel_preferences", _l("消息设置"), export=channel_choices_export)
