"""Mixer journey on phones (issue 4): a woman signs up with the separate consent and a nickname; at the mixer
the organizer checks three people in; two pick each other, the third picks one-sidedly; at the reveal the two
see their match and the third sees only "no match this time". axe and the 360 px check on every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.booking import queries as booking_queries
from app.mixers import checkin
from tests import factories
from tests.mixers import factories as mf

from .conftest import check_page, commit_db, login_as

pytestmark = pytest.mark.browser

TITLE = "青春有约·单身职工联谊会"


def _pick(page: Page, event_id: int, badge: int) -> None:
    page.goto(f"/mixers/{event_id}")
    check_page(page)
    page.locator(f'input[name="badge"][value="{badge}"]').check()
    page.get_by_role("button", name="保存心动卡").click()
    expect(page.get_by_text("心动卡已保存（已选 1 位）")).to_be_visible()


def test_two_match_the_one_sided_picker_sees_no_match(page: Page, new_page) -> None:  # type: ignore[no-untyped-def]
    event = mf.make_mixer(title=TITLE, max_picks=2)
    event_id = event.id
    organizer = factories.make_organizer()
    woman = factories.make_employee(gender="female", name="王小丽")
    man = factories.make_employee(gender="male", name="张伟")
    third = factories.make_employee(gender="male", name="刘洋")
    commit_db()

    # Sign-up on the event page: the consent is separate and unticked; without it nothing is booked.
    login_as(page, woman)
    page.goto(f"/events/{event_id}")
    expect(page.get_by_role("heading", name="心动卡规则")).to_be_visible()
    check_page(page)
    consent = page.get_by_role("checkbox", name="我已阅读并同意处理我的敏感个人信息：单身状态（联谊活动报名）")
    expect(consent).not_to_be_checked()
    page.get_by_label("联谊昵称（选填，签到后也可设置）").fill("小鹿")
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_text("请先阅读并勾选同意相关敏感个人信息的处理。")).to_be_visible()
    page.get_by_label("联谊昵称（选填，签到后也可设置）").fill("小鹿")
    page.get_by_role("checkbox", name="我已阅读并同意处理我的敏感个人信息：单身状态（联谊活动报名）").check()
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_text("预约成功！请在活动当天出示电子票。")).to_be_visible()

    # The others sign up too; at the mixer the organizer checks everyone in and hands out badges.
    mf.sign_up(man, event, nickname="阿杰")
    mf.sign_up(third, event, nickname="路人丙")
    commit_db()
    mf.open_window(event)
    org_page = new_page()
    login_as(org_page, organizer)
    org_page.goto(f"/organizer/mixers/{event_id}/checkin")
    check_page(org_page)
    for name in ("王小丽", "张伟", "刘洋"):
        org_page.get_by_role("button", name=f"签到 {name}").click()
        expect(org_page.get_by_text("签到成功")).to_be_visible()
    expect(org_page.locator(".mixer-badge")).to_have_count(3)
    badges = {
        nick: checkin.attendee_for(user, event_id).badge_no  # type: ignore[union-attr]
        for nick, user in (("小鹿", woman), ("阿杰", man), ("路人丙", third))
    }
    commit_db()

    # Match cards on three phones: badge number and nickname only, never a real name.
    her, him, other = new_page(), new_page(), new_page()
    for p, user in ((her, woman), (him, man), (other, third)):
        login_as(p, user)
    her.goto(f"/mixers/{event_id}")
    expect(her.get_by_text("阿杰")).to_be_visible()
    expect(her.get_by_text("路人丙")).to_be_visible()
    assert "张伟" not in her.content() and "刘洋" not in her.content()
    _pick(her, event_id, badges["阿杰"])
    _pick(him, event_id, badges["小鹿"])
    _pick(other, event_id, badges["小鹿"])  # one-sided

    # Before the reveal she sees nothing of the one-sided pick.
    her.goto(f"/mixers/{event_id}")
    assert "路人丙" in her.content()  # only as a candidate, like everyone else
    expect(her.locator('input[name="badge"]:checked')).to_have_count(1)

    # The organizer closes the window and reveals (confirm dialog accepted by the harness).
    org_page.goto(f"/organizer/mixers/{event_id}")
    check_page(org_page)
    org_page.get_by_role("button", name="截止并揭晓").click()
    expect(org_page.get_by_text("心动卡已截止并揭晓")).to_be_visible()
    expect(org_page.get_by_text("参加人数少于 10 人，不显示")).to_be_visible()

    for p, partner in ((her, "阿杰"), (him, "小鹿")):
        p.goto(f"/mixers/{event_id}")
        expect(p.get_by_text(f"你和 {partner} 互相心动！")).to_be_visible()
        check_page(p)
        assert "路人丙" not in p.content()
    other.goto(f"/mixers/{event_id}")
    expect(other.get_by_text("本次没有匹配，感谢参与，期待下次相遇。")).to_be_visible()
    content = other.content()
    assert "小鹿" not in content and "阿杰" not in content and "互相心动" not in content
    check_page(other)

    # Her matches page offers the follow-up once it is due.
    clock.set_now(clock.now() + timedelta(days=3, hours=1))
    later = new_page()
    login_as(later, woman)
    later.goto("/mixers/matches")
    expect(later.get_by_role("heading", name="与 阿杰 互相心动")).to_be_visible()
    check_page(later)
    later.get_by_role("radio", name="还在联系").check()
    later.get_by_role("button", name="提交").click()
    expect(later.get_by_text("谢谢！您的回答只用于统计，不会告诉对方。")).to_be_visible()
    assert [r.status.value for r in booking_queries.my_registrations(woman)] == ["attended"]
    commit_db()
