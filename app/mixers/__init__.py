"""Singles mixers (单身青年联谊): gender-balanced sign-up, badges, private mutual matching, the outcome log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l


def _reveal_due(now: datetime) -> int:
    from .reveal import reveal_due

    return reveal_due(now)


def _profile_link(user: Any) -> Any:
    from ..navigation import NavItem

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return NavItem(_l("我的联谊"), "/mixers/matches")


def _organizer_link(user: Any) -> Any:
    from ..navigation import NavItem

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_organizer:
        return None
    return NavItem(_l("联谊活动管理"), "/organizer/mixers/")


def _mixer_settings(event_id: int) -> Any:
    from .windows import settings_for

    return settings_for(event_id)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, kind policy, privacy part, scheduler task, profile links and template
    helper."""
    from ..events.kinds import register_kind
    from ..navigation import register_profile_link
    from ..personal_data import register_personal_data
    from ..tasks import register_task
    from . import (
        models,  # noqa: F401 - tables for create_all / migrations
        privacy,
    )
    from .policy import MixerPolicy
    from .views import api_bp, bp, organizer_bp

    register_kind(MixerPolicy())
    register_personal_data(privacy.PERSONAL_DATA)
    register_task("mixers.reveal_due", _reveal_due, every_seconds=60)
    register_profile_link(_profile_link)
    register_profile_link(_organizer_link)
    for blueprint in (bp, organizer_bp, api_bp):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["mixer_settings"] = _mixer_settings
