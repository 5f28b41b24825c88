"""``flask demo seed --scale province``: one year of the province at the sizes the federation published.

Generated (scale 1, the current year up to a few days ago): 219 singles mixers with 21,000+ attendances and
exactly 1,776 couples (牵手成功) in their matching-outcome logs; health-truck visits where 12,000+ frontline
workers had the general check and exactly 18,293 women were given two-cancer screening (6,932 in non-public
enterprises, 5,422 new-employment-form workers); recuperation-trip departures with exactly 11,500 places
allocated against the target of 10,000. Cities follow their population, industries the "1269" chains and
clusters, enterprise types the published split.

This module writes the year that ``app.demo.province_plan`` plans. Everything goes in with bulk inserts through the
models' tables, then the statistics roll-up is rebuilt for the year. Deterministic (``random.Random``) and idempotent:
a second run finds its people and adds nothing. ``scale=10`` makes the benchmark's volume (about a million
registrations).
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select

from .. import clock
from ..accounts.models import Profile, Role, User
from ..booking.models import ACTIVE, Registration, Status
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..extensions import db
from ..mixers.models import MixerOutcome, MixerPair, MixerReveal, MixerSettings
from ..orgs.models import City, Industry, Organization, OrgLevel
from ..orgs.reference import CITIES, PROVINCE_ORG_CODE, city_org_code
from ..orgs.services import create_organization, get_by_code, seed_reference_data
from ..progress import Progress, no_progress
from ..screenings.models import ScreeningBooking, ScreeningVisit
from ..stats import rollup
from ..trips.models import TripDeparture, TripRoute, TripTarget
from .province_plan import ETYPE_WEIGHTS, PARK_NAMES, ROUTES, TRIP_TARGET, Generator, Totals, add_up, weighted

PHONE_PREFIX = "199"  # the seed's people: 199 + 8 digits (scale 10 uses 198...)


def _batched(rows: list[dict[str, Any]], size: int = 5_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(table: Table, rows: list[dict[str, Any]], returning: bool = False) -> list[int]:
    """Bulk insert; with ``returning`` the new ids in row order (SQLite: numbered after the highest id, which is
    what it would do itself, and much faster than one statement per row)."""
    ids: list[int] = []
    if returning and db.session.get_bind().dialect.name == "sqlite":
        start = int(db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(start, start + len(rows)))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
        returning = False
    for batch in _batched(rows):
        if returning:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids.extend(db.session.execute(stmt, batch).scalars().all())
        else:
            db.session.execute(insert(table), batch)
    return ids


def _table(model: type[Any]) -> Table:
    """A model's table, for the bulk inserts (``__table__`` is typed as any ``FromClause``)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _ensure_orgs() -> dict[str, int]:
    """The province tree the seed uses: each city federation, its park union and eight enterprise unions."""
    seed_reference_data()
    cities = {city.code: city for city in db.session.scalars(select(City))}
    for code, _name, _en, _prefecture in CITIES:
        city_org = get_by_code(city_org_code(code))
        park = get_by_code(f"{city_org_code(code)}-park")
        if park is None:
            park = create_organization(
                code=f"{city_org_code(code)}-park", name=f"{PARK_NAMES[code]}工会", level=OrgLevel.PARK,
                parent=city_org, city=cities[code],
            )  # fmt: skip
        for number in range(1, 9):
            if get_by_code(f"{city_org_code(code)}-p{number}") is None:
                etype = weighted(random.Random(number), ETYPE_WEIGHTS)
                create_organization(
                    code=f"{city_org_code(code)}-p{number}", name=f"{PARK_NAMES[code]}第{number}企业工会",
                    level=OrgLevel.ENTERPRISE, parent=park, city=cities[code], enterprise_type=etype,
                )  # fmt: skip
    db.session.flush()
    return {code: org_id for code, org_id in db.session.execute(select(Organization.code, Organization.id))}


SEED_STEPS = 8  # generate, people, profiles, events, slots, registrations, feature rows, roll-up


def seed_province(scale: float = 1, *, echo: Any = print, progress: Progress = no_progress) -> Totals | None:
    """Generate one year of the province (see the module docstring) unless its people are already there; then
    rebuild the statistics roll-up of that year. Returns the generator's totals (None when already seeded).
    ``progress`` hears of each of the SEED_STEPS steps."""
    prefix = PHONE_PREFIX if scale == 1 else str(int(PHONE_PREFIX) - 1)  # another scale: other people
    if db.session.scalar(select(func.count()).select_from(User).where(User.phone.like(f"{prefix}%"))):
        echo("  province: already seeded")
        return None
    today = clock.today()
    year = today.year if today >= date(today.year, 3, 15) else today.year - 1
    last_day = today - timedelta(days=3) if year == today.year else date(year, 12, 20)
    progress(0, SEED_STEPS)
    generator = Generator(scale, year, last_day)
    generator.mixers()
    generator.screenings()
    generator.trips()
    orgs = _ensure_orgs()
    cities = {city.code: city.id for city in db.session.scalars(select(City))}
    industries = {industry.code: industry.id for industry in db.session.scalars(select(Industry))}
    now = clock.now()
    echo(f"  province: {len(generator.people):,} people, {len(generator.events):,} events")
    progress(1, SEED_STEPS)

    user_ids = _insert(
        _table(User),
        [
            {
                "phone": f"{prefix}{person.index:08d}",
                "name": "职工",
                "role": Role.EMPLOYEE,
                "organization_id": orgs[person.org_code],
                "locale": "zh_CN",
                "is_active_account": True,
                "created_at": now,
            }
            for person in generator.people
        ],
        returning=True,
    )
    for person, user_id in zip(generator.people, user_ids, strict=True):
        person.user_id = user_id
    progress(2, SEED_STEPS)
    _insert(
        _table(Profile),
        [
            {
                "user_id": person.user_id,
                "gender": person.gender,
                "birth_date": person.birth,
                "city_id": cities[person.city],
                "employer": "省级示范企业",
                "enterprise_type": person.etype,
                "industry_id": industries.get(person.industry) if person.industry else None,
                "frontline": True,
                "member_no": None,
                "model_worker": person.index % 97 == 0,
            }
            for person in generator.people
        ],
    )
    progress(3, SEED_STEPS)

    event_ids = _insert(
        _table(Event),
        [
            {
                "kind": event.kind,
                "title": event.title,
                "description": "由各级工会组织开展，面向一线职工。",
                "organization_id": orgs[event.org_code],
                "city_id": cities[event.city],
                "venue": PARK_NAMES[event.city],
                "starts_at": event.starts_at,
                "ends_at": event.starts_at + timedelta(hours=8),
                "signup_opens_at": event.starts_at - timedelta(days=30),
                "signup_closes_at": event.starts_at - timedelta(days=2),
                "published": True,
                "allow_multiple_slots": False,
                "frontline_only": event.kind == "trip",
                "subtree_only": False,
                "created_at": event.starts_at - timedelta(days=40),
                "updated_at": event.starts_at - timedelta(days=40),
                "min_age": 22 if event.kind == "mixer" else None,
                "max_age": 40 if event.kind == "mixer" else None,
            }
            for event in generator.events
        ],
        returning=True,
    )
    for event, event_id in zip(generator.events, event_ids, strict=True):
        event.event_id = event_id
    progress(4, SEED_STEPS)

    slot_rows: list[dict[str, Any]] = []
    slot_of: list[list[int]] = []  # per event: the slot index of each registration
    for event in generator.events:
        counts: list[dict[str, int]] = [defaultdict(int) for _ in range(event.slots)]
        positions = []
        for number, planned in enumerate(event.registrations):
            slot_index = number % event.slots
            positions.append(slot_index)
            if planned.status in (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW):
                counts[slot_index]["taken"] += 1
                counts[slot_index][f"taken_{planned.person.gender.value}"] += 1
            elif planned.status == Status.WAITLISTED:
                counts[slot_index]["waitlisted"] += 1
        slot_of.append(positions)
        for index in range(event.slots):
            taken = counts[index]["taken"]
            starts = event.starts_at + timedelta(hours=index)
            capacity = max(event.extra.get("capacity", 0), taken + (3 if event.kind == "screening" else 0))
            quota = capacity // 2 if event.kind == "mixer" else None
            slot_rows.append(
                {
                    "event_id": event.event_id,
                    "label": f"{starts:%H:%M}" if event.slots > 1 else "",
                    "starts_at": starts,
                    "ends_at": starts + (timedelta(hours=1) if event.slots > 1 else timedelta(hours=8)),
                    "capacity": capacity,
                    "quota_female": quota,
                    "quota_male": quota,
                    "taken": taken,
                    "taken_female": counts[index]["taken_female"],
                    "taken_male": counts[index]["taken_male"],
                    "waitlisted": counts[index]["waitlisted"],
                    "waitlist_policy": WaitlistPolicy.OFFER,
                    "offer_hours": 24,
                    "allocation": Allocation.LOTTERY if event.kind == "trip" else Allocation.FIRST_COME,
                    "closed": False,
                }
            )
    slot_ids = _insert(_table(Slot), slot_rows, returning=True)
    progress(5, SEED_STEPS)

    registration_rows: list[dict[str, Any]] = []
    screening_flags: list[tuple[bool, str | None]] = []
    slot_cursor = 0
    for event, positions in zip(generator.events, slot_of, strict=True):
        for planned, slot_index in zip(event.registrations, positions, strict=True):
            created = event.starts_at - timedelta(days=10)
            registration_rows.append(
                {
                    "slot_id": slot_ids[slot_cursor + slot_index],
                    "event_id": event.event_id,
                    "user_id": planned.person.user_id,
                    "status": planned.status,
                    "is_active": planned.status in ACTIVE,
                    "single_per_event": True,
                    "gender": planned.person.gender,
                    "priority": 0,
                    "ticket_code": secrets.token_urlsafe(16),
                    "created_at": created,
                    "confirmed_at": created if planned.status in rollup.ALLOCATED else None,
                    "checked_in_at": event.starts_at if planned.status == Status.ATTENDED else None,
                    "waitlisted_at": created if planned.from_waitlist or planned.status == Status.WAITLISTED else None,
                    "from_waitlist": planned.from_waitlist,
                }
            )
            if event.kind == "screening":
                screening_flags.append((bool(planned.two_cancer), planned.outcome))
        slot_cursor += event.slots
    registration_ids = _insert(_table(Registration), registration_rows, returning=True)
    progress(6, SEED_STEPS)
    _feature_rows(generator, registration_ids, screening_flags, orgs, cities, year)
    progress(7, SEED_STEPS)

    rollup.rebuild(year)
    db.session.flush()
    progress(SEED_STEPS, SEED_STEPS)
    figures = add_up(generator)
    for line in figures.lines():
        echo(f"    {line}")
    return figures


def _feature_rows(
    generator: Generator,
    registration_ids: list[int],
    screening_flags: list[tuple[bool, str | None]],
    orgs: dict[str, int],
    cities: dict[str, int],
    year: int,
) -> None:
    """Rows of the mixer, screening and trip tables."""
    cursor = 0
    screening_registrations: list[int] = []
    for event in generator.events:
        ids = registration_ids[cursor : cursor + len(event.registrations)]
        cursor += len(event.registrations)
        if event.kind == "screening":
            screening_registrations.extend(ids)
    settings, reveals = _table(MixerSettings), _table(MixerReveal)
    pairs, outcomes = _table(MixerPair), _table(MixerOutcome)
    mixers = [event for event in generator.events if event.kind == "mixer"]
    _insert(settings, [{"event_id": e.event_id, "pick_closes_at": e.starts_at + timedelta(days=1)} for e in mixers])
    _insert(
        reveals,
        [
            {
                "event_id": e.event_id,
                "revealed_at": e.starts_at + timedelta(days=1),
                "attendees": sum(1 for r in e.registrations if r.status == Status.ATTENDED),
                "pickers": sum(1 for r in e.registrations if r.status == Status.ATTENDED) * 4 // 5,
                "picks_made": sum(1 for r in e.registrations if r.status == Status.ATTENDED) * 2,
                "pairs": e.extra["pairs"],
            }
            for e in mixers
        ],
    )
    badge: dict[int, int] = defaultdict(int)
    pair_rows = []
    for event, a, b, _couple in generator.pairs:
        badge[event.event_id] += 2
        pair_rows.append(
            {
                "event_id": event.event_id,
                "created_at": event.starts_at + timedelta(days=1),
                "source": "app" if badge[event.event_id] % 10 else "paper",
                "user_a_id": generator.people[a].user_id,
                "user_b_id": generator.people[b].user_id,
                "badge_a": badge[event.event_id] - 1,
                "badge_b": badge[event.event_id],
            }
        )
    pair_ids = _insert(pairs, pair_rows, returning=True)
    outcome_rows = []
    for (event, _a, _b, couple), pair_id in zip(generator.pairs, pair_ids, strict=True):
        matched = event.starts_at + timedelta(days=1)
        outcome_rows.append({"pair_id": pair_id, "kind": "matched", "at": matched, "member": "", "stage": ""})
        if couple:
            outcome_rows.append(
                {
                    "pair_id": pair_id,
                    "kind": "dating",
                    "at": matched + timedelta(days=60),
                    "member": "",
                    "stage": "",
                }
            )
        elif pair_id % 3 == 0:
            outcome_rows.append(
                {"pair_id": pair_id, "kind": "ended", "at": matched + timedelta(days=25), "member": "", "stage": ""}
            )
    _insert(outcomes, outcome_rows)
    visits, bookings = _table(ScreeningVisit), _table(ScreeningBooking)
    screenings = [event for event in generator.events if event.kind == "screening"]
    _insert(visits, [{"event_id": e.event_id, "site_name": e.extra["site"]} for e in screenings])
    _insert(
        bookings,
        [
            {
                "registration_id": registration_id,
                "two_cancer": two_cancer,
                "outcome": outcome,
                "not_screened_reason": "declined" if outcome == "not_screened" else None,
                "recorded_at": None,
            }
            for registration_id, (two_cancer, outcome) in zip(screening_registrations, screening_flags, strict=True)
        ],
    )
    routes, departures, targets = _table(TripRoute), _table(TripDeparture), _table(TripTarget)
    route_ids = _insert(
        routes,
        [
            {
                "theme": theme,
                "title": title,
                "summary": title,
                "organization_id": orgs[PROVINCE_ORG_CODE],
                "city_id": cities[city],
                "itinerary": [],
                "published": True,
            }
            for theme, title, city in ROUTES
        ],
        returning=True,
    )
    _insert(
        departures,
        [
            {"event_id": e.event_id, "route_id": route_ids[e.extra["route"]]}
            for e in generator.events
            if e.kind == "trip"
        ],
    )
    province = orgs[PROVINCE_ORG_CODE]
    exists = db.session.scalar(
        select(func.count()).select_from(targets).where(targets.c.year == year, targets.c.organization_id == province)
    )
    if not exists:
        _insert(targets, [{"year": year, "organization_id": province, "places": TRIP_TARGET}])
