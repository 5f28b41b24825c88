"""One rule for free text (issue 18, edge 5): every text field of every form and of the API is trimmed, refuses
control characters (line breaks and tabs only in multi-line text) and enforces its length — with a message on
the field concerned, and nothing stored."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app import clock
from app.accounts.consents import MIXER_SIGNUP
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.events.models import Event, Slot
from app.extensions import db
from app.freetext import AppForm, TextRefused, clean_text
from app.mixers import checkin
from app.mixers.models import MixerAttendee
from app.outbox.models import OutboxMessage

from .. import factories
from ..accounts.test_auth import REGISTRATION
from ..mixers.factories import make_mixer
from ..sms_codes import with_code

NOW = datetime(2026, 6, 15, 10, 0)
FMT = "%Y-%m-%dT%H:%M"
CONTROL = ["\x00", "\x07", "\x1b[31m", "\x7f", "\u202e", "\u2028"]


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("bad", CONTROL)
def test_the_rule_refuses_control_characters_everywhere_in_a_line(bad):
    with pytest.raises(TextRefused):
        clean_text(f"张{bad}三", max_length=60)


def test_the_rule_trims_and_allows_line_breaks_only_in_multi_line_text():
    assert clean_text("\u3000 李红 \t", max_length=60) == "李红"
    with pytest.raises(TextRefused):
        clean_text("李\n红", max_length=60)
    assert clean_text(" 第一行\r\n\t第二行\r\n", max_length=60, multiline=True) == "第一行\n\t第二行"
    with pytest.raises(TextRefused):
        clean_text("第一行\x00", max_length=60, multiline=True)
    with pytest.raises(TextRefused):
        clean_text("长" * 61, max_length=60)
    with pytest.raises(TextRefused):
        clean_text(42, max_length=60)


def test_every_form_of_the_app_follows_the_rule(app):
    """Every form class of the app is an AppForm, so a form added later gets the rule too."""
    pending = list(FlaskForm.__subclasses__())
    found = []
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        if inspect.getmodule(form).__name__.startswith("app."):
            found.append(form)
    assert len(found) >= 30
    assert [form for form in found if not issubclass(form, AppForm)] == []


def test_registration_refuses_a_name_with_a_line_break_and_trims_spaces(client):
    response = client.post("/account/register", data={**REGISTRATION, "name": "李\n红"})
    assert response.status_code == 200
    assert "请写在一行内" in response.get_data(as_text=True)
    assert _count(User) == 0
    registration = with_code(client, {**REGISTRATION, "name": "  李红　"})
    assert client.post("/account/register", data=registration).status_code == 302
    assert db.session.scalar(select(User.name)) == "李红"


def test_a_mixer_nickname_with_a_nul_byte_is_refused_at_booking(client, employee):
    event = make_mixer(starts_in=timedelta(days=10))
    token = factories.api_token(employee)
    response = client.post(
        f"/api/v1/slots/{event.slots[0].id}/registrations",
        json={"consents": [MIXER_SIGNUP], "options": {"nickname": "小\x00林"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422 and "nickname" in response.json["fields"]
    assert _count(Registration) == 0
    # The booking form refuses a line break the same way, on the page the person came from.
    web = client.application.test_client()
    factories.login(web, employee)
    page = web.post(
        f"/slots/{event.slots[0].id}/book",
        data={"consent": MIXER_SIGNUP, "opt_nickname": "小\n林", "event_id": str(event.id)},
        follow_redirects=True,
    )
    assert "请写在一行内" in page.get_data(as_text=True)
    assert _count(Registration) == 0


def test_a_nickname_stored_before_the_rule_no_longer_stops_check_in(organizer, employee):
    """A row from before the rule: the person is checked in (their badge given), the bad nickname left out."""
    event = make_mixer(starts_in=timedelta(hours=3))
    registration = booking.book(employee, event.slots[0].id, consents=[MIXER_SIGNUP])
    registration.options = {"nickname": "小\x1b林", "share_contact": False}
    db.session.commit()
    clock.set_now(event.starts_at + timedelta(minutes=10))
    attendee = checkin.check_in(organizer, event.id, registration_id=registration.id)
    db.session.commit()
    assert attendee.badge_no == 1 and attendee.nickname is None
    assert _count(MixerAttendee) == 1


def _api_event(**changes: object) -> dict[str, object]:
    start = NOW + timedelta(days=20)
    body: dict[str, object] = {
        "kind": "general",
        "title": "职工乒乓球赛",
        "city": "南昌",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "signup_opens_at": NOW.isoformat(),
        "signup_closes_at": (start - timedelta(days=1)).isoformat(),
        "description": "第一行\n第二行",
        "slots": [
            {
                "label": "上午场",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "capacity": 5,
            }
        ],  # noqa: E501
    }
    body.update(changes)
    return body


def test_the_api_refuses_control_characters_in_slot_labels_and_titles(client, organizer):
    headers = {"Authorization": f"Bearer {factories.api_token(organizer)}"}
    slot = _api_event()["slots"][0]  # type: ignore[index]
    for body, field in [
        (_api_event(slots=[{**slot, "label": "上午\x00场"}]), "slots[0].label"),
        (_api_event(slots=[{**slot, "label": "长" * 121}]), "slots[0].label"),
        (_api_event(title="乒乓\x1b[31m球赛"), "title"),
        (_api_event(title="   "), "title"),
        (_api_event(venue="南门\n北门"), "venue"),
    ]:
        response = client.post("/api/v1/events", json=body, headers=headers)
        assert response.status_code == 422 and field in response.json["fields"], (field, response.json)
    assert _count(Event) == 0
    ok = client.post("/api/v1/events", json=_api_event(title="  职工乒乓球赛 "), headers=headers)
    assert ok.status_code == 201
    event = db.session.get(Event, ok.json["id"])
    assert event.title == "职工乒乓球赛" and event.description == "第一行\n第二行"
    assert db.session.scalar(select(Slot.label)) == "上午场"


def test_the_event_form_refuses_a_title_with_control_characters(organizer_client):
    start = NOW + timedelta(days=10)
    form = {
        "kind": "general",
        "title": "篮球\x07赛",
        "gender": "",
        "organization": str(factories.org("jx-nanchang").id),
        "city": str(factories.city("nanchang").id),
        "description": "第一行\r\n第二行",
        "starts_at": start.strftime(FMT),
        "ends_at": (start + timedelta(hours=2)).strftime(FMT),
        "signup_opens_at": NOW.strftime(FMT),
        "signup_closes_at": (NOW + timedelta(days=1)).strftime(FMT),
        "slots-0-label": "上半场",
        "slots-0-starts_at": start.strftime(FMT),
        "slots-0-ends_at": (start + timedelta(hours=1)).strftime(FMT),
        "slots-0-capacity": "10",
        "slots-0-waitlist_policy": "offer",
        "slots-0-allocation": "first_come",
        "slots-0-offer_hours": "24",
    }
    refused = organizer_client.post("/organizer/events/new", data=form)
    assert refused.status_code == 422 and "请写在一行内" in refused.get_data(as_text=True)
    label = organizer_client.post(
        "/organizer/events/new", data={**form, "title": "篮球赛", "slots-0-label": "上\t半场"}
    )
    assert label.status_code == 422 and "请写在一行内" in label.get_data(as_text=True)
    assert _count(Event) == 0
    ok = organizer_client.post("/organizer/events/new", data={**form, "title": " 篮球赛 "})
    assert ok.status_code == 302
    event = db.session.scalar(select(Event))
    assert (event.title, event.description) == ("篮球赛", "第一行\n第二行")


def test_a_message_keeps_its_line_breaks_but_refuses_control_characters(organizer_client):
    event = factories.make_event(capacity=5)
    person = factories.make_employee()
    booking.book(person, event.slots[0].id)
    db.session.commit()
    form = {"scope": "active", "title": "集合时间调整", "body": "请于 13:30\x1b 集合。", "nonce": "n1"}
    response = organizer_client.post(f"/organizer/events/{event.id}/message", data=form, follow_redirects=True)
    assert "不能包含控制字符" in response.get_data(as_text=True)
    organizer_messages = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "organizer_message")
    )
    assert db.session.scalar(organizer_messages) == 0
    form.update(body="第一行\r\n第二行", nonce="n2")
    organizer_client.post(f"/organizer/events/{event.id}/message", data=form)
    sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "organizer_message"))
    assert sent is not None and sent.data["body"] == "第一行\n第二行"
