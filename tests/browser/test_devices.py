"""The devices page on a phone: reached from the account page, readable at 360 px, every button a real touch
target; revoking the laptop's session and then logging out everywhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.accounts import services as accounts
from app.extensions import db
from tests import factories

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def test_see_and_revoke_devices(page: Page) -> None:
    person = factories.make_employee(name="刘晓燕")
    accounts.start_login_session(person, device="Edge · Windows")
    accounts.issue_api_token(person, device="zhijia-android")
    db.session.commit()
    commit_db()
    login_as(page, person)

    page.goto("/account/profile")
    page.get_by_role("link", name="登录设备与访问令牌").click()
    expect(page.get_by_role("heading", name="登录设备与访问令牌", level=1)).to_be_visible()
    expect(page.get_by_text("Edge · Windows")).to_be_visible()
    expect(page.get_by_text("zhijia-android")).to_be_visible()
    expect(page.get_by_text("当前设备")).to_be_visible()
    check_page(page)
    assert_touch_targets(page)

    page.get_by_role("button", name="让此设备退出登录").click()
    expect(page.get_by_text("已让该设备退出登录。")).to_be_visible()
    expect(page.get_by_text("Edge · Windows")).to_have_count(0)

    page.get_by_role("button", name="在所有设备上退出登录").click()
    expect(page.get_by_text("已在所有设备上退出登录，所有访问令牌均已作废。")).to_be_visible()
    expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()
