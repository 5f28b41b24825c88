"""The hand-built dataset every statistics test reads; its answers are written out in tests/stats/test_figures.py.

People (birthdays on 1 January, so their age is fixed through the 2026 events):
  A  female 30  non-public          chain-electronics
  B  male   28  state-owned         cluster-copper
  C  female 40  new-employment      (neither: 其他)
  D  female 50  public institution  chain-pharma
  E  male   23  non-public          chain-electronics
Events (clock frozen at 2026-06-30 12:00):
  M1 mixer      2026-03-14  jx-nanchang      南昌  A att, B att, E no-show, C cancelled, D att (from waitlist)
                            pairs: A–B matched then dating; another pair matched only
  M2 mixer      2026-05-20  jx-jiujiang      九江  A att, E att
  M3 mixer      2026-04-02  jx-nanchang      南昌  cancelled event (B cancelled) — never counted
  M4 mixer      2025-12-20  jx-nanchang      南昌  A att — another year
  S1 screening  2026-04-10  enterprise E1 (under 南昌)  南昌, 2 slots × 10 places
                A att two-cancer screened; C att two-cancer (no outcome yet); D att two-cancer "not screened";
                B no-show (general); E confirmed (general)
  T1 trip       2026-06-01  jx (province)    九江  A att, B confirmed, C waitlisted, D cancelled,
                E no-show (from waitlist); province target for 2026: 4 places
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest

from app import clock
from app.accounts.models import Gender, User
from app.booking.models import Status
from app.events.models import Event
from app.extensions import db
from app.orgs.models import EnterpriseType, Organization
from app.stats import rollup
from tests import factories
from tests.stats import factories as sf

NOW = datetime(2026, 6, 30, 12, 0)


@dataclass
class Dataset:
    people: dict[str, User]
    events: dict[str, Event]
    enterprise: Organization


@pytest.fixture
def dataset() -> Dataset:
    clock.set_now(NOW)
    a = sf.person(Gender.FEMALE, date(1996, 1, 1), EnterpriseType.NON_PUBLIC, "chain-electronics")
    b = sf.person(Gender.MALE, date(1998, 1, 1), EnterpriseType.STATE_OWNED, "cluster-copper", "jiujiang")
    c = sf.person(Gender.FEMALE, date(1986, 1, 1), EnterpriseType.NEW_EMPLOYMENT, None)
    d = sf.person(Gender.FEMALE, date(1976, 1, 1), EnterpriseType.PUBLIC_INSTITUTION, "chain-pharma")
    e = sf.person(Gender.MALE, date(2003, 1, 1), EnterpriseType.NON_PUBLIC, "chain-electronics")
    nanchang, jiujiang, province = factories.org("jx-nanchang"), factories.org("jx-jiujiang"), factories.org("jx")
    enterprise = factories.make_org("jx-nanchang", code="e1", name="南昌测试企业工会")

    m1 = sf.event_at("mixer", datetime(2026, 3, 14, 14), nanchang)
    for person, status, waitlisted in (
        (a, Status.ATTENDED, False),
        (b, Status.ATTENDED, False),
        (e, Status.NO_SHOW, False),
        (c, Status.CANCELLED, False),
        (d, Status.ATTENDED, True),
    ):
        sf.reg(m1, person, status, from_waitlist=waitlisted)
    sf.pair(m1, "matched", "dating")
    sf.pair(m1, "matched")

    m2 = sf.event_at("mixer", datetime(2026, 5, 20, 14), jiujiang, city_code="jiujiang")
    sf.reg(m2, a, Status.ATTENDED)
    sf.reg(m2, e, Status.ATTENDED)

    m3 = sf.event_at("mixer", datetime(2026, 4, 2, 14), nanchang, cancelled=True)
    sf.reg(m3, b, Status.CANCELLED)
    sf.pair(m3, "matched", "dating")

    m4 = sf.event_at("mixer", datetime(2025, 12, 20, 14), nanchang)
    sf.reg(m4, a, Status.ATTENDED)
    sf.pair(m4, "matched", "dating")

    s1 = sf.event_at("screening", datetime(2026, 4, 10, 9), enterprise, slots=2)
    sf.screening_booking(sf.reg(s1, a, Status.ATTENDED), True, "screened")
    sf.screening_booking(sf.reg(s1, c, Status.ATTENDED), True, None)
    sf.screening_booking(sf.reg(s1, d, Status.ATTENDED), True, "not_screened")
    sf.screening_booking(sf.reg(s1, b, Status.NO_SHOW), False, None)
    sf.screening_booking(sf.reg(s1, e, Status.CONFIRMED), False, None)

    t1 = sf.event_at("trip", datetime(2026, 6, 1, 8), province, city_code="jiujiang")
    sf.reg(t1, a, Status.ATTENDED)
    sf.reg(t1, b, Status.CONFIRMED)
    sf.reg(t1, c, Status.WAITLISTED)
    sf.reg(t1, d, Status.CANCELLED)
    sf.reg(t1, e, Status.NO_SHOW, from_waitlist=True)
    sf.trip_target(2026, province, 4)

    rollup.rebuild()
    db.session.commit()
    return Dataset(
        people={"A": a, "B": b, "C": c, "D": d, "E": e},
        events={"M1": m1, "M2": m2, "M3": m3, "M4": m4, "S1": s1, "T1": t1},
        enterprise=enterprise,
    )
