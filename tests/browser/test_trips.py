"""Trip journey on a phone (issue 6): find a route by theme, apply to two departures, the lottery draws at
window close (the scheduler's task), the winner sees the confirmed place and the other application withdrawn
and confirms attendance details; a loser sees their waitlist position and the public lottery record. axe and
the 360 px check on every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app import clock
from app.booking.models import Registration
from app.extensions import db
from app.trips import lottery_draw, lottery_record
from app.trips.models import Theme
from tests import factories
from tests.trips import factories as tf

from .conftest import assert_table_reads_as_cards, assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def _statuses(user_id: int) -> dict[int, str]:
    rows = db.session.scalars(select(Registration).where(Registration.user_id == user_id)).all()
    statuses = {r.event_id: r.status.value for r in rows}
    commit_db()
    return statuses


def _apply(page: Page, event_id: int) -> None:
    page.goto(f"/events/{event_id}")
    check_page(page)
    page.get_by_role("button", name="申请（报名截止后抽签）").click()
    expect(page.get_by_text("报名已提交，请等待审核或抽签结果。")).to_be_visible()


def test_apply_to_two_departures_the_draw_and_both_sides_of_the_result(page: Page, new_page) -> None:  # type: ignore[no-untyped-def]
    a = tf.make_departure(seats=1, closes_in=timedelta(minutes=30))
    green = tf.make_route(Theme.GREEN, "庐山生态康养休养", city_code="jiujiang")
    b = tf.make_departure(green, seats=1, closes_in=timedelta(days=2))
    a_id, b_id, a_date = a.event_id, b.event_id, a.event.starts_at.strftime("%Y-%m-%d")
    winner = factories.make_employee(name="王芳")
    winner.profile.model_worker = True  # tier 1: certain to win departure A
    loser = factories.make_employee(name="陈刚", gender="male")
    db.session.commit()
    winner_id, loser_id = winner.id, loser.id
    commit_db()

    # The winner finds the red route on the trips page and applies to its departure, then to a green one.
    login_as(page, winner)
    page.goto("/trips/")
    check_page(page)
    page.get_by_label("主题").select_option("red")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_text("共 1 条线路")).to_be_visible()
    page.get_by_role("link", name="井冈山红色教育之旅").click()
    expect(page.get_by_role("heading", name="井冈山红色教育之旅")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name=a_date).first.click()
    expect(page.get_by_role("heading", name="抽签分配")).to_be_visible()
    _apply(page, a_id)
    _apply(page, b_id)
    assert _statuses(winner_id) == {a_id: "pending_approval", b_id: "pending_approval"}

    # A second person applies to departure A on their own phone.
    other = new_page()
    login_as(other, loser)
    _apply(other, a_id)
    other.goto(f"/events/{a_id}")
    expect(other.get_by_text("您已申请本团期，等待抽签。")).to_be_visible()

    # The window closes; the organizer has entered the public value; the scheduler's task draws.
    tf.close_window(a)
    tf.set_value(a, "2026330 527")
    assert lottery_draw.draw_due(clock.now()) >= 1
    db.session.commit()
    assert _statuses(winner_id) == {a_id: "confirmed", b_id: "cancelled"}

    # The winner sees the place, and the other application withdrawn.
    page.goto(f"/events/{a_id}")
    expect(page.get_by_text("您已获得本团期名额！")).to_be_visible()
    check_page(page)
    page.goto(f"/events/{b_id}")
    expect(page.get_by_text("本团期申请已自动撤回")).to_be_visible()
    check_page(page)

    # ...and confirms the attendance details before the deadline.
    page.goto(f"/events/{a_id}")
    page.get_by_role("link", name="确认出行信息").click()
    check_page(page)
    page.get_by_label("紧急联系人姓名").fill("王建华")
    page.get_by_label("紧急联系人电话").fill("13912345678")
    page.get_by_label("饮食需求").select_option("vegetarian")
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_text("出行信息已确认，祝您旅途愉快！")).to_be_visible()
    expect(page.get_by_text("出行信息已确认。")).to_be_visible()

    # The loser sees their waitlist position and can check the published draw.
    other.goto(f"/events/{a_id}")
    expect(other.get_by_text("未中签，您在候补名单第 1 位。有名额空出时会通知您。")).to_be_visible()
    check_page(other)
    other.get_by_role("link", name="查看抽签公示与核验数据").click()
    expect(other.get_by_role("heading", name="抽签公示")).to_be_visible()
    expect(other.locator("tr.mine")).to_contain_text("候补")
    check_page(other)
    assert _statuses(loser_id) == {a_id: "waitlisted"}


def test_organizer_enters_the_public_value_and_draws_on_a_phone(page: Page) -> None:
    a = tf.make_departure(seats=1, closes_in=timedelta(minutes=30))
    a_id, title, departure_start = a.event_id, a.event.title, a.event.starts_at
    people = [factories.make_employee(name=name) for name in ("王芳", "陈刚", "李娜")]
    for person in people:
        tf.apply(person, a)
    organizer = factories.make_organizer("jx")
    commit_db()
    tf.close_window(a)

    login_as(page, organizer)
    page.goto("/organizer/trips/")
    check_page(page)
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    check_page(page)
    page.get_by_label("公开随机数").fill("2026330 527")
    page.get_by_label("来源说明（如：2026年第330期福彩3D开奖号码）").fill("福彩3D第330期")
    page.get_by_role("button", name="录入公开随机数").click()
    expect(page.get_by_text("公开随机数已录入，可以抽签了。")).to_be_visible()
    page.get_by_role("button", name="立即抽签").click()
    expect(page.get_by_text("抽签完成：确认 1 人，候补 2 人。")).to_be_visible()
    expect(page.get_by_text("结果不能重抽，只能核验")).to_be_visible()
    check_page(page)
    # Days before departure the roster says when check-in opens and offers no button.
    expect(page.get_by_text("签到尚未开始")).to_be_visible()
    expect(page.get_by_role("button", name="签到")).to_have_count(0)
    assert_table_reads_as_cards(page, "table.roster")  # a card per traveller on a phone
    clock.set_now(departure_start)  # at the coach: the session of days ago has expired
    login_as(page, organizer)
    page.goto(f"/organizer/trips/{a_id}")
    page.set_viewport_size({"width": 360, "height": 740})
    assert_touch_targets(page)
    page.get_by_role("button", name="签到").click()
    expect(page.get_by_text("已签到。")).to_be_visible()
    page.goto("/organizer/trips/model-workers")
    check_page(page)
    assert lottery_record.verify_departure(a_id).ok
    commit_db()
