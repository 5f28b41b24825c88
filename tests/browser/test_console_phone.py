"""The organizer console on a phone (issue 23, items 1 and 2).

At 360 px the roster is a list of cards — name and unit, state with the row's action, slot, tags — with bulk
selection kept, and a table from 600 px up (one markup, a CSS switch); the new-event form shows one slot block,
adds another on demand (a static script; without it the server adds the block, see
tests/organizer/test_event_form.py) and creates a simple one-slot event within two screens (≤ 1,600 px)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app import clock
from app.booking import approval as booking_approval
from app.booking import services as booking
from app.events.models import Allocation, Event
from app.extensions import db
from app.organizer.models import RosterTag
from tests import factories

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}
WIDE = {"width": 1024, "height": 800}
FMT = "%Y-%m-%dT%H:%M"
TWO_SCREENS = 1600


def _page_height(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollHeight"))


def _display(page: Page, selector: str) -> str:
    return str(page.locator(selector).first.evaluate("(e) => getComputedStyle(e).display"))


def _roster_event() -> tuple[int, dict[str, int]]:
    """An approval event with three people: two approved, one still waiting for the organizer."""
    organizer = factories.make_organizer("jx-nanchang")
    event = factories.make_event(title="南昌职工篮球友谊赛", capacity=10, allocation=Allocation.APPROVAL)
    unit = factories.org("jx-nanchang")
    people = {name: factories.make_employee(name=name, organization=unit) for name in ("欧阳婉清", "陈刚", "刘洋")}
    registrations = {name: booking.book(person, event.slots[0].id) for name, person in people.items()}
    db.session.commit()
    for name in ("欧阳婉清", "陈刚"):
        booking_approval.approve(registrations[name], actor=organizer)
    db.session.commit()
    return event.id, {name: r.id for name, r in registrations.items()}


def test_the_roster_is_cards_on_a_phone_and_a_table_on_a_wide_screen(page: Page) -> None:
    event_id, ids = _roster_event()
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    page.set_viewport_size(PHONE)
    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}/roster")
    expect(page.get_by_text("显示 3 人")).to_be_visible()
    check_page(page)
    assert_touch_targets(page)

    # Cards: each row a block as wide as the page, its fields stacked, the column headers out of sight.
    assert _display(page, ".org-roster tbody tr") == "grid"
    assert page.locator(".org-roster thead").bounding_box()["height"] <= 1  # type: ignore[index]
    card = page.locator("tr", has=page.get_by_role("link", name="欧阳婉清"))
    box = card.bounding_box()
    assert box is not None and box["width"] > 300
    name = card.get_by_role("link", name="欧阳婉清").bounding_box()
    assert name is not None and name["height"] < 32  # the name on one line, not wrapped into three
    unit = card.locator(".roster-unit").bounding_box()
    slot = card.locator(".roster-slot").bounding_box()
    assert unit is not None and slot is not None and name["y"] < unit["y"] < slot["y"]
    expect(card.locator(".roster-state")).to_contain_text("已确认")

    # The row's action is at hand on the card of the person waiting for approval.
    waiting = page.locator("tr", has=page.get_by_role("link", name="刘洋"))
    expect(waiting.locator(".roster-state")).to_contain_text("待审核")
    waiting.get_by_role("button", name="通过 刘洋 的报名").click()
    expect(page.get_by_text("已通过审核。")).to_be_visible()
    expect(page.locator("tr", has=page.get_by_role("link", name="刘洋")).locator(".roster-state")).to_contain_text(
        "已确认"
    )

    # Wide screens keep the table.
    page.set_viewport_size(WIDE)
    assert _display(page, ".org-roster tbody tr") == "table-row"
    header = page.get_by_role("columnheader", name="姓名").bounding_box()
    assert header is not None and header["height"] > 10
    page.set_viewport_size(PHONE)
    assert ids  # the registrations exist (read before the browser ran)


def test_bulk_tagging_and_messages_work_from_the_cards(page: Page) -> None:
    event_id, ids = _roster_event()
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    page.set_viewport_size(PHONE)
    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}/roster")

    page.get_by_label("选择 欧阳婉清").check()
    page.get_by_label("选择 陈刚").check()
    page.get_by_label("给勾选的人员加标签").fill("志愿者")
    # The message title and body are empty and required: tagging must not be held up by them.
    page.get_by_role("button", name="加标签").click()
    expect(page.get_by_text("已为 2 人加上标签。")).to_be_visible()
    for person in ("欧阳婉清", "陈刚"):
        expect(page.locator("tr", has=page.get_by_role("link", name=person)).locator(".tag")).to_have_text("志愿者")
    expect(page.locator("tr", has=page.get_by_role("link", name="刘洋")).locator(".tag")).to_have_count(0)
    check_page(page)
    tagged = sorted(db.session.scalars(select(RosterTag.registration_id).where(RosterTag.label == "志愿者")))
    commit_db()
    assert tagged == sorted([ids["欧阳婉清"], ids["陈刚"]])

    # Sending a message is not held up by the empty tag field either.
    page.get_by_label("选择 刘洋").check()
    page.get_by_label("消息标题").fill("集合时间调整")
    page.get_by_label("消息内容").fill("请于 13:30 在南门集合。")
    page.get_by_role("button", name="发送消息").click()
    expect(page.get_by_text("消息已发送给 1 人。")).to_be_visible()


def _fill_slot(page: Page, index: int, start_in: timedelta, capacity: int) -> str:
    start = (clock.now() + start_in).replace(hour=14, minute=0, second=0, microsecond=0)
    page.locator(f"#slots-{index}-starts_at").fill(start.strftime(FMT))
    page.locator(f"#slots-{index}-ends_at").fill((start + timedelta(hours=2)).strftime(FMT))
    page.locator(f"#slots-{index}-capacity").fill(str(capacity))
    return start.strftime(FMT)


def test_a_one_slot_event_is_created_from_the_phone_form_within_two_screens(page: Page) -> None:
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    page.set_viewport_size(PHONE)
    login_as(page, organizer)
    page.goto("/organizer/events/new")
    expect(page.get_by_role("heading", name="新建活动")).to_be_visible()
    check_page(page)
    assert_touch_targets(page)
    expect(page.locator("[data-slot-row]")).to_have_count(1)  # one slot block, not three empty ones

    page.get_by_label("活动标题").fill("南昌职工篮球友谊赛")
    page.get_by_label("活动地点").fill("南昌市工人文化宫")
    start = _fill_slot(page, 0, timedelta(days=10), 30)
    page.get_by_label("保存后立即发布").check()
    height = _page_height(page)
    assert height <= TWO_SCREENS, f"the filled form is {height} px tall"
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("活动已创建并发布。")).to_be_visible()

    event = db.session.scalar(select(Event).where(Event.title == "南昌职工篮球友谊赛"))
    assert event is not None
    found = (
        len(event.slots),
        event.slots[0].capacity,
        event.starts_at.strftime(FMT),
        event.ends_at == event.slots[0].ends_at,
        event.signup_closes_at.strftime(FMT),
        event.signup_opens_at,
        event.reminder_hours,
        event.published,
    )
    commit_db()
    # The event's own times came from its slot; sign-up opens now and closes at the start; usual reminders.
    assert found == (1, 30, start, True, start, clock.now().replace(second=0, microsecond=0), [24, 2], True)


def test_adding_a_slot_on_the_phone_form_with_javascript(page: Page) -> None:
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    page.set_viewport_size(PHONE)
    login_as(page, organizer)
    page.goto("/organizer/events/new")
    page.evaluate("() => { window.stillHere = true; }")
    page.get_by_label("活动标题").fill("南昌职工健步走活动")
    _fill_slot(page, 0, timedelta(days=10), 20)

    page.get_by_role("button", name="＋ 添加场次").click()
    expect(page.locator("[data-slot-row]")).to_have_count(2)
    assert page.evaluate("() => window.stillHere === true")  # added on the page, no round trip
    expect(page.get_by_role("heading", name="场次 2")).to_be_visible()
    expect(page.locator("#slots-1-starts_at")).to_be_focused()
    expect(page.get_by_label("活动标题")).to_have_value("南昌职工健步走活动")
    check_page(page)
    _fill_slot(page, 1, timedelta(days=11), 15)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("活动已创建。")).to_be_visible()

    event = db.session.scalar(select(Event).where(Event.title == "南昌职工健步走活动"))
    assert event is not None
    capacities = [slot.capacity for slot in event.slots]
    events = db.session.scalar(select(func.count()).select_from(Event))
    commit_db()
    assert capacities == [20, 15] and events == 1
