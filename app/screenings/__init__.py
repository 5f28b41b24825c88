"""Health-truck screenings (健康大篷车): time slots, two-cancer screening, attendance."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..navigation import NavItem


def _nav(user: Any) -> NavItem | None:
    if getattr(user, "is_organizer", False):
        return NavItem(_l("体检排班"), "/organizer/screenings/")
    return None


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, CLI commands, kind policies and signal receivers."""
    from ..events.kinds import register_kind
    from ..navigation import register_nav
    from . import models  # noqa: F401 - the tables
    from .policy import ScreeningPolicy
    from .views import bp, organizer_bp, register_template_helpers

    register_kind(ScreeningPolicy())
    if "screenings" not in app.blueprints:
        app.register_blueprint(bp)
        app.register_blueprint(organizer_bp)
    register_template_helpers(app)
    register_nav(_nav)
