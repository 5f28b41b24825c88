"""A small world for the security tests and helpers that turn every URL rule of the app into a request.

Rules are enumerated from ``app.url_map`` at test time, so routes added later by any feature are covered. Path
arguments are filled by name: ``OWN`` holds ids of objects the acting person may use, ``FOREIGN`` ids of objects
of *another* person or organization. A feature whose routes take other ids can add a provider to
``ID_PROVIDERS`` (name -> function(world) -> (own id, foreign id)); unknown names fall back to an id that
does not exist, which must answer the same 404.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, Rule

from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.events.models import Event
from app.extensions import db

from .. import factories

MISSING_ID = 2_147_480_001


@dataclass
class World:
    victim: User
    attacker: User
    organizer: User  # of 南昌, who manages the victim's events
    outsider: User  # organizer of 赣州, outside 南昌's subtree
    admin: User
    public_event: Event
    hidden_event: Event  # unpublished, 南昌
    victim_registration: Registration
    attacker_registration: Registration
    extra: dict[str, Any] = field(default_factory=dict)


def build_world() -> World:
    victim = factories.make_employee(name="受害职工", email="victim@example.com")
    attacker = factories.make_employee(name="攻击职工", gender="male")
    organizer = factories.make_organizer("jx-nanchang")
    outsider = factories.make_organizer("jx-ganzhou")
    admin = factories.make_admin()
    public_event = factories.make_event(title="公开活动", capacity=5)
    hidden_event = factories.make_event(title="内部活动", capacity=5)
    victim_registration = booking.book(victim, hidden_event.slots[0].id)
    attacker_registration = booking.book(attacker, public_event.slots[0].id)
    hidden_event.published = False
    db.session.commit()
    return World(
        victim,
        attacker,
        organizer,
        outsider,
        admin,
        public_event,
        hidden_event,
        victim_registration,
        attacker_registration,
    )


IdProvider = Callable[[World], tuple[Any, Any]]


def _inbox_ids(world: World) -> tuple[Any, Any]:
    """One in-app inbox message each for the attacker and the victim (when the notifications feature is there)."""
    if "inbox" not in world.extra:
        table = db.metadata.tables.get("inbox_messages")
        if table is None:
            world.extra["inbox"] = (MISSING_ID, MISSING_ID)
        else:
            ids = []
            for user in (world.attacker, world.victim):
                result = db.session.execute(table.insert().values(user_id=user.id, kind="test", title="测试消息"))
                ids.append(result.inserted_primary_key[0])
            db.session.commit()
            world.extra["inbox"] = tuple(ids)
    return world.extra["inbox"]  # type: ignore[no-any-return]


ID_PROVIDERS: dict[str, IdProvider] = {
    "message_id": _inbox_ids,
    "event_id": lambda w: (w.public_event.id, w.hidden_event.id),
    "slot_id": lambda w: (w.public_event.slots[0].id, w.hidden_event.slots[0].id),
    "registration_id": lambda w: (w.attacker_registration.id, w.victim_registration.id),
    "user_id": lambda w: (w.attacker.id, w.victim.id),
}

STRING_VALUES = {"purpose": "mixer_signup", "token": "not-a-real-token", "filename": "app.css", "lang": "zh_CN"}


def object_args(rule: Rule) -> list[str]:
    """The path arguments of ``rule`` that name an object by id."""
    return [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]


def fill(rule: Rule, world: World, foreign: bool, missing: bool = False) -> str | None:
    """A concrete URL for ``rule`` (own objects, another person's when ``foreign``, ids that do not exist when
    ``missing``); None if impossible."""
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if isinstance(converter, IntegerConverter):
            provider = ID_PROVIDERS.get(name)
            values[name] = provider(world)[1 if foreign else 0] if provider and not missing else MISSING_ID
        elif kind in ("UnicodeConverter", "PathConverter", "AnyConverter"):
            if kind == "AnyConverter":
                values[name] = converter.items[0] if hasattr(converter, "items") else "x"  # type: ignore[attr-defined]
            else:
                values[name] = STRING_VALUES.get(name, "x")
        else:
            return None
    try:
        return rule.build(values, append_unknown=False)[1]  # type: ignore[index]
    except Exception:
        return None


def rules(app: Flask, method: str) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if method in (rule.methods or ()) and rule.endpoint != "static":
            yield rule


VOLATILE = {("login_sessions", "last_seen_at")}  # the idle timer moves on any request, once a minute


def fingerprint() -> str:
    """A digest of every row of every table: equal digests mean nothing changed in the database."""
    digest = hashlib.sha256()
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
        for row in db.session.execute(select(*columns).order_by(*order)):
            digest.update(json.dumps([str(v) for v in row], ensure_ascii=False).encode())
    db.session.rollback()
    return digest.hexdigest()
