"""Every figure of the dashboard for the hand-built dataset (tests/stats/conftest.py), answers worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import InvalidInput
from app.stats import services
from tests import factories

MEASURES = ["signups", "allocated", "attended", "no_show", "converted", "two_cancer"]


def table_values(figures: services.Figures, key: str) -> dict[str, list[int | float | None]]:
    return {row.label: [cell.value for cell in row.cells] for row in figures.tables[key].rows}


def province(**kwargs):  # type: ignore[no-untyped-def]
    return services.compute(services.make_filters(services.province_org(), year=2026, **kwargs))


def test_headline_figures_for_the_province(dataset) -> None:
    figures = province()
    # Mixers: M1 and M2 (M3 cancelled, M4 in 2025). Sign-ups 5 + 2; attendees 3 + 2; M1's two pairs, one dating.
    # Distinct people: A, B, D at M1 and A, E at M2 → 4.
    assert figures.raw["mixer"] == {"held": 2, "signups": 7, "attendees": 5, "people": 4, "pairs": 2, "couples": 1}
    # Screening S1: 2 slots × 10; booked = A, C, D attended + B no-show + E confirmed; two-cancer = A (screened,
    # non-public) and C (no outcome yet, new-employment); D was recorded "not screened".
    assert figures.raw["screening"] == {
        "visits": 1,
        "slots_offered": 20,
        "booked": 5,
        "attended": 3,
        "people": 3,
        "two_cancer": 2,
        "two_cancer_non_public": 1,
        "two_cancer_new_employment": 1,
    }
    # Trip T1: 5 applicants; places = A attended, B confirmed, E no-show; target 4 → 75 %.
    assert figures.raw["trip"] == {
        "departures": 1,
        "applicants": 5,
        "allocated": 3,
        "attended": 1,
        "people": 1,
        "target": 4,
        "progress": 75.0,
    }
    # All: 17 registrations; attended 5 + 3 + 1 = 9; no-shows E (M1), B (S1), E (T1) = 3 → 3 / 12 = 25 %;
    # conversions D (M1) and E (T1); everybody A–E attended something.
    assert figures.raw["all"] == {
        "reached": 5,
        "signups": 17,
        "attended": 9,
        "no_show": 3,
        "no_show_rate": 25.0,
        "converted": 2,
    }
    assert "general" not in figures.raw
    texts = {item.key: item.cell.text for s in figures.sections if s.key == "trip" for item in s.items}
    assert texts["progress"] == "75.0%" and texts["target"] == "4"


def test_breakdown_by_city_and_month(dataset) -> None:
    figures = province()
    cities = table_values(figures, "city")
    # columns: events, then sign-ups, allocated, attended, no-show, conversions, two-cancer
    assert cities["南昌"] == [2, 10, 9, 6, 2, 1, 2]  # M1 + S1
    assert cities["九江"] == [2, 7, 5, 3, 1, 1, 0]  # M2 + T1
    assert cities["赣州"] == [0, 0, 0, 0, 0, 0, 0]
    assert len(cities) == 12
    months = table_values(figures, "month")
    assert list(months) == [f"{m}月" for m in range(1, 13)]
    assert months["3月"] == [1, 5, 4, 3, 1, 1, 0]
    assert months["4月"] == [1, 5, 5, 3, 1, 0, 2]  # S1 (M3 was cancelled)
    assert months["5月"] == [1, 2, 2, 2, 0, 0, 0]
    assert months["6月"] == [1, 5, 3, 1, 1, 1, 0]
    assert months["12月"] == [0, 0, 0, 0, 0, 0, 0]


def test_breakdown_by_person(dataset) -> None:
    figures = province()
    # Per person over M1, M2, S1, T1 (sign-ups, allocated, attended, no-show, conversions, two-cancer):
    # A 4 4 4 0 0 1 · B 3 3 1 1 0 0 · C 3 1 1 0 0 1 · D 3 2 2 0 1 0 · E 4 4 1 2 1 0
    assert table_values(figures, "gender") == {"女": [10, 7, 7, 0, 1, 2], "男": [7, 7, 2, 3, 1, 0]}
    ages = table_values(figures, "age")
    assert ages == {
        "18-24 岁": [4, 4, 1, 2, 1, 0],
        "25-34 岁": [7, 7, 5, 1, 0, 1],
        "35-44 岁": [3, 1, 1, 0, 0, 1],
        "45-54 岁": [3, 2, 2, 0, 1, 0],
        "55+ 岁": [0, 0, 0, 0, 0, 0],
    }
    assert table_values(figures, "etype") == {
        "国有企业": [3, 3, 1, 1, 0, 0],
        "非公企业": [8, 8, 5, 2, 1, 1],
        "事业单位": [3, 2, 2, 0, 1, 0],
        "新就业形态劳动者": [3, 1, 1, 0, 0, 1],
    }
    industries = table_values(figures, "industry")
    assert industries["产业链 · 电子信息"] == [8, 8, 5, 2, 1, 1]
    assert industries["产业集群 · 铜基新材料"] == [3, 3, 1, 1, 0, 0]
    assert industries["产业链 · 医药"] == [3, 2, 2, 0, 1, 0]
    assert industries["其他"] == [3, 1, 1, 0, 0, 1]
    assert industries["产业集群 · 电子信息"] == [0, 0, 0, 0, 0, 0]
    assert len(industries) == 19  # 12 chains, 6 clusters, other; no "unknown" row while every profile exists


def test_organizer_sees_only_their_subtree(dataset) -> None:
    organizer = factories.make_organizer("jx-nanchang")
    figures = services.dashboard(organizer, year=2026)
    assert figures.filters.org.code == "jx-nanchang" and not figures.suppressed
    # M1 (jx-nanchang) and S1 (its enterprise union); not M2 (九江) nor T1 (held by the province).
    assert figures.raw["mixer"] == {"held": 1, "signups": 5, "attendees": 3, "people": 3, "pairs": 2, "couples": 1}
    assert figures.raw["screening"]["two_cancer"] == 2
    assert figures.raw["trip"]["departures"] == 0 and figures.raw["trip"]["target"] is None
    assert figures.raw["all"]["reached"] == 4  # A, B, D at M1; A, C, D at S1
    assert figures.raw["all"]["signups"] == 10
    enterprise = services.dashboard(organizer, year=2026, org_id=dataset.enterprise.id)
    assert enterprise.raw["mixer"]["held"] == 0 and enterprise.raw["screening"]["attended"] == 3
    assert enterprise.raw["screening"]["people"] == 3 and enterprise.raw["all"]["reached"] == 3
    with pytest.raises(services.NotFound):
        services.dashboard(organizer, year=2026, org_id=factories.org("jx-jiujiang").id)


def test_period_and_kind_filters(dataset) -> None:
    spring = province(start=date(2026, 3, 1), end=date(2026, 4, 30))  # M1 and S1 only
    assert spring.raw["mixer"]["held"] == 1 and spring.raw["screening"]["visits"] == 1
    assert spring.raw["trip"]["allocated"] == 0
    assert spring.raw["all"]["reached"] == 4  # counted live for a range that is not a whole year
    assert spring.raw["mixer"]["people"] == 3 and spring.raw["screening"]["people"] == 3
    assert list(table_values(spring, "month")) == ["3月", "4月"]
    winter = province(start=date(2025, 12, 1), end=date(2026, 1, 31))
    assert table_values(winter, "month")["2025-12"] == [1, 1, 1, 1, 0, 0, 0]  # M4
    previous = province(start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert previous.raw["mixer"] == {"held": 1, "signups": 1, "attendees": 1, "people": 1, "pairs": 1, "couples": 1}
    trips = province(kind="trip")
    assert set(trips.raw) == {"trip", "all"}
    assert trips.raw["all"] == {
        "reached": 1,
        "signups": 5,
        "attended": 1,
        "no_show": 1,
        "no_show_rate": 50.0,
        "converted": 1,
    }
    assert "两癌筛查" not in trips.tables["city"].header


def test_periods_of_part_months_read_the_per_event_roll_up(dataset) -> None:
    whole = province(start=date(2026, 3, 1), end=date(2026, 4, 30))  # whole months: the monthly roll-up
    part = province(start=date(2026, 3, 10), end=date(2026, 4, 15))  # M1 (14 Mar) and S1 (10 Apr) again
    assert part.raw == whole.raw
    for key in ("city", "month", "gender", "age", "etype", "industry"):
        assert table_values(part, key) == table_values(whole, key), key
    between = province(start=date(2026, 3, 15), end=date(2026, 4, 9))  # after M1, before S1
    assert between.raw["all"]["signups"] == 0 and between.raw["mixer"]["held"] == 0


def test_bad_filters_are_refused_with_a_message(dataset) -> None:
    with pytest.raises(InvalidInput):
        province(kind="party")
    with pytest.raises(InvalidInput):
        services.make_filters(services.province_org(), start=date(2026, 5, 1), end=date(2026, 4, 1))
