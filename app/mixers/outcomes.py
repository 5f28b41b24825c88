"""Mixer sub-domain: the matching-outcome log — the private follow-ups of a pair (3 days, 3 weeks, 3 months) and the
append-only log of what became of it (matched, dating, ended).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock
from ..accounts.models import User
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from .models import FollowupAnswer, FollowupStage, MixerOutcome, MixerPair, OutcomeKind

STAGE_DELAYS = {
    FollowupStage.DAYS_3: timedelta(days=3),
    FollowupStage.WEEKS_3: timedelta(weeks=3),
    FollowupStage.MONTHS_3: timedelta(days=90),
}
FOLLOWUP_EXPIRES = timedelta(days=14)


def pair_member(pair: MixerPair, user: User) -> str:
    """Which member of the pair the person is ("a" or "b"); to anyone else the pair does not exist (404)."""
    if pair.user_a_id == user.id:
        return "a"
    if pair.user_b_id == user.id:
        return "b"
    raise NotFound()


def _latest_answers(pair_id: int) -> dict[str, str]:
    rows = db.session.execute(
        select(MixerOutcome.member, MixerOutcome.answer)
        .where(MixerOutcome.pair_id == pair_id, MixerOutcome.kind == OutcomeKind.FOLLOWUP)
        .order_by(MixerOutcome.id)
    ).all()
    return {member: answer for member, answer in rows if answer}


def has_outcome(pair_id: int, kind: OutcomeKind) -> bool:
    """Whether the pair's log already holds an entry of this kind (each of "dating" and "ended" is logged once)."""
    return (
        db.session.scalar(select(MixerOutcome.id).where(MixerOutcome.pair_id == pair_id, MixerOutcome.kind == kind))
        is not None
    )


def answer_followup(user: User, pair_id: int, stage: str, answer: str, now: datetime | None = None) -> MixerOutcome:
    """A member of a pair answers a due follow-up privately (still in touch / dating / ended), once per stage.
    The log is only appended to: "ended" is logged when either says so; "dating" (牵手成功) when both members'
    latest answers are "dating"."""
    now = now or clock.now()
    pair = db.session.get(MixerPair, pair_id)
    if pair is None:
        raise NotFound()
    member = pair_member(pair, user)
    try:
        stage_value = FollowupStage(stage)
        answer_value = FollowupAnswer(answer)
    except ValueError:
        raise InvalidInput(_("请选择一个回答。")) from None
    if now < pair.created_at + STAGE_DELAYS[stage_value]:
        raise DomainError(_("还没到这次回访的时间。"))
    already = db.session.scalar(
        select(MixerOutcome.id).where(
            MixerOutcome.pair_id == pair.id,
            MixerOutcome.kind == OutcomeKind.FOLLOWUP,
            MixerOutcome.stage == stage_value.value,
            MixerOutcome.member == member,
        )
    )
    if already is not None:
        raise DomainError(_("您已回答过这次回访。"))
    entry = MixerOutcome(
        pair_id=pair.id,
        kind=OutcomeKind.FOLLOWUP,
        at=now,
        member=member,
        stage=stage_value.value,
        answer=answer_value.value,
        user_id=user.id,
    )
    db.session.add(entry)
    db.session.flush()
    if answer_value == FollowupAnswer.ENDED and not has_outcome(pair.id, OutcomeKind.ENDED):
        db.session.add(MixerOutcome(pair_id=pair.id, kind=OutcomeKind.ENDED, at=now))
    if answer_value == FollowupAnswer.DATING and not has_outcome(pair.id, OutcomeKind.DATING):
        latest = _latest_answers(pair.id)
        if latest.get("a") == FollowupAnswer.DATING.value and latest.get("b") == FollowupAnswer.DATING.value:
            db.session.add(MixerOutcome(pair_id=pair.id, kind=OutcomeKind.DATING, at=now))
    db.session.flush()
    # Admins only read this row (audit.ADMIN_ONLY_PREFIXES): the stage, never the answer.
    event = db.session.get(Event, pair.event_id)
    audit.record(
        user,
        "mixer.outcome",
        "mixer_pair",
        pair.id,
        {"stage": stage_value.value},
        org=event.organization if event else None,
    )
    return entry
