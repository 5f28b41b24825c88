"""Accounts by phone on a 360 px phone (issue 22): register with a code, sign in with a code, reset a forgotten
password with no e-mail on file, activate an account an organizer imported, and get in by code while the password
route is locked. Every page passes axe and has no horizontal scroll at 360 px; the codes are read from the
development SMS page, as a developer running ``make run`` would."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts import legal
from app.accounts.importer import import_members
from app.accounts.models import User
from app.accounts.phone_models import DocumentAcceptance
from app.extensions import db
from tests import factories

from .conftest import assert_touch_targets, check_page, commit_db

pytestmark = pytest.mark.browser

NEW_PASSWORD = "poyang-lake-2026"


@pytest.fixture
def phone_page(page: Page) -> Page:
    page.set_viewport_size({"width": 360, "height": 780})
    return page


def _check(page: Page) -> None:
    check_page(page)
    assert_touch_targets(page)


def _code_from_dev_page(page: Page, phone: str) -> str:
    """The newest code sent to ``phone``, read on the development-only SMS page in a second tab."""
    commit_db()
    dev = page.context.new_page()
    dev.goto("/dev/sms")
    card = dev.locator(".dev-sms", has_text=phone).first
    text = card.inner_text()
    dev.close()
    found = re.search(r"验证码是 (\d{6})", text)
    assert found, text
    return found.group(1)


def _ask_code(page: Page, phone: str, label: str = "手机号") -> str:
    page.get_by_label(label, exact=True).fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text(f"验证码已发送至 {phone[:3]}****{phone[-4:]}")).to_be_visible()
    return _code_from_dev_page(page, phone)


def _facts(phone: str) -> dict[str, object] | None:
    user = db.session.scalar(select(User).where(User.phone == phone))
    facts = None
    if user is not None:
        accepted = db.session.scalars(select(DocumentAcceptance).where(DocumentAcceptance.user_id == user.id)).all()
        facts = {
            "verified": user.phone_verified_at is not None,
            "has_password": bool(user.password_hash),
            "documents": {row.document: row.version for row in accepted},
        }
    commit_db()
    return facts


def _signed_in(page: Page) -> None:
    expect(page.get_by_role("link", name="我的", exact=True)).to_be_visible()


def test_register_with_a_code(phone_page: Page) -> None:
    page, phone = phone_page, "13912300001"
    page.goto("/account/register")
    _check(page)
    # The footer links both documents on every page.
    expect(page.locator("footer").get_by_role("link", name="隐私政策")).to_be_visible()
    code = _ask_code(page, phone)
    _check(page)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("设置密码（至少 8 位）").fill(NEW_PASSWORD)
    page.get_by_label("再次输入密码").fill(NEW_PASSWORD)
    page.get_by_label("真实姓名").fill("刘芳")
    page.get_by_label("性别").select_option("female")
    page.get_by_label("出生日期").fill("1995-03-08")
    page.get_by_label("所在城市").select_option("yichun")
    page.get_by_label("工作单位").fill("宜春锂电新材料有限公司")
    page.get_by_label("单位类型").select_option("non_public")
    # Without accepting the documents nothing is created.
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.locator("#accept-documents-error")).to_have_text("请阅读并同意《用户协议》和《隐私政策》。")
    assert _facts(phone) is None
    _check(page)
    page.get_by_label("设置密码（至少 8 位）").fill(NEW_PASSWORD)
    page.get_by_label("再次输入密码").fill(NEW_PASSWORD)
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.get_by_text("注册成功，欢迎来到职工之家！")).to_be_visible()
    _signed_in(page)
    assert _facts(phone) == {"verified": True, "has_password": True, "documents": legal.current_versions()}
    # The privacy policy says what it keeps and for how long, with the retention settings in force.
    page.locator("footer").get_by_role("link", name="隐私政策").click()
    expect(page.get_by_role("heading", name="《隐私政策》")).to_be_visible()
    expect(page.get_by_text("活动结束 3 年后去除与您的关联")).to_be_visible()
    _check(page)


def test_sign_in_with_a_code(phone_page: Page) -> None:
    page = phone_page
    user = factories.make_employee(name="王强")
    phone = user.phone
    commit_db()
    page.goto("/account/login")
    page.get_by_role("link", name="用短信验证码登录").click()
    expect(page.get_by_role("heading", name="验证码登录")).to_be_visible()
    _check(page)
    code = _ask_code(page, phone)
    # A wrong code is refused and says how many tries are left.
    page.get_by_label("短信验证码").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("#code-error")).to_have_text("验证码不正确，还可以再试 4 次。")
    _check(page)
    # The keyboard's "Go" (Enter) signs in; it does not ask for another code.
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("短信验证码").press("Enter")
    _signed_in(page)


def test_reset_a_forgotten_password_without_email(phone_page: Page) -> None:
    page = phone_page
    user = factories.make_employee(email=None)
    phone = user.phone
    commit_db()
    page.goto("/account/login")
    page.get_by_role("link", name="忘记密码？").click()
    expect(page.get_by_role("heading", name="找回密码")).to_be_visible()
    _check(page)
    code = _ask_code(page, phone)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("设置新密码（至少 8 位）").fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="重置密码").click()
    expect(page.get_by_text("密码已重置，请用新密码登录。")).to_be_visible()
    _check(page)
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    _signed_in(page)


def test_an_imported_member_activates_their_account(phone_page: Page) -> None:
    page, phone = phone_page, "13912300077"
    report = import_members(
        "phone,name,gender,birth_date,city,employer,enterprise_type,industry,frontline,member_no,email,password\n"
        f"{phone},赵敏,female,1990-02-03,上饶,上饶光伏科技,非公企业,新能源,是,SR-77,,\n",
        factories.make_org(),
    )
    assert report.errors == [] and report.needs_password == [phone]
    commit_db()
    page.goto("/account/login")
    page.get_by_role("link", name="激活工会导入的账号").click()
    expect(page.get_by_role("heading", name="激活账号")).to_be_visible()
    _check(page)
    code = _ask_code(page, phone)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("设置新密码（至少 8 位）").fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="激活并登录").click()
    expect(page.get_by_text("账号已激活，欢迎来到职工之家！")).to_be_visible()
    _signed_in(page)
    assert _facts(phone) == {"verified": True, "has_password": True, "documents": legal.current_versions()}


def test_a_locked_out_owner_still_gets_in_by_code(phone_page: Page) -> None:
    page = phone_page
    user = factories.make_employee()
    phone = user.phone
    commit_db()
    page.goto("/account/login")
    # Someone guesses the owner's password until the password route locks (10 per 5 minutes).
    for _ in range(10):
        page.get_by_label("手机号").fill(phone)
        page.get_by_label("密码", exact=True).fill("guess-password-1")
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.locator(".flash-error")).to_be_visible()
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(factories.PASSWORD)
    response = None
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="登录", exact=True).click()
    response = navigation.value
    assert response is not None and response.status == 429  # even the right password waits
    _check(page)
    # The code route is not locked.
    page.goto("/account/login/code")
    code = _ask_code(page, phone)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    _signed_in(page)
