"""The organizer console's gate and scoped look-ups: who may use the console, the objects (events, slots,
registrations) an actor may reach in their organization subtree, and the audit trail an organizer may read.

An object outside the actor's subtree raises NotFound, never Forbidden. Functions flush but never commit.
"""

from __future__ import annotations

from sqlalchemy import func, select

from .. import audit
from ..accounts.models import Role, User
from ..accounts.scope import manages, require_manages, scope_condition
from ..booking.models import Registration
from ..errors import Forbidden, NotFound
from ..events.models import Event, Slot
from ..events.services import (
    managed_event,
)
from ..extensions import db
from ..orgs.models import Organization


def require_organizer(actor: User) -> None:
    """Only organizers and admins use the console; anyone else is refused with Forbidden."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in (Role.ORGANIZER, Role.ADMIN):
        raise Forbidden()


def audit_trail(actor: User, filters: audit.AuditFilter) -> tuple[list[audit.AuditEntry], int]:
    """The audit rows an organizer may read: those of their organization's subtree (one prefix query on the
    row's organization path), without the ``view.*`` rows (who looked at whose data), which admins alone read."""
    require_organizer(actor)
    return audit.search(filters, viewer=actor)


def export_audit_trail(actor: User, filters: audit.AuditFilter) -> list[audit.AuditEntry]:
    """Every row of ``audit_trail`` that matches, for a CSV; the export is itself audited (``audit.export``)."""
    require_organizer(actor)
    entries = audit.all_matching(filters, viewer=actor)
    audit.record(actor, "audit.export", "audit", None, {"rows": len(entries), "action": filters.action})
    return entries


def require_admin(actor: User) -> None:
    """Pages for the whole province (the audit trail) are for admins only."""
    if actor is None or actor.role != Role.ADMIN:
        raise Forbidden()


def get_event(actor: User, event_id: int) -> Event:
    """An event of an organization the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    return managed_event(actor, event_id)


def get_slot(actor: User, slot_id: int) -> Slot:
    """A slot of an event the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise NotFound()
    require_manages(actor, slot.event.organization)
    return slot


def get_registration(actor: User, registration_id: int) -> Registration:
    """A registration for an event the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise NotFound()
    require_manages(actor, registration.slot.event.organization)
    return registration


def managed_organizations(actor: User, limit: int = 500) -> list[Organization]:
    """The organizations the actor may hold events for (their subtree), shallowest first."""
    require_organizer(actor)
    return list(
        db.session.scalars(
            select(Organization)
            .where(scope_condition(actor, Organization.path))
            .order_by(func.length(Organization.path), Organization.path)
            .limit(limit)
        )
    )


def can_manage(actor: User, event: Event) -> bool:
    """Whether the actor manages the event's organization: a yes/no answer that raises nothing (the services
    check with ``require_manages``)."""
    return manages(actor, event.organization)
