"""Accounts (core): who logs in, their profile, sessions, tokens, consents."""

from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l

from ..navigation import NavItem, register_profile_link


def _devices_link(user: Any) -> NavItem | None:
    return NavItem(_l("登录设备与访问令牌"), url_for("accounts.devices"))


def _change_phone_link(user: Any) -> NavItem | None:
    return NavItem(_l("更换手机号"), url_for("accounts.change_phone"))


def init_app(app: Flask) -> None:
    from . import phone_models, phone_views, session_views  # noqa: F401  (tables; phone and devices pages on ``bp``)
    from .cli import users_cli
    from .legal_views import legal_bp
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(legal_bp)
    register_profile_link(_change_phone_link)
    app.cli.add_command(users_cli)
    register_profile_link(_devices_link)
