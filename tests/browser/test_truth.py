"""Issue 21 on a 360 px phone: pages tell the truth about states and offer only the action that works now."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from tests import factories

from .conftest import assert_touch_targets, check_page, commit_db

pytestmark = pytest.mark.browser

NOW = datetime(2026, 6, 15, 10, 0)


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _narrow(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 780})


def test_item1_running_and_ended_events_are_not_shown_as_open(page: Page) -> None:
    running = factories.make_event(
        title="赣江之畔单身联谊会",
        capacity=24,
        starts_in=timedelta(hours=-1),
        signup_closes_at=NOW - timedelta(days=1),
    )
    factories.make_event(title="去年的读书分享会", starts_in=timedelta(days=-20))
    factories.make_event(title="职工羽毛球联谊赛", starts_in=timedelta(days=20))
    factories.make_event(title="摄影沙龙", starts_in=timedelta(days=30), signup_open=False)
    running_id = running.id
    commit_db()
    _narrow(page)

    page.goto("/")
    cards = page.locator("ul.cards > li")
    expect(cards).to_have_count(3)
    expect(page.get_by_text("去年的读书分享会")).to_have_count(0)
    # Open first, then the one about to open, then the running one; each with its true state.
    expect(cards.nth(0)).to_contain_text("职工羽毛球联谊赛")
    expect(cards.nth(0)).to_contain_text("报名中")
    expect(cards.nth(1)).to_contain_text("摄影沙龙")
    expect(cards.nth(1)).to_contain_text("即将开放")
    expect(cards.nth(2)).to_contain_text("赣江之畔单身联谊会")
    expect(cards.nth(2)).to_contain_text("进行中")
    expect(cards.nth(2)).not_to_contain_text("剩余名额")
    check_page(page)

    page.goto("/events/")
    expect(page.locator("ul.cards > li").first).to_contain_text("职工羽毛球联谊赛")
    check_page(page)

    # An anonymous visitor is not invited to log in to book an event that takes no more bookings.
    page.goto(f"/events/{running_id}")
    expect(page.locator(".slot")).to_contain_text("进行中")
    expect(page.get_by_role("link", name="登录后报名")).to_have_count(0)
    expect(page.get_by_text("活动进行中，不再接受报名。")).to_be_visible()
    check_page(page)
    assert_touch_targets(page)
