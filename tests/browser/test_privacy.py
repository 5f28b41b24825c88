"""Privacy pages on a phone (issue 10): withdrawing a consent is one tap and cancels the booking that needed it;
the export page is readable; deletion asks for the password and logs the person out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.accounts.consents import MIXER_SIGNUP
from app.booking import services as booking
from app.extensions import db
from tests import factories
from tests.privacy.factories import consent_kind

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def test_withdraw_in_one_tap_export_and_delete(page: Page) -> None:
    with consent_kind() as kind:
        person = factories.make_employee(name="黄丽萍")
        event = factories.make_event(kind=kind, title="南昌青年联谊会")
        booking.book(person, event.slots[0].id, consents=[MIXER_SIGNUP])
        db.session.commit()
        commit_db()
        login_as(page, person)

        page.goto("/account/profile")
        page.get_by_role("link", name="我的授权同意").click()
        expect(page.get_by_role("heading", name="我的授权同意")).to_be_visible()
        check_page(page)
        assert_touch_targets(page)
        page.get_by_role("button", name="撤回同意").click()
        expect(page.get_by_text("已撤回同意，并取消了 1 项相关报名。")).to_be_visible()
        expect(page.get_by_role("button", name="重新同意")).to_be_visible()
        check_page(page)

        page.goto("/privacy/export")
        expect(page.get_by_text("南昌青年联谊会")).to_be_visible()
        check_page(page)
        assert_touch_targets(page)

        page.goto("/privacy/delete")
        check_page(page)
        page.get_by_label("请输入登录密码以确认是本人操作").fill(factories.PASSWORD)
        page.get_by_label("我了解注销后账号无法恢复，个人信息将被删除").check()
        page.get_by_role("button", name="确认注销账号").click()
        expect(page.get_by_text("您的账号已注销，个人信息已删除。感谢您使用职工之家。")).to_be_visible()
        expect(page.get_by_role("link", name="登录")).to_be_visible()
