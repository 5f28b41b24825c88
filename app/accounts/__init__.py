"""Accounts (core): who logs in, their profile, sessions, tokens, consents."""

from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l

from ..web import NavItem, register_profile_link


def _devices_link(user: Any) -> NavItem | None:
    return NavItem(_l("登录设备与访问令牌"), url_for("accounts.devices"))


def init_app(app: Flask) -> None:
    from . import session_views  # noqa: F401  (adds the devices pages to the blueprint)
    from .cli import users_cli
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    register_profile_link(_devices_link)
