"""Account deletion (PIPL art. 47): identifiers are removed everywhere, the statistics stay exactly as they were.

What happens, in one transaction (the view commits once):

1. The person re-authenticates with their password; staff accounts are closed by an administrator instead.
2. Their upcoming bookings (events not yet started) are cancelled, so the seats go to the waitlist — exactly
   as if they had cancelled them. Everything that already happened keeps its registration row.
3. Live consents are withdrawn (``consent-withdrawn`` receivers run). **Decision:** consent records are kept as
   anonymous rows attached to the emptied account (purpose, notice version, granted and withdrawn times). They
   hold no identifier once the account is emptied and keep the evidence that past processing had a lawful
   basis (PIPL art. 54 audits); the retention task deletes them ``RETENTION_WITHDRAWN_CONSENT_YEARS`` later.
4. ``account-deleting`` is sent (``app.signals``): features anonymise their own rows while the identifiers
   are still readable (each feature's ``PersonalData.forget``: ``app.personal_data``).
5. Core rows: outbox messages lose their ``data``, their error text and their recipient; pending ones are
   skipped. Free-text reasons in the person's registration history are scrubbed of their phone, name and email.
   The booking options of the person's registrations (JSON: a mixer nickname...) keep only what their kind's
   policy says the statistics need (``KindPolicy.anonymised_options``; by default nothing). ``JSON_COLUMNS``
   lists every JSON column of the schema and why none keeps a personal value (a test holds it complete).
   Then, in every table (core and features alike): rows with a non-nullable reference to ``users.id`` are
   deleted, as ON DELETE CASCADE would (login sessions, API tokens, reset tokens, the profile, inbox messages,
   notification preferences...), except the consent records; every nullable reference is set to NULL, as ON
   DELETE SET NULL would — registrations keep their rows and their gender snapshot with ``user_id`` NULL,
   history rows lose their actor.
6. The account row stays as an empty tombstone (no phone, no email, no password, name "已注销用户",
   ``deleted_at`` set) so non-nullable references of features stay valid without identifying anyone.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash

from .. import audit, clock
from ..accounts import services as accounts
from ..accounts.models import Consent, Role, User
from ..booking import queries as booking_queries
from ..booking import services as booking
from ..booking.models import Registration, RegistrationHistory
from ..errors import DomainError, InvalidInput
from ..events.kinds import policy_for
from ..events.models import Event
from ..extensions import db
from ..outbox.models import OutboxMessage, OutboxStatus
from ..signals import account_deleting

log = logging.getLogger(__name__)

DELETED_NAME = "已注销用户"
# Tables whose rows referencing the person are kept (anonymous once the account row is emptied).
KEEP_TABLES = frozenset({"users", "consents"})

# Every JSON column of the schema, and why deletion leaves no personal value in it. A new JSON column needs its
# line here (tests/privacy/test_deletion.py compares this with the schema).
JSON_COLUMNS = {
    "registrations.options": "the person's booking options: the kind's anonymised_options keeps what statistics read",
    "outbox_messages.data": "the person's messages: emptied",
    "audit_log.detail": "ids, counts and codes only (audit.record); the person's actor id is set to NULL",
    "events.industry_ids": "event settings: industry ids",
    "events.reminder_hours": "event settings: hours",
    "slots.settings": "slot settings",
    "trip_routes.itinerary": "route content written by organizers",
    "trip_routes.industry_ids": "route settings: industry ids",
    "trip_departures.tiers": "lottery settings: tier codes",
    "api_idempotent_requests.body": "the API's first answer to a retried booking or cancel: ids, status, times",
}


class StaffAccount(DomainError):
    code = "staff_account"
    http_status = 409

    def default_message(self) -> str:
        return _("工作人员账号请联系省总工会管理员注销。")


class AlreadyDeleted(DomainError):
    code = "already_deleted"
    http_status = 409

    def default_message(self) -> str:
        return _("该账号已注销。")


def _user_foreign_keys() -> list[tuple[Any, Any]]:
    """(table, column) for every column of every table that references ``users.id``."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _scrub(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = text.replace(needle, "***")
    return text


def delete_account(user: User, password: str) -> int:
    """Delete ``user``'s account after checking their password (see the module docstring for every step).
    Employees only; wrong password answers InvalidInput and changes nothing. The deletion is audited
    (``account.delete``: the former account's id, under its organization, no actor). Returns rows changed."""
    if user.deleted_at is not None:
        raise AlreadyDeleted()
    if user.role != Role.EMPLOYEE:
        raise StaffAccount()
    if not password or not user.password_hash or not check_password_hash(user.password_hash, password):
        raise InvalidInput(fields={"password": [_("密码不正确。")]})
    changed = 0
    for registration in booking_queries.upcoming_registrations(user):
        booking.cancel(registration, actor=user, reason="account deleted", by_organizer=True)
        changed += 1
    for purpose in {
        c.purpose
        for c in db.session.scalars(select(Consent).where(Consent.user_id == user.id, Consent.withdrawn_at.is_(None)))
    }:
        accounts.withdraw_consent(user, purpose, actor=user)
        changed += 1
    for _receiver, result in account_deleting.send(user):
        changed += int(result or 0)
    organization = user.organization
    changed += _wipe_core(user)
    audit.record(None, "account.delete", "user", user.id, {"rows": changed}, org=organization)
    log.info("account %s deleted", user.id)
    return changed


def _anonymise_options(uid: int) -> int:
    """The person's registrations keep only the booking options their kind's policy lets stay (statistics)."""
    changed = 0
    rows = db.session.execute(
        select(Registration, Event.kind)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.user_id == uid, Registration.options.isnot(None))
    )
    for registration, kind in rows:
        kept = policy_for(kind).anonymised_options(registration.options)
        if kept != registration.options:
            registration.options = kept
            changed += 1
    return changed


def _wipe_core(user: User) -> int:
    uid = user.id
    needles = [value for value in (user.phone, user.email, user.name) if value and len(value) >= 2]
    changed = 0
    db.session.flush()
    # Outbox: no content, no recipient, no delivery of what was still pending.
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == uid)):
        message.data = {}
        message.last_error = None
        message.idempotency_key = f"deleted:{message.id}"
        message.user_id = None
        if message.status == OutboxStatus.PENDING:
            message.status = OutboxStatus.SKIPPED
        changed += 1
    changed += _anonymise_options(uid)
    # Free text written about the person's registrations.
    if needles:
        history = db.session.scalars(
            select(RegistrationHistory)
            .join(Registration, Registration.id == RegistrationHistory.registration_id)
            .where(Registration.user_id == uid)
        )
        for row in history:
            if any(needle in row.reason for needle in needles):
                row.reason = _scrub(row.reason, needles)
                changed += 1
    # Rows that only exist for the person (sessions, tokens, profile, a feature's inbox and preferences...):
    # deleted, as ON DELETE CASCADE would, except the consent records kept on purpose (see above).
    for table, column in _user_foreign_keys():
        if not column.nullable and table.name not in KEEP_TABLES:
            result = db.session.execute(delete(table).where(column == uid))
            changed += result.rowcount or 0  # type: ignore[attr-defined]
    db.session.expire(user, ["profile"])
    # Every nullable reference to the person, in every table (core and features alike), becomes NULL.
    for table, column in _user_foreign_keys():
        if column.nullable and table.name != "users":
            result = db.session.execute(update(table).where(column == uid).values({column.name: None}))
            changed += result.rowcount or 0  # type: ignore[attr-defined]
    user.phone = None
    user.email = None
    user.password_hash = None
    user.name = DELETED_NAME
    user.organization_id = None
    user.is_active_account = False
    user.deleted_at = clock.now()
    db.session.flush()
    db.session.expire_all()
    return changed
