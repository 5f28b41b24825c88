"""Browser harness (DESIGN.md §8): Playwright for Python drives Debian's Chromium at a phone viewport
against a live server running the session ``app`` on the test database.

The live server is the very ``app`` of ``tests/conftest.py`` served by werkzeug in a daemon thread: factories
(which commit) and the server see the same data, and the autouse ``db`` fixture wipes it after each test like
any other test. Each request runs in its own application context and database session, as in production.

SQLITE'S WRITE LOCK. Every SQLite transaction begins with ``BEGIN IMMEDIATE``: the test's own session holds
the lock from its first statement (even a read, even a lazy attribute load after a commit) until it commits.
Call ``commit_db()`` after building data or reading state, before driving the browser again, or the live
server waits for the lock (30 s busy timeout) and the test times out. Read what you need into plain values,
then commit. The helpers below commit first.

Fixtures: ``live_server`` (base URL), ``browser`` (session), ``page`` (fresh Pixel 7 context, zh-CN, per test;
``page.goto("/events/")`` is relative to the live server), ``new_page()`` (factory for a second user's page).
Helpers: ``login_as(page, user)``, ``logout(page)``, ``assert_accessible(page)``,
``assert_no_horizontal_scroll(page)``, ``check_page(page)`` (both checks), ``assert_touch_targets(page)``, ``assert_table_reads_as_cards(page, selector)``,
``commit_db()``.
Tests in this folder are marked ``browser`` automatically; mark them ``@pytest.mark.browser`` anyway.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from app.extensions import db as _db
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("ZHIJIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEVICE = "Pixel 7"
NARROW_WIDTH = 360
TIMEOUT_MS = 20_000
BLOCKING_IMPACTS = {"serious", "critical"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


def commit_db() -> None:
    """End the test's transaction: the live server can then write (SQLite) and the test sees fresh data."""
    if _db.session.is_active:
        _db.session.commit()


class _RequestsInFlight:
    """WSGI wrapper tracking the requests the live server's app is still handling, so that teardown can wait for them.

    A page closed mid-request (a background sync, a beacon) leaves its request running in the app; wiping the
    database under it deadlocks on PostgreSQL (TRUNCATE against the request's row locks). Only the app's own call is
    tracked: Flask has released the request's database session when it returns, while werkzeug may keep the thread
    waiting on a kept-alive connection long after."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.running: dict[int, str] = {}
        self.idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        key = id(environ)
        with self.idle:
            self.running[key] = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
        try:
            return self.app(environ, start_response)
        finally:
            with self.idle:
                del self.running[key]
                self.idle.notify_all()

    def wait_until_idle(self, timeout: float = 30) -> None:
        with self.idle:
            finished = self.idle.wait_for(lambda: not self.running, timeout)
            assert finished, f"the live server is still busy with {sorted(self.running.values())}"


_in_flight: list[_RequestsInFlight] = []


def wait_for_live_server() -> None:
    """Block until the live server has finished every request it started (no-op when none is running)."""
    for requests in _in_flight:
        requests.wait_until_idle()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The session ``app`` served on 127.0.0.1 at a free port, one thread per request."""
    requests = _RequestsInFlight(app)
    _in_flight.append(requests)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, requests, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    _in_flight.remove(requests)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


def _context(playwright: Playwright, browser: Browser, live_server: str, **overrides: Any) -> BrowserContext:
    options = {**playwright.devices[DEVICE], "locale": "zh-CN", "base_url": live_server, **overrides}
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _page(context: BrowserContext) -> Page:
    page = context.new_page()
    # Pages ask "are you sure?" with window.confirm (app.js): tests answer yes.
    page.on("dialog", lambda dialog: dialog.accept())
    return page


@pytest.fixture
def browser_context(playwright: Playwright, browser: Browser, live_server: str, db: object) -> Iterator[BrowserContext]:
    """A fresh phone context (Pixel 7, zh-CN) whose relative URLs go to the live server."""
    commit_db()
    context = _context(playwright, browser, live_server)
    yield context
    context.close()
    commit_db()
    wait_for_live_server()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    """A fresh page in a fresh Pixel 7 context: ``page.goto("/events/")`` goes to the live server."""
    return _page(browser_context)


@pytest.fixture
def new_page(playwright: Playwright, browser: Browser, live_server: str, db: object) -> Iterator[Any]:
    """Factory for extra, independent phone pages (a second user in the same test): ``other = new_page()``."""
    contexts: list[BrowserContext] = []

    def make(**overrides: Any) -> Page:
        commit_db()
        context = _context(playwright, browser, live_server, **overrides)
        contexts.append(context)
        return _page(context)

    yield make
    for context in contexts:
        context.close()
    commit_db()
    wait_for_live_server()


def login_as(page: Page, user: Any, password: str = PASSWORD) -> None:
    """Log ``user`` in through the login form and wait until the app has redirected away from it."""
    phone = user.phone  # may reload the object: read it before committing
    commit_db()
    page.goto("/account/login")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").click()
    assert "/account/login" not in page.url, page.locator(".flashes").all_inner_texts()


def logout(page: Page) -> None:
    commit_db()
    page.locator("footer form button[type=submit]").click()
    page.wait_for_load_state()


_axe = Axe()


def _format(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:5]:
            lines.append(f"    {node.get('target')}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """axe-core on the current page: fail on any serious or critical violation (and print all of them)."""
    commit_db()
    results = _axe.run(page)
    violations = results.response.get("violations", [])
    if violations:
        print(f"axe on {page.url}:\n{_format(violations)}")
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"axe: serious/critical violations on {page.url}:\n{_format(blocking)}"


def assert_no_horizontal_scroll(page: Page, width: int = NARROW_WIDTH) -> None:
    """At ``width`` px (360 by default) the document is not wider than the window. Restores the viewport."""
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": before["height"] if before else 800})
    try:
        page.wait_for_timeout(50)  # let layout settle after the resize
        # On a mobile profile Chromium widens window.innerWidth to fit overflowing content (it zooms out), so
        # the layout viewport's width (clientWidth) is the honest measure of "the window" here.
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll_width > inner_width:
            wide = page.evaluate(
                """(w) => Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > w + 1)
                    .slice(0, 8)
                    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                              (typeof e.className === 'string' && e.className ? '.' + e.className : '') +
                              ' right=' + Math.round(e.getBoundingClientRect().right))""",
                inner_width,
            )
            raise AssertionError(
                f"horizontal scroll at {width}px on {page.url}: scrollWidth {scroll_width} > {inner_width}; "
                f"too wide: {wide}"
            )
    finally:
        if before:
            page.set_viewport_size(before)


_SMALL_TARGETS_JS = """(minimum) => {
  const selector = 'button, a.btn, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
    + ' label.check, summary, nav a, .menu a, .links a';
  return Array.from(document.querySelectorAll(selector))
    .filter(e => e.offsetParent !== null && !e.closest('.skip'))
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, r]) => r.height < minimum - 0.5 || r.width < minimum - 0.5)
    .slice(0, 10)
    .map(([e, r]) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.innerText || e.name || '').trim()
         .slice(0, 20) + '" ' + Math.round(r.width) + 'x' + Math.round(r.height));
}"""


def assert_touch_targets(page: Page, minimum: int = 44) -> None:
    """Buttons, button-like links, form controls, checkbox labels, disclosure summaries and navigation links are at least 44x44 px
    (links inside running text are exempt, as WCAG 2.5.8 allows)."""
    small = page.evaluate(_SMALL_TARGETS_JS, minimum)
    assert not small, f"touch targets under {minimum}px on {page.url}: {small}"


_CARD_ROWS_JS = """(table) => Array.from(table.tBodies[0].rows).map(row => ({
  display: getComputedStyle(row).display,
  width: row.getBoundingClientRect().width,
  unlabelled: Array.from(row.querySelectorAll('[data-label]'))
    .filter(cell => !getComputedStyle(cell, '::before').content.includes(cell.dataset.label)).length,
  wrapped: Array.from(row.querySelectorAll('.nowrap')).filter(e => e.getClientRects().length > 1).length,
}))"""


def assert_table_reads_as_cards(page: Page, table_selector: str) -> None:
    """At 360 px a ``table.cards`` shows each row as a card nearly as wide as the page (not seven columns of one
    character each), every labelled cell headed by its column's name, no number broken over lines."""
    before = page.viewport_size
    page.set_viewport_size({"width": 360, "height": before["height"] if before else 800})
    try:
        rows = page.locator(table_selector).evaluate(_CARD_ROWS_JS)
    finally:
        if before:
            page.set_viewport_size(before)
    assert rows, f"no rows in {table_selector} on {page.url}"
    for row in rows:
        assert row["display"] == "block" and row["width"] > 300, f"{table_selector} row is not a card: {row}"
        assert row["unlabelled"] == 0 and row["wrapped"] == 0, f"{table_selector} card reads badly: {row}"


def check_page(page: Page) -> None:
    """Both page-level checks: axe (no serious/critical) and no horizontal scroll at 360 px."""
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
