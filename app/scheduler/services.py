"""What the admin system page reads and the one thing it changes (retrying a failed message)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import clock
from ..errors import DomainError, NotFound
from ..extensions import db
from ..outbox.models import OutboxMessage, OutboxStatus
from ..tasks import registered_tasks
from .models import SchedulerHeartbeat, TaskRun
from .runner import STALE_AFTER_SECONDS


@dataclass
class ProcessState:
    beat: SchedulerHeartbeat
    state: str  # alive / stale / stopped


@dataclass
class SystemOverview:
    processes: list[ProcessState]
    tasks: list[tuple[str, int, TaskRun | None]]  # name, every_seconds, last run
    counts: dict[str, int]  # outbox rows by status
    due_backlog: int  # pending rows already due
    failed: Sequence[OutboxMessage]
    problems: dict[str, list[str]]  # task name → what its runs left out

    @property
    def alive(self) -> int:
        return sum(1 for process in self.processes if process.state == "alive")


def _state(beat: SchedulerHeartbeat, now: datetime) -> str:
    if beat.stopped_at is not None:
        return "stopped"
    if beat.last_beat_at >= now - timedelta(seconds=STALE_AFTER_SECONDS):
        return "alive"
    return "stale"


def overview(failed_limit: int = 50) -> SystemOverview:
    """Scheduler processes (alive if they beat in the last two minutes), task runs and what they left out,
    outbox totals and the latest failed messages. Failed rows show kind, channel and error, never message contents."""
    now = clock.now()
    beats = db.session.scalars(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.last_beat_at.desc()).limit(50))
    runs = {run.name: run for run in db.session.scalars(select(TaskRun))}
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all():
        counts[OutboxStatus(status).value] = int(count)
    backlog = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
    )
    failed = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc())
        .limit(failed_limit)
    ).all()
    names = {task.name: task.every_seconds for task in registered_tasks()}
    tasks = [(name, every, runs.get(name)) for name, every in sorted(names.items())]
    problems = {task.name: found for task in registered_tasks() if task.problems and (found := task.problems())}
    return SystemOverview(
        processes=[ProcessState(beat, _state(beat, now)) for beat in beats],
        tasks=tasks,
        counts=counts,
        due_backlog=int(backlog or 0),
        failed=failed,
        problems=problems,
    )


def retry_failed(message_id: int) -> OutboxMessage:
    """Put a failed message back in the queue, due now, with its attempts reset (an admin fixed the cause).
    Only failed messages can be retried; one past its expiry stays failed."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    if message.status != OutboxStatus.FAILED:
        raise DomainError(_("只有发送失败的消息可以重试。"))
    now = clock.now()
    if message.expires_at is not None and message.expires_at <= now:
        raise DomainError(_("这条消息已过时效，不再发送。"))
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.due_at = now
    message.lease_owner = None
    message.lease_until = None
    db.session.flush()
    return message
