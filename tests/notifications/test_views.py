"""The inbox, its unread count in the navigation, the preferences page and the admin system page."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.notifications.models import ChannelPreference, InboxMessage

from .. import factories
from .factories import book, person


def _client(app, user):
    client = app.test_client()
    factories.login(client, user)
    return client


def test_inbox_shows_the_confirmation_at_once_with_an_unread_badge(app):
    user = person()
    book(user, factories.make_event(title="职工乒乓球友谊赛", starts_in=timedelta(days=3)))
    client = _client(app, user)

    home = client.get("/events/").get_data(as_text=True)
    assert 'href="/notifications/"' in home and 'class="badge"' in home and ">1</span>" in home

    page = client.get("/notifications/").get_data(as_text=True)
    assert "预约成功：职工乒乓球友谊赛" in page and "未读" in page
    [item] = db.session.scalars(db.select(InboxMessage).where(InboxMessage.user_id == user.id)).all()

    assert client.post(f"/notifications/{item.id}/read", data={"open": "1"}).headers["Location"] == "/me/bookings"
    after = client.get("/events/").get_data(as_text=True)
    assert 'class="badge"' not in after
    assert len(db.session.scalars(db.select(InboxMessage)).all()) == 1  # showing it twice added nothing


def test_mark_all_read_and_someone_elses_message_is_not_found(app):
    user, other = person(), person()
    book(user, factories.make_event(reminder_hours=[]))
    book(other, factories.make_event(reminder_hours=[]))
    client = _client(app, user)
    client.get("/notifications/")
    _client(app, other).get("/notifications/")
    theirs = db.session.scalar(db.select(InboxMessage.id).where(InboxMessage.user_id == other.id))
    assert client.post(f"/notifications/{theirs}/read").status_code == 404
    assert client.post("/notifications/read-all").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(InboxMessage.read_at).where(InboxMessage.user_id == user.id)) is not None
    assert db.session.scalar(db.select(InboxMessage.read_at).where(InboxMessage.user_id == other.id)) is None


def test_preferences_page_is_linked_from_the_profile_and_saves(app):
    user = person()
    client = _client(app, user)
    assert 'href="/notifications/settings"' in client.get("/account/profile").get_data(as_text=True)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "站内消息始终开启" in page and 'name="email"' in page and "checked" in page
    assert client.post("/notifications/settings", data={"sms": "y"}).status_code == 302
    preference = db.session.get(ChannelPreference, user.id)
    assert preference.email is False and preference.sms is True


def test_inbox_needs_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_system_page_is_for_admins_only(app, employee_client, organizer_client, admin_client):
    assert employee_client.get("/admin/system/").status_code == 404
    assert organizer_client.get("/admin/system/").status_code == 404
    assert 'href="/admin/system/"' not in employee_client.get("/events/").get_data(as_text=True)
    assert 'href="/admin/system/"' in admin_client.get("/events/").get_data(as_text=True)
    page = admin_client.get("/admin/system/").get_data(as_text=True)
    assert "调度器进程" in page and "booking.expire_offers" in page and "当前没有运行中的调度器" in page
    assert employee_client.post("/admin/system/outbox/1/retry").status_code == 404
    assert admin_client.post("/admin/system/outbox/999/retry").status_code == 404


def test_inbox_pages_at_360px_have_no_inline_styles_or_scripts(app):
    user = person()
    book(user, factories.make_event(reminder_hours=[]))
    client = _client(app, user)
    for url in ("/notifications/", "/notifications/settings"):
        html = client.get(url).get_data(as_text=True)
        assert "style=" not in html and "<script>" not in html


def test_a_reminder_that_no_longer_applies_is_not_shown_nor_counted(app):
    from app import clock
    from app.outbox.models import OutboxMessage, OutboxStatus

    from .factories import freeze

    freeze()
    user = person()
    event = factories.make_event(starts_in=timedelta(days=2))
    book(user, event)
    client = _client(app, user)
    client.get("/notifications/")  # the confirmation is shown and read below
    client.post("/notifications/read-all")
    slot = event.slots[0]
    slot.starts_at += timedelta(days=3)  # moved without rescheduling: the planned reminders are stale
    slot.ends_at += timedelta(days=3)
    db.session.commit()
    clock.advance(timedelta(days=1, minutes=1))
    client = _client(app, user)  # a day later: a new login session
    page = client.get("/notifications/").get_data(as_text=True)
    assert "消息" in page
    assert "活动提醒" not in page and 'class="badge"' not in page
    stale = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.kind == "reminder", OutboxMessage.channel == "inbox")
        .order_by(OutboxMessage.due_at)
    ).all()
    assert stale[0].status == OutboxStatus.SKIPPED and stale[0].last_error == "event time changed"
