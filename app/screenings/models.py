"""Health-truck screenings (健康大篷车): a visit is one Event of kind "screening" with many time Slots.

``screening_visits`` holds what a visit adds to its event (the park or site, the two-cancer package's rules);
``screening_bookings`` holds what a booking adds to its registration: which package was booked and, after
the visit, whether the person was screened. Attendance itself is the core registration status (attended /
no-show).

No medical result, diagnosis or measurement is stored anywhere: an outcome is only "screened" or "not
screened" with a reason from a fixed list, never free text (tests/screenings/test_no_results.py scans for it).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..booking.models import Registration
from ..events.models import Event
from ..extensions import Model

KIND = "screening"
DEFAULT_MIN_AGE = 35
DEFAULT_MAX_AGE = 64
DEFAULT_REPEAT_YEARS = 2


class Package(enum.StrEnum):
    GENERAL = "general"  # 常规体检: always included
    TWO_CANCER = "two_cancer"  # 两癌筛查 (cervical and breast), on top of the general check


class Outcome(enum.StrEnum):
    SCREENED = "screened"
    NOT_SCREENED = "not_screened"


class NotScreenedReason(enum.StrEnum):
    """Why someone who came was not screened. A fixed list: no free text, nothing about their health."""

    LEFT_EARLY = "left_early"  # 排队时间过长，提前离开
    DECLINED = "declined"  # 本人放弃检查
    NOT_SUITABLE_TODAY = "not_suitable_today"  # 当日不宜检查（不记录原因）
    NO_ID = "no_id"  # 未携带身份证件
    CAPACITY = "capacity"  # 设备或医务人员原因未能检查
    OTHER = "other"  # 其他原因


def _in_list(column: str, values: type[enum.StrEnum]) -> str:
    quoted = ", ".join(f"'{value.value}'" for value in values)
    return f"{column} IS NULL OR {column} IN ({quoted})"


class ScreeningVisit(Model):
    """One day of the screening truck at an industrial park or site."""

    __tablename__ = "screening_visits"
    __table_args__ = (
        CheckConstraint("two_cancer_min_age >= 0 AND two_cancer_min_age <= two_cancer_max_age", name="age_range"),
        CheckConstraint("repeat_interval_years >= 0 AND repeat_interval_years <= 20", name="repeat_interval"),
        CheckConstraint("two_cancer_per_slot IS NULL OR two_cancer_per_slot >= 0", name="two_cancer_cap"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    site_name: Mapped[str] = mapped_column(String(120))  # the industrial park or site (园区/站点)
    offers_two_cancer: Mapped[bool] = mapped_column(default=True)
    two_cancer_min_age: Mapped[int] = mapped_column(default=DEFAULT_MIN_AGE)
    two_cancer_max_age: Mapped[int] = mapped_column(default=DEFAULT_MAX_AGE)
    repeat_interval_years: Mapped[int] = mapped_column(default=DEFAULT_REPEAT_YEARS)
    # Two-cancer places per time slot; NULL: the package has no cap of its own (the slot's capacity applies).
    two_cancer_per_slot: Mapped[int | None] = mapped_column()

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)


class ScreeningBooking(Model):
    """What a screening registration booked, and whether the person was screened. Never a medical result."""

    __tablename__ = "screening_bookings"
    __table_args__ = (
        CheckConstraint(_in_list("outcome", Outcome), name="outcome_known"),
        CheckConstraint(_in_list("not_screened_reason", NotScreenedReason), name="reason_known"),
        CheckConstraint(
            "(outcome = 'not_screened' AND not_screened_reason IS NOT NULL) "
            "OR (outcome IS NULL AND not_screened_reason IS NULL) "
            "OR (outcome = 'screened' AND not_screened_reason IS NULL)",
            name="reason_only_when_not_screened",
        ),
    )

    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True)
    two_cancer: Mapped[bool] = mapped_column(default=False, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    not_screened_reason: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime | None] = mapped_column()

    registration: Mapped[Registration] = relationship(lazy="joined", innerjoin=True)
