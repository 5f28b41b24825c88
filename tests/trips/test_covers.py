"""A route's cover picture (issue 21, item 10): set by an organizer of its subtree through the events' cover
machinery, shown lazily with its description on the route page and the route cards, falling back to the next
departure's event cover."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from app import clock
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.trips.covers import set_route_cover
from app.trips.models import Theme

from . import factories as tf


@pytest.fixture(autouse=True)
def media(app, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path))
    monkeypatch.setitem(app.config, "COVER_MAX_BYTES", 5 * 1024 * 1024)


def _picture(kind: str = "PNG", size: tuple[int, int] = (1600, 900)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (46, 125, 50)).save(buffer, kind)
    return buffer.getvalue()


def _nanchang_route(title: str = "滕王阁与八一起义纪念馆之旅"):  # type: ignore[no-untyped-def]
    return tf.make_route(Theme.RED, title, org_code="jx-nanchang", city_code="nanchang")


def test_an_organizer_sets_a_described_cover_for_a_route_of_their_subtree(app, tmp_path, organizer) -> None:  # type: ignore[no-untyped-def]
    route = _nanchang_route()
    set_route_cover(organizer, route.id, _picture(), "  八一起义纪念馆\x00前的广场 ")
    db.session.commit()
    assert route.cover_alt == "八一起义纪念馆 前的广场"
    assert Image.open(tmp_path / f"{route.cover_image}-thumb.jpg").size == (480, 270)
    assert (tmp_path / f"{route.cover_image}-full.jpg").is_file()


@pytest.mark.parametrize(
    ("data", "alt", "field", "words"),
    [
        (b"", "纪念馆", "picture", "请选择一张图片"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "纪念馆", "picture", "无法识别"),
        ("gif", "纪念馆", "picture", "只接受 JPEG、PNG 或 WebP"),
        ("png", "   ", "alt", "请用一句话描述图片内容"),
        ("png", None, "alt", "请用一句话描述图片内容"),
        ("png", "长" * 121, "alt", "不超过 120 个字"),
    ],
)
def test_a_refused_picture_or_description_stores_nothing(  # type: ignore[no-untyped-def]
    app, tmp_path, organizer, data, alt, field, words
) -> None:
    route = _nanchang_route()
    body = _picture("GIF", (10, 10)) if data == "gif" else _picture() if data == "png" else data
    with pytest.raises(InvalidInput) as refused:
        set_route_cover(organizer, route.id, body, alt)
    db.session.rollback()
    assert words in " ".join(refused.value.fields[field])
    assert list(tmp_path.iterdir()) == []
    assert db.session.get(type(route), route.id).cover_image is None


def test_a_picture_over_the_size_limit_is_refused(app, tmp_path, organizer) -> None:  # type: ignore[no-untyped-def]
    app.config["COVER_MAX_BYTES"] = 1000
    route = _nanchang_route()
    with pytest.raises(InvalidInput, match="MB"):
        set_route_cover(organizer, route.id, _picture(), "纪念馆")
    assert list(tmp_path.iterdir()) == []


def test_another_organizations_route_does_not_exist_for_the_organizer(  # type: ignore[no-untyped-def]
    app, tmp_path, organizer, organizer_client
) -> None:
    other = tf.make_route(Theme.GREEN, "三清山生态休养", org_code="jx-ganzhou", city_code="ganzhou")
    with pytest.raises(NotFound):
        set_route_cover(organizer, other.id, _picture(), "三清山")
    with pytest.raises(NotFound):
        set_route_cover(organizer, 999_999, _picture(), "三清山")
    db.session.rollback()
    response = organizer_client.post(
        f"/organizer/trips/routes/{other.id}/cover", data={"picture": (io.BytesIO(_picture()), "a.png"), "alt": "x"}
    )
    assert response.status_code == 404
    assert organizer_client.get(f"/organizer/trips/routes/{other.id}").status_code == 404
    assert list(tmp_path.iterdir()) == []


def test_the_organizers_route_page_takes_a_cover_and_says_what_is_wrong(  # type: ignore[no-untyped-def]
    app, tmp_path, organizer_client
) -> None:
    route = _nanchang_route()
    page = organizer_client.get(f"/organizer/trips/routes/{route.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "图片描述" in page
    refused = organizer_client.post(
        f"/organizer/trips/routes/{route.id}/cover", data={"picture": (io.BytesIO(_picture()), "a.png"), "alt": ""}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="error-summary"' in html and 'id="alt-error"' in html and "请用一句话描述图片内容" in html
    assert route.cover_image is None and list(tmp_path.iterdir()) == []
    done = organizer_client.post(
        f"/organizer/trips/routes/{route.id}/cover",
        data={"picture": (io.BytesIO(_picture()), "a.png"), "alt": "八一起义纪念馆"},
        follow_redirects=True,
    )
    assert "封面图片已更新。" in done.get_data(as_text=True)
    assert route.cover_image and route.cover_alt == "八一起义纪念馆"
    listing = organizer_client.get("/organizer/trips/").get_data(as_text=True)
    assert f'href="/organizer/trips/routes/{route.id}"' in listing


def test_the_route_page_and_the_list_show_the_cover_lazily_with_its_description(  # type: ignore[no-untyped-def]
    app, client, organizer
) -> None:
    route = _nanchang_route()
    tf.make_departure(route)
    set_route_cover(organizer, route.id, _picture(), "八一起义纪念馆")
    db.session.commit()
    thumb = f'src="/events/media/{route.cover_image}-thumb.jpg"'
    for url in (f"/trips/routes/{route.id}", "/trips/"):
        html = client.get(url).get_data(as_text=True)
        tag = html[html.rindex("<img", 0, html.index(thumb)) : html.index(">", html.index(thumb))]
        assert 'alt="八一起义纪念馆"' in tag and 'loading="lazy"' in tag
        assert 'width="480"' in tag and 'height="270"' in tag
    picture = client.get(f"/events/media/{route.cover_image}-thumb.jpg")
    assert picture.status_code == 200 and "max-age=31536000" in picture.headers["Cache-Control"]


def test_without_its_own_cover_a_route_shows_its_next_departures_cover_or_none(app, client) -> None:  # type: ignore[no-untyped-def]
    from app.events.covers import store_picture

    plain = _nanchang_route("庐山生态康养休养")
    html = client.get(f"/trips/routes/{plain.id}").get_data(as_text=True)
    assert "/events/media/" not in html
    soon = tf.make_departure(plain, starts_on=(clock.now() + timedelta(days=20)).date())
    later = tf.make_departure(plain, starts_on=(clock.now() + timedelta(days=40)).date())
    later.event.cover_image, later.event.cover_alt = store_picture(_picture()), "庐山云海"
    db.session.commit()
    assert soon.event.cover_image is None
    for url in (f"/trips/routes/{plain.id}", "/trips/"):
        html = client.get(url).get_data(as_text=True)
        assert f"/events/media/{later.event.cover_image}-thumb.jpg" in html and 'alt="庐山云海"' in html


def test_the_route_list_stays_small_with_every_route_covered(app, client, organizer) -> None:  # type: ignore[no-untyped-def]
    themes = [Theme.RED, Theme.GREEN, Theme.HERITAGE]
    for index in range(12):
        route = tf.make_route(themes[index % 3], f"疗休养线路第{index + 1}条", org_code="jx-nanchang")
        for week in range(4):
            tf.make_departure(route, starts_on=(clock.now() + timedelta(days=20 + 7 * week)).date())
        set_route_cover(organizer, route.id, _picture(), f"第{index + 1}条线路的风景")
    db.session.commit()
    response = client.get("/trips/")
    html = response.get_data(as_text=True)
    assert html.count('loading="lazy"') == 12
    assert len(response.data) < 60 * 1024


def test_the_demo_draws_a_cover_for_every_route_once(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.demo.covers import seed_demo

    red = tf.make_route(Theme.RED, "井冈山红色教育之旅")
    heritage = tf.make_route(Theme.HERITAGE, "景德镇陶瓷文化之旅", city_code="jingdezhen")
    seed_demo()
    first = (red.cover_image, heritage.cover_image)
    seed_demo()  # idempotent
    assert (red.cover_image, heritage.cover_image) == first
    assert red.cover_image != heritage.cover_image and red.cover_alt and heritage.cover_alt
    assert (tmp_path / f"{red.cover_image}-thumb.jpg").is_file()
