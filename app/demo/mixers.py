"""Demo data for singles mixers: two past mixers (one matched in the app, one on paper cards) with revealed pairs
and answered follow-ups, one live mixer whose pick window is open now, and one open for sign-up.

Idempotent (a mixer is recognised by its title) and deterministic (a fixed random seed)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock
from ..accounts.consents import MIXER_SIGNUP
from ..accounts.models import Gender, Role, User
from ..booking import services as booking
from ..booking.models import Registration
from ..errors import DomainError
from ..events.models import Event, WaitlistPolicy
from ..events.services import EventData, SlotData
from ..extensions import db
from ..mixers import cards, checkin, outcomes, reveal, windows
from ..mixers.models import FollowupStage, MixerAttendee, MixerPair
from ..orgs.models import City
from ..orgs.services import get_by_code

NICKNAMES = [
    "小太阳",
    "星河",
    "清风徐来",
    "橘子汽水",
    "山间明月",
    "稻香",
    "阿远",
    "木子",
    "向日葵",
    "晚风",
    "大白",
    "柚子",
    "小满",
    "远山",
    "青柠",
    "书虫",
    "跑步的鱼",
    "赣江边的风",
    "滕王阁下",
    "庐山云雾",
    "井冈翠竹",
    "瓷都小匠",
    "婺源油菜花",
    "咖啡不加糖",
    "周末爬山",
    "白鹭",
    "南昌拌粉",
    "老表",
    "一颗橙",
    "天天向上",
    "蓝天白云",
    "小石头",
    "知足常乐",
    "海棠",
    "松果",
    "追光的人",
    "安静的猫",
    "一只喵",
    "风筝",
    "阿杰",
]

MIXERS = [
    # (title, org code, city code, venue, days from now to the start, kind of demo)
    ("金秋有约·南昌市单身职工联谊会", "jx-nanchang", "nanchang", "南昌市职工文化宫三楼多功能厅", -75, "app"),
    ("赣江之畔·九江青年职工心动派对", "jx-jiujiang", "jiujiang", "九江市总工会职工服务中心", -120, "paper"),
    ("冬日暖阳·单身青年职工联谊会", "jx-nanchang", "nanchang", "南昌红谷滩职工之家", 0, "live"),
    ("元旦迎新·赣鄱青年交友联谊会", "jx-ganzhou", "ganzhou", "赣州市职工文化活动中心", 21, "signup"),
]

DESCRIPTION = (
    "由工会主办的单身青年职工联谊活动：破冰游戏、才艺展示、茶话交流。报名需声明单身并单独同意处理婚姻状况信息；"
    "现场按胸牌号相识，会后在手机上填写心动卡，只有双方互选才会同时揭晓。"
)


def _eligible(rng: random.Random, on: datetime) -> tuple[list[User], list[User]]:
    people = db.session.scalars(
        select(User).where(User.role == Role.EMPLOYEE, User.deleted_at.is_(None)).order_by(User.id)
    ).unique()
    women: list[User] = []
    men: list[User] = []
    for user in people:
        profile = user.profile
        if profile is None or not 22 <= clock.age_on(profile.birth_date, on.date()) <= 40:
            continue
        (women if profile.gender == Gender.FEMALE else men).append(user)
    rng.shuffle(women)
    rng.shuffle(men)
    return women, men


def _organizer(org_code: str) -> User | None:
    org = get_by_code(org_code)
    if org is None:
        return None
    staff = db.session.scalar(
        select(User).where(User.role == Role.ORGANIZER, User.organization_id == org.id).order_by(User.id).limit(1)
    )
    return staff or db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))


def _create(actor: User, title: str, org_code: str, city_code: str, venue: str, start: datetime, quota: int) -> Event:
    city = db.session.scalar(select(City).where(City.code == city_code))
    organization = get_by_code(org_code)
    assert city is not None and organization is not None
    end = start + timedelta(hours=3)
    return windows.create_mixer(
        actor,
        EventData(
            kind=windows.KIND,
            title=title,
            city=city,
            organization=organization,
            starts_at=start,
            ends_at=end,
            signup_opens_at=start - timedelta(days=30),
            signup_closes_at=start - timedelta(days=1),
            cancel_deadline=start - timedelta(days=2),
            description=DESCRIPTION,
            venue=venue,
            min_age=22,
            max_age=40,
            slots=[
                SlotData(
                    starts_at=start,
                    ends_at=end,
                    capacity=quota * 2,
                    quota_female=quota,
                    quota_male=quota,
                    waitlist_policy=WaitlistPolicy.OFFER,
                )
            ],
        ),
        windows.SettingsData(pick_closes_at=end + timedelta(hours=21), max_picks=3, other_gender_only=True),
    )


def _sign_up(event: Event, people: list[User], rng: random.Random, names: list[str]) -> list[Registration]:
    registrations = []
    for person in people:
        nickname = names.pop() if names else None
        try:
            registrations.append(
                booking.book(
                    person,
                    event.slots[0].id,
                    consents=[MIXER_SIGNUP],
                    options={"nickname": nickname, "share_contact": rng.random() < 0.7},
                )
            )
        except DomainError:
            continue
    return registrations


def _check_in(actor: User, event: Event, registrations: list[Registration]) -> list[tuple[User, MixerAttendee]]:
    attendees = []
    for registration in registrations:
        if registration.status.value != "confirmed":
            continue
        attendee = checkin.check_in(actor, event.id, registration_id=registration.id)
        user = db.session.get(User, registration.user_id)
        assert user is not None
        attendees.append((user, attendee))
    return attendees


def _pick(event: Event, attendees: list[tuple[User, MixerAttendee]], rng: random.Random, mutual: int) -> None:
    """Some mutual pairs plus scattered one-sided ticks, like a real evening."""
    women = [(u, a) for u, a in attendees if a.gender == Gender.FEMALE]
    men = [(u, a) for u, a in attendees if a.gender == Gender.MALE]
    picks: dict[int, set[int]] = {a.id: set() for _u, a in attendees}
    for (_wu, wa), (_mu, ma) in list(zip(women, men, strict=False))[:mutual]:
        picks[wa.id].add(ma.badge_no)
        picks[ma.id].add(wa.badge_no)
    for user_side, other_side in ((women, men), (men, women)):
        for _u, attendee in user_side:
            if rng.random() < 0.5 and other_side:
                picks[attendee.id].add(rng.choice(other_side)[1].badge_no)
    for user, attendee in attendees:
        chosen = sorted(picks[attendee.id])[:3]
        if chosen:
            cards.set_picks(user, event.id, chosen)


def _followups(event: Event, rng: random.Random) -> None:
    pairs = db.session.scalars(select(MixerPair).where(MixerPair.event_id == event.id).order_by(MixerPair.id)).all()
    for index, pair in enumerate(pairs):
        members = [db.session.get(User, uid) for uid in (pair.user_a_id, pair.user_b_id) if uid is not None]
        story = ["dating", "dating", "in_touch", "ended"][index % 4]
        for stage, delay in outcomes.STAGE_DELAYS.items():
            moment = pair.created_at + delay + timedelta(hours=rng.randint(2, 40))
            if moment > clock.now():
                break
            for member in members:
                if member is None:
                    continue
                answer = "in_touch" if stage == FollowupStage.DAYS_3 and story != "ended" else story
                outcomes.answer_followup(member, pair.id, stage.value, answer, now=moment)
            if story == "ended":
                break


def seed_demo() -> None:
    """Create the demo mixers that do not exist yet (by title)."""
    rng = random.Random(20261129)
    now = clock.now().replace(second=0)
    names = list(NICKNAMES)
    rng.shuffle(names)
    for title, org_code, city_code, venue, days, mode in MIXERS:
        if db.session.scalar(select(Event.id).where(Event.kind == windows.KIND, Event.title == title)) is not None:
            continue
        actor = _organizer(org_code)
        if actor is None:
            continue
        start = (now + timedelta(days=days)).replace(hour=14, minute=30) if mode != "live" else now - timedelta(hours=2)
        women, men = _eligible(rng, start)
        size = {"app": 10, "paper": 8, "live": 8, "signup": 3}[mode]
        with clock.frozen_at(min(start - timedelta(days=10), now)):
            event = _create(actor, title, org_code, city_code, venue, start, quota=max(size + 2, 20))
            registrations = _sign_up(event, women[:size] + men[:size], rng, list(names))
        db.session.flush()
        if mode == "signup":
            continue
        with clock.frozen_at(start + timedelta(minutes=20)):
            attendees = _check_in(actor, event, registrations)
        if mode == "paper":
            women_a = [a for _u, a in attendees if a.gender == Gender.FEMALE]
            men_a = [a for _u, a in attendees if a.gender == Gender.MALE]
            with clock.frozen_at(start + timedelta(hours=4)):
                for woman, man in list(zip(women_a, men_a, strict=False))[:3]:
                    reveal.add_paper_pair(actor, event.id, woman.badge_no, man.badge_no)
        else:
            with clock.frozen_at(start + timedelta(hours=1)):
                _pick(event, attendees, rng, mutual=3 if mode == "app" else 2)
        if mode == "live":
            continue
        settings = windows.ensure_settings(event)
        reveal.reveal(event.id, settings.pick_closes_at)
        _followups(event, rng)
        db.session.flush()
