"""Check-in on the day, on a phone (issue 23, item 3): ten days before the event the scanner says plainly when
check-in opens and counts nobody; the organizer may still check the person in by giving a reason, which the
audit trail keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.audit import AuditEntry
from app.booking import services as booking
from app.booking.models import Registration
from app.extensions import db
from tests import factories

from .conftest import check_page, commit_db, login_as

pytestmark = pytest.mark.browser


def _status(registration_id: int) -> str:
    status = db.session.scalar(select(Registration.status).where(Registration.id == registration_id))
    commit_db()
    return status.value if status else ""


def test_too_early_then_override_with_a_reason(page: Page) -> None:
    event = factories.make_event(title="南昌职工健步走活动", capacity=10, starts_in=timedelta(days=10))
    registration = booking.book(factories.make_employee(name="王芳"), event.slots[0].id)
    db.session.commit()
    code, registration_id, event_id = registration.ticket_code, registration.id, event.id
    opens = f"{event.starts_at - timedelta(hours=3):%m-%d %H:%M}"
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()

    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}/checkin")
    expect(page.locator(".checkin-window")).to_contain_text(opens)
    override = page.locator("#override-form")
    expect(override).to_be_hidden()

    page.get_by_label("票码").fill(code)
    page.get_by_role("button", name="签到", exact=True).click()
    result = page.locator("#result")
    expect(result).to_contain_text(f"签到尚未开始，{opens} 起可签到")
    expect(result).to_contain_text("王芳")
    expect(page.locator("#attended-count")).to_have_text("0")
    expect(override).to_be_visible()
    check_page(page)
    assert _status(registration_id) == "confirmed"

    # No reason: nothing is sent, the reason field asks for it.
    page.get_by_role("button", name="仍然签到").click()
    expect(page.get_by_label("签到时间之外仍要签到的原因")).to_be_focused()
    assert _status(registration_id) == "confirmed"

    page.get_by_label("签到时间之外仍要签到的原因").fill("志愿者提前到岗")
    page.get_by_role("button", name="仍然签到").click()
    expect(result).to_contain_text("签到成功")
    expect(page.locator("#attended-count")).to_have_text("1")
    expect(override).to_be_hidden()
    check_page(page)
    assert _status(registration_id) == "attended"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.override"))
    assert entry is not None and entry.object_id == registration_id
    assert entry.detail is not None and entry.detail["reason"] == "志愿者提前到岗"
    commit_db()
