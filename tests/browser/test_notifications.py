"""Notifications journey on a phone (issue 8): a person books, finds the confirmation in the inbox at once, and —
with the clock moved forward — the reminder; the SMTP server received exactly one confirmation and one reminder."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.notifications import delivery
from tests import factories
from tests.notifications.smtp import smtp  # noqa: F401  (fixture: a real local SMTP server)

from .conftest import check_page, commit_db, login_as

pytestmark = pytest.mark.browser

TITLE = "赣州职工健康讲座"


def test_confirmation_then_reminder_in_the_inbox_and_by_email_once_each(page: Page, smtp) -> None:  # noqa: F811
    start = clock.now().replace(second=0)
    clock.set_now(start)
    event = factories.make_event(title=TITLE, starts_in=timedelta(hours=3), venue="赣州市工人文化宫")
    event_id, starts_at = event.id, event.slots[0].starts_at
    person = factories.make_employee(name="刘小梅", email="liuxiaomei@example.cn")
    address = person.email
    commit_db()

    login_as(page, person)
    page.goto(f"/events/{event_id}")
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_text("预约成功！请在活动当天出示电子票。")).to_be_visible()

    # The navigation shows one unread message; the inbox shows the confirmation.
    inbox_link = page.get_by_role("link", name=re.compile("^消息"))
    expect(inbox_link.locator(".badge")).to_have_text("1")
    inbox_link.click()
    expect(page.get_by_role("heading", name=f"预约成功：{TITLE}")).to_be_visible()
    check_page(page)

    delivery.tick(owner="browser-test")  # the scheduler's tick: the email goes out
    commit_db()

    # An hour later the 2-hour reminder is due (the 24-hour one was already past when booking).
    clock.set_now(starts_at - timedelta(hours=2) + timedelta(minutes=1))
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("^活动提醒"))).to_be_visible()
    expect(page.locator(".inbox-item")).to_have_count(2)
    check_page(page)
    delivery.tick(owner="browser-test")
    commit_db()
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.get_by_text("已全部标为已读。")).to_be_visible()
    expect(page.locator(".mainnav .badge")).to_have_count(0)

    subjects = [str(m["Subject"]) for m in smtp.to(address)]
    assert len(subjects) == 2
    assert subjects[0] == f"预约成功：{TITLE}" and subjects[1].startswith(f"活动提醒：{TITLE}")
    delivery.tick(owner="browser-test")
    commit_db()
    assert len(smtp.to(address)) == 2


def test_channel_preferences_from_the_profile(page: Page) -> None:
    person = factories.make_employee(name="周建国", gender="male", email="zhoujianguo@example.cn")
    commit_db()
    login_as(page, person)
    page.goto("/account/profile")
    page.get_by_role("link", name="消息设置").click()
    expect(page.get_by_role("heading", name="消息设置")).to_be_visible()
    check_page(page)
    expect(page.get_by_label("通过电子邮件接收通知")).to_be_checked()
    page.get_by_label("通过短信接收通知").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("通知设置已保存。")).to_be_visible()
    expect(page.get_by_label("通过短信接收通知")).to_be_checked()
    check_page(page)


def test_admin_sees_the_system_page(page: Page) -> None:
    admin = factories.make_admin()
    commit_db()
    login_as(page, admin)
    page.get_by_role("link", name="系统状态").click()
    expect(page.get_by_role("heading", name="调度器进程")).to_be_visible()
    check_page(page)
