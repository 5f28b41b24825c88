"""Permission matrix: EVERY rule in the URL map under /organizer (routes other features add later included) is
requested as anonymous, employee, organizer of another city, organizer of the province (the parent of
organization A) and admin, with path parameters filled by objects that belong to organization A (the Nanchang
city federation). Expected answers:

| role                      | expected                                                                        |
|---------------------------|---------------------------------------------------------------------------------|
| anonymous                 | redirect to the login page, or 401 / 404                                        |
| employee                  | 403 or 404                                                                      |
| organizer of another city | 404 for any URL naming an object of A; a URL with no object: not 404, never 5xx |
| organizer of the province | GET 200/302; POST 200/302/303 or a form refusal (400/409/422); never 403/404/5xx |
| admin                     | as the province organizer                                                       |

GET is used where the rule allows it, POST where the rule allows only POST (with an empty form: the point is
the scope check, not the action). Pages for admins only are listed in ADMIN_ONLY (organizers get 403 there).

Path parameters are filled from PARAMS by name. A kind-specific prefix (/organizer/mixers/... ,
/organizer/screenings/..., /organizer/trips/...) gets an event of that kind (the prefix without its final "s"
when such a kind is registered). A parameter name not in PARAMS makes ``test_every_parameter_is_known`` fail with
the list of unknown names, and the rule is left out of the matrix until its owner adds a builder here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.errors import DomainError
from app.events.kinds import policy_for, registered_kinds
from app.events.models import Event
from app.extensions import db
from app.organizer.models import RosterTag

from .. import factories

ORG_A = "jx-nanchang"
OTHER_CITY = "jx-jiujiang"
PARENT = "jx"

ADMIN_ONLY: set[str] = set()  # the audit trail is open to organizers: its rows are scoped (test_audit_trail.py)

# (role, endpoint) answers found wrong and reported to the route's owner; each is re-checked by a strict xfail test
# below, so the day the route is fixed that test fails and the entry must be removed from here.
KNOWN_ISSUES: dict[tuple[str, str], str] = {}

MANAGER_GET = {200, 302}
MANAGER_POST = {200, 302, 303, 400, 409, 422}


@dataclass
class KindWorld:
    """Objects of organization A for one event kind."""

    event: Event
    registration: Registration | None
    tag: RosterTag | None
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    kinds: dict[str, KindWorld] = field(default_factory=dict)

    def for_kind(self, kind: str) -> KindWorld:
        if kind not in self.kinds:
            self.kinds[kind] = _build_kind(kind)
        return self.kinds[kind]


def _register_someone(event: Event) -> Registration | None:
    """Book an employee of A into the event, trying a few believable people until the kind's rules accept one."""
    policy = policy_for(event.kind)
    for gender, age in (("female", 30), ("male", 30), ("female", 45), ("male", 26)):
        person = factories.make_employee(gender=gender, age=age, organization=factories.org(ORG_A))
        for options in (None, {"package": "general"}):
            try:
                registration = booking.book(
                    person,
                    event.slots[0].id,
                    consents=policy.required_consents(event, options),
                    options=options,
                    actor=person,
                    enforce_window=False,
                )
            except DomainError:
                db.session.rollback()
                continue
            db.session.commit()
            return registration
    return None


# Kind-specific objects come from the kind's own test builders (a mixer needs its settings, a screening its
# visit, a trip its route and departure); other kinds get a plain event of that kind.
def _mixer() -> tuple[Event, dict[str, int]]:
    from tests.mixers.factories import make_mixer

    return make_mixer(organization=factories.org(ORG_A)), {}


def _screening() -> tuple[Event, dict[str, int]]:
    from datetime import timedelta

    from app import clock
    from tests.screenings.factories import plan

    return plan(day=clock.today() + timedelta(days=14), org_code=ORG_A), {}


def _trip() -> tuple[Event, dict[str, int]]:
    from tests.trips.factories import make_departure, make_route

    route = make_route(org_code=ORG_A, city_code="nanchang")
    departure = make_departure(route)
    return departure.event, {"route_id": route.id}


KIND_BUILDERS: dict[str, Callable[[], tuple[Event, dict[str, int]]]] = {
    "mixer": _mixer,
    "screening": _screening,
    "trip": _trip,
}


def _build_kind(kind: str) -> KindWorld:
    builder = KIND_BUILDERS.get(kind)
    extra: dict[str, int] = {}
    if builder is not None:
        event, extra = builder()
    else:
        event = factories.make_event(kind=kind, capacity=6, slots=2, organization=factories.org(ORG_A))
    registration = _register_someone(event)
    tag = None
    if registration is not None:
        tag = RosterTag(registration_id=registration.id, event_id=event.id, label="矩阵测试")
        db.session.add(tag)
        db.session.commit()
    return KindWorld(event, registration, tag, extra)


def _need(value: Any, what: str) -> int:
    assert value is not None, f"permission matrix: could not build {what} in organization A"
    return int(value.id)


# Path parameter name → how to get the id of an object of organization A (for the kind of the rule's prefix).
PARAMS: dict[str, Callable[[KindWorld], int]] = {
    "event_id": lambda w: w.event.id,
    "mixer_id": lambda w: w.event.id,
    "screening_id": lambda w: w.event.id,
    "visit_id": lambda w: w.event.id,
    "trip_id": lambda w: w.event.id,
    "slot_id": lambda w: w.event.slots[0].id,
    "departure_id": lambda w: w.event.slots[0].id,
    "registration_id": lambda w: _need(w.registration, "a registration"),
    "tag_id": lambda w: _need(w.tag, "a roster tag"),
    "route_id": lambda w: _need_extra(w, "route_id"),
    "user_id": lambda w: _person_of_a(w),
}


def _person_of_a(world: KindWorld) -> int:
    """An employee of organization A (the one registered for the kind's event)."""
    registration = world.registration
    assert registration is not None and registration.user_id is not None, "permission matrix: no employee of A"
    return registration.user_id


def _need_extra(world: KindWorld, name: str) -> int:
    assert name in world.extra, f"permission matrix: the builder of kind {world.event.kind!r} gives no {name}"
    return world.extra[name]


def organizer_rules(app: Flask) -> list[Rule]:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/organizer")),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


def unknown_params(rule: Rule) -> list[str]:
    return sorted(name for name in rule.arguments if name not in PARAMS)


def kind_of(rule: Rule) -> str:
    parts = rule.rule.strip("/").split("/")
    if len(parts) > 1:
        segment = parts[1]
        for candidate in (segment, segment.removesuffix("s")):
            if candidate in registered_kinds():
                return candidate
    return "general"


def method_of(rule: Rule) -> str:
    methods = rule.methods or set()
    return "get" if "GET" in methods else "post"


def build_url(rule: Rule, world: World) -> str:
    kind_world = world.for_kind(kind_of(rule))
    values = {name: PARAMS[name](kind_world) for name in rule.arguments}
    path = rule.rule
    for name, value in values.items():
        path = _replace_argument(path, name, value)
    return path


def _replace_argument(path: str, name: str, value: int) -> str:
    return re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", str(value), path)


ROLES = ["anonymous", "employee", "other_city_organizer", "parent_organizer", "admin"]


def _client(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    user: User | None = None
    if role == "employee":
        user = factories.make_employee(organization=factories.org(ORG_A))
    elif role == "other_city_organizer":
        user = factories.make_organizer(OTHER_CITY)
    elif role == "parent_organizer":
        user = factories.make_organizer(PARENT)
    elif role == "admin":
        user = factories.make_admin()
    if user is not None:
        factories.login(client, user)
    return client


def _acceptable(role: str, rule: Rule, method: str, response: Any) -> bool:
    status = response.status_code
    if status >= 500:
        return False
    if role == "anonymous":
        if status in (401, 404):
            return True
        return status in (302, 303) and "/account/login" in response.headers.get("Location", "")
    if role == "employee":
        return status in (403, 404)
    admin_only = rule.endpoint in ADMIN_ONLY
    if role == "other_city_organizer":
        if rule.arguments:
            return status == 404
        if admin_only:
            return status in (403, 404)
        return status != 404 and status != 403
    if role == "parent_organizer" and admin_only:
        return status in (403, 404)
    allowed = MANAGER_GET if method == "get" else MANAGER_POST
    return status in allowed


def test_the_matrix_sees_the_consoles_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in organizer_rules(app)}
    for expected in (
        "organizer.index",
        "organizer.event",
        "organizer.roster",
        "organizer.checkin_scan",
        "organizer.export_csv",
        "organizer.export_xlsx",
        "organizer.audit_log",
        "organizer.approve",
    ):
        assert expected in endpoints


def test_every_parameter_is_known(app: Flask) -> None:
    unknown = {rule.rule: unknown_params(rule) for rule in organizer_rules(app) if unknown_params(rule)}
    assert not unknown, (
        "permission matrix: no builder for these path parameters; add them to PARAMS in "
        f"tests/organizer/test_permission_matrix.py: {unknown}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app: Flask, role: str) -> None:
    world = World()
    rules = [rule for rule in organizer_rules(app) if not unknown_params(rule)]
    assert len(rules) >= 20
    # Build every object before the first request (the client commits the test's session per request).
    urls = [(rule, method_of(rule), build_url(rule, world)) for rule in rules]
    db.session.commit()
    client = _client(app, role)
    failures = []
    # GETs first, then POSTs (which may change state with an empty form).
    for rule, method, url in sorted(urls, key=lambda item: item[1] != "get"):
        if (role, rule.endpoint) in KNOWN_ISSUES:
            continue
        response = getattr(client, method)(url)
        if not _acceptable(role, rule, method, response):
            failures.append(
                f"{role} {method.upper()} {url} ({rule.endpoint}) -> {response.status_code} "
                f"{response.headers.get('Location', '')}"
            )
    assert not failures, "unexpected answers:\n" + "\n".join(failures)


def test_matrix_objects_belong_to_organization_a(app: Flask) -> None:
    world = World()
    for rule in organizer_rules(app):
        if rule.arguments and not unknown_params(rule):
            build_url(rule, world)
    a = factories.org(ORG_A)
    for kind_world in world.kinds.values():
        assert kind_world.event.organization_id == a.id
        if kind_world.registration is not None:
            person = db.session.get(User, kind_world.registration.user_id)
            assert person is not None and a.contains(person.organization)


def test_known_issues_are_still_open(app: Flask) -> None:
    """Each (role, endpoint) listed in KNOWN_ISSUES must still answer wrongly: the day it is fixed this test fails
    and the entry must be removed (an empty list passes)."""
    for (role, endpoint), reason in KNOWN_ISSUES.items():
        rule = next(rule for rule in organizer_rules(app) if rule.endpoint == endpoint)
        url = build_url(rule, World())
        db.session.commit()
        response = getattr(_client(app, role), method_of(rule))(url)
        assert not _acceptable(role, rule, method_of(rule), response), f"fixed, remove from KNOWN_ISSUES: {reason}"
