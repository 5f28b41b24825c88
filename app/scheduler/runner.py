"""The scheduler process (DESIGN.md §6): APScheduler only ticks; the work is in the database.

Jobs (fixed ids, ``replace_existing=True``, ``coalesce=True``, a generous ``misfire_grace_time``, one instance
at a time): ``outbox.deliver`` (deliver due outbox rows), ``scheduler.heartbeat``, and one ``task:<name>`` per
task registered in ``app.tasks`` (offer expiry, lotteries, reveals, retention...). Each job runs in its own
app context and transaction. Several processes may run at once on PostgreSQL: delivery claims rows with ``SKIP
LOCKED`` and a lease, and tasks lock or claim what they change. On SQLite run one.

"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import update

from .. import audit, clock
from ..extensions import db
from ..notifications import delivery
from ..tasks import Task, registered_tasks
from .models import SchedulerHeartbeat, TaskRun

log = logging.getLogger("zhijia.scheduler")

DELIVERY_JOB = "outbox.deliver"
HEARTBEAT_JOB = "scheduler.heartbeat"
SYNC_JOB = "scheduler.sync_tasks"
DEFAULT_DELIVERY_SECONDS = 15
HEARTBEAT_SECONDS = 30
MISFIRE_GRACE_SECONDS = 3600  # a job late by up to an hour (busy host, suspended VM) still runs, once
STALE_AFTER_SECONDS = 120  # a heartbeat older than this is shown as stale


class SchedulerRunner:
    """Runs the jobs of one scheduler process against ``app``; ``process_id``: heartbeat and lease id."""

    def __init__(self, app: Flask, process_id: str | None = None, mode: str = "process") -> None:
        self.app = app
        self.process_id = process_id or delivery.process_owner()
        self.mode = mode
        self.scheduler: BaseScheduler | None = None

    # --- jobs ---

    def _in_context(self, work: Callable[[], Any]) -> Any:
        with self.app.app_context():
            audit.bind(origin="scheduler")  # what a task decides is audited as the scheduler's, from no address
            try:
                return work()
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    def deliver(self) -> delivery.TickReport:
        """Deliver due outbox rows (the delivery module commits per claim and per message)."""
        return self._in_context(lambda: delivery.tick(owner=self.process_id))

    def run_task(self, task: Task) -> int | None:
        """Run one registered task in its own transaction and record how it went; an error is logged, recorded
        and rolled back, and the next run tries again."""

        def work() -> int | None:
            started = clock.now()
            try:
                result = int(task.func(started) or 0)
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                log.exception("task %s failed", task.name)
                self._record(task.name, started, None, f"{type(error).__name__}: {error}")
                return None
            self._record(task.name, started, result, None)
            return result

        return self._in_context(work)

    def _record(self, name: str, started: Any, result: int | None, error: str | None) -> None:
        run = db.session.get(TaskRun, name, with_for_update=True)
        if run is None:
            run = TaskRun(name=name)
            db.session.add(run)
        run.last_started_at = started
        run.last_finished_at = clock.now()
        run.last_result = result
        run.last_error = error[:2000] if error else None
        run.last_process_id = self.process_id
        run.runs = (run.runs or 0) + 1
        run.failures = (run.failures or 0) + (1 if error else 0)
        try:
            db.session.commit()
        except Exception:  # two processes recorded the first run of a task at once: the other row stands
            db.session.rollback()

    def beat(self) -> None:
        """Insert or refresh this process's heartbeat row."""

        def work() -> None:
            now = clock.now()
            row = db.session.get(SchedulerHeartbeat, self.process_id)
            if row is None:
                host, _, pid = self.process_id.partition(":")
                db.session.add(
                    SchedulerHeartbeat(
                        process_id=self.process_id,
                        host=host[:80] or socket.gethostname()[:80],
                        pid=int(pid.split(":")[0]) if pid.split(":")[0].isdigit() else os.getpid(),
                        mode=self.mode,
                        started_at=now,
                        last_beat_at=now,
                    )
                )
            else:
                row.last_beat_at = now
                row.stopped_at = None
            db.session.commit()

        self._in_context(work)

    def stopped(self) -> None:
        def work() -> None:
            db.session.execute(
                update(SchedulerHeartbeat)
                .where(SchedulerHeartbeat.process_id == self.process_id)
                .values(stopped_at=clock.now())
            )
            db.session.commit()

        try:
            self._in_context(work)
        except Exception:
            log.exception("could not record the scheduler's stop")

    def run_once(self) -> dict[str, Any]:
        """Every task once, then a delivery pass (``flask scheduler run --once``: cron, tests, catch-up)."""
        self.beat()
        results: dict[str, Any] = {task.name: self.run_task(task) for task in registered_tasks()}
        results[DELIVERY_JOB] = self.deliver()
        self.stopped()
        return results

    # --- APScheduler ---

    def _safe(self, work: Callable[[], Any], name: str) -> Callable[[], None]:
        def job() -> None:
            try:
                work()
            except Exception:
                log.exception("scheduler job %s failed", name)

        return job

    def _every(
        self, scheduler: BaseScheduler, work: Callable[[], Any], job_id: str, seconds: int, name: str | None = None
    ) -> None:
        """A job with a fixed id (replacing any earlier one) that runs ``work`` every ``seconds``, the first time
        soon, and logs its failures."""
        scheduler.add_job(
            self._safe(work, job_id),
            "interval",
            seconds=seconds,
            id=job_id,
            name=name,
            replace_existing=True,
            next_run_time=_soon(),
        )

    def sync_tasks(self) -> None:
        """Add a job for every registered task (features may register tasks after the scheduler started)."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        for task in registered_tasks():
            job_id = f"task:{task.name}"
            if scheduler.get_job(job_id) is None:
                self._every(scheduler, functools.partial(self.run_task, task), job_id, task.every_seconds, task.name)

    def build(self, scheduler: BaseScheduler) -> BaseScheduler:
        """Add the fixed jobs to ``scheduler`` (configured with coalesce, misfire grace, one instance)."""
        self.scheduler = scheduler
        every = int(self.app.config.get("SCHEDULER_DELIVERY_SECONDS", DEFAULT_DELIVERY_SECONDS))
        self._every(scheduler, self.beat, HEARTBEAT_JOB, HEARTBEAT_SECONDS)
        self._every(scheduler, self.deliver, DELIVERY_JOB, every)
        scheduler.add_job(
            self._safe(self.sync_tasks, SYNC_JOB), "interval", seconds=300, id=SYNC_JOB, replace_existing=True
        )
        self.sync_tasks()
        return scheduler


JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS, "max_instances": 1}


def _soon() -> datetime:
    return datetime.now().astimezone()


def make_scheduler(blocking: bool) -> BaseScheduler:
    # One line per job run every 15 seconds drowns the log; failures are still logged (by ``_safe`` too).
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    return cls(job_defaults=dict(JOB_DEFAULTS), timezone="Asia/Shanghai")
