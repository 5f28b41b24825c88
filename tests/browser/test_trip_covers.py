"""A route's cover on a phone (issue 21 item 10): the organizer uploads a described cover for a route from the
route's organizer page at 360 px; an employee sees it, lazy-loaded, on the route card and on the route page,
and the list stays under 60 KiB before its lazy images."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.trips.models import Theme
from tests import factories
from tests.trips import factories as tf

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}


def test_an_organizer_uploads_a_route_cover_on_a_phone_and_the_employee_sees_it(  # type: ignore[no-untyped-def]
    page: Page, new_page, tmp_path, app, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path))
    route = tf.make_route(Theme.GREEN, "庐山生态康养休养", org_code="jx-nanchang", city_code="jiujiang")
    tf.make_departure(route)
    route_id = route.id
    organizer = factories.make_organizer("jx-nanchang")
    employee = factories.make_employee(name="王芳")
    picture = tmp_path.parent / "lushan.png"  # outside the media folder
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (46, 125, 50)).save(buffer, "PNG")
    picture.write_bytes(buffer.getvalue())
    commit_db()

    page.set_viewport_size(PHONE)
    login_as(page, organizer)
    page.goto("/organizer/trips/")
    page.get_by_role("link", name="庐山生态康养休养", exact=True).click()
    expect(page.get_by_role("heading", name="庐山生态康养休养")).to_be_visible()
    check_page(page)
    assert_touch_targets(page)
    # Without a description the upload is refused on the field, and nothing is stored.
    page.get_by_label("封面图片（JPEG、PNG 或 WebP，5 MB 以内）").set_input_files(str(picture))
    page.get_by_role("button", name="上传封面").click()
    expect(page.locator("#alt-error")).to_contain_text("请用一句话描述图片内容")
    assert not list(tmp_path.glob("*.jpg"))
    page.get_by_label("封面图片（JPEG、PNG 或 WebP，5 MB 以内）").set_input_files(str(picture))
    page.get_by_label("图片描述", exact=False).fill("云雾缭绕的庐山青峰")
    page.get_by_role("button", name="上传封面").click()
    expect(page.get_by_text("封面图片已更新。")).to_be_visible()
    expect(page.locator("#cover img")).to_have_attribute("alt", "云雾缭绕的庐山青峰")
    check_page(page)

    visitor = new_page()
    visitor.set_viewport_size(PHONE)
    login_as(visitor, employee)
    sizes: dict[str, int] = {}
    visitor.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()) if r.ok else 0))
    visitor.goto("/trips/")
    cover = visitor.locator("li.trip-card img.card-cover")
    expect(cover).to_have_attribute("alt", "云雾缭绕的庐山青峰")
    expect(cover).to_have_attribute("loading", "lazy")
    cover.scroll_into_view_if_needed()
    visitor.wait_for_function("() => document.querySelector('img.card-cover').naturalWidth === 480")
    visitor.wait_for_load_state("networkidle")
    not_images = sum(size for url, size in sizes.items() if "/events/media/" not in url)
    assert not_images < 60 * 1024, not_images
    check_page(visitor)
    visitor.get_by_role("link", name="庐山生态康养休养", exact=True).click()
    expect(visitor.get_by_role("heading", name="庐山生态康养休养")).to_be_visible()
    page_cover = visitor.locator("article.trip-route img.event-cover")
    expect(page_cover).to_have_attribute("alt", "云雾缭绕的庐山青峰")
    expect(page_cover).to_have_attribute("loading", "lazy")
    check_page(visitor)
    assert f"/trips/routes/{route_id}" in visitor.url
