"""The scheduler process: jobs, tasks in their own transactions, heartbeats, the CLI and embedded mode."""

from __future__ import annotations

from datetime import datetime, timedelta

from app import clock, tasks
from app.extensions import db
from app.scheduler import embedded_allowed, runner
from app.scheduler.models import SchedulerHeartbeat, TaskRun
from app.scheduler.runner import SchedulerRunner, make_scheduler

from .. import factories
from ..notifications.factories import book, freeze, person


def test_run_once_runs_every_task_in_its_own_transaction_and_records_failures(app, smtp):
    calls: list[datetime] = []

    def good(now: datetime) -> int:
        calls.append(now)
        return 3

    def bad(now: datetime) -> int:
        factories.make_employee(commit=False)  # written, then rolled back by the failure below
        raise RuntimeError("boom")

    tasks.register_task("test.good", good, every_seconds=60)
    tasks.register_task("test.bad", bad, every_seconds=60)
    try:
        user = person()
        book(user, factories.make_event(reminder_hours=[]))
        results = SchedulerRunner(app, process_id="host-a:1:abc", mode="once").run_once()
    finally:
        tasks._tasks.pop("test.good", None)
        tasks._tasks.pop("test.bad", None)
    assert results["test.good"] == 3 and results["test.bad"] is None and len(calls) == 1
    assert results["outbox.deliver"].sent == 2 and len(smtp.to(user.email)) == 1
    db.session.expire_all()
    good_run, bad_run = db.session.get(TaskRun, "test.good"), db.session.get(TaskRun, "test.bad")
    assert good_run.last_result == 3 and good_run.last_error is None
    assert "boom" in bad_run.last_error and bad_run.failures == 1
    beat = db.session.get(SchedulerHeartbeat, "host-a:1:abc")
    assert beat.host == "host-a" and beat.pid == 1 and beat.stopped_at is not None


def test_jobs_have_fixed_ids_coalesce_and_a_generous_misfire_grace(app):
    scheduler = make_scheduler(blocking=False)
    first = SchedulerRunner(app, process_id="h:1:x")
    first.build(scheduler)
    first.build(scheduler)  # building again replaces, never duplicates
    scheduler.start(paused=True)
    try:
        ids = sorted(job.id for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)
    assert ids == sorted(
        ["outbox.deliver", "scheduler.heartbeat", "scheduler.sync_tasks"]
        + [f"task:{task.name}" for task in tasks.registered_tasks()]
    )
    assert "task:booking.expire_offers" in ids
    defaults = scheduler._job_defaults
    assert defaults["coalesce"] is True and defaults["misfire_grace_time"] >= 600 and defaults["max_instances"] == 1


def test_heartbeat_is_shown_to_admins_alive_then_stale(app, admin_client):
    freeze()
    SchedulerRunner(app, process_id="worker-7:4242:abc").beat()
    page = admin_client.get("/admin/system/").get_data(as_text=True)
    assert "worker-7:4242:abc" in page and "运行中" in page
    clock.advance(timedelta(seconds=runner.STALE_AFTER_SECONDS + 1))
    page = admin_client.get("/admin/system/").get_data(as_text=True)
    assert "无心跳" in page and "当前没有运行中的调度器" in page


def test_cli_run_once(app, smtp):
    user = person()
    book(user, factories.make_event(reminder_hours=[]))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "outbox.deliver" in result.output and len(smtp.to(user.email)) == 1


def test_embedded_only_in_the_single_development_process():
    base = {"enabled": True, "testing": False, "command": "run", "reload": False, "reloader_child": False}
    assert embedded_allowed(**base, gunicorn=False)
    assert not embedded_allowed(**base, gunicorn=True)  # gunicorn workers never
    assert not embedded_allowed(**{**base, "reload": True}, gunicorn=False)  # the reloader's watcher parent
    assert embedded_allowed(**{**base, "reload": True, "reloader_child": True}, gunicorn=False)
    assert not embedded_allowed(**{**base, "command": "shell"}, gunicorn=False)
    assert not embedded_allowed(**{**base, "enabled": False}, gunicorn=False)
    assert not embedded_allowed(**{**base, "testing": True}, gunicorn=False)


def test_embedded_background_scheduler_delivers(app, smtp):
    import time

    from app.scheduler import start_embedded, stop_embedded

    user = person()
    book(user, factories.make_event(reminder_hours=[]))
    address = user.email
    db.session.commit()  # SQLite: the test's session must not hold the write lock while the jobs run
    scheduler = start_embedded(app)
    try:
        assert scheduler.get_job("outbox.deliver") is not None
        for _ in range(200):  # the first run is immediate; wait for it (not a timing assertion)
            if smtp.to(address):
                break
            time.sleep(0.05)
        assert len(smtp.to(address)) == 1
    finally:
        stop_embedded(app)
