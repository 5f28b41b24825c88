"""Audit (core): an append-only log of organizer and admin actions.

Any feature calls ``record(actor, action, object_type, object_id, detail=None, ip=None)`` in the same transaction
as the change it describes; the row commits or rolls back with it. Admins browse it at /organizer/audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from .models import AuditEntry

__all__ = ["AuditEntry", "AuditFilter", "record", "search"]


def record(
    actor: Any,
    action: str,
    object_type: str,
    object_id: int | None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one audit row (flushes, never commits). ``detail`` must hold ids, counts and codes only — no names,
    phone numbers or other personal data."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action[:40],
        object_type=object_type[:40],
        object_id=object_id,
        detail=detail or None,
        ip_address=(ip or None) and str(ip)[:45],
        at=clock.now(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class AuditFilter:
    action: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1
    per_page: int = 50


def search(filters: AuditFilter) -> tuple[list[AuditEntry], int]:
    """Audit rows matching ``filters``, newest first, a page at a time, with the total count."""
    query = select(AuditEntry)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditEntry.object_id == filters.object_id)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.at < filters.until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(filters.page, 1)
    rows = db.session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(filters.per_page).offset((page - 1) * filters.per_page)
    ).unique()
    return list(rows), total


def actions() -> list[str]:
    """The distinct actions recorded so far (for the filter's select)."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def init_app(app: Flask) -> None:
    """Nothing to register: the audit log is a model and two functions (the page lives in the organizer console)."""
    from . import models  # noqa: F401 - the table
