"""Who may act on what: an organizer acts for their organization and everything below it; an admin for all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true

from ..errors import NotFound
from ..orgs.models import Organization
from .models import Role, User


def manages(user: User | Any, org: Organization | None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or org is None:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.ORGANIZER and user.organization is not None and user.organization.contains(org)


def require_manages(user: User, org: Organization | None) -> None:
    """Objects outside the caller's subtree answer 404, never 403, so ids cannot be probed."""
    if not manages(user, org):
        raise NotFound()


def scope_condition(user: User, org_path_column: Any) -> ColumnElement[bool]:
    """SQL condition limiting rows (by their organization's path column) to what ``user`` manages."""
    if user.role == Role.ADMIN:
        return true()
    if user.role != Role.ORGANIZER or user.organization is None:
        return org_path_column.is_(None) & org_path_column.isnot(None)  # matches nothing
    return org_path_column.startswith(user.organization.path, autoescape=True)
