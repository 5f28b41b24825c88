"""Statistics on a phone (issue 9): an organizer's dashboard and the public summary are readable at 360 px with
no horizontal scroll and no serious or critical axe violation; the charts scale down and keep their tables."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.stats.conftest import dataset  # noqa: F401  (the hand-built statistics dataset)

from .conftest import check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def test_dashboard_and_public_page_on_a_phone(page: Page, dataset) -> None:  # noqa: F811
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    login_as(page, organizer)
    page.get_by_role("link", name="统计", exact=True).click()
    expect(page.get_by_role("heading", name="数据统计")).to_be_visible()
    page.goto("/stats/?year=2026")
    expect(page.get_by_role("heading", name="单身青年联谊")).to_be_visible()
    expect(page.get_by_role("img", name="各城市到场人次")).to_be_visible()
    expect(page.get_by_role("table", name="按城市（活动举办地）")).to_be_attached()
    page.set_viewport_size({"width": 360, "height": 800})
    width = page.locator("#chart-city").evaluate("e => e.getBoundingClientRect().width")
    assert 300 <= width <= 360 - 2 * 14  # the chart fills the column between the page margins
    check_page(page)

    page.goto("/stats/public?year=2026")
    expect(page.get_by_role("heading", name="2026 年全省服务成效")).to_be_visible()
    check_page(page)
