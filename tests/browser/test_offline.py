"""Issue 21, item 12, at 360 px in Chromium with the network switched off: the app installs (manifest, service
worker), an employee's upcoming ticket opens with no signal, and the check-in page reloads offline with its queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.booking import services as booking
from tests import factories

from .conftest import check_page, commit_db, login_as

pytestmark = pytest.mark.browser

_KEPT = "(url) => caches.match(url).then((hit) => !!hit)"


def _reload_under_the_worker(page: Page) -> None:
    """Wait until the service worker is active, then reload: that navigation goes through the worker.

    Waiting for ``navigator.serviceWorker.controller`` on the page that first registered it can wait forever:
    ``clients.claim()`` (sw.js, on activate) skips a page that is still loading, so a page whose navigation began
    while the worker was installing and which had not yet loaded when the worker activated stays uncontrolled until
    its next navigation (spec; Chromium does so when the machine is loaded). ``ready`` only needs an active worker."""
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("() => navigator.serviceWorker.controller !== null"), "the reload was not under the worker"


def _wait_until_kept(page: Page, url: str) -> None:
    for _ in range(100):
        if page.evaluate(_KEPT, url):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{url} was not kept for offline use")


def test_item12_manifest_and_a_ticket_that_opens_offline(page: Page, browser_context: BrowserContext) -> None:
    event = factories.make_event(starts_in=factories.STARTS_SOON, title="赣州职工健步走", venue="赣州市体育中心")
    person = factories.make_employee(name="黄丽")
    registration = booking.book(person, event.slots[0].id)
    ticket_url, code = f"/me/bookings/{registration.id}/ticket", registration.ticket_code
    commit_db()
    page.set_viewport_size({"width": 360, "height": 780})
    manifest = page.request.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    assert any(icon["sizes"] == "512x512" for icon in body["icons"])
    login_as(page, person)
    page.goto("/me/bookings")
    _reload_under_the_worker(page)  # under the service worker's control: 我的预约 itself is kept too
    _wait_until_kept(page, ticket_url)  # the tickets it links to are kept (app.js asks the worker)
    _wait_until_kept(page, "/me/bookings")

    browser_context.set_offline(True)
    try:
        page.goto(ticket_url)
        expect(page.locator("figure.qr svg")).to_be_visible()
        expect(page.locator(".ticket-code code")).to_have_text(code)
        expect(page.get_by_text("赣州市体育中心")).to_be_visible()
        page.goto("/me/bookings")
        expect(page.locator(".booking")).to_contain_text("赣州职工健步走")
        page.goto("/events/")
        expect(page.get_by_role("heading", name="当前没有网络")).to_be_visible()
        check_page(page)
    finally:
        browser_context.set_offline(False)

    # Logging out forgets the kept pages.
    page.goto("/")
    page.locator("footer form button[type=submit]").click()
    page.wait_for_load_state()
    for _ in range(50):
        if not page.evaluate(_KEPT, ticket_url):
            break
        page.wait_for_timeout(100)
    assert not page.evaluate(_KEPT, ticket_url)


@pytest.mark.parametrize("first", ["ticket", "bookings"])
def test_item12_the_first_page_after_login_opens_offline(page: Page, new_page: Callable[..., Page], first: str) -> None:
    """The page that registers the worker loads without it (nothing is controlled yet): app.js asks the worker
    to keep it once active, so a ticket opened straight after login opens offline without a second visit."""
    event = factories.make_event(starts_in=factories.STARTS_SOON, title="九江职工健步走", venue="九江市体育馆")
    person = factories.make_employee(name="刘洋")
    registration = booking.book(person, event.slots[0].id)
    ticket_url, code = f"/me/bookings/{registration.id}/ticket", registration.ticket_code
    commit_db()
    login_as(page, person)
    # A fresh context signed in with those cookies: no service worker registered, no page kept.
    fresh = new_page(storage_state=page.context.storage_state())
    url = ticket_url if first == "ticket" else "/me/bookings"
    fresh.goto(url)
    went_through_a_worker = "() => performance.getEntriesByType('navigation')[0].workerStart > 0"
    assert not fresh.evaluate(went_through_a_worker), "the first page was loaded under a service worker"
    fresh.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    _wait_until_kept(fresh, url)

    fresh.context.set_offline(True)
    try:
        fresh.goto(url)
        if first == "ticket":
            expect(fresh.locator(".ticket-code code")).to_have_text(code)
            expect(fresh.get_by_text("九江市体育馆")).to_be_visible()
        else:
            expect(fresh.locator(".booking")).to_contain_text("九江职工健步走")
    finally:
        fresh.context.set_offline(False)


def test_item12_check_in_page_reloads_offline_and_keeps_its_queue(page: Page, browser_context: BrowserContext) -> None:
    event = factories.make_event(starts_in=factories.STARTS_SOON, title="南昌职工健步走活动", capacity=10)
    person = factories.make_employee(name="王芳")
    registration = booking.book(person, event.slots[0].id)
    code, event_id = registration.ticket_code, event.id
    organizer = factories.make_organizer("jx-nanchang")
    commit_db()
    page.set_viewport_size({"width": 360, "height": 780})
    login_as(page, organizer)
    url = f"/organizer/events/{event_id}/checkin"
    page.goto(url)
    _reload_under_the_worker(page)
    _wait_until_kept(page, url)

    browser_context.set_offline(True)
    try:
        page.get_by_label("票码").fill(code)
        page.get_by_role("button", name="签到", exact=True).click()
        queue = page.locator("#queue-status")
        expect(queue).to_be_visible()
        queued = queue.inner_text()
        page.reload()
        expect(page.get_by_role("heading", name="现场签到")).to_be_visible()
        expect(page.locator("#queue-status")).to_have_text(queued)
        check_page(page)
    finally:
        browser_context.set_offline(False)
