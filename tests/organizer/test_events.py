"""Events in the console: create, edit, publish, cancel (everyone told once, nothing freed twice), duplicate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.audit import AuditEntry
from app.booking.models import Registration, Status
from app.errors import NotFound
from app.events.models import Event, Slot
from app.extensions import db
from app.organizer import access, lifecycle
from app.outbox.models import OutboxMessage, OutboxStatus

from .. import factories
from .factories import book

FMT = "%Y-%m-%dT%H:%M"


def _form(**overrides: object) -> dict[str, object]:
    start = (clock.now() + timedelta(days=10)).replace(hour=14, minute=0, second=0)
    data: dict[str, object] = {
        "kind": "general",
        "title": "南昌职工篮球友谊赛",
        "description": "欢迎各单位职工报名参加。",
        "organization": str(factories.org("jx-nanchang").id),
        "city": str(factories.city("nanchang").id),
        "venue": "南昌市工人文化宫",
        "starts_at": start.strftime(FMT),
        "ends_at": (start + timedelta(hours=3)).strftime(FMT),
        "signup_opens_at": (clock.now() - timedelta(hours=1)).strftime(FMT),
        "signup_closes_at": (start - timedelta(days=1)).strftime(FMT),
        "min_age": "18",
        "max_age": "55",
        "gender": "",
        "published": "y",
        "slots-0-label": "上半场",
        "slots-0-starts_at": start.strftime(FMT),
        "slots-0-ends_at": (start + timedelta(hours=1)).strftime(FMT),
        "slots-0-capacity": "30",
        "slots-0-quota_female": "15",
        "slots-0-waitlist_policy": "offer",
        "slots-0-allocation": "first_come",
        "slots-0-offer_hours": "24",
        "slots-1-label": "下半场",
        "slots-1-starts_at": (start + timedelta(hours=2)).strftime(FMT),
        "slots-1-ends_at": (start + timedelta(hours=3)).strftime(FMT),
        "slots-1-capacity": "20",
        "slots-1-waitlist_policy": "none",
        "slots-1-allocation": "approval",
        "slots-1-offer_hours": "24",
        # A spare row left empty is ignored.
        "slots-2-starts_at": "",
        "slots-2-capacity": "",
    }
    data.update(overrides)
    return data


def _events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.id)).unique())


def test_create_event_with_two_slots(organizer_client, organizer):
    response = organizer_client.post("/organizer/events/new", data=_form())
    assert response.status_code == 302
    (event,) = _events()
    assert event.title == "南昌职工篮球友谊赛" and event.published and event.min_age == 18
    assert [(s.label, s.capacity, s.quota_female) for s in event.slots] == [("上半场", 30, 15), ("下半场", 20, None)]
    assert event.slots[1].allocation.value == "approval" and event.slots[1].waitlist_policy.value == "none"
    assert response.headers["Location"].endswith(f"/organizer/events/{event.id}")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.create"))
    assert entry is not None and entry.actor_id == organizer.id and entry.object_id == event.id


def test_create_refuses_bad_input_with_messages_and_writes_nothing(organizer_client):
    start = clock.now() + timedelta(days=3)
    response = organizer_client.post(
        "/organizer/events/new",
        data=_form(
            title="",
            ends_at=(start - timedelta(hours=2)).strftime(FMT),
            **{"slots-0-capacity": "-3"},
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写标题" in page
    assert _events() == []
    # Times out of order are refused by the events core's validation.
    response = organizer_client.post(
        "/organizer/events/new", data=_form(ends_at=(clock.now() + timedelta(days=1)).strftime(FMT))
    )
    assert response.status_code == 422 and "结束时间必须晚于开始时间" in response.get_data(as_text=True)
    # No slot at all.
    response = organizer_client.post(
        "/organizer/events/new",
        data={k: v for k, v in _form().items() if not k.startswith("slots-0") and not k.startswith("slots-1")},
    )
    assert response.status_code == 422 and "至少需要一个可预约的场次" in response.get_data(as_text=True)
    assert _events() == []


def test_cannot_create_for_an_organization_outside_scope(organizer_client):
    jiujiang = factories.org("jx-jiujiang")
    response = organizer_client.post("/organizer/events/new", data=_form(organization=str(jiujiang.id)))
    assert response.status_code == 422
    assert _events() == []


def test_edit_keeps_seats_already_held_and_grows_into_the_waitlist(organizer_client):
    event = factories.make_event(capacity=1)
    slot_id = event.slots[0].id
    first, second = factories.make_employee(), factories.make_employee()
    book(first, event.slots[0])
    waiting = book(second, event.slots[0])
    assert waiting.status == Status.WAITLISTED
    page = organizer_client.get(f"/organizer/events/{event.id}/edit")
    assert page.status_code == 200
    start = event.slots[0].starts_at
    data = _form(
        title="改名后的活动",
        starts_at=event.starts_at.strftime(FMT),
        ends_at=event.ends_at.strftime(FMT),
        **{
            "slots-0-slot_id": str(slot_id),
            "slots-0-starts_at": start.strftime(FMT),
            "slots-0-ends_at": event.slots[0].ends_at.strftime(FMT),
            "slots-0-capacity": "0",
            "slots-0-quota_female": "",
        },
    )
    data = {k: v for k, v in data.items() if not k.startswith("slots-1")}
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 422
    assert "名额不能少于已占用的 1 个" in response.get_data(as_text=True)
    db.session.refresh(event)
    assert event.title == "职工羽毛球联谊赛"

    data["slots-0-capacity"] = "2"
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(event)
    assert event.title == "改名后的活动"
    slot = db.session.get(Slot, slot_id, populate_existing=True)
    assert slot is not None and slot.capacity == 2
    db.session.refresh(waiting)
    assert waiting.status == Status.OFFERED  # the new seat went to the waitlist at once


def test_edit_adds_and_removes_unused_slots_but_keeps_used_ones(organizer_client, organizer):
    event = factories.make_event(capacity=5, slots=2)
    used, unused = event.slots
    book(factories.make_employee(), used)
    base = _form(starts_at=event.starts_at.strftime(FMT), ends_at=(event.starts_at + timedelta(hours=8)).strftime(FMT))
    base = {k: v for k, v in base.items() if not k.startswith("slots-")}

    def row(i: int, slot: Slot | None, capacity: int) -> dict[str, str]:
        start = slot.starts_at if slot else event.starts_at + timedelta(hours=6)
        return {
            f"slots-{i}-slot_id": str(slot.id) if slot else "",
            f"slots-{i}-starts_at": start.strftime(FMT),
            f"slots-{i}-ends_at": (start + timedelta(hours=1)).strftime(FMT),
            f"slots-{i}-capacity": str(capacity),
            f"slots-{i}-waitlist_policy": "offer",
            f"slots-{i}-allocation": "first_come",
            f"slots-{i}-offer_hours": "24",
        }

    # Ticking a used slot for removal is refused.
    data = {**base, **row(0, used, 5), **row(1, unused, 5), "remove_slot": str(used.id)}
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 422
    assert len(db.session.scalars(select(Slot).where(Slot.event_id == event.id)).all()) == 2
    # Removing the unused one and adding a third works.
    data = {**base, **row(0, used, 5), **row(1, unused, 5), **row(2, None, 8), "remove_slot": str(unused.id)}
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    capacities = sorted(s.capacity for s in db.session.scalars(select(Slot).where(Slot.event_id == event.id)))
    assert capacities == [5, 8]


def test_publish_and_unpublish(organizer_client):
    event = factories.make_event(published=False)
    assert organizer_client.post(f"/organizer/events/{event.id}/publish").status_code == 302
    db.session.refresh(event)
    assert event.published
    assert organizer_client.post(f"/organizer/events/{event.id}/unpublish").status_code == 302
    db.session.refresh(event)
    assert not event.published
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["event.publish", "event.unpublish"]


def _messages(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_cancel_event_notifies_everyone_once_and_frees_nothing_twice(organizer_client, organizer):
    event = factories.make_event(capacity=2, slots=2)
    slot_a, slot_b = event.slots
    people = [factories.make_employee(name=f"职工{i}") for i in range(5)]
    book(people[0], slot_a)
    book(people[1], slot_a)
    waiting = book(people[2], slot_a)  # full: waitlisted
    book(people[3], slot_b)
    gone = book(people[4], slot_b)
    from app.booking import services as booking

    booking.cancel(gone, actor=people[4])  # already cancelled: not told again
    db.session.commit()
    assert waiting.status == Status.WAITLISTED

    response = organizer_client.post(f"/organizer/events/{event.id}/cancel", data={"reason": ""})
    assert response.status_code == 302
    db.session.refresh(event)
    assert not event.is_cancelled  # a reason is required

    response = organizer_client.post(f"/organizer/events/{event.id}/cancel", data={"reason": "场馆临时检修"})
    assert response.status_code == 302
    # Twice (a double click, a retry): nothing more happens.
    assert (
        organizer_client.post(f"/organizer/events/{event.id}/cancel", data={"reason": "场馆临时检修"}).status_code
        == 302
    )
    db.session.refresh(event)
    assert event.is_cancelled
    statuses = db.session.scalars(select(Registration.status).where(Registration.event_id == event.id)).all()
    assert sorted(statuses) == [Status.CANCELLED] * 5
    for slot in (slot_a, slot_b):
        db.session.refresh(slot)
        assert slot.taken == 0 and slot.taken_female == 0 and slot.taken_male == 0
    told = _messages("event_cancelled")
    recipients = sorted({m.user_id for m in told})
    assert recipients == sorted(p.id for p in people[:4])
    assert len(told) == len({(m.user_id, m.channel) for m in told})  # one per person (and channel)
    assert all(m.essential and m.data["reason"] == "场馆临时检修" for m in told)
    assert "场馆临时检修" in told[0].data["body"] and told[0].data["link"] == f"/events/{event.id}"
    # Each person hears about it once: the per-registration cancellation notices give way to that message.
    for person in people[:4]:
        pending = db.session.scalars(
            select(OutboxMessage.kind).where(
                OutboxMessage.user_id == person.id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.kind.in_(["event_cancelled", "booking_cancelled"]),
            )
        ).all()
        assert set(pending) == {"event_cancelled"} and len(pending) == len(
            set(m.channel for m in told if m.user_id == person.id)
        )
    # The waitlisted person was cancelled, never offered the seat that freed up.
    history = [h.to_status for h in db.session.get(Registration, waiting.id).history]  # type: ignore[union-attr]
    assert Status.OFFERED not in history
    cancels = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "event.cancel"))
    assert cancels == 1
    # A cancelled event can be neither published again nor edited.
    organizer_client.post(f"/organizer/events/{event.id}/unpublish")
    organizer_client.post(f"/organizer/events/{event.id}/publish")
    db.session.refresh(event)
    assert not event.published


def test_duplicate_as_template(organizer_client):
    event = factories.make_event(capacity=12, slots=2, quota_female=6, min_age=22, max_age=40)
    book(factories.make_employee(), event.slots[0])
    response = organizer_client.post(f"/organizer/events/{event.id}/duplicate", data={"shift_days": "14"})
    assert response.status_code == 302
    copy = _events()[-1]
    assert copy.id != event.id and response.headers["Location"].endswith(f"/organizer/events/{copy.id}/edit")
    assert copy.title.startswith(event.title) and not copy.published and copy.min_age == 22
    assert copy.starts_at == event.starts_at + timedelta(days=14)
    assert [(s.capacity, s.quota_female, s.taken) for s in copy.slots] == [(12, 6, 0), (12, 6, 0)]
    assert (
        db.session.scalar(select(func.count()).select_from(Registration).where(Registration.event_id == copy.id)) == 0
    )


def test_list_shows_only_events_in_scope(app, organizer_client, login_client):
    factories.make_event(title="南昌市总工会活动")
    factories.make_event(title="九江市总工会活动", organization=factories.org("jx-jiujiang"))
    page = organizer_client.get("/organizer/").get_data(as_text=True)
    assert "南昌市总工会活动" in page and "九江市总工会活动" not in page
    province = login_client(factories.make_organizer("jx"))
    page = province.get("/organizer/").get_data(as_text=True)
    assert "南昌市总工会活动" in page and "九江市总工会活动" in page


def test_service_level_scope_for_duplicate_and_cancel():
    event = factories.make_event()
    outsider = factories.make_organizer("jx-jiujiang")
    with pytest.raises(NotFound):
        access.get_event(outsider, event.id)
    with pytest.raises(NotFound):
        lifecycle.cancel_event(outsider, event, "无权取消")
    with pytest.raises(NotFound):
        lifecycle.duplicate_event(outsider, event)
    db.session.rollback()
    assert not db.session.get(Event, event.id).is_cancelled  # type: ignore[union-attr]


def test_event_page_links_to_the_kinds_own_console(organizer_client):
    general = factories.make_event()
    page = organizer_client.get(f"/organizer/events/{general.id}").get_data(as_text=True)
    assert "专项管理" not in page
    from tests.mixers.factories import make_mixer

    mixer = make_mixer()
    page = organizer_client.get(f"/organizer/events/{mixer.id}").get_data(as_text=True)
    assert f'href="/organizer/mixers/{mixer.id}"' in page


def test_changing_times_tells_the_reminders(organizer_client):
    from blinker import signal

    event = factories.make_event(capacity=3)
    seen: list[int] = []

    def receiver(sender, **_kw):  # type: ignore[no-untyped-def]
        seen.append(sender.id)

    signal("event-times-changed").connect(receiver)
    try:
        slot = event.slots[0]
        new_start = event.starts_at + timedelta(days=1)
        data = _form(
            starts_at=new_start.strftime(FMT),
            ends_at=(new_start + timedelta(hours=3)).strftime(FMT),
            **{
                "slots-0-slot_id": str(slot.id),
                "slots-0-starts_at": new_start.strftime(FMT),
                "slots-0-ends_at": (new_start + timedelta(hours=1)).strftime(FMT),
                "slots-0-capacity": "3",
                "slots-0-quota_female": "",
            },
        )
        data = {k: v for k, v in data.items() if not k.startswith("slots-1")}
        assert organizer_client.post(f"/organizer/events/{event.id}/edit", data=data).status_code == 302
        assert seen == [event.id]
        assert organizer_client.post(f"/organizer/events/{event.id}/edit", data=data).status_code == 302
        assert seen == [event.id]  # unchanged times: no signal
    finally:
        signal("event-times-changed").disconnect(receiver)


def test_console_nav_only_for_organizers_and_admins(employee_client, organizer_client, admin_client, client):
    assert 'href="/organizer/"' not in employee_client.get("/").get_data(as_text=True)
    assert 'href="/organizer/"' not in client.get("/").get_data(as_text=True)
    assert 'href="/organizer/"' in organizer_client.get("/").get_data(as_text=True)
    assert 'href="/organizer/"' in admin_client.get("/").get_data(as_text=True)
    assert employee_client.get("/organizer/").status_code == 403


def test_garbage_in_every_kind_of_field_gets_chinese_messages(organizer_client):
    response = organizer_client.post(
        "/organizer/events/new",
        data=_form(organization="x", starts_at="garbage", min_age="abc", **{"slots-0-capacity": "abc"}),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # The event's own start is optional now (it follows the slots), but garbage in it is still refused.
    assert "请选择主办工会" in page and "不是有效的日期与时间值" in page and "不是有效的整数" in page
    assert "Not a valid" not in page and _events() == []
