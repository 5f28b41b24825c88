"""SMS verification codes: six digits, valid five minutes, five attempts, single use, one every 60 seconds per
number, daily caps per number and per client address.

Codes are stored as HMAC-SHA256 digests keyed with the app's secret key and compared in constant time. The caps
live in ``sms_send_counters`` rows changed by one conditional UPDATE each: on PostgreSQL the row lock makes a
second worker wait and re-check, on SQLite every write transaction is ``BEGIN IMMEDIATE``; so the caps hold
across workers and hosts.

Sending is a hook (``set_code_sender``): the notifications feature sends through its SMS channel at once. The
caller commits the reservation *before* sending (no transaction stays open during the gateway's round trip) and
calls ``void_code`` if sending failed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import clock
from ..errors import DomainError
from ..extensions import db
from .phone_models import SmsSendCounter, VerificationCode

CODE_DIGITS = 6
CODE_VALID_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
DEFAULT_DAILY_PER_PHONE = 10
DEFAULT_DAILY_PER_ADDRESS = 30


class Purpose(enum.StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    RESET = "reset"
    ACTIVATE = "activate"
    CHANGE_PHONE = "change_phone"


class CodeError(DomainError):
    """A verification code was refused or could not be sent; every subclass says why in the user's words."""

    code = "code_error"
    http_status = 400


class TooSoon(CodeError):
    code = "code_too_soon"
    http_status = 429

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(wait_seconds=wait_seconds)
        self.wait_seconds = wait_seconds

    def default_message(self) -> str:
        return _("验证码已发送，请 %(n)d 秒后再重新获取。", n=self.wait_seconds)


class DailyCapReached(CodeError):
    code = "code_daily_cap"
    http_status = 429

    def default_message(self) -> str:
        return _("今天获取验证码的次数已达上限，请明天再试。")


class CodeNotSent(CodeError):
    """The SMS did not go out. ``reason``: ``invalid_number`` (the provider refused the number), ``quota`` (the
    provider's sending limit), ``refused`` (any other refusal), ``unavailable`` (gateway down or timed out)."""

    code = "code_not_sent"
    http_status = 502

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason

    def default_message(self) -> str:
        if self.reason == "invalid_number":
            return _("短信平台无法向这个号码发送短信，请检查手机号是否正确。")
        if self.reason == "quota":
            return _("这个号码今天收到的短信已达运营商上限，请稍后再试或明天再试。")
        if self.reason == "refused":
            return _("短信平台拒绝发送，请稍后再试。")
        return _("短信服务暂时不可用，验证码未能发送，请稍后再试。")


class WrongCode(CodeError):
    """A wrong guess; the attempt is counted (the caller commits it)."""

    code = "code_wrong"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(attempts_left=attempts_left)
        self.attempts_left = attempts_left

    def default_message(self) -> str:
        if self.attempts_left <= 0:
            return _("验证码错误次数过多，该验证码已失效，请重新获取。")
        return _("验证码不正确，还可以再试 %(n)d 次。", n=self.attempts_left)


class CodeExpired(CodeError):
    code = "code_expired"

    def default_message(self) -> str:
        return _("验证码无效或已过期，请重新获取。")


@dataclass(frozen=True)
class IssuedCode:
    """A code reserved and stored (hashed); ``code`` is in memory only until it has been sent. ``send`` is False
    when nothing must be sent (no account for a sign-in, reset or activation: the answer looks the same)."""

    id: int | None
    purpose: Purpose
    phone: str
    code: str
    send: bool

    def __repr__(self) -> str:  # never print the code
        return f"IssuedCode(id={self.id}, purpose={self.purpose}, send={self.send})"


# (phone, code, purpose) -> None; raises CodeNotSent. Registered by the notifications feature.
CodeSender = Callable[[str, str, Purpose], None]
_sender: list[CodeSender] = []


def set_code_sender(sender: CodeSender) -> None:
    """Register how codes leave the process (the notifications feature's SMS channel). The last one wins."""
    _sender[:] = [sender]


def _digest(*parts: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()


def phone_key(phone: str) -> str:
    """The keyed digest that stands for a number in the codes and counters tables."""
    return _digest("phone", phone)


def _code_hash(purpose: Purpose, phone: str, code: str) -> str:
    return _digest("code", str(purpose), phone, code)


def _insert_counter(key: tuple[str, str], day: object) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(SmsSendCounter)
        .values(scope=key[0], key=key[1], day=day, sent=0, last_sent_at=None)
        .on_conflict_do_nothing()
    )


def _count_send(scope: str, key: str, cap: int, now: datetime, pause: timedelta | None) -> None:
    """Count one code for ``key`` today, atomically: refuses (TooSoon, DailyCapReached) when the cap is reached
    or, with ``pause``, when the previous code went less than ``pause`` ago."""
    today = now.date()
    _insert_counter((scope, key), today)
    counter = SmsSendCounter.__table__.c
    conditions = [
        counter.scope == scope,
        counter.key == key,
        (counter.day != today) | (counter.sent < cap),
    ]
    if pause is not None:
        conditions.append(counter.last_sent_at.is_(None) | (counter.last_sent_at <= now - pause))
    result = db.session.execute(
        update(SmsSendCounter.__table__)  # type: ignore[arg-type]
        .where(*conditions)
        .values(sent=case((counter.day == today, counter.sent + 1), else_=1), day=today, last_sent_at=now)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = db.session.execute(
        select(counter.day, counter.sent, counter.last_sent_at).where(counter.scope == scope, counter.key == key)
    ).one()
    if pause is not None and row.last_sent_at is not None and row.last_sent_at > now - pause:
        raise TooSoon(max(1, int((row.last_sent_at + pause - now).total_seconds())))
    raise DailyCapReached()


def reserve_code(purpose: Purpose, phone: str, *, address: str | None, send: bool = True) -> IssuedCode:
    """Count a code against the daily caps (per number and per address) and the 60-second pause, and store its
    hash, valid five minutes. With ``send=False`` (no account to sign in to) the counters move all the same, so
    the answer cannot tell whether a number is registered, but no code is stored. Flushes; the caller commits
    before ``deliver``."""
    config = current_app.config
    now = clock.now()
    key = phone_key(phone)
    _count_send("phone", key, int(config.get("SMS_CODE_DAILY_PER_PHONE", DEFAULT_DAILY_PER_PHONE)), now, RESEND_AFTER)
    if address:
        cap = int(config.get("SMS_CODE_DAILY_PER_ADDRESS", DEFAULT_DAILY_PER_ADDRESS))
        _count_send("address", _digest("address", address), cap, now, None)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    if not send:
        db.session.flush()
        return IssuedCode(None, purpose, phone, code, send=False)
    row = VerificationCode(
        purpose=str(purpose),
        phone_key=key,
        code_hash=_code_hash(purpose, phone, code),
        created_at=now,
        expires_at=now + CODE_VALID_FOR,
    )
    db.session.add(row)
    db.session.flush()
    return IssuedCode(row.id, purpose, phone, code, send=True)


def deliver(issued: IssuedCode) -> None:
    """Send the code by SMS at once (not through the outbox: it is useless five minutes later). Raises
    ``CodeNotSent`` with the reason; call with no transaction open."""
    if not issued.send:
        return
    if not _sender:
        raise CodeNotSent("unavailable")
    _sender[0](issued.phone, issued.code, issued.purpose)


def void_code(issued: IssuedCode) -> None:
    """A code whose SMS failed can never be used, and does not hold back the next request by 60 seconds (the
    daily counters keep the attempt)."""
    if issued.id is None:
        return
    now = clock.now()
    db.session.execute(update(VerificationCode).where(VerificationCode.id == issued.id).values(voided_at=now))
    counter = SmsSendCounter.__table__.c
    db.session.execute(
        update(SmsSendCounter.__table__)  # type: ignore[arg-type]
        .where(counter.scope == "phone", counter.key == phone_key(issued.phone))
        .values(last_sent_at=None)
    )


def check_code(purpose: Purpose, phone: str, candidate: str) -> None:
    """The latest code sent for ``purpose`` to ``phone`` must be unexpired, unused, not voided, tried fewer than
    five times, and equal to ``candidate`` (compared in constant time); it is then used up. A wrong guess is
    counted and raises ``WrongCode`` — the caller commits so the count survives. Every try is counted with a
    conditional UPDATE, so parallel guesses cannot exceed five either."""
    now = clock.now()
    row = db.session.scalar(
        select(VerificationCode)
        .where(VerificationCode.purpose == str(purpose), VerificationCode.phone_key == phone_key(phone))
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
        .limit(1)
    )
    if row is None or row.used_at is not None or row.voided_at is not None or row.expires_at <= now:
        raise CodeExpired()
    counted = db.session.execute(
        update(VerificationCode)
        .where(
            VerificationCode.id == row.id,
            VerificationCode.attempts < MAX_ATTEMPTS,
            VerificationCode.used_at.is_(None),
        )
        .values(attempts=VerificationCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        raise WrongCode(0)
    db.session.refresh(row)
    if not hmac.compare_digest(_code_hash(purpose, phone, candidate.strip()), row.code_hash):
        raise WrongCode(MAX_ATTEMPTS - row.attempts)
    used = db.session.execute(
        update(VerificationCode)
        .where(VerificationCode.id == row.id, VerificationCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise CodeExpired()


def delete_old_codes(now: datetime) -> int:
    """Codes are deleted a day after they expired; counters of earlier days are deleted (retention)."""
    codes = db.session.execute(
        delete(VerificationCode)
        .where(VerificationCode.expires_at < now - timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    counters = db.session.execute(
        delete(SmsSendCounter)
        .where(SmsSendCounter.day < now.date() - timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    return (codes.rowcount or 0) + (counters.rowcount or 0)  # type: ignore[attr-defined]
