"""Trip pages through the test client: the route list and its filters, the event page's trip section, the
lottery record and export, attendance details, and the organizer's pages (scoped: 404 outside the subtree)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.booking.models import Registration, Status
from app.events.models import Allocation
from app.extensions import db
from app.trips import attendance, catalogue, lottery_draw, lottery_record, targets
from app.trips.models import Theme

from .. import factories
from . import factories as tf


def test_route_list_filters_by_theme_and_month(client):
    red = tf.make_route(Theme.RED, "井冈山红色教育之旅")
    green = tf.make_route(Theme.GREEN, "庐山生态休养", city_code="jiujiang")
    tf.make_departure(red, starts_on=(clock.now() + timedelta(days=30)).date())
    later = (clock.now() + timedelta(days=95)).date()
    tf.make_departure(green, starts_on=later)
    page = client.get("/trips/").get_data(as_text=True)
    assert "井冈山红色教育之旅" in page and "庐山生态休养" in page
    page = client.get("/trips/?theme=green").get_data(as_text=True)
    assert "庐山生态休养" in page and "井冈山红色教育之旅" not in page
    page = client.get(f"/trips/?month={later:%Y-%m}").get_data(as_text=True)
    assert "庐山生态休养" in page and "井冈山红色教育之旅" not in page
    # nonsense filters are ignored, never an error
    assert client.get("/trips/?theme=<x>&month=2026-13").status_code == 200
    page = client.get(f"/trips/routes/{red.id}").get_data(as_text=True)
    assert "黄洋界" in page and "第 2 天" in page
    assert client.get("/trips/routes/99999").status_code == 404


def test_nav_has_a_trips_entry(employee_client):
    assert 'href="/trips/"' in employee_client.get("/").get_data(as_text=True)


def test_apply_on_the_event_page_then_see_lottery_number_result_and_withdrawal(app, client):
    a = tf.make_departure(seats=1)
    b = tf.make_departure(tf.make_route(title="瑞金红色故都研学"), seats=1)
    person = factories.make_employee()
    person.profile.model_worker = True
    db.session.commit()
    factories.login(client, person)
    for departure in (a, b):
        page = client.get(f"/events/{departure.event_id}").get_data(as_text=True)
        assert "申请（报名截止后抽签）" in page and "井冈山" in page
        response = client.post(f"/slots/{tf.slot_id(departure)}/book", data={"event_id": departure.event_id})
        assert response.status_code == 302
    page = client.get(f"/events/{a.event_id}").get_data(as_text=True)
    assert "等待抽签" in page and "您的抽签编号" in page
    tf.close_window(b)
    tf.set_value(a)
    tf.set_value(b)
    lottery_draw.draw_lottery(a.event_id, clock.now())
    db.session.commit()
    factories.login(client, person)  # the clock jumped past the session's idle limit
    page = client.get(f"/events/{a.event_id}").get_data(as_text=True)
    assert "您已获得本团期名额" in page and "确认出行信息" in page
    page = client.get(f"/events/{b.event_id}").get_data(as_text=True)
    assert "本团期申请已自动撤回" in page

    registration = db.session.scalar(
        select(Registration).where(Registration.user_id == person.id, Registration.event_id == a.event_id)
    )
    url = f"/trips/me/{registration.id}/details"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"emergency_name": "李桂英", "emergency_phone": "123", "dietary": "none"})
    assert bad.status_code == 200 and "请填写正确的手机号或固定电话" in bad.get_data(as_text=True)
    assert attendance.attendance_for(registration.id) is None
    ok = client.post(url, data={"emergency_name": "李桂英", "emergency_phone": "13912345678", "dietary": "halal"})
    assert ok.status_code == 302
    assert attendance.attendance_for(registration.id).dietary.value == "halal"


def test_a_loser_sees_their_waitlist_position(client):
    departure = tf.make_departure(seats=1)
    people = [factories.make_employee() for _ in range(3)]
    for person in people:
        tf.apply(person, departure)
    tf.close_window(departure)
    tf.set_value(departure)
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    loser = db.session.scalar(
        select(Registration).where(Registration.status == Status.WAITLISTED).order_by(Registration.priority.desc())
    )
    factories.login(client, loser.user)
    page = client.get(f"/events/{departure.event_id}").get_data(as_text=True)
    assert "候补名单第 2 位" in page


def test_lottery_page_and_export_are_published_without_names(client):
    departure = tf.make_departure(seats=1)
    people = [factories.make_employee(name=f"职工{i}") for i in range(3)]
    for person in people:
        tf.apply(person, departure)
    tf.close_window(departure)
    tf.set_value(departure, "2026 330")
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    assert client.get(f"/trips/departures/{departure.event_id}/lottery").status_code == 302  # login first
    factories.login(client, people[0])
    page = client.get(f"/trips/departures/{departure.event_id}/lottery").get_data(as_text=True)
    export = lottery_record.lottery_export(departure.event_id)
    assert export["applicants_hash"] in page and "2026 330" in page
    assert all(anon in page for anon in export["ranking"])
    assert not any(p.name in page.split("</header>", 1)[1] for p in people[1:])
    data = client.get(f"/trips/departures/{departure.event_id}/lottery.json").get_json()
    assert data == export
    assert not any(p.phone in str(data) for p in people)


def test_the_lottery_page_says_what_happens_next_and_offers_data_only_once_there_is_some(client):
    departure = tf.make_departure(seats=1)
    first_come = tf.make_departure(seats=1, allocation=Allocation.FIRST_COME)
    person = factories.make_employee()
    tf.apply(person, departure)
    factories.login(client, person)
    url = f"/trips/departures/{departure.event_id}/lottery"
    page = client.get(url).get_data(as_text=True)
    closes = departure.event.signup_closes_at.strftime("%Y-%m-%d %H:%M")
    assert f"报名截止（{closes}）后冻结申请名单" in page
    assert "lottery.json" not in page and "如何核验" not in page  # nothing to verify yet
    assert "名单冻结后公布" in page  # not "0 applicants" while one has applied
    tf.close_window(departure)
    lottery_draw.freeze(departure, clock.now())
    db.session.commit()
    factories.login(client, person)  # a day later: a fresh session
    page = client.get(url).get_data(as_text=True)
    assert "名单已冻结，等待组织者录入公开随机数后抽签" in page and "lottery.json" in page
    tf.set_value(departure, "2026 330")
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "等待组织者" not in page and "报名截止（" not in page and "lottery.json" in page and "抽签排名" in page
    page = client.get(f"/trips/departures/{first_come.event_id}/lottery").get_data(as_text=True)
    assert "按报名先后确认名额，不抽签" in page and "lottery.json" not in page


def test_organizer_enters_the_public_value_draws_and_checks_in(client):
    departure = tf.make_departure(seats=1)
    people = [factories.make_employee() for _ in range(2)]
    for person in people:
        tf.apply(person, departure)
    organizer = factories.make_organizer("jx")
    factories.login(client, organizer)
    assert departure.event.title in client.get("/organizer/trips/").get_data(as_text=True)
    page = client.get(f"/organizer/trips/{departure.event_id}").get_data(as_text=True)
    assert "报名截止后冻结名单" in page
    tf.close_window(departure)
    factories.login(client, organizer)  # the clock jumped past the session's idle limit
    page = client.get(f"/organizer/trips/{departure.event_id}").get_data(as_text=True)
    assert "录入公开随机数" in page
    assert (
        client.post(f"/organizer/trips/{departure.event_id}/public-value", data={"public_value": ""}).status_code == 302
    )
    db.session.refresh(departure)
    assert departure.public_value is None
    client.post(f"/organizer/trips/{departure.event_id}/public-value", data={"public_value": "527", "note": "福彩3D"})
    db.session.refresh(departure)
    assert departure.public_value == "527" and departure.frozen_at is not None
    response = client.post(f"/organizer/trips/{departure.event_id}/draw", follow_redirects=True)
    assert "抽签完成：确认 1 人，候补 1 人" in response.get_data(as_text=True)
    response = client.post(f"/organizer/trips/{departure.event_id}/draw", follow_redirects=True)
    assert "不能重抽" in response.get_data(as_text=True)
    winner = db.session.scalar(select(Registration).where(Registration.status == Status.CONFIRMED))
    page = client.get(f"/organizer/trips/{departure.event_id}").get_data(as_text=True)
    assert winner.user.name in page and "未确认" in page
    assert "签到尚未开始" in page and f"/checkin/{winner.id}" not in page
    refused = client.post(f"/organizer/trips/{departure.event_id}/checkin/{winner.id}", follow_redirects=True)
    assert "签到尚未开始" in refused.get_data(as_text=True)
    db.session.refresh(winner)
    assert winner.status == Status.CONFIRMED, "no check-in days before departure"
    clock.set_now(departure.event.starts_at)  # at the coach: the session of days ago has expired
    factories.login(client, organizer)
    client.post(f"/organizer/trips/{departure.event_id}/checkin/{winner.id}")
    db.session.refresh(winner)
    assert winner.status == Status.ATTENDED


def test_organizer_pages_outside_the_subtree_answer_404(client):
    departure = tf.make_departure(seats=1, allocation=Allocation.FIRST_COME)
    factories.login(client, factories.make_organizer("jx-ganzhou"))
    assert departure.event.title not in client.get("/organizer/trips/").get_data(as_text=True)
    assert client.get(f"/organizer/trips/{departure.event_id}").status_code == 404
    assert client.post(f"/organizer/trips/{departure.event_id}/draw").status_code == 404
    assert (
        client.post(f"/organizer/trips/{departure.event_id}/public-value", data={"public_value": "1"}).status_code
        == 404
    )
    assert client.post(f"/organizer/trips/{departure.event_id}/checkin/1").status_code == 404


def test_employees_cannot_reach_organizer_pages(employee_client):
    assert employee_client.get("/organizer/trips/").status_code == 404


def test_organizer_publishes_a_route_and_a_departure(client):
    organizer = factories.make_organizer("jx-nanchang")
    factories.login(client, organizer)
    assert "行程（每行一天" in client.get("/organizer/trips/routes/new").get_data(as_text=True)
    response = client.post(
        "/organizer/trips/routes/new",
        data={
            "theme": "heritage",
            "title": "景德镇陶瓷文化之旅",
            "city": "jingdezhen",
            "summary": "千年瓷都",
            "itinerary": "御窑厂、陶阳里 | 参观御窑博物馆\n古窑民俗博览区 | 体验拉坯",
        },
    )
    assert response.status_code == 302
    route = catalogue.list_routes("heritage")[0].route
    assert route.days == 2 and route.itinerary[0]["places"] == ["御窑厂", "陶阳里"]
    now = clock.now()
    assert "优先档次" in client.get(f"/organizer/trips/routes/{route.id}/departures/new").get_data(as_text=True)
    response = client.post(
        f"/organizer/trips/routes/{route.id}/departures/new",
        data={
            "starts_on": (now + timedelta(days=40)).strftime("%Y-%m-%d"),
            "seats": "30",
            "signup_opens_at": now.strftime("%Y-%m-%dT%H:%M"),
            "signup_closes_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
            "allocation": "lottery",
            "venue": "南昌西站",
            "tiers": "frontline",
        },
    )
    assert response.status_code == 302
    departure = catalogue.get_route(route.id).departures[0]
    assert departure.kind == "trip" and departure.slots[0].capacity == 30
    assert departure.slots[0].allocation == Allocation.LOTTERY
    recorded = catalogue.get_departure(departure.id)
    assert recorded.tiers == ["model_worker", "frontline", "everyone"] and recorded.never_been_first is False


def test_set_target_from_the_organizer_page(client):
    factories.login(client, factories.make_admin())
    year = clock.today().year
    client.post("/organizer/trips/target", data={"year": year, "places": "12000"})
    assert targets.target_places(year, factories.org("jx")) == 12_000
    assert "目标 12000" in client.get("/organizer/trips/").get_data(as_text=True)


def test_organizer_marks_a_model_worker_in_their_subtree_only(client):
    inside = factories.make_employee(name="张师傅", organization=factories.make_org("jx-nanchang"))
    outside = factories.make_employee(name="赣州职工", organization=factories.make_org("jx-ganzhou"))
    organizer = factories.make_organizer("jx-nanchang")
    factories.login(client, organizer)
    client.post("/organizer/trips/model-workers", data={"phone": inside.phone})
    db.session.refresh(inside.profile)
    assert inside.profile.model_worker is True
    assert "张师傅" in client.get("/organizer/trips/model-workers").get_data(as_text=True)
    response = client.post("/organizer/trips/model-workers", data={"phone": outside.phone}, follow_redirects=True)
    assert "没有找到该职工" in response.get_data(as_text=True)
    db.session.refresh(outside.profile)
    assert outside.profile.model_worker is False
    assert client.post(f"/organizer/trips/model-workers/{outside.id}/remove").status_code == 404
    client.post(f"/organizer/trips/model-workers/{inside.id}/remove")
    db.session.refresh(inside.profile)
    assert inside.profile.model_worker is False


def test_a_departure_whose_window_closes_after_it_leaves_is_refused_with_a_message(client):
    route = tf.make_route()
    factories.login(client, factories.make_organizer("jx"))
    now = clock.now()
    response = client.post(
        f"/organizer/trips/routes/{route.id}/departures/new",
        data={
            "starts_on": (now + timedelta(days=5)).strftime("%Y-%m-%d"),
            "seats": "30",
            "signup_opens_at": now.strftime("%Y-%m-%dT%H:%M"),
            "signup_closes_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
            "allocation": "lottery",
            "tiers": "default",
        },
    )
    assert response.status_code == 200
    assert "报名截止时间须早于出发时间" in response.get_data(as_text=True)
    assert catalogue.get_route(route.id).departures == []
    bad = client.post(f"/organizer/trips/routes/{route.id}/departures/new", data={"seats": "abc"})
    assert bad.status_code == 200
