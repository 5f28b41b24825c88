"""The scheduler: ``flask scheduler run`` (a separate process; never in web workers), an embedded background
scheduler for the single development process (``make run``), heartbeats and the admin system page."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from flask.helpers import get_debug_flag

log = logging.getLogger("zhijia.scheduler")

cli = AppGroup("scheduler", help="Run the scheduler (reminders, offers, lotteries, reveals, retention).")
_embedded: dict[int, Any] = {}


@cli.command("run")
@click.option("--once", is_flag=True, help="Run every task and one delivery pass, then exit (cron, catch-up).")
def run_command(once: bool) -> None:
    """Start the scheduler in the foreground (BlockingScheduler) until SIGINT/SIGTERM."""
    from flask import current_app

    from ..process import settle_after_startup
    from .runner import SchedulerRunner, make_scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        runner = SchedulerRunner(app, mode="once")
        results = runner.run_once()
        for name, result in results.items():
            click.echo(f"{name}: {result}")
        return
    runner = SchedulerRunner(app, mode="process")
    scheduler = runner.build(make_scheduler(blocking=True))
    settle_after_startup()

    def stop(signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"scheduler {runner.process_id} started; Ctrl-C to stop")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runner.stopped()


def embedded_allowed(
    *, enabled: bool, testing: bool, command: str | None, reload: bool, reloader_child: bool, gunicorn: bool
) -> bool:
    """Embed a scheduler only in the one process that serves ``flask run``: the reloader's child when
    reloading (the parent only watches files), the process itself otherwise. Never under gunicorn (every
    forked worker would run every job), never in tests, shells or other CLI commands."""
    if not enabled or testing or gunicorn or command != "run":
        return False
    return reloader_child or not reload


def _embedded_context(app: Flask) -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    command = ctx.info_name if ctx is not None else None
    reload = ctx.params.get("reload") if ctx is not None else None
    if reload is None:
        reload = get_debug_flag()
    return {
        "enabled": bool(app.config.get("SCHEDULER_EMBEDDED")),
        "testing": bool(app.config.get("TESTING")),
        "command": command,
        "reload": bool(reload),
        "reloader_child": os.environ.get("WERKZEUG_RUN_MAIN") == "true",
        "gunicorn": "gunicorn" in os.environ.get("SERVER_SOFTWARE", "") or "gunicorn" in sys.modules,
    }


def start_embedded(app: Flask) -> Any:
    """Start a BackgroundScheduler for ``app`` in this process (once per app); it stops at exit."""
    from .runner import SchedulerRunner, make_scheduler

    if id(app) in _embedded:
        return _embedded[id(app)][0]
    runner = SchedulerRunner(app, mode="embedded")
    scheduler = runner.build(make_scheduler(blocking=False))
    scheduler.start()

    def shutdown() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        runner.stopped()

    _embedded[id(app)] = (scheduler, shutdown)
    atexit.register(shutdown)
    log.info("embedded scheduler %s started", runner.process_id)
    return scheduler


def stop_embedded(app: Flask) -> None:
    """Stop the embedded scheduler of ``app`` now (tests; otherwise it stops at exit)."""
    entry = _embedded.pop(id(app), None)
    if entry is not None:
        scheduler, shutdown = entry
        atexit.unregister(shutdown)
        if scheduler.running:
            scheduler.shutdown(wait=True)
        shutdown()


def _system_nav(user: Any) -> Any:
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    from ..navigation import NavItem

    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_admin", False):
        return None
    return NavItem(label=_l("系统状态"), url=url_for("system.index"))


def _heartbeat_fresh() -> str | None:
    """Readiness: at least one scheduler process beat within STALE_AFTER_SECONDS (else nothing is delivered)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from .. import clock
    from ..extensions import db
    from .models import SchedulerHeartbeat
    from .runner import STALE_AFTER_SECONDS

    fresh_since = clock.now() - timedelta(seconds=STALE_AFTER_SECONDS)
    alive = db.session.scalar(
        select(func.count())
        .select_from(SchedulerHeartbeat)
        .where(SchedulerHeartbeat.stopped_at.is_(None), SchedulerHeartbeat.last_beat_at >= fresh_since)
    )
    return None if alive else f"no scheduler heartbeat in the last {STALE_AFTER_SECONDS} s"


def _task_figures(_now: Any) -> Any:
    """Metrics: runs and failures of each periodic task (kept in the database by whichever process ran it), and
    the scheduler processes alive."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
    from sqlalchemy import select

    from ..extensions import db
    from .models import TaskRun
    from .services import overview

    runs = CounterMetricFamily("zhijia_scheduler_task_runs", "Runs of each periodic task.", labels=["task"])
    failures = CounterMetricFamily("zhijia_scheduler_task_failures", "Failed runs of each task.", labels=["task"])
    for run in db.session.scalars(select(TaskRun).order_by(TaskRun.name)):
        runs.add_metric([run.name], run.runs or 0)
        failures.add_metric([run.name], run.failures or 0)
    yield runs
    yield failures
    yield GaugeMetricFamily(
        "zhijia_scheduler_processes_alive", "Scheduler processes with a fresh heartbeat.", value=overview(0).alive
    )


def init_app(app: Flask) -> None:
    """Register the CLI group, the admin system page, the readiness check and metrics of the scheduler and, for
    ``make run``, the embedded scheduler."""
    from ..metrics import register_database_collector
    from ..navigation import register_nav
    from ..web import register_readiness_check
    from . import models  # noqa: F401  (tables known to create_all and Alembic)
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(cli)
    register_nav(_system_nav)
    register_readiness_check("scheduler", _heartbeat_fresh)
    register_database_collector(_task_figures)
    if embedded_allowed(**_embedded_context(app)):
        start_embedded(app)
