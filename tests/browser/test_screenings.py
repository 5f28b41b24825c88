"""Health-truck journey on a phone (issue 5): a 40-year-old woman books two-cancer screening at 10:15, moves to
10:30 and is checked in by her QR ticket code; a 30-year-old woman and a man are told why they cannot book the
two-cancer package. axe and the 360 px check on every page."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.booking.models import Registration
from app.extensions import db
from app.screenings.models import ScreeningBooking
from tests import factories
from tests.screenings import factories as sf

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser

TWO_CANCER = "常规体检 + “两癌”筛查"


def _booking_state(user_id: int) -> tuple[str, str, bool]:
    registration = db.session.scalars(
        db.select(Registration).where(Registration.user_id == user_id, Registration.is_active.is_(True))
    ).one()
    row = db.session.get(ScreeningBooking, registration.id)
    state = (registration.slot.label, registration.status.value, bool(row and row.two_cancer))
    commit_db()
    return state


def test_two_cancer_booking_move_and_check_in(page: Page, new_page) -> None:  # type: ignore[no-untyped-def]
    event = sf.plan(start=time(9), end=time(12), interval=15, per_slot=6, two_cancer_per_slot=3)
    planned_at = clock.now()
    event_id, later_slot_id = event.id, sf.slot_at(event, "10:30").id
    woman = sf.woman(40, name="刘桂兰")
    young, man = sf.woman(30, name="周婷"), sf.man(45, name="吴建军")
    organizer = factories.make_organizer()
    woman_id = woman.id
    commit_db()

    # The 40-year-old woman sees she may book two-cancer screening and books it at 10:15.
    login_as(page, woman)
    page.goto(f"/events/{event_id}")
    expect(page.get_by_text("您可以预约“两癌”筛查。")).to_be_visible()
    check_page(page)
    slot = page.locator("li.slot", has_text="10:15–10:30")
    slot.get_by_role("button", name="选择此时段").click()
    slot.get_by_label(TWO_CANCER).check()
    slot.get_by_label(re.compile("我已阅读并同意处理我的敏感个人信息")).check()
    slot.get_by_role("button", name="立即预约").click()
    expect(page.get_by_text("预约成功！请在活动当天出示电子票。")).to_be_visible()
    assert _booking_state(woman_id) == ("10:15–10:30", "confirmed", True)

    # She moves to 10:30 in one step.
    page.goto(f"/events/{event_id}")
    expect(page.locator(".screening-move")).to_contain_text("10:15–10:30")
    check_page(page)
    page.get_by_label("改到时段").select_option(value=str(later_slot_id))
    page.get_by_role("button", name="确认改期").click()
    expect(page.get_by_text("已改到 10:30–10:45，请以新的时段到场。")).to_be_visible()
    assert _booking_state(woman_id) == ("10:30–10:45", "confirmed", True)

    # Her ticket carries the package and the QR code.
    page.goto("/me/bookings")
    page.get_by_role("link", name="电子票").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    expect(page.get_by_text(TWO_CANCER)).to_be_visible()
    check_page(page)
    code = page.locator(".ticket-code code").inner_text()

    # On the day, staff at the truck check her in with the ticket code.
    clock.set_now(datetime(2026, 6, 15, 10, 25))
    staff = new_page()
    login_as(staff, organizer)
    staff.goto(f"/organizer/screenings/{event_id}")
    check_page(staff)
    assert_touch_targets(staff)
    staff.get_by_label("电子票号或手机号").fill(code)
    staff.get_by_role("button", name="签到", exact=True).click()
    expect(staff.get_by_text(f"刘桂兰 签到成功：10:30–10:45 · {TWO_CANCER}")).to_be_visible()
    check_page(staff)
    assert _booking_state(woman_id) == ("10:30–10:45", "attended", True)
    staff.goto(f"/organizer/screenings/{event_id}/roster")
    expect(staff.locator(".roster-row", has_text="刘桂兰")).to_contain_text("已签到")
    check_page(staff)

    # A 30-year-old woman and a man are told why they cannot book two-cancer screening.
    clock.set_now(planned_at + timedelta(hours=1))
    for person, why in ((young, "体检当天您 30 岁，“两癌”筛查面向 35–64 岁的女职工。"), (man, "仅面向女职工")):
        other = new_page()
        login_as(other, person)
        other.goto(f"/events/{event_id}")
        expect(other.locator(".pkg-no")).to_contain_text(why)
        slot = other.locator("li.slot", has_text="11:00–11:15")
        slot.get_by_role("button", name="选择此时段").click()
        expect(slot.get_by_label(TWO_CANCER)).to_be_disabled()
        expect(slot.get_by_label("常规体检", exact=True)).to_be_checked()
        check_page(other)


def test_organizer_plans_a_visit_and_closes_a_slot(page: Page) -> None:
    clock.set_now(datetime(2026, 6, 1, 9))
    organizer = factories.make_organizer()
    commit_db()
    login_as(page, organizer)
    page.goto("/organizer/screenings/")
    check_page(page)
    page.get_by_role("link", name="安排一次体检").click()
    check_page(page)
    page.get_by_label("园区或站点").fill("南昌小蓝经开区")
    page.get_by_label("体检日期").fill("2026-06-15")
    page.get_by_label("开始时间").fill("08:30")
    page.get_by_label("结束时间").fill("10:30")
    page.get_by_label("每个时段（分钟）").fill("30")
    page.get_by_label("每个时段人数").fill("8")
    page.get_by_role("button", name="生成时段并发布").click()
    expect(page.get_by_text("已创建体检安排，共 4 个时段。")).to_be_visible()
    expect(page.get_by_role("heading", name="健康大篷车进南昌小蓝经开区")).to_be_visible()
    check_page(page)
    row = page.locator(".grid-row", has_text="09:30–10:00")
    row.get_by_text("调整人数或关闭").click()
    row.get_by_label("关闭此时段（不再接受预约）").check()
    row.get_by_role("button", name="保存").click()
    expect(page.get_by_text("时段 09:30–10:00 已更新。")).to_be_visible()
    expect(page.locator(".grid-row", has_text="09:30–10:00")).to_contain_text("已关闭")
    check_page(page)
