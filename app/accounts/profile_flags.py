"""Profile attributes only organizers set: the model-worker (劳模工匠) flag, a person's honour that trip
lotteries read as their first priority tier. Functions flush but never commit; the feature that offers the
action audits it (trips/priority.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..orgs.models import Organization
from .models import Profile, User
from .scope import manages, scope_condition
from .services import find_by_phone


def model_workers(actor: User) -> list[User]:
    """Employees in the organizer's subtree marked as model workers (劳模工匠), by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(Profile, Profile.user_id == User.id)
            .join(Organization, Organization.id == User.organization_id)
            .where(Profile.model_worker.is_(True), User.deleted_at.is_(None), scope_condition(actor, Organization.path))
            .order_by(User.name, User.id)
        ).unique()
    )


def set_model_worker(actor: User, *, phone: str | None = None, user_id: int | None = None, value: bool) -> User:
    """An organizer marks (or unmarks) an employee of their subtree as a model worker (劳模工匠), the first
    priority tier of trip lotteries. Someone outside the subtree, or unknown, is "not found"."""
    user = find_by_phone(phone) if phone else (db.session.get(User, user_id) if user_id else None)
    if user is None or user.profile is None or user.deleted_at is not None or not manages(actor, user.organization):
        raise NotFound(_("没有找到该职工，请核对手机号。"))  # the same answer inside and outside the subtree
    user.profile.model_worker = value
    db.session.flush()
    return user
