"""Mixer rules: settings, badges at check-in, match cards, the reveal, paper pairs and the outcome log.

Privacy rule that shapes this module (DESIGN.md §2, §7): a one-sided pick is never shown to anyone. Nothing here
returns who picked whom except to the picker themself while the window is open; the reveal turns picks into
mutual pairs plus counts and deletes them in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import lazyload

from .. import audit, clock, outbox
from ..accounts.models import Gender, User
from ..booking import services as booking
from ..booking.models import Registration, Status
from ..booking.window import require_checkin_open
from ..errors import DomainError, InvalidInput, NotFound
from ..events import services as events
from ..events.models import Event
from ..extensions import db
from ..freetext import TextRefused, clean_text
from ..orgs.scope import require_manages
from .models import (
    FollowupAnswer,
    FollowupStage,
    MixerAttendee,
    MixerOutcome,
    MixerPair,
    MixerPick,
    MixerReveal,
    MixerSettings,
    OutcomeKind,
    PairSource,
)
from .policy import CONTACT_MAX, NICKNAME_MAX, clean_nickname

KIND = "mixer"
# Counts about picking are shown to organizers only for mixers at least this large (no count small enough to
# single someone out).
MIN_GROUP = 10
DEFAULT_MAX_PICKS = 5
DEFAULT_PICK_WINDOW = timedelta(days=1)  # picks close this long after the mixer ends unless the organizer says
STAGE_DELAYS = {
    FollowupStage.DAYS_3: timedelta(days=3),
    FollowupStage.WEEKS_3: timedelta(weeks=3),
    FollowupStage.MONTHS_3: timedelta(days=90),
}
FOLLOWUP_EXPIRES = timedelta(days=14)


# --- errors --------------------------------------------------------------------------------------------------


class PickWindowClosed(DomainError):
    code = "pick_window_closed"
    http_status = 409

    def default_message(self) -> str:
        return _("当前不在心动卡填写时间内。")


class NotAnAttendee(DomainError):
    code = "not_attendee"
    http_status = 403

    def default_message(self) -> str:
        return _("签到后才能填写心动卡。")


class TooManyPicks(DomainError):
    code = "too_many_picks"
    http_status = 422


class InvalidPick(DomainError):
    code = "invalid_pick"
    http_status = 422

    def default_message(self) -> str:
        return _("所选胸牌号无效，请刷新后重试。")


class AlreadyRevealed(DomainError):
    code = "already_revealed"
    http_status = 409

    def default_message(self) -> str:
        return _("本场心动卡已揭晓，不能再修改。")


class WindowStillOpen(DomainError):
    code = "pick_window_open"
    http_status = 409

    def default_message(self) -> str:
        return _("心动卡填写尚未截止。")


class DuplicatePair(DomainError):
    code = "duplicate_pair"
    http_status = 409

    def default_message(self) -> str:
        return _("这一对已经登记过了。")


class NicknameRequired(DomainError):
    code = "nickname_required"
    http_status = 422

    def default_message(self) -> str:
        return _("请先设置联谊昵称再填写心动卡。")


# --- finding mixers and settings -----------------------------------------------------------------------------


@dataclass
class SettingsData:
    pick_closes_at: datetime
    max_picks: int = DEFAULT_MAX_PICKS
    other_gender_only: bool = True


def _pick_window_end(ends_at: datetime) -> datetime:
    """Picks close DEFAULT_PICK_WINDOW after the mixer ends; a mixer ending at the calendar's end (a row from
    before the date rule) closes them at its last moment instead of overflowing."""
    if ends_at > datetime.max - DEFAULT_PICK_WINDOW:
        return datetime.max.replace(microsecond=0)
    return ends_at + DEFAULT_PICK_WINDOW


def settings_for(event_id: int) -> MixerSettings | None:
    return db.session.get(MixerSettings, event_id)


def ensure_settings(event: Event) -> MixerSettings:
    """Every mixer has settings: a mixer created elsewhere (API, console) gets the defaults — picks close a day
    after the mixer ends, 5 picks, other gender only."""
    settings = settings_for(event.id)
    if settings is None:
        settings = MixerSettings(
            event_id=event.id,
            pick_closes_at=_pick_window_end(event.ends_at),
            max_picks=DEFAULT_MAX_PICKS,
            other_gender_only=True,
        )
        db.session.add(settings)
        db.session.flush()
    return settings


def get_mixer(event_id: int) -> Event:
    """A published mixer (anything else answers NotFound)."""
    event = db.session.get(Event, event_id)
    if event is None or event.kind != KIND or not event.published:
        raise NotFound()
    return event


def get_managed_mixer(actor: User, event_id: int) -> Event:
    """A mixer the actor manages; outside their subtree it does not exist (404)."""
    return events.managed_event(actor, event_id, KIND)


def managed_mixers(actor: User) -> list[Event]:
    """Mixers of the organizations the actor manages, newest first."""
    from ..orgs.models import Organization
    from ..orgs.scope import scope_condition

    return list(
        db.session.scalars(
            select(Event)
            .join(Organization, Organization.id == Event.organization_id)
            .where(Event.kind == KIND, scope_condition(actor, Organization.path))
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(200)
        ).unique()
    )


def is_revealed(event_id: int) -> bool:
    return db.session.get(MixerReveal, event_id) is not None


def validate_settings(event_starts_at: datetime, data: SettingsData) -> dict[str, list[str]]:
    """The pick window closes after the mixer starts, inside the dates events may take; 1 ≤ K ≤ 50."""
    errors: dict[str, list[str]] = {}
    if data.pick_closes_at <= event_starts_at:
        errors["pick_closes_at"] = [_("心动卡截止时间必须晚于活动开始时间。")]
    problem = events.date_problem(data.pick_closes_at)
    if problem:
        errors.setdefault("pick_closes_at", []).append(problem)
    if not 1 <= data.max_picks <= 50:
        errors["max_picks"] = [_("每人可选人数需在 1 到 50 之间。")]
    return errors


def create_mixer(actor: User, data: events.EventData, settings: SettingsData) -> Event:
    """An organizer creates a mixer (an event of kind "mixer" with its settings); all or nothing."""
    data.kind = KIND
    errors = validate_settings(data.starts_at, settings)
    if errors:
        require_manages(actor, data.organization)
        more = events.validate_event(data)
        raise InvalidInput(_("请检查填写的内容。"), fields={**more, **errors})
    event = events.create_event(actor, data)
    db.session.add(
        MixerSettings(
            event_id=event.id,
            pick_closes_at=settings.pick_closes_at,
            max_picks=settings.max_picks,
            other_gender_only=settings.other_gender_only,
        )
    )
    db.session.flush()
    return event


def update_settings(actor: User, event_id: int, data: SettingsData) -> MixerSettings:
    """Organizers may change the pick window and rules until the reveal; then they are history."""
    event = get_managed_mixer(actor, event_id)
    settings = _lock_settings(event)
    if is_revealed(event.id):
        raise AlreadyRevealed()
    errors = validate_settings(event.starts_at, data)
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    settings.pick_closes_at = data.pick_closes_at
    settings.max_picks = data.max_picks
    settings.other_gender_only = data.other_gender_only
    db.session.flush()
    return settings


def _lock_settings(event: Event, *, shared: bool = False) -> MixerSettings:
    """Lock the mixer's settings row: the reveal takes it exclusively, pick changes share it, so no pick lands
    after the reveal has read and deleted the picks."""
    ensure_settings(event)
    stmt = select(MixerSettings).where(MixerSettings.event_id == event.id).execution_options(populate_existing=True)
    if current_app.config.get("BOOKING_LOCKING", True):
        stmt = stmt.with_for_update(read=shared, of=MixerSettings)
    settings = db.session.scalars(stmt).unique().one()
    return settings


def window_state(event: Event, settings: MixerSettings, now: datetime | None = None) -> str:
    """'before' the mixer starts, 'open' until picks close, then 'closed' until the reveal, then 'revealed'."""
    now = now or clock.now()
    if is_revealed(event.id):
        return "revealed"
    if now < event.starts_at:
        return "before"
    if now < settings.pick_closes_at:
        return "open"
    return "closed"


# --- check-in and badges -------------------------------------------------------------------------------------


def attendee_for(user: User, event_id: int) -> MixerAttendee | None:
    return db.session.scalar(
        select(MixerAttendee).where(MixerAttendee.event_id == event_id, MixerAttendee.user_id == user.id)
    )


def check_in(
    actor: User, event_id: int, *, registration_id: int | None = None, ticket_code: str | None = None
) -> MixerAttendee:
    """An organizer checks a confirmed registrant in (through the booking engine) and gives them the next badge
    number of this mixer, only inside the check-in window (from a few hours before the start to the end).
    Checking in again returns the same badge."""
    event = get_managed_mixer(actor, event_id)
    if registration_id is None and not (ticket_code or "").strip():
        raise InvalidInput(_("请选择嘉宾或输入电子票码。"))
    condition = (
        Registration.id == registration_id
        if registration_id is not None
        else Registration.ticket_code == (ticket_code or "").strip()
    )
    registration = db.session.scalar(select(Registration).where(condition, Registration.event_id == event.id))
    if registration is None or registration.user_id is None:
        raise NotFound(_("没有找到该报名（请核对电子票）。"))
    if registration.status in (Status.CONFIRMED, Status.NO_SHOW):  # the others are refused by the engine
        require_checkin_open(event, clock.now())
    booking.check_in(registration, actor=actor)  # the badge is handed out by the receiver below
    attendee = db.session.scalar(
        select(MixerAttendee).where(MixerAttendee.event_id == event.id, MixerAttendee.user_id == registration.user_id)
    )
    if attendee is None:  # checked in before this feature saw it (e.g. data from before the receiver existed)
        attendee = _give_badge(event, registration)
    return attendee


def _signup_nickname(raw: object) -> str | None:
    """The nickname chosen at sign-up, if it still passes the free-text rule: one stored before the rule (a NUL
    byte, a line break) is left out, so the person is checked in and picks a nickname on their card page."""
    try:
        return clean_text(raw, max_length=NICKNAME_MAX) or None
    except TextRefused:
        return None


def _give_badge(event: Event, registration: Registration) -> MixerAttendee:
    """The next badge number of this mixer for a checked-in registrant, with the nickname chosen at sign-up.
    Runs while the booking engine holds the slot's lock, so numbers are handed out one at a time."""
    existing = db.session.scalar(
        select(MixerAttendee).where(MixerAttendee.event_id == event.id, MixerAttendee.user_id == registration.user_id)
    )
    if existing is not None:
        return existing
    ensure_settings(event)
    last = db.session.scalar(select(func.max(MixerAttendee.badge_no)).where(MixerAttendee.event_id == event.id))
    options = registration.options or {}
    attendee = MixerAttendee(
        event_id=event.id,
        user_id=registration.user_id,
        registration_id=registration.id,
        badge_no=(last or 0) + 1,
        gender=registration.gender,
        nickname=_signup_nickname(options.get("nickname")),
        share_contact=bool(options.get("share_contact")),
        checked_in_at=clock.now(),
    )
    db.session.add(attendee)
    db.session.flush()
    return attendee


def keep_badges_in_step(registration: Registration, from_status: Status | None, to_status: Status) -> None:
    """The mixer kind's reaction to its registrations' changes (``MixerPolicy.after_change``): whoever checks a
    mixer registrant in (this feature's door page, the organizer console, a QR scan) gives them a badge;
    undoing a check-in before the reveal takes the badge and any picks to or from it away."""
    if registration.user_id is None:
        return
    event = registration.slot.event
    if to_status == Status.ATTENDED:
        _give_badge(event, registration)
    elif from_status == Status.ATTENDED and not is_revealed(event.id):
        attendee = db.session.scalar(
            select(MixerAttendee).where(
                MixerAttendee.event_id == event.id, MixerAttendee.user_id == registration.user_id
            )
        )
        if attendee is not None:
            db.session.execute(
                delete(MixerPick).where(or_(MixerPick.picker_id == attendee.id, MixerPick.picked_id == attendee.id))
            )
            db.session.delete(attendee)
            db.session.flush()


def update_card_profile(
    user: User, event_id: int, *, nickname: str, share_contact: bool, contact: str | None = None
) -> MixerAttendee:
    """An attendee sets the nickname others see (never their real name) and whether to share contact details
    with a mutual match; allowed until the reveal."""
    event = get_mixer(event_id)
    attendee = attendee_for(user, event.id)
    if attendee is None:
        raise NotAnAttendee()
    if is_revealed(event.id):
        raise AlreadyRevealed()
    attendee.nickname = clean_nickname(nickname, user.name, required=True)
    attendee.share_contact = share_contact
    try:
        text = " ".join(clean_text(contact or "", max_length=CONTACT_MAX).split())
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"contact": [refused.message]}) from None
    attendee.contact = text or None
    db.session.flush()
    return attendee


# --- match cards ---------------------------------------------------------------------------------------------


def candidates(attendee: MixerAttendee, settings: MixerSettings) -> list[MixerAttendee]:
    """Whom an attendee may pick: the other attendees (of the other gender unless the mixer is open to all)."""
    query = select(MixerAttendee).where(MixerAttendee.event_id == attendee.event_id, MixerAttendee.id != attendee.id)
    if settings.other_gender_only and attendee.gender is not None:
        query = query.where(MixerAttendee.gender != attendee.gender)
    return list(db.session.scalars(query.order_by(MixerAttendee.badge_no)))


def my_picks(attendee: MixerAttendee) -> list[int]:
    """The badge numbers the attendee ticked (shown only to themself, only before the reveal)."""
    rows = db.session.scalars(
        select(MixerAttendee.badge_no)
        .join(MixerPick, MixerPick.picked_id == MixerAttendee.id)
        .where(MixerPick.picker_id == attendee.id)
        .order_by(MixerAttendee.badge_no)
    )
    return list(rows)


def set_picks(user: User, event_id: int, badges: list[int], now: datetime | None = None) -> list[int]:
    """Replace the attendee's match card. Only checked-in attendees, only while the window is open (from the
    mixer's start until the close time, never after the reveal), at most K distinct badges, each an attendee of
    this mixer other than oneself (and of the other gender unless the mixer is open to all)."""
    now = now or clock.now()
    event = get_mixer(event_id)
    settings = _lock_settings(event, shared=True)
    attendee = attendee_for(user, event.id)
    if attendee is None:
        raise NotAnAttendee()
    if is_revealed(event.id) or not event.starts_at <= now < settings.pick_closes_at:
        raise PickWindowClosed()
    if not attendee.nickname:
        raise NicknameRequired()
    wanted = sorted(set(badges))
    if len(wanted) > settings.max_picks:
        raise TooManyPicks(_("每人最多选择 %(k)d 位。", k=settings.max_picks))
    allowed = {c.badge_no: c for c in candidates(attendee, settings)}
    if any(badge not in allowed for badge in wanted):
        raise InvalidPick()
    db.session.execute(delete(MixerPick).where(MixerPick.picker_id == attendee.id))
    for badge in wanted:
        db.session.add(MixerPick(event_id=event.id, picker_id=attendee.id, picked_id=allowed[badge].id))
    db.session.flush()
    return wanted


# --- the reveal ----------------------------------------------------------------------------------------------


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
    settings = _lock_settings(event)
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
    settings = _lock_settings(event)
    if is_revealed(event.id):
        raise AlreadyRevealed()
    if now < event.starts_at:
        raise DomainError(_("活动开始后才能截止并揭晓。"))
    if settings.pick_closes_at > now:
        settings.pick_closes_at = now
        db.session.flush()
    return reveal(event.id, now, actor)


# --- paper cards ---------------------------------------------------------------------------------------------


def add_paper_pair(actor: User, event_id: int, badge_a: int, badge_b: int, now: datetime | None = None) -> MixerPair:
    """An organizer enters a mutual pair from paper cards by badge numbers: two different badges, both of
    checked-in attendees of this mixer, not already a pair (in either order, from the app or paper)."""
    now = now or clock.now()
    event = get_managed_mixer(actor, event_id)
    _lock_settings(event)
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


# --- the matching-outcome log --------------------------------------------------------------------------------


def _member(pair: MixerPair, user: User) -> str:
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


def _has_outcome(pair_id: int, kind: OutcomeKind) -> bool:
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
    member = _member(pair, user)
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
    if answer_value == FollowupAnswer.ENDED and not _has_outcome(pair.id, OutcomeKind.ENDED):
        db.session.add(MixerOutcome(pair_id=pair.id, kind=OutcomeKind.ENDED, at=now))
    if answer_value == FollowupAnswer.DATING and not _has_outcome(pair.id, OutcomeKind.DATING):
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


# --- what people see -----------------------------------------------------------------------------------------


@dataclass
class StageView:
    stage: str
    due_at: datetime
    my_answer: str | None
    can_answer: bool


@dataclass
class MatchView:
    pair: MixerPair
    event: Event
    partner_name: str
    partner_contact: str | None
    confirmed: bool
    stages: list[StageView] = field(default_factory=list)


def _match_view(pair: MixerPair, user: User, now: datetime) -> MatchView:
    member = _member(pair, user)
    mine, partner = (pair.attendee_a, pair.attendee_b) if member == "a" else (pair.attendee_b, pair.attendee_a)
    contact = None
    if mine is not None and partner is not None and mine.share_contact and partner.share_contact:
        partner_user = db.session.get(User, partner.user_id) if partner.user_id is not None else None
        contact = partner.contact or (partner_user.phone if partner_user else None)
    answers = {
        row.stage: row.answer
        for row in db.session.scalars(
            select(MixerOutcome).where(
                MixerOutcome.pair_id == pair.id,
                MixerOutcome.kind == OutcomeKind.FOLLOWUP,
                MixerOutcome.member == member,
            )
        )
    }
    stages = []
    for stage, delay in STAGE_DELAYS.items():
        due = pair.created_at + delay
        answer = answers.get(stage.value)
        stages.append(StageView(stage.value, due, answer, answer is None and due <= now))
    return MatchView(
        pair=pair,
        event=pair.event,
        partner_name=partner.display_name if partner is not None else _("（已注销）"),
        partner_contact=contact,
        confirmed=_has_outcome(pair.id, OutcomeKind.DATING),
        stages=stages,
    )


def my_matches(user: User, now: datetime | None = None, event_id: int | None = None) -> list[MatchView]:
    """The person's own mutual pairs (revealed ones and paper ones), newest first."""
    now = now or clock.now()
    query = select(MixerPair).where(or_(MixerPair.user_a_id == user.id, MixerPair.user_b_id == user.id))
    if event_id is not None:
        query = query.where(MixerPair.event_id == event_id)
    pairs = db.session.scalars(query.order_by(MixerPair.created_at.desc(), MixerPair.id.desc())).unique()
    visible = [p for p in pairs if p.source == PairSource.PAPER or is_revealed(p.event_id)]
    return [_match_view(pair, user, now) for pair in visible]


@dataclass
class CardView:
    event: Event
    settings: MixerSettings
    state: str
    attendee: MixerAttendee | None
    candidates: list[MixerAttendee]
    picks: list[int]
    matches: list[MatchView]


def card_view(user: User, event_id: int, now: datetime | None = None) -> CardView:
    """What one person sees on a mixer's match-card page: their badge and nickname; during the window the other
    attendees (badge and nickname only) and their own ticks; after the reveal only their own mutual matches."""
    now = now or clock.now()
    event = get_mixer(event_id)
    settings = ensure_settings(event)
    state = window_state(event, settings, now)
    attendee = attendee_for(user, event.id)
    people: list[MixerAttendee] = []
    picks: list[int] = []
    matches: list[MatchView] = []
    if attendee is not None:
        if state == "open":
            people = candidates(attendee, settings)
        if state in ("open", "closed"):
            picks = my_picks(attendee)
        if state == "revealed":
            matches = my_matches(user, now, event_id=event.id)
    return CardView(event, settings, state, attendee, people, picks, matches)


@dataclass
class GenderLine:
    gender: str
    quota: int | None
    confirmed: int
    waitlisted: int
    attended: int


@dataclass
class OrganizerView:
    event: Event
    settings: MixerSettings
    state: str
    genders: list[GenderLine]
    attendees: int
    summary: MixerReveal | None
    show_pick_counts: bool
    paper_pairs: int


def organizer_view(actor: User, event_id: int, now: datetime | None = None) -> OrganizerView:
    """The organizer's dashboard: gender balance of the roster, attendees, window state and, after the reveal,
    aggregates only (picking counts suppressed below MIN_GROUP attendees). Never who picked whom."""
    event = get_managed_mixer(actor, event_id)
    settings = ensure_settings(event)
    counts = Counter(
        {
            (gender, status): n
            for gender, status, n in db.session.execute(
                select(Registration.gender, Registration.status, func.count())
                .where(Registration.event_id == event.id)
                .group_by(Registration.gender, Registration.status)
            )
        }
    )
    slot = event.slots[0] if event.slots else None
    genders = []
    for gender in (Gender.FEMALE, Gender.MALE):
        genders.append(
            GenderLine(
                gender=gender.value,
                quota=slot.quota_for(gender) if slot else None,
                confirmed=counts[(gender, Status.CONFIRMED)] + counts[(gender, Status.ATTENDED)],
                waitlisted=counts[(gender, Status.WAITLISTED)],
                attended=counts[(gender, Status.ATTENDED)],
            )
        )
    attendees = db.session.scalar(select(func.count()).where(MixerAttendee.event_id == event.id)) or 0
    summary = db.session.get(MixerReveal, event.id)
    paper = (
        db.session.scalar(
            select(func.count()).where(MixerPair.event_id == event.id, MixerPair.source == PairSource.PAPER)
        )
        or 0
    )
    return OrganizerView(
        event=event,
        settings=settings,
        state=window_state(event, settings, now),
        genders=genders,
        attendees=attendees,
        summary=summary,
        show_pick_counts=summary is not None and summary.attendees >= MIN_GROUP,
        paper_pairs=paper,
    )


@dataclass
class CheckinRow:
    registration: Registration
    name: str
    gender: str | None
    badge_no: int | None


def checkin_rows(actor: User, event_id: int) -> list[CheckinRow]:
    """Confirmed and checked-in registrants with their badge numbers, for the door."""
    event = get_managed_mixer(actor, event_id)
    badges = {
        user_id: badge
        for user_id, badge in db.session.execute(
            select(MixerAttendee.user_id, MixerAttendee.badge_no).where(MixerAttendee.event_id == event.id)
        )
    }
    rows = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_([Status.CONFIRMED, Status.ATTENDED]))
        .order_by(Registration.id)
    ).unique()
    result = []
    for registration in rows:
        user = registration.user
        result.append(
            CheckinRow(
                registration=registration,
                name=user.name if user else _("（已注销）"),
                gender=registration.gender.value if registration.gender else None,
                badge_no=badges.get(registration.user_id),
            )
        )
    return result


def neutralise(cell: object) -> str:
    """Spreadsheet-safe export cell: text starting with = + - @ tab or CR is prefixed with an apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def roster_rows(actor: User, event_id: int) -> list[list[str]]:
    """The roster export: name, gender, status, badge. It carries nothing about picks or pairs. The export is
    audited (``roster.export``, the row count)."""
    event = get_managed_mixer(actor, event_id)
    badges = {
        user_id: badge
        for user_id, badge in db.session.execute(
            select(MixerAttendee.user_id, MixerAttendee.badge_no).where(MixerAttendee.event_id == event.id)
        )
    }
    gender_names = {Gender.FEMALE: _("女"), Gender.MALE: _("男")}
    status_names = {
        Status.PENDING: _("待审核"),
        Status.CONFIRMED: _("已确认"),
        Status.WAITLISTED: _("候补中"),
        Status.OFFERED: _("候补递补待确认"),
        Status.CANCELLED: _("已取消"),
        Status.REJECTED: _("未通过"),
        Status.EXPIRED: _("已过期"),
        Status.ATTENDED: _("已签到"),
        Status.NO_SHOW: _("未到场"),
    }
    rows = [[_("姓名"), _("性别"), _("状态"), _("胸牌号")]]
    for registration in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    ).unique():
        user = registration.user
        rows.append(
            [
                neutralise(user.name if user else _("（已注销）")),
                gender_names.get(registration.gender, "") if registration.gender else "",
                status_names.get(registration.status, registration.status.value),
                str(badges.get(registration.user_id, "")) if registration.user_id in badges else "",
            ]
        )
    audit.record(
        actor,
        "roster.export",
        "event",
        event.id,
        {"format": "mixer_csv", "rows": len(rows) - 1},
        org=event.organization,
    )
    return rows
