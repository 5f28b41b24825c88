"""Booking journey on a phone (issue 3): find an event, book, show the ticket, cancel; a second person on
the waitlist receives the offer in "my bookings" and accepts it. axe and the 360 px check on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.booking import services as booking
from app.booking.models import Registration
from app.events.models import WaitlistPolicy
from app.extensions import db
from tests import factories

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def _check(page: Page) -> None:
    """axe, no horizontal scroll at 360 px, and 44 px touch targets."""
    check_page(page)
    assert_touch_targets(page)


TITLE = "庐山职工疗休养分享会"


def _statuses(slot_id: int) -> dict[str, str]:
    """Each registration's status on the slot by phone, read then committed (never block the server)."""
    rows = db.session.scalars(select(Registration).where(Registration.slot_id == slot_id)).all()
    statuses = {r.user.phone: r.status.value for r in rows}
    commit_db()
    return statuses


def _find_and_open(page: Page) -> None:
    page.goto("/events/")
    _check(page)
    page.get_by_label("城市").select_option("jiujiang")
    page.get_by_label("只看有名额").check()
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_text("共 1 个活动")).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()


def test_book_ticket_cancel_and_the_waitlist_gets_the_offer(page: Page, new_page) -> None:  # type: ignore[no-untyped-def]
    factories.make_event(title="南昌职工羽毛球联谊赛")  # another city: filtered out
    event = factories.make_event(
        title=TITLE,
        capacity=1,
        waitlist=WaitlistPolicy.OFFER,
        city=factories.city("jiujiang"),
        venue="九江市工人文化宫",
    )
    event_id, slot_id = event.id, event.slots[0].id
    first = factories.make_employee(name="王芳")
    second = factories.make_employee(name="陈刚", gender="male")
    first_phone, second_phone = first.phone, second.phone
    commit_db()

    # The first person finds the event through the filters, sees the seat, books it.
    login_as(page, first)
    _find_and_open(page)
    expect(page.get_by_text("剩余 1 / 1")).to_be_visible()
    _check(page)
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_text("预约成功！请在活动当天出示电子票。")).to_be_visible()
    expect(page.get_by_role("heading", name="我的预约")).to_be_visible()
    expect(page.locator(".booking .chip")).to_have_text("已确认")
    _check(page)
    assert _statuses(slot_id) == {first_phone: "confirmed"}

    # The ticket carries a QR code and the ticket code.
    page.get_by_role("link", name="电子票").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    code = page.locator(".ticket-code code").inner_text()
    assert len(code) >= 16
    _check(page)
    page.get_by_role("link", name="返回我的预约").click()

    # The second person finds the slot full and joins the waitlist.
    other = new_page()
    login_as(other, second)
    other.goto(f"/events/{event_id}")
    expect(other.get_by_text("已满", exact=True)).to_be_visible()
    other.get_by_role("button", name="加入候补").click()
    expect(other.get_by_text("名额已满，您已进入候补名单，有空位时会通知您。")).to_be_visible()
    expect(other.get_by_text("候补第 1 位")).to_be_visible()
    _check(other)
    assert _statuses(slot_id) == {first_phone: "confirmed", second_phone: "waitlisted"}

    # The first person cancels (answering the confirmation); the seat goes to the waitlist as an offer.
    page.get_by_role("button", name="取消预约").click()
    expect(page.get_by_text("已取消预约。")).to_be_visible()
    expect(page.locator(".booking .chip")).to_have_text("已取消")
    expect(page.get_by_role("link", name="电子票")).to_have_count(0)
    _check(page)
    assert _statuses(slot_id) == {first_phone: "cancelled", second_phone: "offered"}

    # The second person sees the offer in "my bookings" and accepts it, then shows the ticket.
    other.reload()
    expect(other.get_by_text("有空位了！")).to_be_visible()
    _check(other)
    other.get_by_role("button", name="确认参加").click()
    expect(other.get_by_text("已确认候补名额，预约成功！")).to_be_visible()
    expect(other.locator(".booking .chip")).to_have_text("已确认")
    _check(other)
    assert _statuses(slot_id) == {first_phone: "cancelled", second_phone: "confirmed"}
    other.get_by_role("link", name="电子票").click()
    expect(other.locator("figure.qr svg")).to_be_visible()
    assert other.locator(".ticket-code code").inner_text() != code
    _check(other)


def test_someone_elses_ticket_is_not_found(page: Page) -> None:
    event = factories.make_event(title=TITLE)
    owner = factories.make_employee()
    registration = booking.book(owner, event.slots[0].id, consents=[])
    db.session.commit()
    registration_id = registration.id
    stranger = factories.make_employee(name="路人")
    commit_db()

    login_as(page, stranger)
    response = page.goto(f"/me/bookings/{registration_id}/ticket")
    assert response is not None and response.status == 404
    _check(page)
