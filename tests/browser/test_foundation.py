"""First journey on a phone (issue 2): register, log in, edit the profile, switch language and back.

Every page visited passes axe (no serious or critical violation) and has no horizontal scroll at 360 px.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from tests import factories
from tests.sms_codes import last_code

from .conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    assert_touch_targets,
    check_page,
    commit_db,
    logout,
)

pytestmark = pytest.mark.browser


def _check(page: Page) -> None:
    """axe, no horizontal scroll at 360 px, and 44 px touch targets."""
    check_page(page)
    assert_touch_targets(page)


PHONE = "13912345678"
PASSWORD = "zhigong-2026-secret"


def _profile(phone: str) -> dict[str, str] | None:
    """What the database holds for ``phone``, read then committed so the live server is never blocked."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    facts = None
    if user is not None:
        profile = user.profile
        facts = {
            "name": user.name,
            "employer": profile.employer if profile else "",
            "city": profile.city.code if profile else "",
        }
    commit_db()
    return facts


def test_register_login_edit_profile_and_switch_language(page: Page) -> None:
    factories.make_event(title="南昌职工羽毛球联谊赛")
    commit_db()

    page.goto("/")
    expect(page).to_have_title(re.compile("职工之家"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_text("南昌职工羽毛球联谊赛")).to_be_visible()
    _check(page)

    page.get_by_role("link", name="活动", exact=True).click()
    expect(page.get_by_role("heading", name="活动", exact=True)).to_be_visible()
    _check(page)

    # Register on the phone.
    page.get_by_role("link", name="注册", exact=True).click()
    expect(page.get_by_role("heading", name="注册职工账号")).to_be_visible()
    _check(page)
    # The number is proved first: the code goes to it, the page comes back with the number filled in.
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送至 139****5678")).to_be_visible()
    page.get_by_label("短信验证码").fill(last_code(PHONE))
    page.get_by_label("设置密码（至少 8 位）").fill(PASSWORD)
    page.get_by_label("再次输入密码").fill("not-the-same-password")
    page.get_by_label("真实姓名").fill("李秀英")
    page.get_by_label("性别").select_option("female")
    page.get_by_label("出生日期").fill("1994-05-20")
    page.get_by_label("所在城市").select_option("jiujiang")
    page.get_by_label("工作单位").fill("九江石化设备有限公司")
    page.get_by_label("单位类型").select_option("non_public")
    page.get_by_label("我是一线职工").check()
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="注册", exact=True).click()
    # A mistake is explained next to its field (and in the summary on top), in Chinese, and nothing is created.
    expect(page.get_by_text("两次输入的密码不一致。", exact=True)).to_be_visible()
    expect(page.locator("#error-summary")).to_contain_text("两次输入的密码不一致。")
    assert _profile(PHONE) is None
    _check(page)
    page.get_by_label("设置密码（至少 8 位）").fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.get_by_text("注册成功，欢迎来到职工之家！")).to_be_visible()
    assert _profile(PHONE) == {"name": "李秀英", "employer": "九江石化设备有限公司", "city": "jiujiang"}

    # Log out, then log in by phone and password.
    logout(page)
    expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()
    page.get_by_role("link", name="登录", exact=True).click()
    _check(page)
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_label("密码", exact=True).fill("wrong-password-123")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator(".flash-error")).to_be_visible()
    _check(page)
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("link", name="我的", exact=True)).to_be_visible()

    # Edit the profile.
    page.get_by_role("link", name="我的", exact=True).click()
    expect(page.get_by_role("heading", name="我的资料")).to_be_visible()
    expect(page.get_by_label("真实姓名")).to_have_value("李秀英")
    _check(page)
    page.get_by_label("工作单位").fill("九江新能源科技有限公司")
    page.get_by_label("所在城市").select_option("nanchang")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("个人资料已保存。")).to_be_visible()
    _check(page)
    assert _profile(PHONE) == {"name": "李秀英", "employer": "九江新能源科技有限公司", "city": "nanchang"}

    # Switch to English and back, staying on the same page.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/account/profile")
    _check(page)
    page.goto("/events/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _check(page)
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="活动", exact=True)).to_be_visible()
    _check(page)


def test_the_page_checks_catch_real_problems(page: Page) -> None:
    """The harness's own checks can fail: an unlabeled input, a 600 px wide block and a tiny button."""
    page.goto("/")
    _check(page)
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            const input = document.createElement('input');
            input.type = 'text';
            main.appendChild(input);
            const wide = document.createElement('div');
            wide.className = 'too-wide';
            wide.style.width = '600px';
            wide.textContent = 'x';
            main.appendChild(wide);
            const tiny = document.createElement('button');
            tiny.type = 'button';
            tiny.textContent = '小';
            main.appendChild(tiny);
        }"""
    )
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page)
    with pytest.raises(AssertionError, match="horizontal scroll at 360px"):
        assert_no_horizontal_scroll(page)
    with pytest.raises(AssertionError, match="touch targets under 44px"):
        assert_touch_targets(page)
