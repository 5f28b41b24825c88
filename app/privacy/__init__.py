"""Privacy (DESIGN.md §7): my consents, my data, delete my account, retention.

A feature joins the export, the deletion and the retention once, by registering its ``PersonalData``
(``app.personal_data``); the privacy signals of ``app.signals`` carry the calls, so this package imports no
feature.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l

from ..navigation import NavItem, register_profile_link
from ..tasks import register_task


def _consents_link(user: Any) -> NavItem | None:
    return NavItem(_l("我的授权同意"), url_for("privacy.consents"))


def _data_link(user: Any) -> NavItem | None:
    return NavItem(_l("查看和下载我的数据"), url_for("privacy.export"))


def _delete_link(user: Any) -> NavItem | None:
    if getattr(user, "is_organizer", False):
        return None
    return NavItem(_l("注销账号"), url_for("privacy.delete"))


def _retention_task(now: Any) -> int:
    from .retention import apply_retention

    return apply_retention(now)


def init_app(app: Flask) -> None:
    """Register the privacy pages, the profile links and the hourly retention task (periods: app/config.py)."""
    from .views import bp

    app.register_blueprint(bp)
    register_profile_link(_consents_link)
    register_profile_link(_data_link)
    register_profile_link(_delete_link)
    register_task("privacy.retention", _retention_task, every_seconds=3600)
