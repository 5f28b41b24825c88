"""Demo data for notifications: channel choices and a welcome message in every demo employee's inbox.

Bookings made by the other demo seeders already queued their confirmations and reminders through the receivers.
Idempotent (preferences are only created when missing; the welcome message has a fixed subject, so the outbox's
idempotency key makes a second run a no-op) and deterministic (a fixed random seed)."""

from __future__ import annotations

import random

from sqlalchemy import select

from ..accounts.models import Role, User
from ..extensions import db
from ..notifications.models import ChannelPreference
from ..outbox import enqueue

WELCOME_TITLE = "欢迎使用职工之家"
WELCOME_BODY = (
    "这里可以预约单身青年联谊活动、健康大篷车筛查和职工疗休养。\n\n"
    "预约成功、候补递补、抽签结果和活动提醒都会发到这里；在“我的 → 消息设置”中还可以选择邮件或短信提醒。"
)


def seed_demo() -> None:
    rng = random.Random(20260808)
    employees = db.session.scalars(
        select(User).where(User.role == Role.EMPLOYEE, User.deleted_at.is_(None)).order_by(User.id)
    ).all()
    existing = set(db.session.scalars(select(ChannelPreference.user_id)))
    for user in employees:
        roll = rng.random()
        if user.id not in existing and roll < 0.15:
            # About one in seven chose something other than the defaults: SMS on, or email off.
            db.session.add(ChannelPreference(user_id=user.id, email=roll >= 0.05, sms=roll < 0.10))
        enqueue(
            user,
            "announcement",
            "welcome",
            template="announcement",
            data={"title": WELCOME_TITLE, "body": WELCOME_BODY, "link": "/events/", "action": "去看看活动"},
            channels=["inbox"],
        )
    db.session.flush()
