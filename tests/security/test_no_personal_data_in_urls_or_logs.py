"""Nothing personal in URLs or logs: a whole booking journey, with every log record and every URL checked."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from app import clock
from app.accounts.models import User
from app.booking.models import Registration
from app.extensions import db
from app.tasks import registered_tasks

from .. import factories
from ..sms_codes import with_code

NAME = "司马青云"
PHONE = "13687654321"
EMAIL = "sima.qingyun@example.com"
NEEDLES = [NAME, PHONE, EMAIL, quote(NAME), quote(EMAIL), EMAIL.split("@")[0]]


def run_every_task() -> None:
    """One tick of every scheduler task (delivery, reminders, retention...), as the scheduler process would."""
    for task in registered_tasks():
        task.func(clock.now())
        db.session.commit()
    try:
        from app.notifications import delivery
    except ImportError:
        return
    delivery.tick(owner="privacy-test")
    db.session.commit()


def test_booking_journey_leaks_nothing(app, caplog):
    caplog.set_level(logging.DEBUG)
    event = factories.make_event(title="景德镇陶瓷文化之旅", capacity=3)
    client = app.test_client()
    urls: list[str] = []

    def visit(method, url, **kw):
        response = client.open(url, method=method, **kw)
        urls.append(url)
        if "Location" in response.headers:
            urls.append(response.headers["Location"])
        if response.mimetype == "text/html":
            urls.extend(re.findall(r'(?:href|action|src)="([^"]*)"', response.get_data(as_text=True)))
        assert response.status_code < 500, url
        return response

    visit(
        "POST",
        "/account/register",
        data=with_code(
            client,
            {
                "phone": PHONE,
                "password": "ganjiang-river-7",
                "password_confirm": "ganjiang-river-7",
                "name": NAME,
                "gender": "female",
                "birth_date": "1993-07-08",
                "city": "jingdezhen",
                "employer": "景德镇瓷厂",
                "enterprise_type": "state_owned",
                "industry": "",
                "email": EMAIL,
            },
        ),
    )
    user = db.session.scalar(db.select(User).where(User.phone == PHONE))
    assert user is not None
    preferences = db.metadata.tables.get("notification_preferences")
    if preferences is not None:  # also send by SMS, whose default backend writes to the log
        db.session.execute(preferences.delete().where(preferences.c.user_id == user.id))
        db.session.execute(preferences.insert().values(user_id=user.id, email=True, sms=True))
        db.session.commit()
    visit("GET", "/")
    visit("GET", "/events/")
    visit("GET", f"/events/{event.id}")
    visit("POST", f"/slots/{event.slots[0].id}/book", data={"event_id": event.id})
    registration = db.session.scalar(db.select(Registration).where(Registration.user_id == user.id))
    visit("GET", "/me/bookings")
    run_every_task()  # the scheduler delivers the confirmation (email, SMS log backend, inbox)
    visit("GET", f"/me/bookings/{registration.id}/ticket")
    visit("GET", f"/me/bookings/{registration.id}/calendar.ics")
    visit("POST", f"/me/bookings/{registration.id}/cancel")
    visit("GET", "/account/profile")
    visit("GET", "/privacy/consents")
    visit("GET", "/privacy/export")
    visit("POST", "/account/logout")
    visit("POST", "/account/login", data={"phone": PHONE, "password": "wrong-password"})
    visit("POST", "/account/reset", data={"phone": PHONE})
    visit("POST", "/account/login", data={"phone": PHONE, "password": "ganjiang-river-7"})
    run_every_task()
    visit("POST", "/privacy/delete", data={"password": "ganjiang-river-7", "understood": "y"})
    visit("GET", "/")

    assert len(urls) > 30
    for url in urls:
        for needle in NEEDLES:
            assert needle not in url, (needle, url)
    records = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    assert any("deleted" in line for line in records), "the deletion is logged, by id only"
    for line in records:
        for needle in NEEDLES:
            assert needle not in line, (needle, line)
