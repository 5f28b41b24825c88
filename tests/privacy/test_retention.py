"""Retention periods, applied by the hourly task with a controlled clock."""

from datetime import datetime, timedelta

from blinker import signal
from sqlalchemy import func, select

from app import clock
from app.accounts import services as accounts
from app.accounts.consents import HEALTH_SCREENING
from app.accounts.models import ApiToken, Consent, LoginSession, PasswordResetToken
from app.booking.models import Registration, RegistrationHistory
from app.extensions import db
from app.outbox import enqueue
from app.outbox.models import OutboxMessage, OutboxStatus
from app.privacy.retention import apply_retention, years_before
from app.tasks import registered_tasks

from .. import factories
from .factories import past_history

T0 = datetime(2026, 3, 2, 9, 0)


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_task_is_registered_hourly():
    task = next(t for t in registered_tasks() if t.name == "privacy.retention")
    assert task.every_seconds == 3600


def test_registrations_anonymised_after_the_configured_years_and_not_before(app):
    clock.set_now(T0)
    person = factories.make_employee()
    organizer = factories.make_organizer()
    rows = past_history(person, organizer)
    ended = max(r.slot.event.ends_at for r in rows)
    app.config["RETENTION_REGISTRATION_YEARS"] = 3
    try:
        latest = next(r for r in rows if r.slot.event.ends_at == ended)
        clock.set_now(years_before(ended, -3) - timedelta(minutes=1))
        apply_retention(clock.now())
        db.session.commit()
        assert [r.id for r in db.session.scalars(select(Registration).where(Registration.user_id == person.id))] == [
            latest.id
        ], "the event that ended less than three years ago keeps its person"
        clock.set_now(years_before(ended, -3) + timedelta(minutes=1))
        task = next(t for t in registered_tasks() if t.name == "privacy.retention")
        assert task.func(clock.now()) > 0
        db.session.commit()
        assert _count(Registration, Registration.user_id == person.id) == 0
        assert _count(Registration) == 3, "rows stay for the statistics"
        assert _count(Registration, Registration.gender.isnot(None)) == 3
        assert _count(RegistrationHistory, RegistrationHistory.actor_id.isnot(None)) == 0
        assert task.func(clock.now()) == 0, "running again changes nothing"
    finally:
        app.config["RETENTION_REGISTRATION_YEARS"] = 3


def test_shorter_registration_period_from_config(app):
    clock.set_now(T0)
    person = factories.make_employee()
    past_history(person, factories.make_organizer())
    app.config["RETENTION_REGISTRATION_YEARS"] = 0
    try:
        apply_retention(clock.now())
        db.session.commit()
        assert _count(Registration, Registration.user_id == person.id) == 0
    finally:
        app.config["RETENTION_REGISTRATION_YEARS"] = 3


def test_outbox_rows_deleted_after_days_but_pending_ones_kept(app):
    clock.set_now(T0)
    person = factories.make_employee()
    enqueue(person, "booking_confirmed", "registration:1")
    enqueue(person, "reminder", "registration:1:24h")
    db.session.flush()
    delivered = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "booking_confirmed"))
    delivered.status = OutboxStatus.SENT
    db.session.commit()
    app.config["RETENTION_OUTBOX_DAYS"] = 30
    try:
        apply_retention(T0 + timedelta(days=29))
        db.session.commit()
        assert _count(OutboxMessage) == 2
        apply_retention(T0 + timedelta(days=31))
        db.session.commit()
        assert [m.kind for m in db.session.scalars(select(OutboxMessage))] == ["reminder"]
    finally:
        app.config["RETENTION_OUTBOX_DAYS"] = 90


def test_dead_logins_tokens_and_old_withdrawn_consents_deleted():
    clock.set_now(T0)
    person = factories.make_employee()
    accounts.start_login_session(person)
    accounts.issue_api_token(person)
    accounts.create_password_reset(person)
    accounts.revoke_all_sessions(person)
    accounts.grant_consent(person, HEALTH_SCREENING)
    accounts.withdraw_consent(person, HEALTH_SCREENING)
    db.session.commit()
    apply_retention(T0 + timedelta(days=29))
    db.session.commit()
    assert _count(LoginSession) == 1 and _count(ApiToken) == 1 and _count(PasswordResetToken) == 1
    assert _count(Consent) == 1
    apply_retention(T0 + timedelta(days=31))
    db.session.commit()
    assert _count(LoginSession) == 0 and _count(ApiToken) == 0 and _count(PasswordResetToken) == 0
    assert _count(Consent) == 1, "withdrawn consents are kept for years"
    apply_retention(T0 + timedelta(days=3 * 366))
    db.session.commit()
    assert _count(Consent) == 0


def test_expired_api_tokens_are_deleted_once_dead_for_the_retention_period(app):
    clock.set_now(T0)
    person = factories.make_employee()
    accounts.issue_api_token(person)
    db.session.commit()
    dead_at = T0 + timedelta(days=app.config["API_TOKEN_IDLE_DAYS"])  # never used: idle from the start
    apply_retention(dead_at + timedelta(days=29))
    db.session.commit()
    assert _count(ApiToken) == 1
    apply_retention(dead_at + timedelta(days=31))
    db.session.commit()
    assert _count(ApiToken) == 0


def test_live_consent_and_live_session_are_never_deleted():
    clock.set_now(T0)
    person = factories.make_employee()
    accounts.grant_consent(person, HEALTH_SCREENING)
    db.session.commit()
    apply_retention(T0 + timedelta(days=10 * 366))
    db.session.commit()
    assert accounts.has_consent(person.id, HEALTH_SCREENING)


def test_features_add_rules_through_privacy_retention():
    calls = []

    def receiver(now):
        calls.append(now)
        return 4

    sig = signal("privacy-retention")
    sig.connect(receiver)
    try:
        assert apply_retention(T0) == 4
    finally:
        sig.disconnect(receiver)
    assert calls == [T0]


def test_years_before_handles_29_february():
    assert years_before(datetime(2028, 2, 29, 12, 0), 3) == datetime(2025, 2, 28, 12, 0)
