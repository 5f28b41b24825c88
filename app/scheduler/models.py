"""What admins see of the scheduler: one heartbeat row per scheduler process and the last run of each task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import Model


class SchedulerHeartbeat(Model):
    __tablename__ = "scheduler_heartbeats"

    process_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid:random
    host: Mapped[str] = mapped_column(String(80))
    pid: Mapped[int] = mapped_column()
    mode: Mapped[str] = mapped_column(String(16), default="process")  # process / embedded / once
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_beat_at: Mapped[datetime] = mapped_column(default=clock.now)
    stopped_at: Mapped[datetime | None] = mapped_column()


class TaskRun(Model):
    """The latest run of each periodic task (any process), for the system page."""

    __tablename__ = "scheduler_task_runs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column()
    last_finished_at: Mapped[datetime | None] = mapped_column()
    last_result: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_process_id: Mapped[str | None] = mapped_column(String(80))
    runs: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
