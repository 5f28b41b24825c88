"""Delivering the outbox (DESIGN.md §6): claim due rows with a lease, send outside any transaction, mark sent.

One tick:
1. rows past ``expires_at`` (and not leased) become ``skipped`` — a reminder is never sent after the event
   started;
2. a short transaction claims up to ``batch`` due rows: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL
   (several schedulers on several hosts never claim the same row), then sets ``lease_owner``/``lease_until``
   and counts the attempt; on SQLite (one scheduler; every transaction is ``BEGIN IMMEDIATE``) the same
   statements are atomic;
3. the claimed rows are rendered in one short transaction (rows that read the same are rendered once), then
   sent in groups of ``NOTIFY_SEND_GROUP`` on one SMTP connection (an SMS gateway that takes batches gets a
   request's worth per group: ``channels.batches``): each group's leases are renewed (proving they are still
   ours), its messages go out, and one statement marks the sent rows ``sent`` — the statement that releases their
   leases, so a row is never free while it is unmarked;
4. a failure puts the row back with an exponential backoff; after ``NOTIFY_MAX_ATTEMPTS`` it is ``failed`` and
   shown to admins. A sender that dies after claiming leaves a lease that expires, and the row is claimed
   again.

At-least-once window: an SMTP server's ``250`` to ``DATA`` and a database commit cannot be made atomic. A process
that dies after its server accepted messages but before their group's outcomes committed leaves those rows
leased; when the lease expires they are sent again — at most one group (``NOTIFY_SEND_GROUP``, 20 by default; 1
gives the smallest window at the cost of a commit per message). On PostgreSQL the group is one transaction: the
lease renewal locks its rows (every claim skips them) and the commit follows the last ``250`` at once. SQLite
commits the renewal before sending and the outcomes after it: there a transaction is a database-wide write lock
(``BEGIN IMMEDIATE``) that must not wait on a mail server, and only one scheduler runs. Every resend carries the
same ``Message-ID: <outbox-ID@host>`` so mail systems can drop the duplicate. In-app inbox rows are written in the
transaction that marks the row sent: exactly once.

"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
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
from .channels.batches import Batches, send_groups
from .channels.email import message_id_for
from .channels.inbox import materialise
from .messages import Rendered, Renderer, render

log = logging.getLogger("zhijia.delivery")

DEFAULT_LEASE_SECONDS = 300
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BATCH = 100
DEFAULT_SEND_GROUP = 20  # rows sent between two commits of their outcomes: the most a crash can send twice
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


def _update_leased(message_ids: list[int], owner: str, values: dict[str, object]) -> set[int]:
    """Update the rows of ``message_ids`` that ``owner`` still leases and that are still pending, in one statement;
    returns the ids it updated (a row another sender took over is left alone)."""
    if not message_ids:
        return set()
    return set(
        db.session.scalars(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(message_ids),
                OutboxMessage.lease_owner == owner,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(**values)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )


def _finish_many(message_ids: list[int], owner: str, values: dict[str, object]) -> set[int]:
    """Write the outcome of rows we still lease; the same statement releases the lease. Returns the ids written."""
    return _update_leased(message_ids, owner, {"lease_owner": None, "lease_until": None, **values})


def _finish(message_id: int, owner: str, values: dict[str, object]) -> bool:
    """``_finish_many`` for one row: False if the lease was lost to another sender."""
    return bool(_finish_many([message_id], owner, values))


def _failure(attempts: int, error: str) -> tuple[dict[str, object], str]:
    """What a failed attempt writes: a retry after the backoff, or ``failed`` once the attempts are used up."""
    if attempts >= _setting("NOTIFY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
        return {"status": OutboxStatus.FAILED, "last_error": error[:1000]}, "failed"
    return {"due_at": clock.now() + backoff(attempts), "last_error": error[:1000]}, "retried"


def _record_failure(message_id: int, owner: str, attempts: int, error: str, report: TickReport) -> None:
    """Write a failed attempt of a row we lease (flushes, no commit)."""
    values, outcome = _failure(attempts, error)
    if _finish(message_id, owner, values):
        setattr(report, outcome, getattr(report, outcome) + 1)
    else:
        report.lost += 1
    log.warning("outbox %s attempt %s %s: %s", message_id, attempts, outcome, error[:200])


def _fail(message_id: int, owner: str, attempts: int, error: str, report: TickReport) -> None:
    """``_record_failure`` in its own transaction."""
    _record_failure(message_id, owner, attempts, error, report)
    db.session.commit()


@dataclass
class Prepared:
    envelope: Envelope
    attempts: int
    channel: str


def _renew_leases(message_ids: list[int], owner: str) -> set[int]:
    """Extend our lease on the rows of a send group, proving we still hold them: the ids another sender took over
    are missing from the answer. On PostgreSQL the statement also locks the rows until the group's commit."""
    lease_until = clock.now() + timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    return _update_leased(message_ids, owner, {"lease_until": lease_until})


def _load_registrations(messages: Sequence[OutboxMessage]) -> None:
    """Read the registrations a batch's rows are about (with their slot and event) in one query, so deciding and
    rendering each row finds them in the session instead of asking the database row by row."""
    ids = {int(m.data["registration_id"]) for m in messages if m.data and "registration_id" in m.data}
    if ids:
        db.session.scalars(select(Registration).where(Registration.id.in_(ids))).unique().all()


def prepare(ids: list[int], owner: str, report: TickReport) -> list[Prepared]:
    """In one short transaction for a claimed batch: decide whether each row is still worth sending, render it
    in its recipient's language (rows that read the same are rendered once: ``Renderer``); rows no longer worth
    sending are marked skipped, and inbox rows are delivered right here (marked sent and materialised together),
    each set in one statement. Returns what to send outside the transaction. A row that cannot be rendered
    counts as a failed attempt."""
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
    _load_registrations(messages)
    host = urlsplit(current_app.config["SERVER_BASE_URL"]).hostname or "zhijia.local"
    renderer = Renderer()
    prepared: list[Prepared] = []
    skipped: dict[str, list[int]] = {}
    inbox: list[tuple[OutboxMessage, Rendered]] = []
    broken: list[tuple[int, int, str]] = []
    for message in messages:
        user = users.get(message.user_id) if message.user_id is not None else None
        reason = _skip_reason(message, user, now)
        if reason is not None:
            skipped.setdefault(reason, []).append(message.id)
            continue
        assert user is not None
        try:
            rendered = renderer.render(message, user)
        except Exception as error:  # a template or data problem
            log.exception("outbox %s could not be rendered", message.id)
            broken.append((message.id, message.attempts, f"render: {type(error).__name__}: {error}"))
            continue
        if message.channel == "inbox":
            inbox.append((message, rendered))
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
        prepared.append(Prepared(envelope, message.attempts, message.channel))
    for reason, skip_ids in skipped.items():
        report.skipped += len(_finish_many(skip_ids, owner, {"status": OutboxStatus.SKIPPED, "last_error": reason}))
    shown = _finish_many(
        [message.id for message, _ in inbox], owner, {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
    )
    for message, rendered in inbox:
        if message.id in shown:
            materialise(message, rendered)
            report.sent += 1
    db.session.commit()
    for message_id, attempts, error_text in broken:
        _fail(message_id, owner, attempts, error_text, report)
    return prepared


def send_group(
    items: list[Prepared], owner: str, channels: dict[str, Channel], report: TickReport, wire: Executor
) -> None:
    """Send a group of prepared rows and record the outcomes set-wise: the leases are renewed first (which proves
    we still hold them: a row another sender took over is not sent), the messages go out one after the other on
    the tick's connection, then one statement marks the sent rows ``sent`` (releasing their leases) and each
    failure is written with its backoff.

    On PostgreSQL the whole group is one transaction: the renewal locks the group's rows (every claim skips
    them) and the commit follows the last server's acceptance at once. On SQLite, where a transaction is the
    database's one write lock, the renewal commits before the sending and the outcomes after it. A process that
    dies before the outcomes are committed leaves its rows leased; they are sent again when the lease expires,
    with the same Message-ID (see the module's note).

    Each message is encoded while the one before it is being transmitted on ``wire`` (one thread: one message on
    the wire at a time, in order), so the process's own work overlaps the server's. A channel that batches gets its
    encoded messages at the end, in as few requests as its batch size allows; each message's outcome is its own.
    """
    held = _renew_leases([item.envelope.outbox_id for item in items if item.envelope.outbox_id is not None], owner)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if not postgres:
        db.session.commit()
    sent: list[Prepared] = []
    failed: list[tuple[Prepared, str]] = []
    in_flight: tuple[Prepared, Future[None]] | None = None
    batches: Batches[Prepared] = Batches()

    def landed(flight: tuple[Prepared, Future[None]]) -> None:
        item, transmitted = flight
        try:
            transmitted.result()
        except DeliveryError as error:
            failed.append((item, str(error)))
        else:
            sent.append(item)

    try:
        for item in items:
            if item.envelope.outbox_id not in held:
                _lease_lost_before_sending(item.envelope.outbox_id, report)
                continue
            channel = channels.get(item.channel)
            if channel is None:
                failed.append((item, f"unknown channel {item.channel}"))
                continue
            try:
                encoded = channel.encode(item.envelope)  # while the previous message is on the wire
            except DeliveryError as error:
                failed.append((item, str(error)))
                continue
            if batches.take(channel, item, item.envelope, encoded):
                continue
            if in_flight is not None:
                landed(in_flight)
            in_flight = (item, wire.submit(channel.transmit, item.envelope, encoded))
        if in_flight is not None:
            landed(in_flight)
        for item, outcome in batches.transmit():  # a refusal or a missing answer fails that message alone
            if outcome is None:
                sent.append(item)
            else:
                failed.append((item, str(outcome)))
    except BaseException:
        if in_flight is not None:
            in_flight[1].cancel()
        db.session.rollback()
        raise
    for attempt in (1, 2, 3):
        try:
            _record_outcomes(sent, failed, owner, report)
            db.session.commit()
            return
        except Exception:
            db.session.rollback()
            if attempt == 3:
                raise
            log.exception("outbox: recording a send group's outcomes failed, retrying")


def _record_outcomes(sent: list[Prepared], failed: list[tuple[Prepared, str]], owner: str, report: TickReport) -> None:
    """Mark the sent rows ``sent`` (one statement per kind of mark) and write each failure. Flushes, no commit."""
    now = clock.now()
    marks: dict[bool, list[int]] = {}
    for item in sent:
        assert item.envelope.outbox_id is not None  # envelopes made by a tick always carry their outbox row
        marks.setdefault(item.envelope.kind in SCRUB_AFTER_SEND, []).append(item.envelope.outbox_id)
    for scrub, ids in marks.items():
        values: dict[str, object] = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
        if scrub:
            values["data"] = {}
        marked = _finish_many(ids, owner, values)
        report.sent += len(marked)
        for message_id in set(ids) - marked:
            report.lost += 1
            log.warning("outbox %s: lease lost before it was marked sent (possible duplicate)", message_id)
    for item, error in failed:
        assert item.envelope.outbox_id is not None
        _record_failure(item.envelope.outbox_id, owner, item.attempts, error, report)


def _lease_lost_before_sending(message_id: int | None, report: TickReport) -> None:
    report.lost += 1
    log.warning("outbox %s: lease lost to another sender before sending; nothing sent", message_id)


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
    group = _setting("NOTIFY_SEND_GROUP", DEFAULT_SEND_GROUP)
    report = TickReport()
    report.skipped += expire_overdue()
    db.session.commit()
    own_channels = channels is None
    active = channels if channels is not None else build_channels(current_app.config)
    try:
        for channel in active.values():
            channel.open()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-wire") as wire:
            while max_messages is None or report.claimed < max_messages:
                ids = claim(owner, limit=batch)
                if not ids:
                    break
                report.claimed += len(ids)
                prepared = prepare(ids, owner, report)
                for items in send_groups(prepared, lambda item: item.channel, active, group):
                    send_group(items, owner, active, report, wire)
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
