"""Audit (core): an append-only log of every action that decides or reveals something about people.

Any feature calls ``record(actor, action, object_type, object_id, detail=None, org=...)`` in the same transaction
as the change it describes; the row commits or rolls back with it. The actor is the one the service already holds
(it checked the actor's scope); where the action came from — the address and the origin — is the audit context,
set once for a unit of work and read by ``record``, so no service carries an address argument:
- every request binds it before any view runs (``init_app``: the client's address, origin "web" or "api");
- the scheduler binds it per run (``bind(origin="scheduler")``: no address);
- a CLI command, a demo seeder or a test sets it for a block with ``acting(ip=..., origin=...)``, which restores
  the previous context on leaving.
The context lives on ``flask.g``, i.e. in the application context, which Flask makes anew for every request.
``org`` is the organization the object belongs to: its path is
stored on the row, and organizers read their own subtree's rows (``search`` with a viewer), admins all of them.
Rows whose action starts with ``view.`` (who looked at whose data) and pair members' own follow-up answers
(``mixer.outcome``) are shown to admins only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, g, has_app_context, has_request_context, request
from sqlalchemy import ColumnElement, Select, and_, func, select

from .. import clock
from ..accounts.models import Role, User
from ..accounts.scope import scope_condition
from ..extensions import db
from ..orgs.models import Organization
from . import labels
from .models import AuditEntry

__all__ = ["AuditContext", "AuditEntry", "AuditFilter", "acting", "bind", "context", "record", "search"]

VIEW_PREFIX = "view."
# Rows only admins read: who looked at whose data, and a pair member's own follow-up answer (an organizer must not
# learn from the audit who matched whom).
ADMIN_ONLY_PREFIXES = (VIEW_PREFIX, "mixer.outcome")


@dataclass(frozen=True)
class AuditContext:
    """Where the current unit of work comes from: the client's address (requests) and the origin."""

    ip: str | None = None
    origin: str | None = None


def _made(ip: str | None, origin: str | None) -> AuditContext:
    return AuditContext(ip=(ip or None) and str(ip)[:45], origin=(origin or None) and origin[:12])


def bind(*, ip: str | None = None, origin: str | None = None) -> None:
    """Set the audit context for the rest of this application context (a request, a scheduler run). Every row
    recorded afterwards carries it."""
    if has_app_context():
        g.audit_context = _made(ip, origin)


@contextmanager
def acting(*, ip: str | None = None, origin: str | None = None) -> Iterator[AuditContext]:
    """Set the audit context for the rows recorded inside the block (a CLI command, a demo seeder, a test), then
    put back the context that was there before."""
    made = _made(ip, origin)
    if not has_app_context():
        yield made  # no application context, no database session: nothing can be recorded here
        return
    before = g.get("audit_context")
    g.audit_context = made
    try:
        yield made
    finally:
        if before is None:
            g.pop("audit_context", None)
        else:
            g.audit_context = before


def context() -> AuditContext:
    """The bound context; inside a request without one, the request's address."""
    if has_app_context():
        bound = g.get("audit_context")
        if isinstance(bound, AuditContext):
            return bound
    if has_request_context():
        return _made(request.remote_addr, "web")
    return AuditContext()


def _org_path(org: Organization | str | None, actor: Any) -> str | None:
    if isinstance(org, Organization):
        return org.path or None
    if isinstance(org, str):
        return org or None
    home = getattr(actor, "organization", None)  # nothing given: the acting organizer's own organization
    return home.path if isinstance(home, Organization) and home.path else None


def record(
    actor: Any,
    action: str,
    object_type: str,
    object_id: int | None,
    detail: dict[str, Any] | None = None,
    *,
    org: Organization | str | None = None,
) -> AuditEntry:
    """Append one audit row (flushes, never commits). ``detail`` must hold ids, counts and codes only — no names,
    phone numbers or other personal data. ``org`` (the object's organization, or its path) scopes the row to
    that organization's subtree; without it the actor's own organization is used. The address and origin are
    the audit context's (``bind``, ``acting``)."""
    bound = context()
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action[:40],
        object_type=object_type[:40],
        object_id=object_id,
        detail=detail or None,
        ip_address=bound.ip,
        at=clock.now(),
        org_path=_org_path(org, actor),
        origin=bound.origin,
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


def _not_admin_only() -> ColumnElement[bool]:
    return and_(*[AuditEntry.action.notlike(prefix + "%") for prefix in ADMIN_ONLY_PREFIXES])


def sees_views(viewer: User | None) -> bool:
    """Only admins read the ``view.*`` rows (who looked at whose data)."""
    return viewer is None or viewer.role == Role.ADMIN


def _scoped(viewer: User | None) -> Select[Any]:
    query = select(AuditEntry)
    if viewer is not None:
        query = query.where(scope_condition(viewer, AuditEntry.org_path))
        if not sees_views(viewer):
            query = query.where(_not_admin_only())
    return query


def _filtered(filters: AuditFilter, viewer: User | None) -> Select[Any]:
    query = _scoped(viewer)
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
    return query


def search(filters: AuditFilter, viewer: User | None = None) -> tuple[list[AuditEntry], int]:
    """Audit rows matching ``filters``, newest first, a page at a time, with the total count. With a ``viewer``
    the rows are limited to what they may read: an organizer their organization's subtree without the
    ``view.*`` rows, an admin everything."""
    query = _filtered(filters, viewer)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(filters.page, 1)
    rows = db.session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(filters.per_page).offset((page - 1) * filters.per_page)
    ).unique()
    return list(rows), total


def all_matching(filters: AuditFilter, viewer: User | None = None, limit: int = 100_000) -> list[AuditEntry]:
    """Every row matching ``filters`` that the viewer may read, newest first (for the CSV export), up to
    ``limit``."""
    query = _filtered(filters, viewer).order_by(AuditEntry.id.desc()).limit(limit)
    return list(db.session.scalars(query).unique())


def actions(viewer: User | None = None) -> list[str]:
    """The distinct actions the viewer may read (for the filter's select)."""
    query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    if viewer is not None:
        query = query.where(scope_condition(viewer, AuditEntry.org_path))
        if not sees_views(viewer):
            query = query.where(_not_admin_only())
    return list(db.session.scalars(query))


def init_app(app: Flask) -> None:
    """Bind each request's audit context (its address; "api" under /api/) before any view runs; templates name
    actions and object types with ``audit_action_name`` and ``audit_object_name``."""
    from . import models  # noqa: F401 - the table

    app.jinja_env.globals.update(audit_action_name=labels.action_name, audit_object_name=labels.object_name)

    @app.before_request
    def _bind_request() -> None:
        bind(ip=request.remote_addr, origin="api" if request.path.startswith("/api/") else "web")
