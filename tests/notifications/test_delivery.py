"""Delivery of the outbox to a real local SMTP server: once, with retries, leases, expiry and catch-up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.notifications import delivery
from app.notifications.channels.email import EmailChannel
from app.notifications.models import InboxMessage
from app.outbox.models import OutboxMessage, OutboxStatus

from .. import factories
from .factories import book, freeze, generic, later, outbox, person, statuses


def test_booking_confirmation_arrives_once_by_email_with_ics_and_in_the_inbox(smtp):
    freeze()
    user = person(name="李秀英")
    event = factories.make_event(title="职工羽毛球联谊赛", starts_in=timedelta(days=3))
    registration = book(user, event)

    report = delivery.tick(owner="s1")
    again = delivery.tick(owner="s1")

    assert report.sent == 2 and again.claimed == 0  # email + inbox now; reminders are not due yet
    [mail] = smtp.to(user.email)
    assert "预约成功" in str(mail["Subject"]) and "职工羽毛球联谊赛" in str(mail["Subject"])
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "李秀英" in text and "职工羽毛球联谊赛" in html
    [ics] = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert f"UID:registration-{registration.id}@" in ics.get_content()
    confirmation = outbox(user, kind="booking_confirmed", channel="email")[0]
    assert str(mail["Message-ID"]) == f"<outbox-{confirmation.id}@localhost>"
    inbox = db.session.scalars(db.select(InboxMessage).where(InboxMessage.user_id == user.id)).all()
    assert [item.title for item in inbox] == [str(mail["Subject"])]


def test_a_batch_goes_out_on_one_connection_each_person_greeted_by_their_own_name(smtp):
    """Confirmations of one event read the same but for the name: rendered once, each person's name filled in
    (escaped in the HTML); the whole batch shares one SMTP connection."""
    freeze()
    event = factories.make_event(title="职工羽毛球联谊赛", starts_in=timedelta(days=3), capacity=10)
    people = [person(name="李秀英"), person(name="<王>&小明"), person(name="张伟")]
    for someone in people:
        book(someone, event)

    assert delivery.tick(owner="s1").sent == 6  # email + inbox each
    assert smtp.connections == 1
    for someone in people:
        [mail] = smtp.to(someone.email)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        others = [other.name for other in people if other is not someone]
        assert text.startswith(f"{someone.name}，") and not any(name in text for name in others)
        assert "<王>" not in html
    [odd] = smtp.to(people[1].email)
    assert "&lt;王&gt;&amp;小明" in odd.get_body(preferencelist=("html",)).get_content()


def test_a_long_chinese_subject_arrives_exactly_as_written(smtp):
    freeze()
    user = person()
    title = "活动提醒：赣州市总工会二〇二六年度职工健康讲座暨两癌筛查政策宣讲会 将于 2026-06-10 12:30 开始"
    generic(user, "long", title=title)
    assert delivery.tick(owner="s1").sent == 1
    [mail] = smtp.to(user.email)
    assert str(mail["Subject"]) == f"{title} long"


def test_one_refused_recipient_in_a_send_group_leaves_the_others_delivered(smtp):
    freeze()
    people = [person() for _ in range(4)]
    for someone in people:
        generic(someone, "group")
    smtp.refuse_recipients = {people[1].email}

    report = delivery.tick(owner="s1")

    assert report.sent == 3 and report.retried == 1
    assert [len(smtp.to(someone.email)) for someone in people] == [1, 0, 1, 1]
    assert [[row.status for row in outbox(someone)] for someone in people] == [
        [OutboxStatus.SENT],
        [OutboxStatus.PENDING],
        [OutboxStatus.SENT],
        [OutboxStatus.SENT],
    ]


def test_a_crash_mid_group_resends_only_that_group_with_the_same_message_ids(smtp, app, monkeypatch):
    """The documented window: a sender dies after the server accepted the second message of a group of two; the
    first group was committed, the second is sent again after the lease (same Message-IDs), the rest once."""
    freeze()
    app.config["NOTIFY_SEND_GROUP"] = 2
    people = [person() for _ in range(5)]
    for someone in people:
        generic(someone, "window")
    real_transmit = EmailChannel.transmit
    accepted = []

    def transmit_and_die_at_the_fourth(self, envelope, encoded):
        real_transmit(self, envelope, encoded)
        accepted.append(envelope.outbox_id)
        if len(accepted) == 4:
            raise SystemExit("killed")

    monkeypatch.setattr(EmailChannel, "transmit", transmit_and_die_at_the_fourth)
    with pytest.raises(SystemExit):
        delivery.tick(owner="doomed")
    monkeypatch.setattr(EmailChannel, "transmit", real_transmit)
    assert [outbox(someone)[0].status for someone in people] == [OutboxStatus.SENT] * 2 + [OutboxStatus.PENDING] * 3

    later(seconds=301)
    assert delivery.tick(owner="survivor").sent == 3
    ids = smtp.message_ids()
    assert len(ids) == 7 and len(set(ids)) == 5  # the dead sender's second group arrived twice
    assert sorted(ids[2:4]) == sorted(ids[4:6])


def test_reminders_go_out_at_their_time_and_never_after_the_start(smtp):
    start = freeze()
    user = person()
    event = factories.make_event(starts_in=timedelta(days=2))
    book(user, event)
    delivery.tick(owner="s1")
    assert len(smtp.to(user.email)) == 1

    clock.set_now(event.starts_at - timedelta(hours=23, minutes=59))  # the 24 h reminder is due
    delivery.tick(owner="s1")
    subjects = [str(m["Subject"]) for m in smtp.to(user.email)]
    assert len(subjects) == 2 and "活动提醒" in subjects[1]

    clock.set_now(event.starts_at + timedelta(minutes=1))  # the scheduler was down during the 2 h reminder
    report = delivery.tick(owner="s1")
    assert report.sent == 0 and len(smtp.to(user.email)) == 2
    assert statuses(user, "reminder") == {"sent": 2, "skipped": 2}  # 24 h (email+inbox) sent, 2 h skipped
    assert start < clock.now()


def test_catch_up_after_downtime_delivers_what_is_still_useful_and_skips_the_rest(smtp):
    freeze()
    user = person()
    soon = factories.make_event(title="周末健康讲座", starts_in=timedelta(hours=30))
    far = factories.make_event(title="井冈山疗休养", starts_in=timedelta(days=5))
    book(user, soon)
    book(user, far)
    # The scheduler is down for a day and a half: both confirmations, the 24 h and 2 h reminders of the first
    # event (which has started by now) and nothing of the second's reminders are due.
    later(hours=36)
    report = delivery.tick(owner="s1")

    subjects = smtp.subjects()
    assert sorted(s.split("：")[0] for s in subjects) == ["预约成功", "预约成功"]
    reminders = outbox(user, kind="reminder", channel="email")
    assert [r.status for r in reminders] == [
        OutboxStatus.SKIPPED,  # soon: 24 h before — the event started while we were down
        OutboxStatus.SKIPPED,  # soon: 2 h before
        OutboxStatus.PENDING,  # far: 24 h before, not due yet
        OutboxStatus.PENDING,  # far: 2 h before
    ]
    assert report.skipped == 4  # the two reminders on two channels


def test_a_sender_that_died_after_claiming_is_retried_after_its_lease_and_sends_once(smtp):
    freeze()
    user = person()
    ids = generic(user, "lease-test")
    assert delivery.claim("crashed-host:1", limit=10) == ids  # claims, then "dies" before sending

    before_lease_ends = delivery.tick(owner="survivor")
    assert before_lease_ends.claimed == 0 and smtp.messages == []

    later(seconds=301)  # the 300 s lease has expired
    report = delivery.tick(owner="survivor")
    assert report.sent == 1 and len(smtp.to(user.email)) == 1
    row = db.session.get(OutboxMessage, ids[0])
    assert row.status == OutboxStatus.SENT and row.attempts == 2 and row.lease_owner is None
    later(seconds=301)
    assert delivery.tick(owner="survivor").claimed == 0 and len(smtp.messages) == 1


def test_a_crash_right_after_the_server_accepted_resends_with_the_same_message_id(smtp, monkeypatch):
    """The documented at-least-once window: the SMTP server accepted the message but the process died before the
    sent mark committed. The resend carries the same Message-ID, so receivers can drop it."""
    freeze()
    user = person()
    generic(user, "window")
    real_transmit = EmailChannel.transmit

    def transmit_then_die(self, envelope, encoded):
        real_transmit(self, envelope, encoded)
        raise SystemExit("killed")

    monkeypatch.setattr(EmailChannel, "transmit", transmit_then_die)
    with pytest.raises(SystemExit):
        delivery.tick(owner="doomed")
    monkeypatch.setattr(EmailChannel, "transmit", real_transmit)
    assert delivery.tick(owner="survivor").claimed == 0  # the dead sender's lease still holds
    later(seconds=301)
    assert delivery.tick(owner="survivor").sent == 1
    ids = smtp.message_ids()
    assert len(ids) == 2 and ids[0] == ids[1]


def test_a_sender_whose_lease_was_taken_over_sends_nothing(smtp, app):
    """A sender that stalled past its lease (here: its host's clock runs behind, so it believes the lease still
    runs) finds the row taken over and delivered by another sender, and sends nothing itself."""
    start = freeze()
    user = person()
    generic(user, "stalled")
    stalled = delivery.TickReport()
    prepared = delivery.prepare(delivery.claim("stalled-host", limit=10), "stalled-host", stalled)

    later(seconds=301)
    assert delivery.tick(owner="survivor").sent == 1

    clock.set_now(start)
    channels = delivery.build_channels(app.config)
    for channel in channels.values():
        channel.open()
    try:
        with ThreadPoolExecutor(max_workers=1) as wire:
            delivery.send_group(prepared, "stalled-host", channels, stalled, wire)
    finally:
        for channel in channels.values():
            channel.close()
    assert stalled.lost == 1 and stalled.sent == 0
    assert len(smtp.to(user.email)) == 1


def test_smtp_refusal_is_retried_with_backoff_then_failed_and_shown_to_admins(smtp, app):
    freeze()
    user = person()
    [message_id] = generic(user, "refused")
    smtp.refuse = "451 4.3.0 Mail server temporarily unavailable"

    first = delivery.tick(owner="s1")
    row = db.session.get(OutboxMessage, message_id)
    assert first.retried == 1 and row.status == OutboxStatus.PENDING and "451" in row.last_error
    assert row.due_at == clock.now() + timedelta(minutes=1)
    assert delivery.tick(owner="s1").claimed == 0  # backing off

    for minutes in (1, 2, 4, 8):
        later(minutes=minutes)
        delivery.tick(owner="s1")
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message_id)
    assert row.status == OutboxStatus.FAILED and row.attempts == app.config["NOTIFY_MAX_ATTEMPTS"] == 5
    assert smtp.refused == 5 and smtp.messages == []
    later(hours=5)
    assert delivery.tick(owner="s1").claimed == 0  # given up

    admin = factories.make_admin()
    client = app.test_client()
    factories.login(client, admin)
    page = client.get("/admin/system/").get_data(as_text=True)
    assert f"<td>{message_id}</td>" in page and "451" in page

    smtp.refuse = None
    assert client.post(f"/admin/system/outbox/{message_id}/retry").status_code == 302
    assert delivery.tick(owner="s1").sent == 1 and len(smtp.to(user.email)) == 1


def test_smtp_down_is_retried_and_then_delivered_when_it_is_back(smtp_down, app):
    freeze()
    user = person()
    [message_id] = generic(user, "down")
    report = delivery.tick(owner="s1")
    row = db.session.get(OutboxMessage, message_id)
    assert report.retried == 1 and row.status == OutboxStatus.PENDING and "SMTP connect" in row.last_error

    from .smtp import SmtpServer

    server = SmtpServer(smtp_down)
    server.start()
    try:
        later(minutes=1)
        assert delivery.tick(owner="s1").sent == 1
        assert len(server.handler.to(user.email)) == 1
    finally:
        server.stop()


def test_rows_past_expiry_are_skipped_not_sent(smtp):
    freeze()
    user = person()
    generic(user, "stale", expires_at=clock.now() + timedelta(minutes=5))
    later(minutes=6)
    report = delivery.tick(owner="s1")
    assert report.skipped == 1 and smtp.messages == []
    assert statuses(user) == {"skipped": 1}


def test_a_reminder_of_a_cancelled_registration_is_never_sent(smtp):
    freeze()
    user = person()
    event = factories.make_event(starts_in=timedelta(days=2))
    registration = book(user, event)
    delivery.tick(owner="s1")
    from app.booking import services as booking

    booking.cancel(registration, actor=user)
    db.session.commit()
    later(days=2)
    delivery.tick(owner="s1")
    assert [str(m["Subject"]).split("：")[0] for m in smtp.to(user.email)] == ["预约成功"]
    assert set(statuses(user, "reminder")) == {"skipped"}


def test_recipient_language_is_used_for_the_email(smtp):
    freeze()
    user = person()
    user.locale = "en"
    db.session.commit()
    generic(user, "english")
    delivery.tick(owner="s1")
    [mail] = smtp.to(user.email)
    assert '<html lang="en">' in mail.get_body(preferencelist=("html",)).get_content()


def test_sms_goes_through_the_logging_backend_when_chosen(app, caplog):
    from app.notifications.channels.sms import LogSmsChannel

    freeze()
    user = person()
    generic(user, "sms-test", channels=("sms",))
    channel = LogSmsChannel()
    with caplog.at_level("INFO", logger="zhijia.sms"):
        report = delivery.tick(owner="s1", channels={"sms": channel})
    assert report.sent == 1
    [(masked, text)] = channel.sent
    assert masked == user.phone[:3] + "****" + user.phone[-4:] and text.startswith("【职工之家】")
    assert user.phone not in caplog.text


def test_password_reset_link_is_emailed_once_and_scrubbed_after_sending(smtp, client):
    user = person()
    response = client.post("/account/reset", data={"phone": user.phone})
    assert response.status_code == 302
    [row] = outbox(user)
    assert row.channel == "email" and row.kind == "password_reset" and "url" in row.data
    delivery.tick(owner="s1")
    [mail] = smtp.to(user.email)
    assert "/account/reset/" in mail.get_body(preferencelist=("plain",)).get_content()
    [row] = outbox(user)
    assert row.status == OutboxStatus.SENT and row.data == {}


def test_other_features_messages_render_from_their_data(smtp):
    from app.outbox import enqueue

    freeze()
    user = person()
    enqueue(
        user,
        "organizer_message",
        "event:1:message:x",
        template="organizer_message",
        data={"title": "集合时间调整", "body": "请于 8:30 在南门集合。", "from": "南昌市总工会"},
    )
    enqueue(
        user,
        "mixer_match",
        "mixer-pair:1:matched",
        template="mixers/match",
        data={"title": "「青春有约」配对成功", "body": "打开“我的联谊”查看。", "url": "/mixers/matches"},
        essential=True,
    )
    db.session.commit()
    delivery.tick(owner="s1")
    mails = {str(m["Subject"]): m for m in smtp.to(user.email)}
    assert set(mails) == {"集合时间调整", "「青春有约」配对成功"}
    assert "来自：南昌市总工会" in mails["集合时间调整"].get_body(preferencelist=("plain",)).get_content()
    html = mails["「青春有约」配对成功"].get_body(preferencelist=("html",)).get_content()
    assert 'href="http://localhost/mixers/matches"' in html
    links = {i.title: i.link for i in db.session.scalars(db.select(InboxMessage))}
    assert links == {"集合时间调整": None, "「青春有约」配对成功": "/mixers/matches"}
