"""Accounts by phone: SMS verification codes, the counters that cap how many are sent, and which versions of the
privacy policy and user agreement each person accepted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import Model


class VerificationCode(Model):
    """One six-digit code sent by SMS for one purpose to one number. Neither the code nor the number is stored in
    clear: ``phone_key`` and ``code_hash`` are HMAC-SHA256 digests keyed with the app's secret key (six digits
    are a million guesses away from a plain hash)."""

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_lookup", "purpose", "phone_key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    phone_key: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column()
    # Set when the SMS could not be sent: the code was never seen by anyone and a new one may be asked at once.
    voided_at: Mapped[datetime | None] = mapped_column()


class SmsSendCounter(Model):
    """How many codes went to one number (``scope`` "phone") or one client address ("address") on ``day``, and
    when the last one went. One row per key, updated with a conditional UPDATE so that the daily caps and the
    pause between two codes hold across workers and hosts."""

    __tablename__ = "sms_send_counters"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column()
    sent: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column()


class DocumentAcceptance(Model):
    """A person accepted one version of a legal document (the privacy policy, the user agreement). Append-only:
    the history of versions accepted is kept."""

    __tablename__ = "document_acceptances"
    __table_args__ = (Index("ix_document_acceptances_user_document", "user_id", "document"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    document: Mapped[str] = mapped_column(String(30))
    version: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime] = mapped_column(default=clock.now)
