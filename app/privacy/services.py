"""Consents page logic and the own-data export (PIPL art. 44–45: a person may see and copy what is held about
them). Deletion lives in ``privacy.deletion``, retention in ``privacy.retention``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts import legal
from ..accounts import services as accounts
from ..accounts.consents import PURPOSES, ConsentPurpose
from ..accounts.models import ApiToken, Consent, LoginSession, User
from ..booking.labels import status_label
from ..booking.models import Registration
from ..errors import NotFound
from ..events.kinds import policy_for
from ..extensions import db
from ..orgs.reference import ENTERPRISE_TYPE_LABELS
from ..outbox.models import OutboxMessage
from ..signals import privacy_export

# --- consents ------------------------------------------------------------------------------------------------


@dataclass
class ConsentState:
    """One purpose as the person sees it: the notice, the live consent (if any) and every past record."""

    purpose: ConsentPurpose
    live: Consent | None
    history: list[Consent] = field(default_factory=list)

    @property
    def granted(self) -> bool:
        """Granted to the notice version now in force (an older version must be agreed again)."""
        return self.live is not None and self.live.notice_version == self.purpose.version

    @property
    def outdated(self) -> bool:
        return self.live is not None and self.live.notice_version != self.purpose.version


def consent_overview(user: User) -> list[ConsentState]:
    """Every purpose of processing sensitive information, with this person's consent records, newest first."""
    rows = db.session.scalars(
        select(Consent).where(Consent.user_id == user.id).order_by(Consent.granted_at.desc(), Consent.id.desc())
    ).all()
    states = []
    for code, purpose in PURPOSES.items():
        history = [row for row in rows if row.purpose == code]
        live = next((row for row in history if row.withdrawn_at is None), None)
        states.append(ConsentState(purpose=purpose, live=live, history=history))
    return states


def _purpose(code: str) -> ConsentPurpose:
    purpose = PURPOSES.get(code)
    if purpose is None:
        raise NotFound()
    return purpose


def give_consent(user: User, purpose_code: str) -> Consent:
    """A person agrees to the current notice of a known purpose (an unknown purpose answers NotFound)."""
    _purpose(purpose_code)
    return accounts.grant_consent(user, purpose_code)


def take_back_consent(user: User, purpose_code: str) -> int:
    """Withdrawing is one step and has the stated effect at once: the booking engine (and any feature that
    listens to ``consent-withdrawn``) cancels what depended on the consent. Returns registrations cancelled."""
    _purpose(purpose_code)
    return accounts.withdraw_consent(user, purpose_code, actor=user)


# --- own-data export -----------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Turn model values into JSON types: datetimes and dates as ISO text, enums as their value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _account_section(user: User) -> dict[str, Any]:
    return {
        "phone": user.phone,
        "name": user.name,
        "email": user.email,
        "role": user.role.value,
        "organization": user.organization.name if user.organization else None,
        "locale": user.locale,
        "created_at": user.created_at,
        "phone_verified_at": user.phone_verified_at,
    }


def _profile_section(user: User) -> dict[str, Any] | None:
    profile = user.profile
    if profile is None:
        return None
    return {
        "gender": profile.gender.value,
        "birth_date": profile.birth_date,
        "city": profile.city.name,
        "employer": profile.employer,
        "enterprise_type": _(ENTERPRISE_TYPE_LABELS[profile.enterprise_type]),
        "industry": profile.industry.name if profile.industry else _("其他"),
        "frontline": profile.frontline,
        "member_no": profile.member_no,
        "model_worker": profile.model_worker,
    }


def _actor_label(actor_id: int | None, user: User) -> str:
    """Who made a change, without naming staff (their names are their personal data, not the requester's)."""
    if actor_id is None:
        return _("系统")
    return _("本人") if actor_id == user.id else _("工作人员")


def _registrations_section(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Registration).where(Registration.user_id == user.id).order_by(Registration.created_at, Registration.id)
    ).all()
    section = []
    for registration in rows:
        event = registration.slot.event
        section.append(
            {
                "id": registration.id,
                "event": event.title,
                "kind": str(policy_for(event.kind).label),
                "slot": registration.slot.label,
                "starts_at": registration.slot.starts_at,
                "venue": event.venue,
                "status": status_label(registration.status),
                "status_code": registration.status.value,
                "gender_at_booking": registration.gender.value if registration.gender else None,
                "options": registration.options,
                "created_at": registration.created_at,
                "confirmed_at": registration.confirmed_at,
                "checked_in_at": registration.checked_in_at,
                "history": [
                    {
                        "at": row.at,
                        "from": row.from_status.value if row.from_status else None,
                        "to": row.to_status.value,
                        "by": _actor_label(row.actor_id, user),
                        "reason": row.reason,
                    }
                    for row in registration.history
                ],
            }
        )
    return section


def _consents_section(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Consent).where(Consent.user_id == user.id).order_by(Consent.granted_at)).all()
    return [
        {
            "purpose": row.purpose,
            "title": str(PURPOSES[row.purpose].title) if row.purpose in PURPOSES else row.purpose,
            "notice_version": row.notice_version,
            "granted_at": row.granted_at,
            "withdrawn_at": row.withdrawn_at,
        }
        for row in rows
    ]


def _documents_section(user: User) -> list[dict[str, Any]]:
    """Which version of the privacy policy and of the user agreement the person accepted, and when."""
    return [
        {
            "document": row.document,
            "title": str(legal.DOCUMENTS[row.document].title) if row.document in legal.DOCUMENTS else row.document,
            "version": row.version,
            "accepted_at": row.accepted_at,
        }
        for row in legal.acceptance_history(user.id)
    ]


def _messages_section(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id).order_by(OutboxMessage.created_at)
    ).all()
    return [
        {
            "channel": row.channel,
            "kind": row.kind,
            "status": row.status.value,
            "created_at": row.created_at,
            "due_at": row.due_at,
            "sent_at": row.sent_at,
            "data": row.data,
        }
        for row in rows
    ]


def _logins_section(user: User) -> dict[str, Any]:
    sessions = db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.created_at)
    ).all()
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)).all()
    return {
        "sessions": [
            {"created_at": s.created_at, "last_seen_at": s.last_seen_at, "ended_at": s.revoked_at} for s in sessions
        ],
        "api_tokens": [{"created_at": t.created_at, "revoked_at": t.revoked_at} for t in tokens],
    }


CORE_SECTIONS = ("account", "profile", "registrations", "consents", "documents", "messages", "logins")


def export_data(user: User) -> dict[str, Any]:
    """Everything held about ``user``: the core sections, then whatever the feature packages return from the
    ``privacy-export`` signal (each feature's ``PersonalData.export``: ``app.personal_data``). Only JSON types;
    nothing about other people (staff appear as "工作人员", one-sided picks about the person never appear)."""
    data: dict[str, Any] = {
        "format": "zhijia-personal-data/1",
        "generated_at": clock.now(),
        "account": _account_section(user),
        "profile": _profile_section(user),
        "registrations": _registrations_section(user),
        "consents": _consents_section(user),
        "documents": _documents_section(user),
        "messages": _messages_section(user),
        "logins": _logins_section(user),
    }
    titles: dict[str, str] = {"documents": _("同意的用户协议与隐私政策版本")}
    for _receiver, result in privacy_export.send(user):
        if not result:
            continue
        name, section = str(result[0]), result[1]
        if name in data:
            name = f"{name}_{len(data)}"
        data[name] = section
        if len(result) > 2:
            titles[name] = str(result[2])
    data["section_titles"] = titles
    return jsonable(data)
