"""``flask demo seed --scale province``: one year of the province at the sizes the federation published.

Generated (scale 1, the current year up to a few days ago): 219 singles mixers with 21,000+ attendances and
exactly 1,776 couples (牵手成功) in their matching-outcome logs; health-truck visits where 12,000+ frontline
workers had the general check and exactly 18,293 women were given two-cancer screening (6,932 in non-public
enterprises, 5,422 new-employment-form workers); recuperation-trip departures with exactly 11,500 places
allocated against the target of 10,000. Cities follow their population, industries the "1269" chains and
clusters, enterprise types the published split.

Everything goes in with bulk inserts (core tables through the models' ``__table__``, feature tables by name), then
the statistics roll-up is rebuilt for the year. Deterministic (``random.Random``) and idempotent: a second run
finds its people and adds nothing. ``scale=10`` makes the benchmark's volume (about a million registrations).
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select

from .. import clock
from ..accounts.models import Gender, Profile, Role, User
from ..booking.models import ACTIVE, Registration, Status
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..extensions import db
from ..orgs.models import City, EnterpriseType, Industry, Organization, OrgLevel
from ..orgs.reference import CITIES, PROVINCE_ORG_CODE, city_org_code
from ..orgs.services import create_organization, get_by_code, seed_reference_data
from ..progress import Progress, no_progress
from . import rollup

PHONE_PREFIX = "199"  # the seed's people: 199 + 8 digits (scale 10 uses 198...)
SEED = 9_2026

# Published figures (scale 1).
MIXERS = 219
COUPLES = 1_776
TWO_CANCER = 18_293
TWO_CANCER_NON_PUBLIC = 6_932
TWO_CANCER_NEW_EMPLOYMENT = 5_422
GENERAL_CHECKS = 12_346  # "1.2万余名一线职工"
TRIP_PLACES = 11_500
TRIP_TARGET = 10_000
TRIP_SEATS = 40
TRIP_APPLICANTS = 38_000

# Population (millions, 2020 census) decides how activity spreads over the cities.
CITY_WEIGHTS = {
    "nanchang": 6.26, "jingdezhen": 1.62, "pingxiang": 1.80, "jiujiang": 4.60, "xinyu": 1.20, "yingtan": 1.15,
    "ganzhou": 8.97, "jian": 4.47, "yichun": 5.00, "fuzhou": 3.61, "shangrao": 6.49, "ganjiang": 0.40,
}  # fmt: skip
# Industry of frontline members (codes of orgs.reference.INDUSTRIES; None = neither chain nor cluster).
INDUSTRY_WEIGHTS: list[tuple[str | None, float]] = [
    ("chain-electronics", 12), ("chain-nonferrous", 8), ("chain-equipment", 9), ("chain-new-energy", 7),
    ("chain-petrochemical", 4), ("chain-building-materials", 4), ("chain-steel", 4), ("chain-aviation", 3),
    ("chain-food", 6), ("chain-textile", 7), ("chain-pharma", 5), ("chain-furniture", 4),
    ("cluster-electronics", 3), ("cluster-copper", 3), ("cluster-lithium-pv", 4), ("cluster-tungsten-rare-earth", 2),
    ("cluster-aviation", 1), ("cluster-refining", 1), (None, 13),
]  # fmt: skip
ETYPE_WEIGHTS = [
    (EnterpriseType.NON_PUBLIC, 52),
    (EnterpriseType.STATE_OWNED, 20),
    (EnterpriseType.PUBLIC_INSTITUTION, 10),
    (EnterpriseType.NEW_EMPLOYMENT, 18),
]
PARK_NAMES = {
    "nanchang": "南昌高新区", "jingdezhen": "景德镇高新区", "pingxiang": "萍乡经开区", "jiujiang": "九江经开区",
    "xinyu": "新余高新区", "yingtan": "鹰潭高新区", "ganzhou": "赣州经开区", "jian": "吉安井开区",
    "yichun": "宜春经开区", "fuzhou": "抚州高新区", "shangrao": "上饶经开区", "ganjiang": "赣江新区直管区",
}  # fmt: skip
ROUTES = [
    ("red", "井冈山革命传统教育疗休养", "jian"),
    ("red", "瑞金红色故都疗休养", "ganzhou"),
    ("red", "八一起义纪念馆与南昌城市文化疗休养", "nanchang"),
    ("green", "庐山生态疗休养", "jiujiang"),
    ("green", "三清山生态疗休养", "shangrao"),
    ("green", "武功山高山草甸疗休养", "pingxiang"),
    ("heritage", "景德镇千年瓷都文化疗休养", "jingdezhen"),
    ("heritage", "婺源古村落文化疗休养", "shangrao"),
    ("heritage", "龙虎山道教文化疗休养", "yingtan"),
]


@dataclass
class Person:
    index: int
    city: str
    gender: Gender
    birth: date
    etype: EnterpriseType
    industry: str | None
    org_code: str
    user_id: int = 0


@dataclass
class PlannedRegistration:
    person: Person
    status: Status
    from_waitlist: bool = False
    two_cancer: bool | None = None  # screening bookings only
    outcome: str | None = None


@dataclass
class PlannedEvent:
    kind: str
    title: str
    org_code: str
    city: str
    starts_at: datetime
    slots: int = 1
    registrations: list[PlannedRegistration] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    event_id: int = 0


@dataclass
class Totals:
    year: int = 0
    mixers: int = 0
    mixer_signups: int = 0
    mixer_attendees: int = 0
    pairs: int = 0
    couples: int = 0
    visits: int = 0
    general_checks: int = 0
    two_cancer: int = 0
    two_cancer_non_public: int = 0
    two_cancer_new_employment: int = 0
    departures: int = 0
    trip_applicants: int = 0
    trip_places: int = 0
    registrations: int = 0
    people: int = 0

    def lines(self) -> list[str]:
        return [f"{name}: {value:,}" if name != "year" else f"year: {value}" for name, value in vars(self).items()]


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    values = [value for value, _weight in pairs]
    weights = [weight for _value, weight in pairs]
    return rng.choices(values, weights)[0]


def _city(rng: random.Random) -> str:
    return _weighted(rng, list(CITY_WEIGHTS.items()))  # type: ignore[no-any-return]


def _split(total: int, parts: int, rng: random.Random, low: float = 0.7, high: float = 1.3) -> list[int]:
    """``total`` split into ``parts`` uneven positive shares that add up exactly."""
    weights = [rng.uniform(low, high) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    for index in range(total - sum(shares)):
        shares[index % parts] += 1
    return shares


class Generator:
    def __init__(self, scale: float, year: int, last_day: date) -> None:
        self.scale = scale
        self.year = year
        self.first_day = date(year, 1, 6)
        self.last_day = last_day
        self.rng = random.Random(SEED + round(scale * 100))
        self.people: list[Person] = []
        self.events: list[PlannedEvent] = []
        self.totals = Totals()
        self.pairs: list[tuple[PlannedEvent, int, int, bool]] = []  # event, person a, person b, couple

    def n(self, published: int) -> int:
        """A published size at this scale."""
        return max(1, round(published * self.scale))

    # -- people ----------------------------------------------------------------------------------------------
    def person(self, *, gender: Gender, age: tuple[int, int], etype: EnterpriseType | None = None) -> Person:
        rng = self.rng
        city = _city(rng)
        years = rng.randint(*age)
        birth = date(self.year - years - 1, rng.randint(1, 12), rng.randint(1, 28))
        etype = etype or _weighted(rng, ETYPE_WEIGHTS)
        industry = None if etype == EnterpriseType.NEW_EMPLOYMENT else _weighted(rng, INDUSTRY_WEIGHTS)
        org_code = f"{city_org_code(city)}-p{rng.randint(1, 8)}"
        person = Person(len(self.people), city, gender, birth, etype, industry, org_code)
        self.people.append(person)
        return person

    def day(self) -> date:
        span = (self.last_day - self.first_day).days
        return self.first_day + timedelta(days=self.rng.randint(0, span))

    # -- mixers ----------------------------------------------------------------------------------------------
    def mixers(self) -> None:
        rng = self.rng
        count = self.n(MIXERS)
        singles_per_city: dict[str, dict[Gender, list[Person]]] = defaultdict(lambda: defaultdict(list))
        for _ in range(self.n(8_000)):
            for gender in (Gender.FEMALE, Gender.MALE):
                person = self.person(gender=gender, age=(22, 40))
                singles_per_city[person.city][gender].append(person)
        couples = _split(self.n(COUPLES), count, rng)
        for number in range(count):
            city = _city(rng)
            capacity = rng.randrange(100, 142, 2)
            when = datetime.combine(self.day(), datetime.min.time()) + timedelta(hours=14)
            org = city_org_code(city) if number % 3 else f"{city_org_code(city)}-park"
            event = PlannedEvent("mixer", f"“缘来是你”单身青年联谊会 第{number + 1}场", org, city, when)
            attended: dict[Gender, list[Person]] = {}
            for gender in (Gender.FEMALE, Gender.MALE):
                pool = singles_per_city[city][gender]
                wanted = capacity // 2 + rng.randint(4, 12)  # sign-ups exceed the quota: some wait, some cancel
                chosen = rng.sample(pool, min(wanted, len(pool)))
                seats = capacity // 2
                attended[gender] = []
                for index, person in enumerate(chosen):
                    if index < seats:
                        waitlisted = index >= seats - rng.randint(0, 5)
                        status = Status.ATTENDED if rng.random() < 0.93 else Status.NO_SHOW
                        event.registrations.append(PlannedRegistration(person, status, from_waitlist=waitlisted))
                        if status == Status.ATTENDED:
                            attended[gender].append(person)
                    else:
                        status = Status.CANCELLED if rng.random() < 0.5 else Status.EXPIRED
                        event.registrations.append(PlannedRegistration(person, status))
            mutual = couples[number] + rng.randint(8, 14)
            women, men = attended[Gender.FEMALE], attended[Gender.MALE]
            mutual = min(mutual, len(women), len(men))
            for index in range(mutual):
                self.pairs.append((event, women[index].index, men[index].index, index < couples[number]))
            event.extra = {"capacity": capacity, "pairs": mutual}
            self.events.append(event)

    # -- screenings ------------------------------------------------------------------------------------------
    def screenings(self) -> None:
        rng = self.rng
        bookings: list[PlannedRegistration] = []
        women = [
            (EnterpriseType.NON_PUBLIC, TWO_CANCER_NON_PUBLIC),
            (EnterpriseType.NEW_EMPLOYMENT, TWO_CANCER_NEW_EMPLOYMENT),
            (EnterpriseType.STATE_OWNED, (TWO_CANCER - TWO_CANCER_NON_PUBLIC - TWO_CANCER_NEW_EMPLOYMENT) * 6 // 10),
        ]
        women.append(
            (EnterpriseType.PUBLIC_INSTITUTION, TWO_CANCER - sum(n for _etype, n in women)),
        )
        for etype, screened in women:
            for _ in range(self.n(screened)):
                person = self.person(gender=Gender.FEMALE, age=(35, 64), etype=etype)
                bookings.append(PlannedRegistration(person, Status.ATTENDED, two_cancer=True, outcome="screened"))
        for status, outcome, n in (
            (Status.ATTENDED, "not_screened", 420),
            (Status.NO_SHOW, None, 800),
            (Status.CANCELLED, None, 600),
        ):
            for _ in range(self.n(n)):
                person = self.person(gender=Gender.FEMALE, age=(35, 64))
                bookings.append(PlannedRegistration(person, status, two_cancer=True, outcome=outcome))
        for status, n in ((Status.ATTENDED, GENERAL_CHECKS), (Status.NO_SHOW, 650), (Status.CANCELLED, 500)):
            for _ in range(self.n(n)):
                gender = Gender.MALE if rng.random() < 0.62 else Gender.FEMALE
                person = self.person(gender=gender, age=(20, 60))
                outcome = "screened" if status == Status.ATTENDED else None
                bookings.append(PlannedRegistration(person, status, two_cancer=False, outcome=outcome))
        by_city: dict[str, list[PlannedRegistration]] = defaultdict(list)
        for booking in bookings:
            by_city[booking.person.city].append(booking)
        for city, city_bookings in sorted(by_city.items()):
            rng.shuffle(city_bookings)
            visits = max(1, round(len(city_bookings) / 110))
            for number, share in enumerate(_split(len(city_bookings), visits, rng)):
                taken, city_bookings = city_bookings[:share], city_bookings[share:]
                when = datetime.combine(self.day(), datetime.min.time()) + timedelta(hours=8, minutes=30)
                org = f"{city_org_code(city)}-park" if number % 2 else f"{city_org_code(city)}-p{rng.randint(1, 8)}"
                event = PlannedEvent("screening", f"“健康大篷车”进{PARK_NAMES[city]}", org, city, when, slots=8)
                event.registrations = taken
                event.extra = {"site": PARK_NAMES[city]}
                self.events.append(event)

    # -- trips -----------------------------------------------------------------------------------------------
    def trips(self) -> None:
        rng = self.rng
        departures = -(-self.n(TRIP_PLACES) // (TRIP_SEATS - 2))
        places = _split(self.n(TRIP_PLACES), departures, rng, 0.97, 1.03)
        applicants = rng.sample(self.people, min(self.n(TRIP_APPLICANTS), len(self.people)))
        shares = _split(len(applicants), departures, rng)
        for number in range(departures):
            route = number % len(ROUTES)
            _theme, title, city = ROUTES[route]
            when = datetime.combine(self.day(), datetime.min.time()) + timedelta(hours=7)
            org = PROVINCE_ORG_CODE if number % 4 == 0 else city_org_code(_city(rng))
            event = PlannedEvent("trip", f"{title}（第{number // len(ROUTES) + 1}期）", org, city, when)
            group, applicants = applicants[: shares[number]], applicants[shares[number] :]
            seats = min(places[number], len(group), TRIP_SEATS)
            for index, person in enumerate(group):
                if index < seats:
                    status = Status.ATTENDED if rng.random() < 0.985 else Status.NO_SHOW
                    event.registrations.append(PlannedRegistration(person, status, from_waitlist=index >= seats - 2))
                else:
                    status = Status.WAITLISTED if rng.random() < 0.9 else Status.CANCELLED
                    event.registrations.append(PlannedRegistration(person, status))
            event.extra = {"route": route, "capacity": TRIP_SEATS}
            self.events.append(event)


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


def _feature_table(name: str) -> Table | None:
    return db.metadata.tables.get(name)


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
                etype = _weighted(random.Random(number), ETYPE_WEIGHTS)
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
        User.__table__,  # type: ignore[arg-type]
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
        Profile.__table__,  # type: ignore[arg-type]
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
        Event.__table__,  # type: ignore[arg-type]
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
        counts: list[dict[str, int]] = [defaultdict(int) for _ in range(event.slots)]  # type: ignore[misc]
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
    slot_ids = _insert(Slot.__table__, slot_rows, returning=True)  # type: ignore[arg-type]
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
    registration_ids = _insert(Registration.__table__, registration_rows, returning=True)  # type: ignore[arg-type]
    progress(6, SEED_STEPS)
    _feature_rows(generator, registration_ids, screening_flags, orgs, cities, year)
    progress(7, SEED_STEPS)

    rollup.rebuild(year)
    db.session.flush()
    progress(SEED_STEPS, SEED_STEPS)
    totals = _totals(generator)
    for line in totals.lines():
        echo(f"    {line}")
    return totals


def _feature_rows(
    generator: Generator,
    registration_ids: list[int],
    screening_flags: list[tuple[bool, str | None]],
    orgs: dict[str, int],
    cities: dict[str, int],
    year: int,
) -> None:
    """Rows of the mixer, screening and trip tables, by table name (skipped when a feature is not installed)."""
    cursor = 0
    screening_registrations: list[int] = []
    for event in generator.events:
        ids = registration_ids[cursor : cursor + len(event.registrations)]
        cursor += len(event.registrations)
        if event.kind == "screening":
            screening_registrations.extend(ids)
    settings, reveals, pairs, outcomes = (
        _feature_table("mixer_settings"),
        _feature_table("mixer_reveals"),
        _feature_table("mixer_pairs"),
        _feature_table("mixer_outcomes"),
    )
    mixers = [event for event in generator.events if event.kind == "mixer"]
    if settings is not None:
        _insert(settings, [{"event_id": e.event_id, "pick_closes_at": e.starts_at + timedelta(days=1)} for e in mixers])
    if reveals is not None:
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
    if pairs is not None and outcomes is not None:
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
    visits, bookings = _feature_table("screening_visits"), _feature_table("screening_bookings")
    screenings = [event for event in generator.events if event.kind == "screening"]
    if visits is not None:
        _insert(visits, [{"event_id": e.event_id, "site_name": e.extra["site"]} for e in screenings])
    if bookings is not None:
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
    routes, departures, targets = (
        _feature_table("trip_routes"),
        _feature_table("trip_departures"),
        _feature_table("trip_targets"),
    )
    if routes is not None and departures is not None:
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
    if targets is not None:
        province = orgs[PROVINCE_ORG_CODE]
        exists = db.session.scalar(
            select(func.count())
            .select_from(targets)
            .where(targets.c.year == year, targets.c.organization_id == province)
        )
        if not exists:
            _insert(targets, [{"year": year, "organization_id": province, "places": TRIP_TARGET}])


def _totals(generator: Generator) -> Totals:
    totals = generator.totals
    totals.year = generator.year
    totals.people = len(generator.people)
    for event in generator.events:
        totals.registrations += len(event.registrations)
        statuses = [r.status for r in event.registrations]
        if event.kind == "mixer":
            totals.mixers += 1
            totals.mixer_signups += len(statuses)
            totals.mixer_attendees += statuses.count(Status.ATTENDED)
        elif event.kind == "screening":
            totals.visits += 1
            for r in event.registrations:
                screened = r.status == Status.ATTENDED and r.outcome == "screened"
                if screened and r.two_cancer:
                    totals.two_cancer += 1
                    totals.two_cancer_non_public += r.person.etype == EnterpriseType.NON_PUBLIC
                    totals.two_cancer_new_employment += r.person.etype == EnterpriseType.NEW_EMPLOYMENT
                elif screened:
                    totals.general_checks += 1
        elif event.kind == "trip":
            totals.departures += 1
            totals.trip_applicants += len(statuses)
            totals.trip_places += sum(1 for s in statuses if s in rollup.ALLOCATED)
    totals.pairs = len(generator.pairs)
    totals.couples = sum(1 for *_rest, couple in generator.pairs if couple)
    return totals
