"""Recuperation trips (职工疗休养): themed routes, departures, one trip a year, priority tiers and a
verifiable
lottery (issue 6)."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l


def _nav(user: Any) -> Any:
    from ..navigation import NavItem

    return NavItem(_l("疗休养"), url_for("trips.index"))


def _organizer_nav(user: Any) -> Any:
    from ..navigation import NavItem

    if getattr(user, "is_organizer", False):
        return NavItem(_l("疗休养管理"), url_for("trips_organizer.index"))
    return None


def init_app(app: Flask) -> None:
    """Register the trip kind policy, the employee and organizer blueprints, the CLI group, the nav entries,
    the template helpers and the scheduler tasks."""
    from ..events.kinds import register_kind
    from ..navigation import register_nav, register_profile_link
    from ..personal_data import register_personal_data
    from ..tasks import register_task
    from . import attendance, lottery_draw, lottery_record, privacy
    from .cli import trips_cli
    from .policy import POLICY
    from .views import bp, organizer_bp, template_helpers

    register_kind(POLICY)
    app.register_blueprint(bp)
    app.register_blueprint(organizer_bp)
    app.cli.add_command(trips_cli)
    register_nav(_nav)
    register_profile_link(_organizer_nav)
    app.jinja_env.globals.update(template_helpers())
    register_task("trips.draw_due", lottery_draw.draw_due, every_seconds=60)
    register_task("trips.announce_results", lottery_record.announce_results, every_seconds=20)
    register_task("trips.expire_details", attendance.expire_details, every_seconds=300)
    register_personal_data(privacy.PERSONAL_DATA)
