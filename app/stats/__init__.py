"""Statistics: the province's figures from bookings, attendance and the matching-outcome log (issue 9).

Reads the core tables through their models, and what is a kind's own through the kind registry (each kind's
policy gives its ``figures``: ``events.figures``); never imports a feature, never writes into booking tables.
Registration counts come from an identifier-free roll-up kept by the ``stats.refresh`` task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from flask import Flask, url_for
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from ..personal_data import PersonalData

stats_cli = AppGroup("stats", help="Statistics roll-up.")


@stats_cli.command("refresh")
@click.option("--all", "everything", is_flag=True, help="Recount every event, not only the changed ones.")
@click.option("--year", type=int, default=None, help="With --all: only this year.")
def refresh_command(everything: bool, year: int | None) -> None:
    """Recount the roll-up (the scheduler does this every minute)."""
    from ..extensions import db
    from ..progress import progress_bar
    from . import rollup

    if everything:
        with progress_bar("recounting events") as progress:
            count = rollup.rebuild(year, progress=progress)
    else:
        count = rollup.refresh()
    db.session.commit()
    click.echo(f"recounted {count} events")


def _refresh_task(now: datetime) -> int:
    from . import rollup

    return rollup.refresh(now)


def _refresh_problems() -> list[str]:
    from flask_babel import gettext as _

    from . import rollup

    return [
        _("活动 #%(id)d「%(title)s」未计入统计（%(when)s）：%(reason)s", id=ident, title=title, when=at, reason=why)
        for ident, title, why, at in rollup.skipped_events()
    ]


def _nav(user: Any) -> Any:
    from ..navigation import NavItem

    if getattr(user, "is_organizer", False):
        return NavItem(_l("统计"), url_for("stats.dashboard"))
    return None


def _remember_deleted(user: Any) -> int:
    from .rollup import remember_deleted

    return remember_deleted(user)


# The statistics' part of the privacy rules (``app.personal_data``): nothing in the export, and a deleted
# account's figures kept as identifier-free counters.
PERSONAL_DATA = PersonalData("stats", forget=_remember_deleted)


def init_app(app: Flask) -> None:
    """Register the blueprint, the ``flask stats`` commands, the refresh task, the change receiver and the nav."""
    from ..navigation import register_nav
    from ..personal_data import register_personal_data
    from ..tasks import register_task
    from . import models  # noqa: F401  (tables for create_all and migrations)
    from .views import bp

    if "stats" not in app.blueprints:
        app.register_blueprint(bp)
    app.cli.add_command(stats_cli)
    register_task("stats.refresh", _refresh_task, every_seconds=60, problems=_refresh_problems)
    register_personal_data(PERSONAL_DATA)
    register_nav(_nav)
