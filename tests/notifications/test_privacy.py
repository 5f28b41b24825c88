"""The inbox in "download my data", account deletion and retention."""

from __future__ import annotations

from datetime import timedelta

from blinker import signal
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.notifications import services
from app.notifications.delivery import deliver_inbox_now
from app.notifications.models import ChannelPreference, InboxMessage

from .. import factories
from .factories import book, freeze, person


def _inbox_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.user_id == user_id))


def test_export_forget_and_retention():
    freeze()
    user, other = person(), person()
    services.save_preferences(user, email=False, sms=True)
    for someone in (user, other):
        book(someone, factories.make_event(reminder_hours=[]))
        deliver_inbox_now(someone)
    db.session.commit()

    sections = {result[0]: result[1] for _, result in signal("privacy-export").send(user) if result}
    assert sections["channel_preferences"] == {"inbox": True, "email": False, "sms": True}
    [message] = sections["inbox"]
    assert message["title"].startswith("预约成功")

    signal("account-deleting").send(user)
    db.session.commit()
    assert _inbox_count(user.id) == 0 and db.session.get(ChannelPreference, user.id) is None
    assert _inbox_count(other.id) == 1

    signal("privacy-retention").send(clock.now() + timedelta(days=366))
    db.session.commit()
    assert _inbox_count(other.id) == 0
