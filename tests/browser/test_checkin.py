"""Check-in at the door on a phone (issue 7): an organizer checks in three attendees by ticket code — one twice,
one cancelled — and one scan is made with the network cut: it waits in the device's queue, is synced when the
network returns, and counts once even when the queue is uploaded again."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from app.booking import services as booking
from app.booking.models import Registration, RegistrationHistory, Status
from app.extensions import db
from app.organizer.models import CheckinScan
from tests import factories

from .conftest import assert_table_reads_as_cards, check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def _state(registration_id: int) -> tuple[str, int, int]:
    """(status, check-in transitions, scans recorded) for one registration, read then committed."""
    status = db.session.scalar(select(Registration.status).where(Registration.id == registration_id))
    checkins = db.session.scalar(
        select(func.count())
        .select_from(RegistrationHistory)
        .where(RegistrationHistory.registration_id == registration_id, RegistrationHistory.to_status == Status.ATTENDED)
    )
    scans = db.session.scalar(
        select(func.count()).select_from(CheckinScan).where(CheckinScan.registration_id == registration_id)
    )
    commit_db()
    return (status.value if status else "", checkins or 0, scans or 0)


def _scan(page: Page, code: str) -> None:
    page.get_by_label("票码").fill(code)
    page.get_by_role("button", name="签到", exact=True).click()


def test_check_in_three_attendees_one_offline(page: Page, browser_context: BrowserContext) -> None:
    event = factories.make_event(starts_in=factories.STARTS_SOON, title="南昌职工健步走活动", capacity=10)
    people = [factories.make_employee(name=name) for name in ("王芳", "陈刚", "刘洋")]
    registrations = [booking.book(person, event.slots[0].id) for person in people]
    db.session.commit()
    booking.cancel(registrations[2], actor=people[2])
    db.session.commit()
    codes = [r.ticket_code for r in registrations]
    first_id, offline_id, cancelled_id = (r.id for r in registrations)
    event_id = event.id
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()

    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}/checkin")
    expect(page.get_by_role("heading", name="现场签到")).to_be_visible()
    check_page(page)
    result = page.locator("#result")
    count = page.locator("#attended-count")

    # 1. The first attendee: welcome, with their name, big and clear.
    _scan(page, codes[0])
    expect(result).to_contain_text("签到成功")
    expect(result).to_contain_text("王芳")
    expect(result).to_have_class("checkin-result result-welcome")
    expect(count).to_have_text("1")
    check_page(page)

    # 2. The same ticket again: already checked in, nothing counted twice.
    _scan(page, codes[0])
    expect(result).to_contain_text("已签到过")
    expect(result).to_have_class("checkin-result result-already")
    expect(count).to_have_text("1")

    # 3. A cancelled registration: refused.
    _scan(page, codes[2])
    expect(result).to_contain_text("已取消")
    expect(result).to_have_class("checkin-result result-cancelled")

    # 4. The network drops: the scan waits on the device.
    browser_context.set_offline(True)
    _scan(page, codes[1])
    expect(result).to_contain_text("网络已断开")
    expect(page.locator("#queue-status")).to_have_text("待同步 1 条")
    queued = page.evaluate(f"() => window.localStorage.getItem('zhijia.checkin.queue.{event_id}')")
    assert codes[1] in queued
    assert _state(offline_id) == ("confirmed", 0, 0)

    # 5. The network returns: the queue is synced and the attendee counted.
    browser_context.set_offline(False)
    expect(page.locator("#queue-status")).to_be_hidden()
    expect(count).to_have_text("2")
    assert _state(offline_id) == ("attended", 1, 1)

    # 6. The same queue uploaded again (a device that missed the answer): answered, never counted twice.
    page.evaluate(
        "([key, value]) => window.localStorage.setItem(key, value)",
        [f"zhijia.checkin.queue.{event_id}", queued],
    )
    page.reload()
    expect(page.locator("#queue-status")).to_be_hidden()
    expect(count).to_have_text("2")
    assert _state(offline_id) == ("attended", 1, 1)
    assert _state(first_id) == ("attended", 1, 2)  # two scans, one check-in
    assert _state(cancelled_id)[0] == "cancelled"
    check_page(page)


def test_recent_scans_are_listed(page: Page) -> None:
    event = factories.make_event(starts_in=factories.STARTS_SOON, title="南昌职工健步走活动", capacity=10)
    registration = booking.book(factories.make_employee(name="王芳"), event.slots[0].id)
    db.session.commit()
    code, event_id = registration.ticket_code, event.id
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}/checkin")
    _scan(page, code)
    _scan(page, "no-such-code")
    recent = page.locator("#recent-scans li")
    expect(recent).to_have_count(2)
    expect(recent.first).to_contain_text("没有找到该票码")
    expect(recent.nth(1)).to_contain_text("王芳")
    check_page(page)


def test_console_pages_work_on_a_phone(page: Page, new_page) -> None:  # type: ignore[no-untyped-def]
    """Every console page an organizer uses at the door or on the go: accessible, no sideways scroll at 360 px."""
    event = factories.make_event(starts_in=factories.STARTS_SOON, title="南昌职工羽毛球联谊赛", capacity=2)
    people = [factories.make_employee(name=name) for name in ("王芳", "陈刚", "刘洋")]
    registrations = [booking.book(person, event.slots[0].id) for person in people]
    db.session.commit()
    event_id, registration_id = event.id, registrations[0].id
    organizer = factories.make_organizer("jx-nanchang")
    admin = factories.make_admin()
    commit_db()

    login_as(page, organizer)
    page.goto("/")
    page.get_by_role("link", name="组织管理").click()
    expect(page.get_by_role("heading", name="组织管理")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="南昌职工羽毛球联谊赛").click()
    expect(page.get_by_role("heading", name="南昌职工羽毛球联谊赛")).to_be_visible()
    check_page(page)
    assert_table_reads_as_cards(page, "table.cards")  # the slots, each a card of its counts
    page.goto(f"/organizer/events/{event_id}/roster")
    expect(page.get_by_text("显示 3 人")).to_be_visible()
    check_page(page)
    page.get_by_label("姓名或手机号").fill("陈")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_text("显示 1 人")).to_be_visible()
    assert "/roster" in page.url and "陈" not in page.url  # the search never lands in a URL
    page.goto(f"/organizer/registrations/{registration_id}")
    check_page(page)
    page.goto(f"/organizer/events/{event_id}/edit")
    check_page(page)
    page.goto("/organizer/events/new")
    check_page(page)

    other = new_page()
    login_as(other, admin)
    other.goto("/organizer/audit")
    expect(other.get_by_role("heading", name="操作日志")).to_be_visible()
    check_page(other)
    assert_table_reads_as_cards(other, "table.cards")  # who did what, one card per entry


def test_item13_without_a_barcode_detector_a_photo_of_the_ticket_checks_in(page: Page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.organizer.test_photo_checkin import qr_photo

    event = factories.make_event(starts_in=factories.STARTS_SOON, title="九江职工徒步", capacity=5)
    person = factories.make_employee(name="陈刚")
    registration = booking.book(person, event.slots[0].id)
    photo = tmp_path / "ticket.jpg"
    photo.write_bytes(qr_photo(registration.ticket_code))
    event_id, registration_id = event.id, registration.id
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    # iPhone Safari and Firefox have no BarcodeDetector: no live camera button, the photo path instead.
    page.add_init_script("delete window.BarcodeDetector;")
    page.set_viewport_size({"width": 360, "height": 780})
    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}/checkin")
    expect(page.locator("#camera-box")).to_be_hidden()
    photo_input = page.get_by_label("拍照识别电子票")
    expect(photo_input).to_have_attribute("capture", "environment")
    check_page(page)
    photo_input.set_input_files(str(photo))
    page.get_by_role("button", name="识别并签到").click()
    expect(page.locator("#result")).to_contain_text("签到成功")
    expect(page.locator("#result")).to_contain_text("陈刚")
    assert _state(registration_id)[0] == "attended"
