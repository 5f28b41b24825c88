"""The outbox's figures on ``/metrics``: the backlog of due messages, how long the oldest has waited, and the
count by status — read from the database at each scrape, so every host gives the same answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from ..extensions import db
from .models import OutboxMessage, OutboxStatus


def outbox_figures(now: datetime) -> Iterable[Metric]:
    """Backlog (due and not delivered), the oldest due message's wait in seconds, and messages by status."""
    backlog, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.due_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now
        )
    ).one()
    yield GaugeMetricFamily("zhijia_outbox_backlog", "Outbox messages due and not yet delivered.", value=int(backlog))
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    yield GaugeMetricFamily(
        "zhijia_outbox_oldest_due_seconds", "How long the oldest due, undelivered outbox message has waited.", value=age
    )
    by_status = GaugeMetricFamily("zhijia_outbox_messages", "Outbox messages by status.", labels=["status"])
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    for status in OutboxStatus:
        by_status.add_metric([status.value], int(counts.get(status, 0)))
    yield by_status
