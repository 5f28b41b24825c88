"""Retention: each kind of personal data is kept only as long as its purpose needs (PIPL art. 19).

Periods come from the app config (environment variables of the same name; defaults below). The hourly task
``privacy.retention`` applies them; it only deletes or anonymises, so running it twice or on two hosts at once
is harmless. Features add their own rules (e.g. mixer contact details wiped months after the reveal) with the
``expire`` of their ``PersonalData`` (``app.personal_data``), which answers ``privacy-retention``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..accounts.models import ApiToken, Consent, LoginSession, PasswordResetToken
from ..accounts.verification import delete_old_codes
from ..booking.models import Registration, RegistrationHistory
from ..events.models import Event
from ..extensions import db
from ..outbox.models import OutboxMessage, OutboxStatus
from ..signals import privacy_retention

DEFAULTS: dict[str, int] = {
    # Registrations (and their history's actors) lose their person this many years after the event ended.
    "RETENTION_REGISTRATION_YEARS": 3,
    # Delivered, failed or skipped messages are deleted this many days after they were written.
    "RETENTION_OUTBOX_DAYS": 90,
    # Ended login sessions, revoked or expired API tokens and used or expired reset tokens are deleted after this
    # many days.
    "RETENTION_LOGIN_DAYS": 30,
    # Withdrawn consent records are deleted this many years after the withdrawal.
    "RETENTION_WITHDRAWN_CONSENT_YEARS": 3,
}


def years_before(moment: datetime, years: int) -> datetime:
    """The same wall-clock moment ``years`` earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _setting(key: str) -> int:
    return int(current_app.config.get(key, DEFAULTS[key]))


def anonymise_old_registrations(now: datetime) -> int:
    """Registrations of events that ended more than RETENTION_REGISTRATION_YEARS ago keep their row, status and
    gender snapshot (statistics stay true) but lose their person; their history rows lose their actor."""
    cutoff = years_before(now, _setting("RETENTION_REGISTRATION_YEARS"))
    old = select(Registration.id).join(Event, Event.id == Registration.event_id).where(Event.ends_at < cutoff)
    history = db.session.execute(
        update(RegistrationHistory)
        .where(RegistrationHistory.registration_id.in_(old), RegistrationHistory.actor_id.isnot(None))
        .values(actor_id=None)
        .execution_options(synchronize_session=False)
    )
    registrations = db.session.execute(
        update(Registration)
        .where(Registration.id.in_(old), Registration.user_id.isnot(None))
        .values(user_id=None)
        .execution_options(synchronize_session=False)
    )
    return (history.rowcount or 0) + (registrations.rowcount or 0)  # type: ignore[attr-defined]


def delete_old_messages(now: datetime) -> int:
    """Outbox rows no longer pending are deleted RETENTION_OUTBOX_DAYS after they were written."""
    cutoff = now - timedelta(days=_setting("RETENTION_OUTBOX_DAYS"))
    result = db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.created_at < cutoff, OutboxMessage.status != OutboxStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def delete_old_logins(now: datetime) -> int:
    """Login sessions unused for RETENTION_LOGIN_DAYS (long dead: the absolute timeout is hours), API tokens
    revoked or expired (API_TOKEN_IDLE_DAYS unused, API_TOKEN_ABSOLUTE_DAYS old) that long ago and reset tokens
    expired that long ago are deleted."""
    kept = timedelta(days=_setting("RETENTION_LOGIN_DAYS"))
    cutoff = now - kept
    config = current_app.config
    token_idle_cutoff = cutoff - timedelta(days=config["API_TOKEN_IDLE_DAYS"])
    token_age_cutoff = cutoff - timedelta(days=config["API_TOKEN_ABSOLUTE_DAYS"])
    total = 0
    for statement in (
        delete(LoginSession).where(LoginSession.last_seen_at < cutoff),
        delete(ApiToken).where(
            or_(
                ApiToken.revoked_at < cutoff,
                ApiToken.last_used_at < token_idle_cutoff,
                ApiToken.created_at < token_age_cutoff,
            )
        ),
        delete(PasswordResetToken).where(PasswordResetToken.expires_at < cutoff),
    ):
        result = db.session.execute(statement.execution_options(synchronize_session=False))
        total += result.rowcount or 0  # type: ignore[attr-defined]
    return total


def delete_old_consents(now: datetime) -> int:
    """Withdrawn consent records are deleted RETENTION_WITHDRAWN_CONSENT_YEARS after their withdrawal."""
    cutoff = years_before(now, _setting("RETENTION_WITHDRAWN_CONSENT_YEARS"))
    result = db.session.execute(
        delete(Consent).where(Consent.withdrawn_at < cutoff).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def apply_retention(now: datetime) -> int:
    """Apply every retention period at ``now`` (core rules, then the features' ``privacy-retention``
    receivers). Flushes, never commits (the scheduler commits). Returns rows deleted or anonymised."""
    total = anonymise_old_registrations(now)
    total += delete_old_messages(now)
    total += delete_old_logins(now)
    total += delete_old_consents(now)
    total += delete_old_codes(now)
    for _receiver, result in privacy_retention.send(now):
        total += int(result or 0)
    db.session.flush()
    return total
