"""Singles mixers: settings, checked-in attendees with badges, picks (deleted at the reveal), mutual pairs and
their append-only matching-outcome log, and the per-mixer reveal summary the statistics read.

Table names are a contract with the statistics feature: ``mixer_settings``, ``mixer_pairs``,
``mixer_outcomes`` and ``mixer_reveals``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..accounts.models import Gender
from ..events.models import Event
from ..extensions import Model


class MixerSettings(Model):
    """Per-mixer rules. The pick window opens when the mixer starts and closes at ``pick_closes_at``. The age
    window and gender quotas live on the event and its slot; subtree / industry restriction on the event."""

    __tablename__ = "mixer_settings"
    __table_args__ = (CheckConstraint("max_picks >= 1 AND max_picks <= 50", name="max_picks_range"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    pick_closes_at: Mapped[datetime] = mapped_column(index=True)
    max_picks: Mapped[int] = mapped_column(default=5)
    other_gender_only: Mapped[bool] = mapped_column(default=True)

    event: Mapped[Event] = relationship(lazy="joined")


class MixerAttendee(Model):
    """A checked-in attendee: badge number and self-chosen nickname. Only attendees can pick and be picked.
    ``user_id`` becomes NULL when the account is deleted."""

    __tablename__ = "mixer_attendees"
    __table_args__ = (
        UniqueConstraint("event_id", "badge_no", name="uq_mixer_attendees_event_badge"),
        UniqueConstraint("event_id", "user_id", name="uq_mixer_attendees_event_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id", ondelete="SET NULL"))
    badge_no: Mapped[int] = mapped_column()
    gender: Mapped[Gender | None] = mapped_column(Enum(Gender, native_enum=False, length=8))
    nickname: Mapped[str | None] = mapped_column(String(24))
    share_contact: Mapped[bool] = mapped_column(default=False)
    contact: Mapped[str | None] = mapped_column(String(60))
    checked_in_at: Mapped[datetime] = mapped_column(default=clock.now)

    @property
    def display_name(self) -> str:
        from flask_babel import gettext as _

        return self.nickname or _("%(n)d 号嘉宾", n=self.badge_no)


class MixerPick(Model):
    """One tick on a match card. Raw picks exist only while the window is open: the reveal deletes them."""

    __tablename__ = "mixer_picks"
    __table_args__ = (
        UniqueConstraint("picker_id", "picked_id", name="uq_mixer_picks_picker_picked"),
        CheckConstraint("picker_id <> picked_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    picker_id: Mapped[int] = mapped_column(ForeignKey("mixer_attendees.id", ondelete="CASCADE"), index=True)
    picked_id: Mapped[int] = mapped_column(ForeignKey("mixer_attendees.id", ondelete="CASCADE"))


class PairSource(enum.StrEnum):
    APP = "app"
    PAPER = "paper"


class MixerPair(Model):
    """A mutual pair (app reveal or paper card). Members are stored lower badge first; user ids become NULL on
    account deletion so the pair stays counted."""

    __tablename__ = "mixer_pairs"
    __table_args__ = (
        UniqueConstraint("event_id", "badge_a", "badge_b", name="uq_mixer_pairs_event_badges"),
        CheckConstraint("badge_a < badge_b", name="badges_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    source: Mapped[PairSource] = mapped_column(Enum(PairSource, native_enum=False, length=8))
    user_a_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    user_b_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    attendee_a_id: Mapped[int | None] = mapped_column(ForeignKey("mixer_attendees.id", ondelete="SET NULL"))
    attendee_b_id: Mapped[int | None] = mapped_column(ForeignKey("mixer_attendees.id", ondelete="SET NULL"))
    badge_a: Mapped[int] = mapped_column()
    badge_b: Mapped[int] = mapped_column()

    event: Mapped[Event] = relationship(lazy="joined")
    attendee_a: Mapped[MixerAttendee | None] = relationship(foreign_keys=[attendee_a_id])
    attendee_b: Mapped[MixerAttendee | None] = relationship(foreign_keys=[attendee_b_id])
    outcomes: Mapped[list[MixerOutcome]] = relationship(order_by="MixerOutcome.id", viewonly=True)


class OutcomeKind(enum.StrEnum):
    MATCHED = "matched"
    FOLLOWUP = "followup"  # one person's private answer at a follow-up stage
    DATING = "dating"  # 牵手成功: both said so
    ENDED = "ended"


class FollowupStage(enum.StrEnum):
    DAYS_3 = "3d"
    WEEKS_3 = "3w"
    MONTHS_3 = "3m"


class FollowupAnswer(enum.StrEnum):
    IN_TOUCH = "in_touch"
    DATING = "dating"
    ENDED = "ended"


class MixerOutcome(Model):
    """The append-only matching-outcome log: rows are inserted, never updated or deleted. ``followup`` rows carry
    one person's private answer (``user_id``, ``stage``, ``answer``)."""

    __tablename__ = "mixer_outcomes"
    __table_args__ = (
        Index("ix_mixer_outcomes_pair_kind", "pair_id", "kind"),
        UniqueConstraint("pair_id", "kind", "stage", "member", name="uq_mixer_outcomes_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("mixer_pairs.id", ondelete="CASCADE"))
    kind: Mapped[OutcomeKind] = mapped_column(Enum(OutcomeKind, native_enum=False, length=12))
    at: Mapped[datetime] = mapped_column(default=clock.now)
    # For follow-up answers: which member ("a"/"b") answered, at which stage, and what. Empty strings (not NULL)
    # on the other kinds so the uniqueness constraint also makes matched/dating/ended happen once per pair.
    member: Mapped[str] = mapped_column(String(1), default="")
    stage: Mapped[str] = mapped_column(String(4), default="")
    answer: Mapped[str | None] = mapped_column(String(12))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MixerReveal(Model):
    """What remains of the picks after the reveal: counts only. ``pairs`` counts every mutual pair of the mixer
    (app and paper)."""

    __tablename__ = "mixer_reveals"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    revealed_at: Mapped[datetime] = mapped_column()
    attendees: Mapped[int] = mapped_column(default=0)
    pickers: Mapped[int] = mapped_column(default=0)
    picks_made: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)


@event.listens_for(MixerOutcome, "before_update")
@event.listens_for(MixerOutcome, "before_delete")
def _outcomes_are_append_only(_mapper: object, _connection: object, target: MixerOutcome) -> None:
    """The matching-outcome log is only ever appended to: an ORM update or delete of an entry is a bug."""
    raise RuntimeError(f"mixer_outcomes is append-only (entry {target.id})")
