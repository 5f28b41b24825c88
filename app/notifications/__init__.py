"""Notifications: the outbox's channels (email, in-app inbox, SMS), what booking changes send, reminders and
their delivery (DESIGN.md §6). The scheduler feature runs ``delivery.tick``."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError


def _inbox_nav(user: Any) -> Any:
    from ..navigation import NavItem
    from .services import unread_count

    if not getattr(user, "is_authenticated", False):
        return None
    try:
        badge = unread_count(user)
    except SQLAlchemyError:  # e.g. an error page rendered after a failed transaction: no badge, no second error
        badge = 0
    return NavItem(label=_l("消息"), url=url_for("notifications.inbox"), badge=badge)


def _settings_link(user: Any) -> Any:
    from ..navigation import NavItem

    if not getattr(user, "is_authenticated", False):
        return None
    return NavItem(label=_l("消息设置"), url=url_for("notifications.settings"))


def init_app(app: Flask) -> None:
    """Register the blueprint, nav entries, the outbox channel resolver and the signal receivers (connecting
    the same function twice is a no-op, so create_app may run many times)."""
    from ..accounts.verification import set_code_sender
    from ..navigation import register_nav, register_profile_link
    from ..outbox import set_channel_resolver
    from ..personal_data import register_personal_data
    from ..signals import (
        event_times_changed,
        password_reset_requested,
        registration_changed,
        registrations_changed,
    )
    from . import (
        codes,
        models,  # noqa: F401  (tables known to create_all and Alembic)
        privacy,
        services,
    )
    from .views import bp

    app.register_blueprint(bp)
    set_code_sender(codes.send_code)
    if app.config.get("APP_ENV") != "production" and app.config.get("SMS_BACKEND", "log") == "log":
        from .dev_views import dev_bp

        app.register_blueprint(dev_bp)
    register_nav(_inbox_nav)
    register_profile_link(_settings_link)
    set_channel_resolver(services.resolve_channels)
    registration_changed.connect(services.on_registration_changed)
    registrations_changed.connect(services.on_registrations_changed)
    password_reset_requested.connect(services.on_password_reset_requested)
    event_times_changed.connect(services.on_event_times_changed)
    register_personal_data(privacy.INBOX)
    register_personal_data(privacy.CHANNEL_CHOICES)
    app.config.setdefault("NOTIFY_LEASE_SECONDS", 300)
    app.config.setdefault("NOTIFY_MAX_ATTEMPTS", 5)
    app.config.setdefault("NOTIFY_BATCH", 100)
