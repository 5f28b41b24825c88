"""Organizer console: events of every kind, rosters, check-in at the door, exports and the audit trail.

Kind-specific organizer pages (mixers, screenings, trips) live in their own features under /organizer/<kind>.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _

from ..navigation import NavItem, register_nav


def _nav(user: Any) -> NavItem | None:
    if getattr(user, "is_authenticated", False) and getattr(user, "is_organizer", False):
        return NavItem(_("组织管理"), "/organizer/")
    return None


def init_app(app: Flask) -> None:
    """Register the console's blueprint and its navigation entry (organizers and admins only)."""
    from . import checkin_views, export_views, models, roster_views  # noqa: F401 - the tables; pages on ``bp``
    from .views import bp

    app.register_blueprint(bp)
    register_nav(_nav)
