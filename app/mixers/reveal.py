"""Mixer sub-domain: the reveal — picks turned into mutual pairs plus counts, announced to everyone at once, the raw
picks deleted in the same transaction — and mutual pairs entered from paper cards.

Privacy rule (DESIGN.md §2, §7): a one-sided pick is never shown to anyone; the reveal turns picks into mutual
pairs plus counts and deletes them in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import lazyload

from .. import audit, clock, outbox
from ..accounts.models import User
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from .errors import AlreadyRevealed, DuplicatePair, WindowStillOpen
from .models import (
    MixerAttendee,
    MixerOutcome,
    MixerPair,
    MixerPick,
    MixerReveal,
    MixerSettings,
    OutcomeKind,
    PairSource,
)
from .outcomes import FOLLOWUP_EXPIRES, STAGE_DELAYS
from .windows import DEFAULT_PICK_WINDOW, KIND, get_managed_mixer, is_revealed, lock_settings


def _followup_messages(pair: MixerPair, users: dict[int, User]) -> list[dict[str, Any]]:
    """The three private follow-ups (3 days, 3 weeks, 3 months) for each member of a pair, due in the future."""
    title = _("联谊回访：你们还在联系吗？")
    body = _("请在“我的联谊”中私下回答一个小问题，您的回答不会告诉对方。")
    messages = []
    for stage, delay in STAGE_DELAYS.items():
        due = pair.created_at + delay
        for user_id in (pair.user_a_id, pair.user_b_id):
            user = users.get(user_id) if user_id is not None else None
            if user is None:
                continue
            messages.append(
                {
                    "user": user,
                    "kind": "mixer_followup",
                    "subject": f"mixer-pair:{pair.id}:{stage.value}",
                    "template": "mixers/followup",
                    "data": {
                        "event_id": pair.event_id,
                        "pair_id": pair.id,
                        "stage": stage.value,
                        "title": title,
                        "body": body,
                        "url": "/mixers/matches",
                    },
                    "due_at": due,
                    "expires_at": due + FOLLOWUP_EXPIRES,
                }
            )
    return messages


def _new_pairs(
    event: Event, members: list[tuple[MixerAttendee, MixerAttendee]], source: PairSource, at: datetime
) -> list[MixerPair]:
    """Insert pairs (lower badge first), each with its first outcome-log entry, "matched"."""
    pairs = []
    for first, second in members:
        a, b = (first, second) if first.badge_no < second.badge_no else (second, first)
        pairs.append(
            MixerPair(
                event_id=event.id,
                created_at=at,
                source=source,
                user_a_id=a.user_id,
                user_b_id=b.user_id,
                attendee_a_id=a.id,
                attendee_b_id=b.id,
                badge_a=a.badge_no,
                badge_b=b.badge_no,
            )
        )
    db.session.add_all(pairs)
    db.session.flush()
    db.session.add_all([MixerOutcome(pair_id=pair.id, kind=OutcomeKind.MATCHED, at=at) for pair in pairs])
    return pairs


def _users_by_id(ids: set[int | None]) -> dict[int, User]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    query = select(User).where(User.id.in_(wanted)).options(lazyload("*"))  # only the columns messages need
    return {u.id: u for u in db.session.scalars(query)}


def reveal(event_id: int, now: datetime | None = None, actor: User | None = None) -> int:
    """Once the pick window has closed, compute the mutual pairs, reveal them to both people at the same moment
    (one message to every attendee: their matches, or "no match this time"), schedule the follow-ups, keep only
    counts in ``mixer_reveals`` and delete the raw picks — all in one transaction. Revealing twice does nothing.
    The reveal is audited (``mixer.reveal``: counts only; ``actor`` None when the scheduler reveals).
    Returns the number of new mutual pairs."""
    now = now or clock.now()
    event = db.session.get(Event, event_id)
    if event is None or event.kind != KIND:
        raise NotFound()
    settings = lock_settings(event)
    if is_revealed(event.id):
        return 0
    if now < settings.pick_closes_at:
        raise WindowStillOpen()
    attendees = {a.id: a for a in db.session.scalars(select(MixerAttendee).where(MixerAttendee.event_id == event.id))}
    picks = set(
        db.session.execute(select(MixerPick.picker_id, MixerPick.picked_id).where(MixerPick.event_id == event.id))
    )
    existing = set(
        db.session.execute(select(MixerPair.badge_a, MixerPair.badge_b).where(MixerPair.event_id == event.id))
    )
    mutual = sorted((a, b) for a, b in picks if a < b and (b, a) in picks)
    members = [
        (attendees[a_id], attendees[b_id])
        for a_id, b_id in mutual
        # a pair already entered from a paper card is not entered twice
        if tuple(sorted((attendees[a_id].badge_no, attendees[b_id].badge_no))) not in existing
    ]
    new_pairs = _new_pairs(event, members, PairSource.APP, now)
    all_pairs = list(db.session.scalars(select(MixerPair).where(MixerPair.event_id == event.id)))
    db.session.add(
        MixerReveal(
            event_id=event.id,
            revealed_at=now,
            attendees=len(attendees),
            pickers=len({picker for picker, _picked in picks}),
            picks_made=len(picks),
            pairs=len(all_pairs),
        )
    )
    db.session.execute(delete(MixerPick).where(MixerPick.event_id == event.id))
    users = _users_by_id({a.user_id for a in attendees.values()})
    matches: Counter[int] = Counter()
    for pair in all_pairs:
        for user_id in (pair.user_a_id, pair.user_b_id):
            if user_id is not None:
                matches[user_id] += 1
    # Everyone hears at the same moment (one transaction), and a person without a pair hears exactly what
    # anyone else without a pair hears, whoever they ticked.
    title = _("「%(t)s」心动卡结果揭晓", t=event.title)
    no_match = _("本次没有匹配，感谢参与，期待下次相遇。")
    messages: list[dict[str, Any]] = []
    for attendee in sorted(attendees.values(), key=lambda a: a.badge_no):
        user = users.get(attendee.user_id) if attendee.user_id is not None else None
        if user is None:
            continue
        count = matches[user.id]
        body = _("你有 %(n)d 位互相心动的对象！打开“我的联谊”查看。", n=count) if count else no_match
        messages.append(
            {
                "user": user,
                "kind": "mixer_reveal",
                "subject": f"mixer:{event.id}:reveal",
                "template": "mixers/reveal",
                "data": {
                    "event_id": event.id,
                    "title": title,
                    "body": body,
                    "matched": bool(count),
                    "url": f"/mixers/{event.id}",
                },
                "essential": True,
            }
        )
    for pair in new_pairs:
        messages.extend(_followup_messages(pair, users))
    outbox.enqueue_many(messages)
    db.session.flush()
    audit.record(
        actor,
        "mixer.reveal",
        "event",
        event.id,
        {"attendees": len(attendees), "pairs": len(all_pairs), "new_pairs": len(new_pairs)},
        org=event.organization,
    )
    return len(new_pairs)


def reveal_due(now: datetime) -> int:
    """Scheduler task: reveal every mixer whose pick window has closed and that is not yet revealed (cancelled
    mixers included: their counts are simply zero). Returns how many mixers were revealed."""
    due = list(
        db.session.scalars(
            select(MixerSettings.event_id)
            .outerjoin(MixerReveal, MixerReveal.event_id == MixerSettings.event_id)
            .where(MixerSettings.pick_closes_at <= now, MixerReveal.event_id.is_(None))
            .order_by(MixerSettings.pick_closes_at)
        )
    )
    # Mixers created elsewhere (the organizer console, the API) without settings close at the default time.
    due += db.session.scalars(
        select(Event.id)
        .outerjoin(MixerSettings, MixerSettings.event_id == Event.id)
        .where(Event.kind == KIND, MixerSettings.event_id.is_(None), Event.ends_at <= now - DEFAULT_PICK_WINDOW)
        .order_by(Event.ends_at)
    ).all()
    done = 0
    for event_id in due:
        if not is_revealed(event_id):
            reveal(event_id, now)
            done += 1
    return done


def close_and_reveal(actor: User, event_id: int, now: datetime | None = None) -> int:
    """The organizer's button: close the pick window now (if still open) and reveal. Not before the mixer has
    started."""
    now = now or clock.now()
    event = get_managed_mixer(actor, event_id)
    settings = lock_settings(event)
    if is_revealed(event.id):
        raise AlreadyRevealed()
    if now < event.starts_at:
        raise DomainError(_("活动开始后才能截止并揭晓。"))
    if settings.pick_closes_at > now:
        settings.pick_closes_at = now
        db.session.flush()
    return reveal(event.id, now, actor)


def add_paper_pair(actor: User, event_id: int, badge_a: int, badge_b: int, now: datetime | None = None) -> MixerPair:
    """An organizer enters a mutual pair from paper cards by badge numbers: two different badges, both of
    checked-in attendees of this mixer, not already a pair (in either order, from the app or paper)."""
    now = now or clock.now()
    event = get_managed_mixer(actor, event_id)
    lock_settings(event)
    if badge_a == badge_b:
        raise InvalidInput(_("请填写两个不同的胸牌号。"), fields={"badge_b": [_("请填写两个不同的胸牌号。")]})
    found = {
        a.badge_no: a
        for a in db.session.scalars(
            select(MixerAttendee).where(
                MixerAttendee.event_id == event.id, MixerAttendee.badge_no.in_([badge_a, badge_b])
            )
        )
    }
    missing = [badge for badge in (badge_a, badge_b) if badge not in found]
    if missing:
        message = _("胸牌号 %(b)s 不属于本场已签到的嘉宾。", b="、".join(str(b) for b in missing))
        raise InvalidInput(message, fields={"badge_a": [message]})
    low, high = sorted((badge_a, badge_b))
    duplicate = db.session.scalar(
        select(MixerPair.id).where(MixerPair.event_id == event.id, MixerPair.badge_a == low, MixerPair.badge_b == high)
    )
    if duplicate is not None:
        raise DuplicatePair()
    [pair] = _new_pairs(event, [(found[low], found[high])], PairSource.PAPER, now)
    summary = db.session.get(MixerReveal, event.id)
    if summary is not None:
        summary.pairs += 1
    users = _users_by_id({pair.user_a_id, pair.user_b_id})
    for user in users.values():
        outbox.enqueue(
            user,
            "mixer_match",
            f"mixer-pair:{pair.id}:matched",
            template="mixers/match",
            data={
                "event_id": event.id,
                "pair_id": pair.id,
                "title": _("「%(t)s」配对成功", t=event.title),
                "body": _("你们在纸质心动卡上互相选择了对方！打开“我的联谊”查看。"),
                "url": "/mixers/matches",
            },
            essential=True,
        )
    outbox.enqueue_many(_followup_messages(pair, users))
    db.session.flush()
    audit.record(actor, "mixer.paper_pair", "mixer_pair", pair.id, {"event": event.id}, org=event.organization)
    return pair
