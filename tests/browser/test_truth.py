"""Issue 21 on a 360 px phone: pages tell the truth about states and offer only the action that works now."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.events.models import Allocation
from tests import factories

from .conftest import assert_touch_targets, check_page, commit_db, login_as

pytestmark = pytest.mark.browser

NOW = datetime(2026, 6, 15, 10, 0)


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _narrow(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 780})


def test_item1_running_and_ended_events_are_not_shown_as_open(page: Page) -> None:
    running = factories.make_event(
        title="赣江之畔单身联谊会",
        capacity=24,
        starts_in=timedelta(hours=-1),
        signup_closes_at=NOW - timedelta(days=1),
    )
    factories.make_event(title="去年的读书分享会", starts_in=timedelta(days=-20))
    factories.make_event(title="职工羽毛球联谊赛", starts_in=timedelta(days=20))
    factories.make_event(title="摄影沙龙", starts_in=timedelta(days=30), signup_open=False)
    running_id = running.id
    commit_db()
    _narrow(page)

    page.goto("/")
    cards = page.locator("ul.cards > li")
    expect(cards).to_have_count(3)
    expect(page.get_by_text("去年的读书分享会")).to_have_count(0)
    # Open first, then the one about to open, then the running one; each with its true state.
    expect(cards.nth(0)).to_contain_text("职工羽毛球联谊赛")
    expect(cards.nth(0)).to_contain_text("报名中")
    expect(cards.nth(1)).to_contain_text("摄影沙龙")
    expect(cards.nth(1)).to_contain_text("即将开放")
    expect(cards.nth(2)).to_contain_text("赣江之畔单身联谊会")
    expect(cards.nth(2)).to_contain_text("进行中")
    expect(cards.nth(2)).not_to_contain_text("剩余名额")
    check_page(page)

    page.goto("/events/")
    expect(page.locator("ul.cards > li").first).to_contain_text("职工羽毛球联谊赛")
    check_page(page)

    # An anonymous visitor is not invited to log in to book an event that takes no more bookings.
    page.goto(f"/events/{running_id}")
    expect(page.locator(".slot")).to_contain_text("进行中")
    expect(page.get_by_role("link", name="登录后报名")).to_have_count(0)
    expect(page.get_by_text("活动进行中，不再接受报名。")).to_be_visible()
    check_page(page)
    assert_touch_targets(page)


def test_item3_after_booking_each_page_offers_only_what_works_now(page: Page) -> None:
    event = factories.make_event(title="健康讲座", slots=3, capacity=5)
    late = factories.make_event(
        title="井冈山研学", starts_in=timedelta(days=2), cancel_deadline=NOW - timedelta(hours=2)
    )
    person = factories.make_employee(name="李娜")
    booking.book(person, event.slots[0].id)
    booking.book(person, late.slots[0].id)
    event_id = event.id
    commit_db()
    _narrow(page)
    login_as(page, person)

    page.goto(f"/events/{event_id}")
    expect(page.get_by_role("button", name="立即预约")).to_have_count(0)
    mine = page.locator("section[aria-labelledby=mine-h]")
    expect(mine.get_by_role("link", name="查看票券")).to_be_visible()
    expect(mine.get_by_role("button", name="取消报名")).to_be_visible()
    expect(page.get_by_text("您已报名此场次。")).to_be_visible()
    expect(page.get_by_text("您已报名本活动的其他场次。")).to_have_count(2)
    check_page(page)
    assert_touch_targets(page)

    page.goto("/me/bookings")
    late_card = page.locator(".booking", has_text="井冈山研学")
    expect(late_card.get_by_role("button", name="取消预约")).to_have_count(0)
    expect(late_card).to_contain_text("已过取消截止时间")
    expect(late_card).to_contain_text("南昌市总工会")
    open_card = page.locator(".booking", has_text="健康讲座")
    expect(open_card.get_by_role("button", name="取消预约")).to_be_visible()
    check_page(page)


def test_item4_a_lottery_application_has_one_name_everywhere(page: Page) -> None:
    event = factories.make_event(title="庐山疗休养团", allocation=Allocation.LOTTERY, capacity=2)
    person = factories.make_employee()
    booking.book(person, event.slots[0].id)
    event_id = event.id
    commit_db()
    _narrow(page)
    login_as(page, person)
    page.goto("/me/bookings")
    expect(page.locator(".booking .chip")).to_have_text("等待抽签")
    expect(page.get_by_text("待审核")).to_have_count(0)
    page.goto(f"/events/{event_id}")
    expect(page.locator("#mine-h + p .chip")).to_have_text("等待抽签")
    expect(page.get_by_text("待审核")).to_have_count(0)
    check_page(page)


def test_item5_a_consent_given_on_the_consents_page_counts_for_booking(page: Page) -> None:
    event = factories.make_event(kind="mixer", title="青春有约联谊会", min_age=22, max_age=40, capacity=10)
    person = factories.make_employee(age=28)
    event_id, slot_id = event.id, event.slots[0].id
    commit_db()
    _narrow(page)
    login_as(page, person)
    page.goto("/privacy/consents")
    card = page.locator("#purpose-mixer_signup")
    card.get_by_role("checkbox").check()
    card.get_by_role("button").click()
    expect(page.locator("#purpose-mixer_signup .chip")).to_have_text("已同意")

    page.goto(f"/events/{event_id}")
    expect(page.get_by_label("我已阅读并同意处理我的敏感个人信息", exact=False)).to_have_count(0)
    notice = page.locator("section[aria-labelledby=consent-h]")
    expect(notice).to_contain_text("单身状态")
    expect(notice.get_by_role("link", name="查看或撤回同意")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="立即预约").click()
    expect(page.get_by_text("预约成功！请在活动当天出示电子票。")).to_be_visible()
    commit_db()
    statuses = [r.status.value for r in booking_queries.my_registrations(person) if r.slot_id == slot_id]
    commit_db()
    assert statuses == ["confirmed"]


def test_item2_every_booking_card_has_date_time_and_place_and_past_ones_are_apart(page: Page) -> None:
    person = factories.make_employee()
    clock.set_now(NOW - timedelta(days=10))
    finished = factories.make_event(title="上周的读书会", starts_in=timedelta(days=2))
    booking.book(person, finished.slots[0].id)
    clock.set_now(NOW)
    truck = factories.make_event(
        title="健康大篷车·宜春", slots=3, duration=timedelta(minutes=15), starts_in=timedelta(days=1, hours=-1.25)
    )
    for slot in truck.slots:
        slot.label = f"{slot.starts_at:%H:%M}–{slot.ends_at:%H:%M}"
    booking.book(person, truck.slots[0].id)
    commit_db()
    _narrow(page)
    login_as(page, person)
    page.goto("/me/bookings")
    upcoming = page.locator("section[aria-labelledby=upcoming-h] .booking")
    expect(upcoming).to_have_count(1)
    expect(upcoming).to_contain_text("健康大篷车·宜春")
    expect(upcoming.locator(".card-when")).to_contain_text("2026-06-16 08:45–09:00")
    expect(upcoming).to_contain_text("南昌 · 南昌市职工活动中心")
    past = page.locator("details.past")
    expect(past.locator(".booking")).to_be_hidden()
    past.locator("summary").click()
    expect(past.locator(".booking")).to_contain_text("上周的读书会")
    expect(past.locator(".booking .card-when")).to_contain_text("2026-06-07")
    expect(past.get_by_role("button", name="取消预约")).to_have_count(0)
    check_page(page)


def test_item6_route_page_lists_coming_departures_first_and_folds_past_ones(page: Page) -> None:
    from tests.trips.factories import make_departure, make_route

    route = make_route()
    clock.set_now(NOW - timedelta(days=40))
    make_departure(route, allocation=Allocation.FIRST_COME, starts_on=(NOW - timedelta(days=10)).date())
    clock.set_now(NOW)
    full = make_departure(route, seats=1, allocation=Allocation.FIRST_COME, starts_on=(NOW + timedelta(days=20)).date())
    booking.book(factories.make_employee(), full.event.slots[0].id)
    make_departure(route, allocation=Allocation.FIRST_COME, starts_on=(NOW + timedelta(days=40)).date())
    route_id = route.id
    commit_db()
    _narrow(page)
    page.goto(f"/trips/routes/{route_id}")
    items = page.locator("ul.slots > li.slot")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("2026-07-05")
    expect(items.nth(0)).to_contain_text("已满可候补")
    expect(items.nth(1)).to_contain_text("2026-07-25")
    expect(items.nth(1).get_by_role("link", name="查看并报名")).to_be_visible()
    past = page.locator("details.past")
    expect(past.locator("summary")).to_contain_text("已出发的团期（1）")
    expect(past.get_by_role("link")).to_have_count(0)
    past.locator("summary").click()
    expect(past).to_contain_text("2026-06-05")
    expect(past).to_contain_text("已结束")
    check_page(page)
    assert_touch_targets(page)


def test_item7_a_refused_registration_lists_its_errors_on_top_focuses_them_and_keeps_what_was_typed(
    page: Page,
) -> None:
    factories.make_employee(phone="13812345678")
    commit_db()
    _narrow(page)
    page.goto("/account/register")
    page.get_by_label("手机号").fill("13812345678")
    page.get_by_label("姓名").fill("周晓梅")
    page.locator("#password").fill("short")
    page.locator("button.btn-primary[type=submit]").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate("() => document.getElementById('error-summary').getBoundingClientRect().top") < 780
    password_link = summary.get_by_role("link", name="设置密码", exact=False)
    expect(password_link).to_have_count(1)
    # The typed values are kept (the password is not echoed back).
    expect(page.get_by_label("手机号")).to_have_value("13812345678")
    expect(page.get_by_label("姓名")).to_have_value("周晓梅")
    expect(page.locator("#password")).to_have_value("")
    password_link.click()
    expect(page.locator("#password")).to_be_focused()
    check_page(page)


def test_item14_pages_have_a_meta_description_and_the_api_gives_offsets(page: Page) -> None:
    event = factories.make_event(title="职工乒乓球赛", starts_in=timedelta(days=2))
    event_id = event.id
    commit_db()
    _narrow(page)
    page.goto("/")
    assert "职工之家" in (page.locator("meta[name=description]").get_attribute("content") or "")
    page.goto(f"/events/{event_id}")
    description = page.locator("meta[name=description]").get_attribute("content") or ""
    assert "职工乒乓球赛" in description and "2026-06-17 10:00" in description
    answer = page.request.get(f"/api/v1/events/{event_id}").json()
    assert answer["starts_at"] == "2026-06-17T10:00:00+08:00"


def test_item11_inbox_links_are_labelled_buttons_not_raw_urls(page: Page) -> None:
    event = factories.make_event(title="职工书法展")
    person = factories.make_employee()
    booking.book(person, event.slots[0].id)
    commit_db()
    _narrow(page)
    login_as(page, person)
    page.goto("/notifications/")
    message = page.locator(".inbox-item").first
    expect(message).to_contain_text("职工书法展")
    expect(message).not_to_contain_text("http")
    button = message.locator("button.btn-primary")
    expect(button).not_to_have_text("查看详情")
    label = button.inner_text()
    assert label.strip()
    check_page(page)
    assert_touch_targets(page)
    button.click()
    expect(page.get_by_role("heading", name="我的预约")).to_be_visible()


def test_item8_keyword_search_with_the_filters_kept_in_the_url(page: Page) -> None:
    factories.make_event(title="职工羽毛球赛", venue="九江市体育馆", city=factories.city("jiujiang"))
    factories.make_event(title="羽毛球培训", city=factories.city("nanchang"))
    factories.make_event(title="读书分享会", city=factories.city("jiujiang"))
    commit_db()
    _narrow(page)
    page.goto("/events/")
    page.get_by_label("关键词").fill("羽毛球")
    page.get_by_label("城市").select_option("jiujiang")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_text("“羽毛球”：共 1 个活动")).to_be_visible()
    expect(page.locator("ul.cards > li")).to_have_count(1)
    expect(page.locator("ul.cards")).to_contain_text("职工羽毛球赛")
    assert "q=%E7%BE%BD%E6%AF%9B%E7%90%83" in page.url and "city=jiujiang" in page.url
    page.reload()
    expect(page.get_by_label("关键词")).to_have_value("羽毛球")
    check_page(page)
    assert_touch_targets(page)


def test_item9_signed_in_home_shows_my_next_booking_with_its_qr_offers_unread_and_tiles(page: Page) -> None:
    person = factories.make_employee(name="刘洋")
    soon = factories.make_event(title="职工健步走", starts_in=timedelta(days=2))
    later = factories.make_event(title="职工书画展", starts_in=timedelta(days=9))
    full = factories.make_event(title="青年联谊舞会", capacity=1)
    holder = factories.make_employee()
    booking.book(person, later.slots[0].id)
    booking.book(person, soon.slots[0].id)
    held = booking.book(holder, full.slots[0].id)
    booking.book(person, full.slots[0].id)  # waitlisted
    booking.cancel(held, actor=holder)  # the seat is offered to the person
    commit_db()
    _narrow(page)
    login_as(page, person)
    page.goto("/")
    expect(page.get_by_role("heading", name="刘洋，您好")).to_be_visible()
    nxt = page.locator("section.home-next")
    expect(nxt).to_contain_text("职工健步走")
    expect(nxt.locator("figure.qr svg")).to_be_visible()
    expect(nxt.get_by_role("link", name="查看票券")).to_be_visible()
    offer = page.locator("section.home-offer")
    expect(offer).to_contain_text("青年联谊舞会")
    expect(offer.get_by_role("button", name="确认参加")).to_be_visible()
    expect(page.get_by_text("条未读")).to_be_visible()
    tiles = page.locator("nav.tiles a")
    expect(tiles).to_have_count(3)
    check_page(page)
    assert_touch_targets(page)
    offer.get_by_role("button", name="确认参加").click()
    expect(page.get_by_text("已确认候补名额，预约成功！")).to_be_visible()


def test_item10_an_organizer_gives_an_event_a_described_cover_and_the_list_stays_small(
    page: Page, new_page, tmp_path, app, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path))
    for index in range(12):
        factories.make_event(title=f"职工活动 {index}", starts_in=timedelta(days=index + 1))
    event = factories.make_event(title="赣江联谊会", starts_in=timedelta(hours=30))
    event_id = event.id
    organizer = factories.make_organizer("jx-nanchang")
    picture = tmp_path / "upload.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), (20, 90, 160)).save(buffer, "JPEG")
    picture.write_bytes(buffer.getvalue())
    commit_db()
    _narrow(page)
    login_as(page, organizer)
    page.goto(f"/organizer/events/{event_id}")
    page.locator("#cover summary").click()
    page.get_by_label("封面图片", exact=False).set_input_files(str(picture))
    page.get_by_label("图片描述", exact=False).fill("赣江边的联谊会场")
    page.get_by_role("button", name="上传封面").click()
    expect(page.get_by_text("封面图片已更新。")).to_be_visible()

    visitor = new_page()
    visitor.set_viewport_size({"width": 360, "height": 780})
    sizes: dict[str, int] = {}
    visitor.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()) if r.ok else 0))
    visitor.goto("/events/")
    cover = visitor.locator("img.card-cover")
    expect(cover).to_have_attribute("alt", "赣江边的联谊会场")
    expect(cover).to_have_attribute("loading", "lazy")
    visitor.wait_for_load_state("networkidle")
    not_images = sum(size for url, size in sizes.items() if "/events/media/" not in url)
    print(f"events list at 360 px: {not_images} bytes before lazy images")
    assert not_images < 60 * 1024
    check_page(visitor)
