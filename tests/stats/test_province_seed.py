"""The province generator: the dashboard shows exactly the generator's totals, and a second run adds nothing.
(At scale 1 it makes the published figures — 219 mixers, 1,776 couples, 18,293 two-cancer screenings... — which
bench/stats_dashboard.py prints; here a 2 % sample keeps the suite quick.)"""

from __future__ import annotations

from sqlalchemy import func, select

from app.booking.models import Registration
from app.demo import province
from app.extensions import db
from app.stats import services


def test_dashboard_matches_the_generator_and_reseeding_adds_nothing() -> None:
    totals = province.seed_province(0.02, echo=lambda *_: None)
    db.session.commit()
    assert totals is not None
    assert totals.two_cancer == sum(
        round(n * 0.02)
        for n in (6_932, 5_422, (18_293 - 6_932 - 5_422) * 6 // 10, 18_293 - 6_932 - 5_422 - (5_939 * 6 // 10))
    )
    figures = services.compute(services.make_filters(services.province_org(), year=totals.year))
    assert 0 < figures.raw["mixer"].pop("people") <= totals.mixer_attendees
    assert figures.raw["mixer"] == {
        "held": totals.mixers,
        "signups": totals.mixer_signups,
        "attendees": totals.mixer_attendees,
        "pairs": totals.pairs,
        "couples": totals.couples,
    }
    screening = figures.raw["screening"]
    assert screening["visits"] == totals.visits
    assert screening["two_cancer"] == totals.two_cancer
    assert screening["two_cancer_non_public"] == totals.two_cancer_non_public
    assert screening["two_cancer_new_employment"] == totals.two_cancer_new_employment
    assert screening["attended"] >= totals.two_cancer + totals.general_checks
    trip = figures.raw["trip"]
    assert (trip["departures"], trip["applicants"], trip["allocated"]) == (
        totals.departures,
        totals.trip_applicants,
        totals.trip_places,
    )
    assert trip["target"] == 10_000
    assert figures.raw["all"]["signups"] == totals.registrations
    assert 0 < figures.raw["all"]["reached"] <= totals.people
    # Every city has people and events; the industry and enterprise-type splits are all filled.
    assert all(row.cells[0].value for row in figures.tables["city"].rows)
    assert all(row.cells[0].value for row in figures.tables["etype"].rows)

    registrations = db.session.scalar(select(func.count()).select_from(Registration))
    assert province.seed_province(0.02, echo=lambda *_: None) is None
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == registrations
