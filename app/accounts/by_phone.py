"""Accounts by phone: register with a verified number, sign in without a password, reset a forgotten password,
activate an imported account, change one's number — each proved by an SMS code (``verification``)."""

from __future__ import annotations

from flask_babel import gettext as _

from .. import clock
from ..errors import InvalidInput
from ..extensions import db
from ..orgs.models import Organization
from . import legal, services
from .models import User
from .verification import CodeExpired, IssuedCode, Purpose, check_code, reserve_code

__all__ = ["Purpose"]


def _valid_phone(phone: str, field: str = "phone") -> str:
    phone = services.normalize_phone(phone)
    if not services.PHONE_RE.match(phone):
        raise InvalidInput(fields={field: [_("请输入 11 位中国大陆手机号。")]})
    return phone


def _account_for(purpose: Purpose, phone: str) -> User | None:
    """The account a code for ``purpose`` would open: an active one (for activation: one never given a
    password, as imported members are)."""
    user = services.find_by_phone(phone)
    if user is None or not user.is_active:
        return None
    if purpose == Purpose.ACTIVATE and user.password_hash:
        return None
    return user


def request_code(purpose: Purpose, phone: str, *, address: str | None) -> IssuedCode:
    """Reserve a code for ``purpose``. Registering and changing to a number needs a number nobody uses
    (``PhoneTaken``); signing in, resetting and activating need an account, but whether there is one is not told:
    the counters move and the answer is the same, only no SMS goes out. Flushes."""
    field = "new_phone" if purpose == Purpose.CHANGE_PHONE else "phone"
    phone = _valid_phone(phone, field)
    if purpose in (Purpose.REGISTER, Purpose.CHANGE_PHONE):
        if services.find_by_phone(phone) is not None:
            raise services.PhoneTaken()
        return reserve_code(purpose, phone, address=address)
    return reserve_code(purpose, phone, address=address, send=_account_for(purpose, phone) is not None)


def _verified(user: User) -> None:
    user.phone_verified_at = clock.now()


def register_with_code(
    *,
    phone: str,
    code: str,
    password: str,
    name: str,
    profile: services.ProfileData,
    documents: dict[str, str],
    email: str | None = None,
    locale: str = "zh_CN",
    organization: Organization | None = None,
) -> User:
    """The number is proved by its code before the account exists; the person accepts the user agreement and the
    privacy policy versions they were shown. Everything else is ``register_employee``'s rules."""
    phone = _valid_phone(phone)
    if services.find_by_phone(phone) is not None:
        raise services.PhoneTaken()
    check_code(Purpose.REGISTER, phone, code)
    user = services.register_employee(
        phone=phone,
        password=password,
        name=name,
        profile=profile,
        email=email,
        organization=organization,
        locale=locale,
    )
    _verified(user)
    legal.accept_documents(user, documents)
    return user


def login_with_code(phone: str, code: str, device: str = "") -> User:
    """A second way in beside the password, for an active account. It has its own limits: a password lockout
    never blocks it."""
    phone = _valid_phone(phone)
    user = _account_for(Purpose.LOGIN, phone)
    if user is None:
        raise CodeExpired()  # no code was ever sent to a number without an account
    check_code(Purpose.LOGIN, phone, code)
    _verified(user)
    services.start_login_session(user, device=device)
    return user


def _password_set_by_code(purpose: Purpose, phone: str, code: str, password: str) -> User:
    """The account of a valid number gets a new password, once the password is strong enough and the code sent
    for ``purpose`` is given back; a number without an account answers as an expired code."""
    phone = _valid_phone(phone)
    if problem := services.password_problem(password):
        raise InvalidInput(fields={"password": [problem]})
    user = _account_for(purpose, phone)
    if user is None:
        raise CodeExpired()
    check_code(purpose, phone, code)
    user.password_hash = services.hash_password(password)
    _verified(user)
    return user


def reset_password_with_code(phone: str, code: str, new_password: str) -> User:
    """A forgotten password is replaced after the code sent to the number is given back; every existing session
    and API token of the account ends. (Those who gave an email address can still use the emailed link.)"""
    user = _password_set_by_code(Purpose.RESET, phone, code, new_password)
    services.revoke_all_sessions(user)
    db.session.flush()
    return user


def activate_with_code(phone: str, code: str, password: str, documents: dict[str, str], device: str = "") -> User:
    """An imported member (an account without a password) proves the number, sets their own password and
    accepts the documents; they are then signed in. No password is ever handed to them by someone else."""
    user = _password_set_by_code(Purpose.ACTIVATE, phone, code, password)
    legal.accept_documents(user, documents)
    services.start_login_session(user, device=device)
    return user


def change_phone_with_code(user: User, new_phone: str, code: str, device: str = "") -> None:
    """The new number must be unused and proved by the code sent to it; the account's other sessions end (the
    number is how the account is recovered)."""
    new_phone = _valid_phone(new_phone, "new_phone")
    if new_phone == user.phone:
        raise InvalidInput(fields={"new_phone": [_("这就是您现在的手机号。")]})
    if services.find_by_phone(new_phone) is not None:
        raise services.PhoneTaken()
    check_code(Purpose.CHANGE_PHONE, new_phone, code)
    user.phone = new_phone
    _verified(user)
    services.revoke_all_sessions(user)
    services.start_login_session(user, device=device)
