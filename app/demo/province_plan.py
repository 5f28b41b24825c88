"""The province's year planned in memory, before anything is written: the published figures and the weights
(cities by population, industries by the "1269" chains and clusters, enterprise types by the published split), the
people, the mixers, screening visits and trip departures with their planned registrations, and the totals the plan
adds up to. Deterministic (``random.Random`` seeded by the scale); ``app.demo.province`` writes it."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ..accounts.models import Gender
from ..booking.models import Status
from ..orgs.models import EnterpriseType
from ..orgs.reference import PROVINCE_ORG_CODE, city_org_code
from ..stats.rollup import ALLOCATED

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


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    values = [value for value, _weight in pairs]
    weights = [weight for _value, weight in pairs]
    return rng.choices(values, weights)[0]


def _city(rng: random.Random) -> str:
    return weighted(rng, list(CITY_WEIGHTS.items()))


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
        etype = etype or weighted(rng, ETYPE_WEIGHTS)
        industry = None if etype == EnterpriseType.NEW_EMPLOYMENT else weighted(rng, INDUSTRY_WEIGHTS)
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


def add_up(generator: Generator) -> Totals:
    """What the plan adds up to: the figures the dashboard must then read for the year."""
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
            totals.trip_places += sum(1 for s in statuses if s in ALLOCATED)
    totals.pairs = len(generator.pairs)
    totals.couples = sum(1 for *_rest, couple in generator.pairs if couple)
    return totals
