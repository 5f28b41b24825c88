"""Keyword search on the events list: title, place and organizer, together with the other filters (item 8)."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import clock
from app.events import services as events
from tests import factories

NOW = datetime(2026, 6, 15, 10, 0)


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _titles(**filters: object) -> list[str]:
    found, _total = events.list_events(events.EventFilter(**filters))  # type: ignore[arg-type]
    return sorted(e.title for e in found)


def test_the_keyword_matches_title_venue_city_and_organizer() -> None:
    factories.make_event(title="职工羽毛球赛", venue="南昌市体育馆")
    factories.make_event(title="读书分享会", venue="九江图书馆", city=factories.city("jiujiang"))
    factories.make_event(title="摄影沙龙", organization=factories.org("jx-ganzhou"), city=factories.city("ganzhou"))
    assert _titles(keyword="羽毛球") == ["职工羽毛球赛"]
    assert _titles(keyword="图书馆") == ["读书分享会"]
    assert _titles(keyword="九江") == ["读书分享会"]
    assert _titles(keyword="Ganzhou") == ["摄影沙龙"]
    assert _titles(keyword="赣州市总工会") == ["摄影沙龙"]
    assert _titles(keyword="读书 九江") == ["读书分享会"]
    assert _titles(keyword="读书 赣州") == []


def test_the_keyword_works_with_the_other_filters_and_takes_wildcards_literally() -> None:
    factories.make_event(title="100% 满意 健步走", city=factories.city("jiujiang"))
    factories.make_event(title="健步走", city=factories.city("nanchang"))
    assert _titles(keyword="健步走", city="jiujiang") == ["100% 满意 健步走"]
    assert _titles(keyword="%") == ["100% 满意 健步走"]
    assert _titles(keyword="_") == []


def test_hostile_keywords_are_cleaned() -> None:
    assert events.clean_keyword("  读书\x00\n 分享 ") == "读书 分享"
    assert events.clean_keyword("\x07\t") is None
    assert len(events.clean_keyword("长" * 500) or "") == events.KEYWORD_MAX_LENGTH


def test_the_list_page_keeps_the_keyword_in_the_url_and_the_field(client) -> None:  # type: ignore[no-untyped-def]
    factories.make_event(title="职工羽毛球赛")
    factories.make_event(title="读书分享会")
    html = client.get("/events/?q=%E7%BE%BD%E6%AF%9B%E7%90%83").get_data(as_text=True)
    assert "职工羽毛球赛" in html and "读书分享会" not in html
    assert 'value="羽毛球"' in html
