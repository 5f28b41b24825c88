"""Accounts: the person who logs in, their employee profile, login sessions, API tokens and consents."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import Model
from ..orgs.models import City, EnterpriseType, Industry, Organization

if TYPE_CHECKING:
    pass


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    ORGANIZER = "organizer"
    ADMIN = "admin"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class User(UserMixin, Model):
    """Who logs in. Employees are members of ``organization`` (their enterprise union); an organizer acts for
    ``organization`` and everything below it; an admin acts for the whole province."""

    __tablename__ = "users"
    __allow_unmapped__ = True  # for login_session_id, a per-request attribute that is not a column

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # NULL once the account is deleted
    password_hash: Mapped[str | None] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16), default=Role.EMPLOYEE)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    deleted_at: Mapped[datetime | None] = mapped_column()
    # When the person last proved by an SMS code that ``phone`` is theirs (NULL: never, e.g. an imported member).
    phone_verified_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization | None] = relationship()
    profile: Mapped[Profile | None] = relationship(
        back_populates="user", uselist=False, lazy="joined", cascade="all, delete-orphan"
    )

    # Flask-Login reads the id of the *login session*, not of the user (see accounts.sessions).
    login_session_id: str | None = None

    def get_id(self) -> str | None:
        return self.login_session_id

    @property
    def is_active(self) -> bool:
        return self.is_active_account and self.deleted_at is None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_organizer(self) -> bool:
        return self.role in (Role.ORGANIZER, Role.ADMIN)


class Profile(Model):
    """The employee attributes that eligibility and statistics read."""

    __tablename__ = "profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    gender: Mapped[Gender] = mapped_column(Enum(Gender, native_enum=False, length=8))
    birth_date: Mapped[date] = mapped_column()
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    employer: Mapped[str] = mapped_column(String(120))
    enterprise_type: Mapped[EnterpriseType] = mapped_column(Enum(EnterpriseType, native_enum=False, length=24))
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industries.id"))  # NULL: 其他 (neither)
    frontline: Mapped[bool] = mapped_column(default=False)
    member_no: Mapped[str | None] = mapped_column(String(40))
    model_worker: Mapped[bool] = mapped_column(default=False)  # 劳模工匠, set by organizers only

    user: Mapped[User] = relationship(back_populates="profile")
    city: Mapped[City] = relationship(lazy="joined")
    industry: Mapped[Industry | None] = relationship(lazy="joined")


class LoginSession(Model):
    """A server-side record of one login: logout or a password change revokes it, so a replayed cookie is dead."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # A summary of the browser's user agent ("Chrome · Android"), shown on the devices page; never the raw header.
    device: Mapped[str] = mapped_column(String(80), default="", server_default="")

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Model):
    """A bearer token for the JSON API; only its SHA-256 is stored. It is alive until revoked, unused for
    API_TOKEN_IDLE_DAYS or older than API_TOKEN_ABSOLUTE_DAYS."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # A summary of the client's user agent ("zhijia-android", "Chrome · Android").
    device: Mapped[str] = mapped_column(String(80), default="", server_default="")

    user: Mapped[User] = relationship(lazy="joined")


class PasswordResetToken(Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class Consent(Model):
    """Consent to one purpose of processing sensitive personal information (PIPL art. 29), per notice version."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))
    notice_version: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
