"""The event form on a phone (issue 23, items 2 and 4), server side: one slot block to start with, "＋ 添加场次"
without JavaScript (the form comes back as typed with one more block, nothing stored), the event's own times
following its slots, and reminder offsets typed as "24, 2" — checked by the events service's rule and
re-planning the reminders not yet sent when they change."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.events.models import Event
from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus

from .. import factories
from .factories import book
from .test_events import FMT, _form


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event)) or 0


def _one_slot(**overrides: object) -> dict[str, object]:
    """The form as a phone sends it for a simple event: one slot, the optional times left blank."""
    data = {k: v for k, v in _form().items() if not k.startswith("slots-1") and not k.startswith("slots-2")}
    data.update(starts_at="", ends_at="", signup_closes_at="")
    data.update(overrides)
    return data


def test_the_new_event_page_starts_with_one_slot_block_and_an_add_button(organizer_client):
    page = organizer_client.get("/organizer/events/new").get_data(as_text=True)
    assert 'name="slots-0-starts_at"' in page and 'name="slots-1-starts_at"' not in page
    assert "＋ 添加场次" in page and 'name="add_slot"' in page
    assert 'name="slots-__index__-starts_at"' in page  # the block the script copies, inside a <template>
    # Sign-up opens now by default; reminders at the usual offsets.
    assert f'value="{clock.now().strftime(FMT)}"' in page and 'value="24, 2"' in page


def test_adding_a_slot_without_javascript_returns_the_form_as_typed_with_one_more_block(organizer_client):
    typed = _one_slot(title="南昌职工乒乓球赛", add_slot="1")
    response = organizer_client.post("/organizer/events/new", data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="南昌职工乒乓球赛"' in page and 'value="上半场"' in page  # what was typed is kept
    assert 'name="slots-1-starts_at"' in page and 'name="slots-2-starts_at"' not in page
    assert 'class="error"' not in page and "请检查" not in page  # nothing was judged yet
    assert _count() == 0  # nor stored

    # Press it again, then fill the second block and save: two slots.
    again = organizer_client.post("/organizer/events/new", data={**typed, "slots-1-starts_at": "", "add_slot": "1"})
    assert 'name="slots-2-starts_at"' in again.get_data(as_text=True)
    start = clock.now() + timedelta(days=11)
    done = _one_slot(
        title="南昌职工乒乓球赛",
        **{
            "slots-1-starts_at": start.strftime(FMT),
            "slots-1-ends_at": (start + timedelta(hours=2)).strftime(FMT),
            "slots-1-capacity": "8",
            "slots-2-starts_at": "",
            "slots-2-capacity": "",
        },
    )
    assert organizer_client.post("/organizer/events/new", data=done).status_code == 302
    (event,) = db.session.scalars(select(Event)).unique()
    assert [slot.capacity for slot in event.slots] == [30, 8]


def test_adding_a_slot_on_the_edit_page_without_javascript_changes_nothing_yet(organizer_client):
    event = factories.make_event(title="旧标题", slots=2)
    page = organizer_client.get(f"/organizer/events/{event.id}/edit").get_data(as_text=True)
    assert 'name="slots-1-starts_at"' in page and 'name="slots-2-starts_at"' not in page
    data = {
        "title": "新标题",
        "add_slot": "1",
        "slots-0-slot_id": str(event.slots[0].id),
        "slots-1-slot_id": str(event.slots[1].id),
    }
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 200
    assert 'name="slots-2-starts_at"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "旧标题"  # type: ignore[union-attr]


def test_the_events_own_times_follow_its_slots_unless_given(organizer_client):
    response = organizer_client.post("/organizer/events/new", data=_form(starts_at="", ends_at="", signup_closes_at=""))
    assert response.status_code == 302
    (event,) = db.session.scalars(select(Event)).unique()
    first, second = event.slots
    assert (event.starts_at, event.ends_at, event.signup_closes_at) == (
        first.starts_at,
        second.ends_at,
        first.starts_at,
    )

    # On the edit page those times are left blank, so that they keep following the slots.
    page = organizer_client.get(f"/organizer/events/{event.id}/edit").get_data(as_text=True)
    assert 'name="starts_at" type="datetime-local" value=""' in page
    assert 'name="signup_closes_at" type="datetime-local" value=""' in page

    # Given times stay as given.
    given = _form(title="另一个活动")
    organizer_client.post("/organizer/events/new", data=given)
    other = db.session.scalar(select(Event).where(Event.title == "另一个活动"))
    assert other is not None and other.signup_closes_at.strftime(FMT) == given["signup_closes_at"]


def test_without_slots_or_times_the_form_says_what_is_missing(organizer_client):
    data = {k: v for k, v in _one_slot().items() if not k.startswith("slots-")}
    response = organizer_client.post("/organizer/events/new", data=data)
    assert response.status_code == 422
    assert "请填写活动时间，或至少填写一个场次" in response.get_data(as_text=True)
    assert _count() == 0


def test_reminder_offsets_typed_in_the_form(organizer_client):
    assert organizer_client.post("/organizer/events/new", data=_one_slot(reminder_hours="3，48, 48")).status_code == 302
    assert (
        organizer_client.post("/organizer/events/new", data=_one_slot(title="不提醒", reminder_hours="")).status_code
        == 302
    )
    stored = {e.title: e.reminder_hours for e in db.session.scalars(select(Event)).unique()}
    assert stored == {"南昌职工篮球友谊赛": [48, 3], "不提醒": []}


def test_bad_reminder_offsets_get_a_message_on_the_field_and_nothing_is_stored(organizer_client):
    cases = {
        "0": "1 到 720",
        "721": "1 到 720",
        "24, abc": "请填写整数小时数",
        "-2": "请填写整数小时数",
        "1, 2, 3, 4, 5, 6": "最多设置 5 个不同的提醒时间",
        "9" * 200: "不超过 100 个字",
    }
    for typed, message in cases.items():
        response = organizer_client.post("/organizer/events/new", data=_one_slot(reminder_hours=typed))
        page = response.get_data(as_text=True)
        assert response.status_code == 422, typed
        assert '<p class="error" id="reminder_hours-error">' in page and message in page, typed
        assert '<details class="org-panel" open>' in page  # its folded section opens to show it
    assert _count() == 0


def _pending_reminders(user_id: int) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.kind == "reminder",
            OutboxMessage.channel == "inbox",
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    )
    return sorted((row.data["hours"], row.due_at.strftime(FMT)) for row in rows)


def test_changing_the_offsets_on_the_edit_page_replans_the_reminders(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=5))
    person = factories.make_employee()
    book(person, event.slots[0])
    start = event.slots[0].starts_at
    assert [hours for hours, _due in _pending_reminders(person.id)] == [2, 24]

    page = organizer_client.get(f"/organizer/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="24, 2"' in page
    slot = event.slots[0]
    data = {
        "kind": event.kind,
        "title": event.title,
        "organization": str(event.organization_id),
        "city": str(event.city_id),
        "signup_opens_at": event.signup_opens_at.strftime(FMT),
        "signup_closes_at": event.signup_closes_at.strftime(FMT),
        "gender": "",
        "reminder_hours": "72, 3",
        "slots-0-slot_id": str(slot.id),
        "slots-0-starts_at": slot.starts_at.strftime(FMT),
        "slots-0-ends_at": slot.ends_at.strftime(FMT),
        "slots-0-capacity": str(slot.capacity),
        "slots-0-waitlist_policy": "offer",
        "slots-0-allocation": "first_come",
        "slots-0-offer_hours": "24",
    }
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 302, re.findall(
        r"class=\"(?:error|flash flash-error)\"[^>]*>([^<]*)", response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Event, event.id).reminder_hours == [72, 3]  # type: ignore[union-attr]
    assert _pending_reminders(person.id) == [
        (3, (start - timedelta(hours=3)).strftime(FMT)),
        (72, (start - timedelta(hours=72)).strftime(FMT)),
    ]
