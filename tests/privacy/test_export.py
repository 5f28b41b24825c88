"""Download my data: everything held about the person, as JSON and as a readable page, nothing about others."""

import json

from blinker import signal

from app.accounts import services as accounts
from app.accounts.consents import MIXER_SIGNUP
from app.extensions import db
from app.outbox import enqueue

from .. import factories
from .factories import past_history


def _export(client):
    response = client.get("/privacy/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    return json.loads(response.get_data(as_text=True))


def test_json_holds_profile_registrations_history_consents_and_messages(app):
    person = factories.make_employee(name="周晓梅", email="zhouxm@example.com")
    organizer = factories.make_organizer()
    registrations = past_history(person, organizer)
    accounts.grant_consent(person, MIXER_SIGNUP)
    enqueue(person, "booking_confirmed", "registration:1", data={"title": "赣州职工健步走"})
    db.session.commit()
    client = app.test_client()
    factories.login(client, person)

    data = _export(client)
    assert data["account"]["phone"] == person.phone
    assert data["account"]["name"] == "周晓梅" and data["account"]["email"] == "zhouxm@example.com"
    assert data["profile"]["gender"] == "female" and data["profile"]["city"] == "南昌"
    assert {r["status_code"] for r in data["registrations"]} == {"attended", "no_show", "cancelled"}
    assert len(data["registrations"]) == len(registrations)
    attended = next(r for r in data["registrations"] if r["status_code"] == "attended")
    assert [h["to"] for h in attended["history"]] == ["confirmed", "attended"]
    assert [h["by"] for h in attended["history"]] == ["本人", "工作人员"]
    assert data["consents"][0]["purpose"] == MIXER_SIGNUP and data["consents"][0]["withdrawn_at"] is None
    assert data["messages"][0]["kind"] == "booking_confirmed"
    assert data["logins"]["sessions"], "the current login is listed"
    # Staff are never named in someone else's export.
    assert organizer.name not in json.dumps(data, ensure_ascii=False)
    assert organizer.phone not in json.dumps(data, ensure_ascii=False)


def test_html_page_is_readable_and_offers_the_download(employee_client, employee):
    event = factories.make_event(title="萍乡职工书法展")
    from app.booking import services as booking

    booking.book(employee, event.slots[0].id)
    db.session.commit()
    page = employee_client.get("/privacy/export").get_data(as_text=True)
    assert employee.phone in page and "萍乡职工书法展" in page
    assert 'href="/privacy/export.json"' in page
    assert "报名记录（1）" in page


def test_feature_sections_come_from_the_privacy_export_signal(employee_client, employee):
    def matches(user):
        return ("mixer_matches", [{"badge": 12, "partner_contact": None}], "联谊匹配")

    def nothing(user):
        return None

    sig = signal("privacy-export")
    sig.connect(matches)
    sig.connect(nothing)
    try:
        data = _export(employee_client)
        page = employee_client.get("/privacy/export").get_data(as_text=True)
    finally:
        sig.disconnect(matches)
        sig.disconnect(nothing)
    assert data["mixer_matches"] == [{"badge": 12, "partner_contact": None}]
    assert data["section_titles"]["mixer_matches"] == "联谊匹配"
    assert "联谊匹配" in page and "partner_contact" in page


def test_export_shows_only_the_callers_data(employee_client, employee):
    other = factories.make_employee(name="另一位职工")
    event = factories.make_event(title="只属于别人的活动")
    from app.booking import services as booking

    booking.book(other, event.slots[0].id)
    db.session.commit()
    data = _export(employee_client)
    dumped = json.dumps(data, ensure_ascii=False)
    assert other.phone not in dumped and "只属于别人的活动" not in dumped
    assert data["registrations"] == []


def test_inbox_messages_are_in_the_export_once(employee_client, employee):
    from app.notifications.models import InboxMessage

    db.session.add(InboxMessage(user_id=employee.id, kind="reminder", title="明天的活动提醒", body=""))
    db.session.commit()
    data = _export(employee_client)
    assert [m["title"] for m in data["inbox"]] == ["明天的活动提醒"]
    assert json.dumps(data, ensure_ascii=False).count("明天的活动提醒") == 1
    assert "明天的活动提醒" in employee_client.get("/privacy/export").get_data(as_text=True)
