"""Account rules: registration, authentication, server-side login sessions, API tokens, password reset, consents."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..orgs.models import City, EnterpriseType, Industry, Organization
from ..signals import consent_withdrawn, user_registered
from .consents import PURPOSES
from .models import ApiToken, Consent, Gender, LoginSession, PasswordResetToken, Profile, Role, User

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD_LENGTH = 8


class AuthenticationFailed(DomainError):
    code = "invalid_credentials"
    http_status = 401

    def default_message(self) -> str:
        return _("手机号或密码不正确。")


class PhoneTaken(DomainError):
    code = "phone_taken"
    http_status = 409

    def default_message(self) -> str:
        return _("该手机号已注册。")


class ConsentRequired(DomainError):
    code = "consent_required"
    http_status = 422

    def default_message(self) -> str:
        return _("请先阅读并勾选同意相关敏感个人信息的处理。")


@cache
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str) -> str | None:
    """Passwords have at least 8 characters and are not on the list of common passwords."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH)
    if len(password) > 128:
        return _("密码不能超过 128 个字符。")
    if password.lower() in _common_passwords() or len(set(password)) <= 2:
        return _("这个密码太常见，容易被猜中，请换一个。")
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def normalize_phone(phone: str) -> str:
    return re.sub(r"[\s-]", "", phone or "").removeprefix("+86")


@dataclass
class ProfileData:
    gender: Gender
    birth_date: date
    city: City
    employer: str
    enterprise_type: EnterpriseType
    industry: Industry | None
    frontline: bool
    member_no: str | None


def _apply_profile(profile: Profile, data: ProfileData) -> None:
    profile.gender = data.gender
    profile.birth_date = data.birth_date
    profile.city_id = data.city.id
    profile.employer = data.employer.strip()
    profile.enterprise_type = data.enterprise_type
    profile.industry_id = data.industry.id if data.industry else None
    profile.frontline = data.frontline
    profile.member_no = (data.member_no or "").strip() or None


def register_employee(
    *,
    phone: str,
    password: str | None,
    name: str,
    profile: ProfileData,
    email: str | None = None,
    organization: Organization | None = None,
    locale: str = "zh_CN",
) -> User:
    """Create an employee account. Phones are unique; passwords obey ``password_problem``; the role is always
    employee (roles are never taken from input)."""
    phone = normalize_phone(phone)
    if not PHONE_RE.match(phone):
        raise InvalidInput(fields={"phone": [_("请输入 11 位中国大陆手机号。")]})
    if password is not None and (problem := password_problem(password)):
        raise InvalidInput(fields={"password": [problem]})
    if db.session.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise PhoneTaken()
    user = User(
        phone=phone,
        password_hash=hash_password(password) if password else None,
        name=name.strip(),
        email=(email or "").strip().lower() or None,
        role=Role.EMPLOYEE,
        organization=organization,
        locale=locale,
    )
    user.profile = Profile()
    _apply_profile(user.profile, profile)
    db.session.add(user)
    db.session.flush()
    user_registered.send(user)
    return user


def update_profile(user: User, *, name: str, email: str | None, profile: ProfileData) -> None:
    """An employee edits their own name, email and profile; phone, role and organization are not editable here."""
    user.name = name.strip()
    user.email = (email or "").strip().lower() or None
    if user.profile is None:
        user.profile = Profile()
    _apply_profile(user.profile, profile)
    db.session.flush()


def find_by_phone(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == normalize_phone(phone)))


_DUMMY_HASH = "scrypt:32768:8:1$dummy$" + "0" * 128


def authenticate(phone: str, password: str) -> User:
    """Phone and password must match an active account; the answer never says which of the two was wrong."""
    user = find_by_phone(phone)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)  # same cost whether or not the phone exists
        raise AuthenticationFailed()
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        raise AuthenticationFailed()
    return user


def start_login_session(user: User, device: str = "") -> LoginSession:
    """Every login gets a fresh, random server-side session id (the old cookie's session is never reused).
    ``device`` is the summary of the browser's user agent (``sessions.device_summary``)."""
    login_session = LoginSession(id=secrets.token_urlsafe(32), user_id=user.id, device=device[:80])
    db.session.add(login_session)
    db.session.flush()
    user.login_session_id = login_session.id
    return login_session


def load_login_session(session_id: str) -> User | None:
    """A session is alive until revoked, idle longer than SESSION_IDLE_MINUTES or older than
    SESSION_ABSOLUTE_HOURS."""
    login_session = db.session.get(LoginSession, session_id)
    if login_session is None or login_session.revoked_at is not None:
        return None
    now = clock.now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if now - login_session.last_seen_at > idle or now - login_session.created_at > absolute:
        return None
    user = login_session.user
    if not user.is_active:
        return None
    if now - login_session.last_seen_at > timedelta(minutes=1):
        login_session.last_seen_at = now
    user.login_session_id = login_session.id
    return user


def revoke_login_session(session_id: str | None) -> None:
    if session_id:
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


def revoke_all_sessions(user: User) -> None:
    """End every login and API token of ``user`` (password change, reset, deletion)."""
    now = clock.now()
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )


def change_password(user: User, current_password: str, new_password: str) -> LoginSession:
    """Needs the current password; ends all other sessions and returns a new one for the caller."""
    if not user.password_hash or not check_password_hash(user.password_hash, current_password):
        raise InvalidInput(fields={"current_password": [_("当前密码不正确。")]})
    if problem := password_problem(new_password):
        raise InvalidInput(fields={"new_password": [problem]})
    this_session = db.session.get(LoginSession, user.login_session_id) if user.login_session_id else None
    device = this_session.device if this_session is not None else ""
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(user)
    return start_login_session(user, device=device)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


RESET_TOKEN_HOURS = 2


def create_password_reset(user: User) -> str:
    """A single-use reset token valid for two hours; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_sha256(token),
            expires_at=clock.now() + timedelta(hours=RESET_TOKEN_HOURS),
        )
    )
    db.session.flush()
    return token


class InvalidResetToken(DomainError):
    code = "invalid_token"
    http_status = 400

    def default_message(self) -> str:
        return _("重置链接无效或已过期，请重新申请。")


def reset_password(token: str, new_password: str) -> User:
    """Consumes a valid, unused, unexpired token, sets the password and ends every existing session."""
    record = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _sha256(token)))
    if record is None or record.used_at is not None or record.expires_at < clock.now():
        raise InvalidResetToken()
    if problem := password_problem(new_password):
        raise InvalidInput(fields={"password": [problem]})
    user = db.session.get(User, record.user_id)
    if user is None or not user.is_active:
        raise InvalidResetToken()
    record.used_at = clock.now()
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(user)
    db.session.flush()
    return user


def issue_api_token(user: User, device: str = "") -> str:
    """A new random bearer token for ``user``; the caller sees it once, the database keeps its hash. ``device``
    is the summary of the client's user agent (``sessions.device_summary``)."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_sha256(token), device=device[:80]))
    db.session.flush()
    return token


# The person a token belongs to, with their profile (booking reads the gender and eligibility from it), and the
# token's id and last use; a token unused for too long or issued too long ago is not found.
_USER_FOR_TOKEN = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .outerjoin(Profile, Profile.user_id == User.id)
    .options(contains_eager(User.profile))
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.last_used_at > bindparam("idle_after"),
        ApiToken.created_at > bindparam("issued_after"),
    )
)


@dataclass(frozen=True)
class ApiLogin:
    """Who a live API token belongs to, which token it is, and whether its last use should be moved to now
    (it is written at most once a minute, like a web session's ``last_seen_at``)."""

    user: User
    token_id: int
    last_use_stale: bool


def api_login(token: str) -> ApiLogin | None:
    """The active account a live API token belongs to, else None. A token is live until revoked, unused for
    API_TOKEN_IDLE_DAYS or older than API_TOKEN_ABSOLUTE_DAYS (both refused like an unknown token)."""
    now = clock.now()
    config = current_app.config
    parameters = {
        "token_hash": _sha256(token),
        "idle_after": now - timedelta(days=config["API_TOKEN_IDLE_DAYS"]),
        "issued_after": now - timedelta(days=config["API_TOKEN_ABSOLUTE_DAYS"]),
    }
    row = db.session.execute(_USER_FOR_TOKEN, parameters).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    if not user.is_active:
        return None
    return ApiLogin(user, token_id, last_use_stale=now - last_used_at > timedelta(minutes=1))


def touch_api_token(token_id: int, seen: datetime) -> None:
    """Move a token's last use to ``seen`` (never backwards): the idle lifetime counts from there."""
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.last_used_at < seen).values(last_used_at=seen)
    )


def revoke_api_token(user: User, token_id: int) -> bool:
    """End one live API token of ``user`` (the API's own token, or one chosen on the devices page). False when
    ``user`` has no such live token (another person's token included)."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def active_consent(user_id: int, purpose: str) -> Consent | None:
    return db.session.scalar(
        select(Consent)
        .where(Consent.user_id == user_id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at.desc())
        .limit(1)
    )


def grant_consent(user: User, purpose: str) -> Consent:
    """Record consent to the current notice version of ``purpose``; an existing live consent to the same
    version is kept rather than duplicated."""
    if purpose not in PURPOSES:
        raise InvalidInput(_("未知的同意事项。"))
    version = PURPOSES[purpose].version
    existing = active_consent(user.id, purpose)
    if existing is not None and existing.notice_version == version:
        return existing
    if existing is not None:
        existing.withdrawn_at = clock.now()
    consent = Consent(user_id=user.id, purpose=purpose, notice_version=version, granted_at=clock.now())
    db.session.add(consent)
    db.session.flush()
    return consent


def has_consent(user_id: int, purpose: str) -> bool:
    consent = active_consent(user_id, purpose)
    return consent is not None and consent.notice_version == PURPOSES[purpose].version


def withdraw_consent(user: User, purpose: str, actor: User | None = None) -> int:
    """Withdrawing is as easy as giving: the live consent ends now, and subscribers (the booking engine) cancel
    what depended on it. Returns how many registrations were cancelled."""
    consent = active_consent(user.id, purpose)
    if consent is None:
        return 0
    consent.withdrawn_at = clock.now()
    db.session.flush()
    results = consent_withdrawn.send(user, purpose=purpose, actor=actor or user)
    return sum(int(value or 0) for _receiver, value in results)


def require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        from ..errors import Forbidden

        raise Forbidden()


def create_staff(*, phone: str, password: str, name: str, role: Role, organization: Organization) -> User:
    """Create or update an organizer or admin account (CLI only: roles are never assigned from web input)."""
    phone = normalize_phone(phone)
    if not PHONE_RE.match(phone):
        raise InvalidInput(fields={"phone": [_("请输入 11 位中国大陆手机号。")]})
    if problem := password_problem(password):
        raise InvalidInput(fields={"password": [problem]})
    user = find_by_phone(phone)
    if user is None:
        user = User(phone=phone, name=name, role=role, organization=organization)
        db.session.add(user)
    user.name = name
    user.role = role
    user.organization = organization
    user.password_hash = hash_password(password)
    db.session.flush()
    return user
