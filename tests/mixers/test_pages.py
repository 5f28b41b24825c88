"""The mixer pages and API as people use them: sign-up on the event page, match cards, the organizer console."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.booking import queries as booking_queries
from app.booking.models import Status
from app.events.models import Event
from app.extensions import db
from app.mixers import checkin, reveal, windows
from app.mixers.models import MixerOutcome, MixerPair, MixerSettings, OutcomeKind

from .. import factories
from . import factories as mf


@pytest.fixture
def org_user():
    return factories.make_organizer()


def _strip_csrf(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def _client(app, user):
    client = app.test_client()
    factories.login(client, user)
    return client


def test_event_page_shows_rules_nickname_field_and_unticked_consent(app):
    event = mf.make_mixer()
    person = factories.make_employee(gender="female")
    page = _client(app, person).get(f"/events/{event.id}").get_data(as_text=True)
    assert "心动卡规则" in page and 'name="opt_nickname"' in page
    assert 'name="consent" value="mixer_signup"' in page
    consent_input = page.split('value="mixer_signup"')[1].split(">")[0]
    assert "checked" not in consent_input


def test_sign_up_through_the_event_page_with_consent_and_nickname(app):
    event = mf.make_mixer()
    person = factories.make_employee(gender="female")
    client = _client(app, person)
    slot_id = event.slots[0].id
    refused = client.post(f"/slots/{slot_id}/book", data={"event_id": event.id, "opt_nickname": "小鹿"})
    assert refused.status_code == 302
    assert booking_queries.my_registrations(person) == []
    client.post(
        f"/slots/{slot_id}/book",
        data={"event_id": event.id, "opt_nickname": "小鹿", "opt_share_contact": "1", "consent": "mixer_signup"},
    )
    [registration] = booking_queries.my_registrations(person)
    assert registration.status == Status.CONFIRMED
    assert registration.options == {"nickname": "小鹿", "share_contact": True}


def test_match_card_journey_through_pages(app, org_user):
    event = mf.make_mixer(max_picks=2)
    w = factories.make_employee(gender="female", name="王小丽")
    m = factories.make_employee(gender="male", name="张伟")
    other = factories.make_employee(gender="male", name="刘洋")
    registrations = [
        mf.sign_up(person, event, nickname=nick) for person, nick in ((w, None), (m, "阿杰"), (other, "大海"))
    ]
    org_client = _client(app, org_user)
    early = org_client.post(f"/organizer/mixers/{event.id}/checkin", data={"registration_id": registrations[0].id})
    assert early.status_code == 302
    page = org_client.get(f"/organizer/mixers/{event.id}/checkin").get_data(as_text=True)
    assert "签到尚未开始" in page and 'name="registration_id"' not in page and 'class="mixer-badge"' not in page
    clock.set_now(event.starts_at)  # at the door: log in again
    org_client = _client(app, org_user)
    for registration in registrations:
        response = org_client.post(f"/organizer/mixers/{event.id}/checkin", data={"registration_id": registration.id})
        assert response.status_code == 302
    checkin_page = org_client.get(f"/organizer/mixers/{event.id}/checkin").get_data(as_text=True)
    assert checkin_page.count('class="mixer-badge"') == 3
    mf.open_window(event)  # the clock jumps to the mixer: log in again
    org_client, wc, mc = _client(app, org_user), _client(app, w), _client(app, m)
    page = wc.get(f"/mixers/{event.id}").get_data(as_text=True)
    assert "请先设置联谊昵称" in page and 'name="badge"' not in page
    wc.post(f"/mixers/{event.id}/profile", data={"nickname": "小鹿", "share_contact": "y", "contact": "wx-lu"})
    page = wc.get(f"/mixers/{event.id}").get_data(as_text=True)
    assert "阿杰" in page and "大海" in page and 'name="badge"' in page
    assert "张伟" not in page and "刘洋" not in page  # real names are never listed
    assert m.phone not in page and "南昌测试电子" not in page
    too_many = wc.post(f"/mixers/{event.id}/picks", data={"badge": ["2", "3", "1"]}, follow_redirects=True)
    assert "每人最多选择 2 位" in too_many.get_data(as_text=True)
    wc.post(f"/mixers/{event.id}/picks", data={"badge": ["2"]})
    mc.post(f"/mixers/{event.id}/profile", data={"nickname": "阿杰", "share_contact": "y"})
    mc.post(f"/mixers/{event.id}/picks", data={"badge": ["1"]})
    page = wc.get(f"/mixers/{event.id}").get_data(as_text=True)
    assert 'value="2" checked' in page
    response = org_client.post(f"/organizer/mixers/{event.id}/reveal")
    assert response.status_code == 302
    page = wc.get(f"/mixers/{event.id}").get_data(as_text=True)
    assert "你和 阿杰 互相心动" in page
    assert m.phone in page  # both agreed to share; no contact text given, so the phone
    page = mc.get(f"/mixers/{event.id}").get_data(as_text=True)
    assert "你和 小鹿 互相心动" in page and "wx-lu" in page
    page = _client(app, other).get(f"/mixers/{event.id}").get_data(as_text=True)
    assert "本次没有匹配" in page and "小鹿" not in page and "阿杰" not in page
    summary = org_client.get(f"/organizer/mixers/{event.id}").get_data(as_text=True)
    assert "参加人数少于 10 人，不显示" in summary and "1 对" in summary


def test_followup_answered_privately_through_the_matches_page(app, org_user):
    event = mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    a = mf.attend(org_user, event, w, nickname="小鹿")
    b = mf.attend(org_user, event, m, nickname="阿杰")
    pair = reveal.add_paper_pair(org_user, event.id, a.badge_no, b.badge_no)
    db.session.commit()
    pair_id = pair.id
    page = _client(app, w).get("/mixers/matches").get_data(as_text=True)
    assert "与 阿杰 互相心动" in page and 'name="answer"' not in page  # nothing due yet
    clock.set_now(clock.now() + timedelta(days=3, minutes=1))
    wc, mc = _client(app, w), _client(app, m)
    page = wc.get("/mixers/matches").get_data(as_text=True)
    assert page.count('name="answer"') == 3  # one stage due, three choices
    before = _strip_csrf(mc.get("/mixers/matches").get_data(as_text=True))
    wc.post(f"/mixers/pairs/{pair_id}/followup", data={"stage": "3d", "answer": "dating"})
    assert "已回答：正在交往" in wc.get("/mixers/matches").get_data(as_text=True)
    assert _strip_csrf(mc.get("/mixers/matches").get_data(as_text=True)) == before  # m never sees w's answer
    mc.post(f"/mixers/pairs/{pair_id}/followup", data={"stage": "3d", "answer": "dating"})
    assert "牵手成功 ❤" in wc.get("/mixers/matches").get_data(as_text=True)
    kinds = db.session.scalars(select(MixerOutcome.kind).where(MixerOutcome.pair_id == pair_id)).all()
    assert kinds.count(OutcomeKind.DATING) == 1
    stranger = _client(app, factories.make_employee())
    assert (
        stranger.post(f"/mixers/pairs/{pair_id}/followup", data={"stage": "3d", "answer": "ended"}).status_code == 404
    )


def test_organizer_creates_a_mixer_with_settings(app, org_user):
    client = _client(app, org_user)
    start = (clock.now() + timedelta(days=10)).replace(hour=14, minute=0, second=0)
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "title": "赣鄱青年·七夕单身职工联谊会",
        "city": "nanchang",
        "venue": "南昌市职工文化宫",
        "starts_at": start.strftime(fmt),
        "ends_at": (start + timedelta(hours=3)).strftime(fmt),
        "signup_opens_at": clock.now().strftime(fmt),
        "signup_closes_at": (start - timedelta(days=1)).strftime(fmt),
        "quota_female": "30",
        "quota_male": "30",
        "min_age": "22",
        "max_age": "40",
        "pick_closes_at": (start + timedelta(days=1)).strftime(fmt),
        "max_picks": "5",
        "other_gender_only": "y",
    }
    response = client.post("/organizer/mixers/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    event = db.session.scalars(select(Event).where(Event.kind == "mixer")).one()
    slot = event.slots[0]
    assert (slot.capacity, slot.quota_female, slot.quota_male) == (60, 30, 30)
    settings = db.session.get(MixerSettings, event.id)
    assert settings.max_picks == 5 and settings.other_gender_only
    bad = client.post(
        "/organizer/mixers/new", data={**data, "pick_closes_at": (start - timedelta(hours=1)).strftime(fmt)}
    )
    assert bad.status_code == 200 and "心动卡截止时间必须晚于活动开始时间" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_organizer_settings_paper_pairs_and_export(app, org_user):
    event = mf.make_mixer()
    w = factories.make_employee(gender="female", name="=HYPERLINK(1)")
    m = factories.make_employee(gender="male")
    mf.attend(org_user, event, w, nickname="小鹿")
    mf.attend(org_user, event, m, nickname="阿杰")
    client = _client(app, org_user)
    closes = (event.ends_at + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/organizer/mixers/{event.id}/settings", data={"pick_closes_at": closes, "max_picks": "4"})
    settings = db.session.get(MixerSettings, event.id)
    db.session.refresh(settings)
    assert settings.max_picks == 4 and not settings.other_gender_only
    client.post(f"/organizer/mixers/{event.id}/pairs", data={"badge_a": "1", "badge_b": "2"})
    again = client.post(
        f"/organizer/mixers/{event.id}/pairs", data={"badge_a": "2", "badge_b": "1"}, follow_redirects=True
    )
    assert "这一对已经登记过了" in again.get_data(as_text=True)
    bad = client.post(
        f"/organizer/mixers/{event.id}/pairs", data={"badge_a": "1", "badge_b": "9"}, follow_redirects=True
    )
    assert "不属于本场已签到的嘉宾" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MixerPair)) == 1
    export = client.get(f"/organizer/mixers/{event.id}/roster.csv")
    text = export.get_data(as_text=True)
    assert export.mimetype == "text/csv" and "'=HYPERLINK(1)" in text
    assert "小鹿" not in text and "阿杰" not in text


@pytest.mark.parametrize(
    "path",
    ["", "/checkin", "/roster.csv"],
)
def test_organizer_pages_outside_scope_are_404(app, org_user, path):
    event = mf.make_mixer()
    stranger = factories.make_organizer("jx-jiujiang")
    assert _client(app, stranger).get(f"/organizer/mixers/{event.id}{path}").status_code == 404
    assert _client(app, factories.make_employee()).get(f"/organizer/mixers/{event.id}{path}").status_code == 404
    assert _client(app, org_user).get(f"/organizer/mixers/{event.id}{path}").status_code == 200
    assert _client(app, factories.make_admin()).get(f"/organizer/mixers/{event.id}{path}").status_code == 200
    assert app.test_client().get(f"/organizer/mixers/{event.id}{path}").status_code in (302, 401)


def test_organizer_posts_outside_scope_change_nothing(app, org_user):
    event = mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    registration = mf.sign_up(w, event)
    mf.attend(org_user, event, m)
    mf.open_window(event)
    stranger = _client(app, factories.make_organizer("jx-jiujiang"))
    assert (
        stranger.post(f"/organizer/mixers/{event.id}/checkin", data={"registration_id": registration.id}).status_code
        == 404
    )
    assert stranger.post(f"/organizer/mixers/{event.id}/checkin", data={}).status_code == 404
    assert stranger.post(f"/organizer/mixers/{event.id}/pairs", data={}).status_code == 404
    assert stranger.post(f"/organizer/mixers/{event.id}/settings", data={}).status_code == 404
    assert stranger.post(f"/organizer/mixers/{event.id}/reveal").status_code == 404
    assert (
        stranger.post(f"/organizer/mixers/{event.id}/pairs", data={"badge_a": "1", "badge_b": "2"}).status_code == 404
    )
    closes = (event.ends_at + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    assert (
        stranger.post(
            f"/organizer/mixers/{event.id}/settings", data={"pick_closes_at": closes, "max_picks": "9"}
        ).status_code
        == 404
    )
    assert not windows.is_revealed(event.id)
    assert checkin.attendee_for(w, event.id) is None
    assert db.session.get(MixerSettings, event.id).max_picks == 3


def test_organizer_index_lists_only_own_mixers(app, org_user):
    mine = mf.make_mixer(title="南昌的联谊")
    factories.make_event(kind="mixer", title="九江的联谊", organization=factories.org("jx-jiujiang"))
    page = _client(app, org_user).get("/organizer/mixers/").get_data(as_text=True)
    assert "南昌的联谊" in page and "九江的联谊" not in page and str(mine.id) in page


def test_api_card_picks_and_matches(app, org_user):
    event = mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    a = mf.attend(org_user, event, w, nickname="小鹿")
    b = mf.attend(org_user, event, m, nickname="阿杰")
    tw, tm = factories.api_token(w), factories.api_token(m)
    client = app.test_client()
    mf.open_window(event)
    card = client.get(f"/api/v1/mixers/{event.id}/card", headers={"Authorization": f"Bearer {tw}"}).get_json()
    assert card["state"] == "open" and card["candidates"] == [{"badge": b.badge_no, "nickname": "阿杰"}]
    bad = client.put(
        f"/api/v1/mixers/{event.id}/picks", json={"badges": ["x"]}, headers={"Authorization": f"Bearer {tw}"}
    )
    assert bad.status_code == 422 and bad.get_json()["error"] == "invalid"
    wrong = client.put(
        f"/api/v1/mixers/{event.id}/picks", json={"badges": [a.badge_no]}, headers={"Authorization": f"Bearer {tw}"}
    )
    assert wrong.status_code == 422 and wrong.get_json()["error"] == "invalid_pick"
    for token, badge in ((tw, b.badge_no), (tm, a.badge_no)):
        ok = client.put(
            f"/api/v1/mixers/{event.id}/picks", json={"badges": [badge]}, headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200 and ok.get_json() == {"my_picks": [badge]}
    mf.after_window(event)
    late = client.put(
        f"/api/v1/mixers/{event.id}/picks", json={"badges": []}, headers={"Authorization": f"Bearer {tw}"}
    )
    assert late.status_code == 409 and late.get_json()["error"] == "pick_window_closed"
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    matches = client.get("/api/v1/mixers/matches", headers={"Authorization": f"Bearer {tw}"}).get_json()["matches"]
    assert [x["partner_nickname"] for x in matches] == ["阿杰"]
    assert client.get("/api/v1/mixers/matches").status_code == 401
