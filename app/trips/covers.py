"""Cover pictures of trip routes (issue 21, item 10), stored by the events' cover machinery (events.covers):
the same checks, re-encoding, sizes, folder and picture URL."""

from __future__ import annotations

from ..accounts.models import User
from ..events.covers import clean_alt, store_picture
from ..extensions import db
from .catalogue import managed_route
from .models import TripRoute


def set_route_cover(actor: User, route_id: int, data: bytes, alt: str | None) -> TripRoute:
    """An organizer gives a route of their subtree a cover picture with its description (both required: a
    refused picture or a missing description stores nothing); another organization's route answers NotFound."""
    route = managed_route(actor, route_id)
    description = clean_alt(alt)
    route.cover_image = store_picture(data)
    route.cover_alt = description
    db.session.flush()
    return route
