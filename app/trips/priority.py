"""Who goes first in a trip lottery: the model-worker (劳模工匠) tier an organizer sets on a person's profile."""

from __future__ import annotations

from .. import audit
from ..accounts import profile_flags
from ..accounts.models import User


def mark_model_worker(actor: User, *, phone: str | None = None, user_id: int | None = None, value: bool) -> User:
    """An organizer marks (or unmarks) an employee of their subtree as a model worker, the first priority tier of
    trip lotteries (the profile's rule: ``profile_flags.set_model_worker``). Audited as ``trip.model_worker``."""
    user = profile_flags.set_model_worker(actor, phone=phone, user_id=user_id, value=value)
    audit.record(actor, "trip.model_worker", "user", user.id, {"value": value}, org=user.organization)
    return user
