"""Delivering the outbox (DESIGN.md §6): claim due rows with a lease, send outside any transaction, mark sent.

One tick:
1. rows past ``expires_at`` (and not leased) become ``skipped`` — a reminder is never sent after the event
   started;
2. a short transaction claims up to ``batch`` due rows: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL
   (several schedulers on several hosts never claim the same row), then sets ``lease_owner``/``lease_until``
   and counts the attempt; on SQLite (one scheduler; every transaction is ``BEGIN IMMEDIATE``) the same
   statements are atomic;
3. each claimed row is rendered in a short transaction that also renews the lease (and checks it is still
   ours), then sent and marked ``sent`` with a conditional update on ``lease_owner`` — the lease is released
   by the very statement that marks the row sent;
4. a failure puts the row back with an exponential backoff; after ``NOTIFY_MAX_ATTEMPTS`` it is ``failed`` and
   shown to admins. A sender that dies after claiming leaves a lease that expires, and the row is claimed
   again.

At-least-once window: an SMTP server's ``250`` to ``DATA`` and a database commit cannot be made atomic; if a
process dies between the two, the row is sent again once its lease expires. On PostgreSQL the window is made as
small as it can be: the conditional ``sent`` update runs *before* the message goes out, in a transaction left
open during the SMTP conversation (it holds only that row's lock, which every claim skips), and the commit
follows the ``250`` at once — so what remains is the time to send one ``COMMIT``. The update also proves the
lease is still ours before anything is sent, so a sender that lost its lease sends nothing. A refusal rolls the
update back. SQLite keeps send-then-mark: there a transaction is a database-wide write lock (``BEGIN
IMMEDIATE``) that must not wait on a mail server, and only one scheduler runs. Every resend carries the same
``Message-ID: <outbox-ID@host>`` so mail systems can drop a duplicate. In-app inbox rows are written in the
transaction that marks the row sent: exactly once.

"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import ColumnElement, or_, select, update

from .. import clock
from ..accounts.models import User
from ..booking.models import HOLDING, Registration, Status
from ..extensions import db
from ..outbox.models import OutboxMessage, OutboxStatus
from .channels import Channel, DeliveryError, Envelope, build_channels
from .channels.email import message_id_for
from .channels.inbox import materialise
from .messages import render

log = logging.getLogger("zhijia.delivery")

DEFAULT_LEASE_SECONDS = 300
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BATCH = 100
LEASE_MARGIN_SECONDS = 30  # renew a lease with less than this left before sending
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
# Kinds whose data must not outlive delivery (a password-reset link is a credential).
SCRUB_AFTER_SEND = frozenset({"password_reset"})

_process_owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def process_owner() -> str:
    """This process's lease owner / heartbeat id: host, pid and a random suffix (pids repeat across hosts)."""
    return _process_owner


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    lost: int = 0  # lease taken over by another sender before we could mark the row
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 1, 2, 4, 8 ... minutes, capped at an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def _unleased(now: datetime) -> ColumnElement[bool]:
    return or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)


def expire_overdue(now: datetime | None = None) -> int:
    """Skip pending rows past their usefulness (``expires_at``) that nobody is sending. Flushes, no commit."""
    now = now or clock.now()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.expires_at.is_not(None),
            OutboxMessage.expires_at <= now,
            _unleased(now),
        )
        .values(
            status=OutboxStatus.SKIPPED,
            last_error="expired before delivery",
            lease_owner=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def claim(owner: str, *, limit: int = DEFAULT_BATCH, lease_seconds: int | None = None) -> list[int]:
    """Claim up to ``limit`` due, unleased, unexpired rows for ``owner`` and commit at once. Rows another
    sender holds (row lock or live lease) are skipped, never waited for."""
    now = clock.now()
    lease = timedelta(seconds=lease_seconds or _setting("NOTIFY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    due = [
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.due_at <= now,
        _unleased(now),
        or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
    ]
    try:
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(*due)
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            claimed = db.session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), *due)
                .values(lease_owner=owner, lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            ).all()
            ids = sorted(claimed)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ids


def _skip_reason(message: OutboxMessage, user: User | None, now: datetime) -> str | None:
    """Why a claimed row should not be sent any more (None: send it)."""
    if user is None or user.deleted_at is not None or not user.is_active_account:
        return "no recipient"
    if message.expires_at is not None and message.expires_at <= now:
        return "expired before delivery"
    if message.channel == "email" and not user.email:
        return "no email address"
    if message.channel == "sms" and not user.phone:
        return "no phone number"
    data = message.data or {}
    if "registration_id" not in data:
        return None
    registration = db.session.get(Registration, int(data["registration_id"]))
    if registration is None:
        return "registration gone"
    event = registration.slot.event
    if message.kind == "reminder":
        if registration.status != Status.CONFIRMED or event.is_cancelled:
            return "registration no longer confirmed"
        if data.get("slot_start") != registration.slot.starts_at.isoformat():
            return "event time changed"
        if registration.slot.starts_at <= now:
            return "event already started"
    elif message.kind == "booking_offer" and registration.status != Status.OFFERED:
        return "offer no longer open"
    elif message.kind == "booking_confirmed" and registration.status not in HOLDING:
        return "registration no longer holds a seat"
    return None


def _finish(message_id: int, owner: str, values: dict[str, object]) -> bool:
    """Conditional update of a row we still lease; False if the lease was lost to another sender."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.lease_owner == owner,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(lease_owner=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _fail(message_id: int, owner: str, attempts: int, error: str, report: TickReport) -> None:
    now = clock.now()
    if attempts >= _setting("NOTIFY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
        values: dict[str, object] = {"status": OutboxStatus.FAILED, "last_error": error[:1000]}
        outcome = "failed"
    else:
        values = {"due_at": now + backoff(attempts), "last_error": error[:1000]}
        outcome = "retried"
    if _finish(message_id, owner, values):
        setattr(report, outcome, getattr(report, outcome) + 1)
    else:
        report.lost += 1
    db.session.commit()
    log.warning("outbox %s attempt %s %s: %s", message_id, attempts, outcome, error[:200])


@dataclass
class Prepared:
    envelope: Envelope
    attempts: int
    channel: str
    lease_until: datetime


def _renew(message_id: int, owner: str) -> datetime | None:
    """Extend our lease on a row (and prove we still hold it); None if another sender took it over."""
    lease_until = clock.now() + timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    renewed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.lease_owner == owner,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return lease_until if renewed else None


def prepare(ids: list[int], owner: str, report: TickReport) -> list[Prepared]:
    """In one short transaction for a claimed batch: decide whether each row is still worth sending, render it
    in its recipient's language; inbox rows are delivered right here (marked sent and materialised together).
    Returns what to send outside the transaction. A row that cannot be rendered counts as a failed attempt."""
    now = clock.now()
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.lease_owner == owner,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    ).all()
    report.lost += len(ids) - len(messages)
    user_ids = {m.user_id for m in messages if m.user_id is not None}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    host = urlsplit(current_app.config["SERVER_BASE_URL"]).hostname or "zhijia.local"
    prepared: list[Prepared] = []
    broken: list[tuple[int, int, str]] = []
    for message in messages:
        user = users.get(message.user_id) if message.user_id is not None else None
        reason = _skip_reason(message, user, now)
        if reason is not None:
            _finish(message.id, owner, {"status": OutboxStatus.SKIPPED, "last_error": reason})
            report.skipped += 1
            continue
        assert user is not None
        try:
            rendered = render(message, user)
        except Exception as error:  # a template or data problem
            log.exception("outbox %s could not be rendered", message.id)
            broken.append((message.id, message.attempts, f"render: {type(error).__name__}: {error}"))
            continue
        if message.channel == "inbox":
            if _finish(message.id, owner, {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}):
                materialise(message, rendered)
                report.sent += 1
            continue
        envelope = Envelope(
            outbox_id=message.id,
            kind=message.kind,
            user=user,
            email=user.email,
            phone=user.phone,
            rendered=rendered,
            message_id=message_id_for(message.id, host),
        )
        prepared.append(Prepared(envelope, message.attempts, message.channel, message.lease_until or now))
    db.session.commit()
    for message_id, attempts, error_text in broken:
        _fail(message_id, owner, attempts, error_text, report)
    return prepared


def send_prepared(item: Prepared, owner: str, channels: dict[str, Channel], report: TickReport) -> None:
    """Send one prepared row and mark it sent — the same statement releases the lease, so the row is never free
    while it is unmarked. A lease about to run out is renewed first. On PostgreSQL the mark is written before
    the send and committed right after the server accepts (see the module's note on the at-least-once window)."""
    message_id = item.envelope.outbox_id
    assert message_id is not None  # envelopes made by a tick always carry their outbox row
    if clock.now() >= item.lease_until - timedelta(seconds=LEASE_MARGIN_SECONDS):
        renewed = _renew(message_id, owner)
        if renewed is None:
            report.lost += 1
            return
        item.lease_until = renewed
    channel = channels.get(item.channel)
    if channel is None:
        _fail(message_id, owner, item.attempts, f"unknown channel {item.channel}", report)
        return
    values: dict[str, object] = {"status": OutboxStatus.SENT, "sent_at": clock.now(), "last_error": None}
    if item.envelope.kind in SCRUB_AFTER_SEND:
        values["data"] = {}
    if db.session.get_bind().dialect.name == "postgresql":
        _mark_then_send(item, owner, channel, values, report)
    else:
        _send_then_mark(item, owner, channel, values, report)


def _mark_then_send(
    item: Prepared, owner: str, channel: Channel, values: dict[str, object], report: TickReport
) -> None:
    """PostgreSQL: the ``sent`` mark first (proving the lease), the send inside that transaction, then commit."""
    message_id = item.envelope.outbox_id
    assert message_id is not None
    if not _finish(message_id, owner, values):
        db.session.rollback()
        _lease_lost_before_sending(message_id, report)
        return
    try:
        channel.send(item.envelope)
    except DeliveryError as error:
        db.session.rollback()
        _fail(message_id, owner, item.attempts, str(error), report)
        return
    except BaseException:
        db.session.rollback()
        raise
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("outbox %s: committing the sent mark failed, retrying", message_id)
        _record_sent(message_id, owner, values, report)
        return
    report.sent += 1


def _send_then_mark(
    item: Prepared, owner: str, channel: Channel, values: dict[str, object], report: TickReport
) -> None:
    """SQLite: check the lease is still ours, send with no transaction open, then record it."""
    message_id = item.envelope.outbox_id
    assert message_id is not None
    if not _holds_lease(message_id, owner):
        _lease_lost_before_sending(message_id, report)
        return
    try:
        channel.send(item.envelope)
    except DeliveryError as error:
        _fail(message_id, owner, item.attempts, str(error), report)
        return
    _record_sent(message_id, owner, values, report)


def _holds_lease(message_id: int, owner: str) -> bool:
    held = db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.id == message_id,
            OutboxMessage.lease_owner == owner,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    )
    db.session.commit()
    return held is not None


def _lease_lost_before_sending(message_id: int, report: TickReport) -> None:
    report.lost += 1
    log.warning("outbox %s: lease lost to another sender before sending; nothing sent", message_id)


def _record_sent(message_id: int, owner: str, values: dict[str, object], report: TickReport) -> None:
    """The message is out: try hard to record it, or it is sent again when the lease expires."""
    for attempt in (1, 2, 3):
        try:
            if _finish(message_id, owner, values):
                report.sent += 1
            else:
                report.lost += 1
                log.warning("outbox %s: lease lost before it was marked sent (possible duplicate)", message_id)
            db.session.commit()
            return
        except Exception:
            db.session.rollback()
            if attempt == 3:
                raise
            log.exception("outbox %s: marking sent failed, retrying", message_id)


def tick(
    *,
    owner: str | None = None,
    batch: int | None = None,
    max_messages: int | None = None,
    channels: dict[str, Channel] | None = None,
) -> TickReport:
    """One delivery pass: skip what expired, then claim and deliver due rows batch by batch until none is left
    (or ``max_messages`` were handled). Safe to run in several processes at once on PostgreSQL."""
    owner = owner or process_owner()
    batch = batch or _setting("NOTIFY_BATCH", DEFAULT_BATCH)
    report = TickReport()
    report.skipped += expire_overdue()
    db.session.commit()
    own_channels = channels is None
    active = channels if channels is not None else build_channels(current_app.config)
    try:
        for channel in active.values():
            channel.open()
        while max_messages is None or report.claimed < max_messages:
            ids = claim(owner, limit=batch)
            if not ids:
                break
            report.claimed += len(ids)
            for item in prepare(ids, owner, report):
                send_prepared(item, owner, active, report)
    finally:
        if own_channels:
            for channel in active.values():
                channel.close()
    return report


def deliver_inbox_now(user: User) -> int:
    """Materialise the person's due in-app messages right away (the inbox page calls this), so they need not
    wait for the scheduler's next tick. Uses the same conditional update as the scheduler, so a row is shown
    once. Flushes; the caller commits."""
    now = clock.now()
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.user_id == user.id,
            OutboxMessage.channel == "inbox",
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.due_at <= now,
            _unleased(now),
            or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(200)
    ).all()
    delivered = 0
    for message in rows:
        reason = _skip_reason(message, user, now)
        if reason is not None:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.PENDING, _unleased(now))
                .values(status=OutboxStatus.SKIPPED, last_error=reason)
                .execution_options(synchronize_session=False)
            )
            continue
        try:
            with db.session.begin_nested():
                won = db.session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == message.id,
                        OutboxMessage.status == OutboxStatus.PENDING,
                        _unleased(now),
                    )
                    .values(status=OutboxStatus.SENT, sent_at=now, attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
                if won:
                    materialise(message, render(message, user))
                    db.session.flush()
                    delivered += 1
        except Exception:
            log.exception("inbox row %s could not be shown now; the scheduler will retry", message.id)
    return delivered
