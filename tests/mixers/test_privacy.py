"""A one-sided pick leaves no trace: not in any page or API answer for any role, not in the outbox, the export
or the logs, and the raw picks are gone after the reveal.

The walk visits every GET route of the app whose URL parameters it can fill (event, slot, registration, pair),
as every role, with a browser session and, for /api/ routes, with the role's bearer token.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import clock
from app.booking import queries as booking_queries
from app.extensions import db
from app.mixers import reveal
from app.mixers.models import MixerPair, MixerPick
from app.outbox.models import OutboxMessage

from .. import factories
from . import factories as mf

A_NICK, B_NICK, C_NICK, D_NICK = "小鹿", "阿杰", "路人丙", "木棉"
ROLES = ("anonymous", "outsider", "A", "B", "C", "D", "organizer", "stranger_org", "admin")
FILLABLE = {"event_id", "slot_id", "registration_id", "pair_id"}


# Pages whose content records the walk itself (the audit log lists the exports the walk downloads).
# Pages that record the walk itself: the audit log, and the admins' Prometheus metrics (request counts and
# latencies per endpoint, never per person or object: they change with every request the walk makes).
SELF_RECORDING = ("/organizer/audit", "/metrics")


def _normalise(text: str) -> str:
    """Remove what is random per request: CSRF tokens, nonces, one-time form ids."""
    text = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)
    text = re.sub(r'data-csrf="[^"]*"', "", text)
    text = re.sub(r'nonce="[^"]*"', "", text)
    return re.sub(r'type="hidden" value="[0-9a-f]{16,}"', 'type="hidden"', text)


def _body(response) -> str:  # type: ignore[no-untyped-def]
    data = response.get_data()
    if data[:2] == b"PK":  # a spreadsheet export: compare and search its cells, not the zip bytes
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
        )
    return _normalise(data.decode("utf-8", "replace"))


def _stats_tables() -> tuple[str, ...]:
    """The statistics feature's export tables, when it is installed (read, not assumed)."""
    try:
        from app.stats.services import TABLE_KEYS
    except ImportError:
        return ()
    return tuple(TABLE_KEYS)


class World:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.organizer = factories.make_organizer()
        self.event = mf.make_mixer(title="心动时刻·单身职工联谊会", max_picks=3)
        self.users = {
            "A": factories.make_employee(gender="female", name="赵敏"),
            "B": factories.make_employee(gender="male", name="钱进"),
            "C": factories.make_employee(gender="male", name="孙浩"),
            "D": factories.make_employee(gender="female", name="李静"),
            "outsider": factories.make_employee(gender="male", name="周强"),
            "organizer": self.organizer,
            "stranger_org": factories.make_organizer("jx-jiujiang"),
            "admin": factories.make_admin(),
        }
        self.badges = {}
        for role, nick in (("A", A_NICK), ("B", B_NICK), ("C", C_NICK), ("D", D_NICK)):
            self.badges[role] = mf.attend(self.organizer, self.event, self.users[role], nickname=nick).badge_no
        self.event_id = self.event.id
        self.slot_id = self.event.slots[0].id
        self.registrations = {
            role: r.id
            for role in ("A", "B", "C", "D")
            for r in booking_queries.my_registrations(self.users[role])
            if r.event_id == self.event_id
        }
        self.pair_id = 1
        self.clients: dict[str, object] = {}
        self.tokens: dict[str, str] = {}

    def login_all(self) -> None:
        """(Re)log everyone in at the current (frozen) time."""
        self.clients = {"anonymous": self.app.test_client()}
        self.tokens = {}
        for role, user in self.users.items():
            client = self.app.test_client()
            factories.login(client, user)
            self.clients[role] = client
            self.tokens[role] = factories.api_token(user)

    def urls(self, role: str) -> list[tuple[str, str]]:
        values = {
            "event_id": self.event_id,
            "slot_id": self.slot_id,
            "registration_id": self.registrations.get(role, self.registrations["A"]),
            "pair_id": self.pair_id,
        }
        found = []
        for rule in self.app.url_map.iter_rules():
            # /readyz answers 503 by design on a test database (no migration stamp, no scheduler): not a page.
            if (
                "GET" not in (rule.methods or ())
                or rule.endpoint in ("static", "web.readyz")
                or "logout" in rule.endpoint
            ):
                continue
            if rule.arguments == {"table"}:  # statistics exports: every table
                found.extend((rule.endpoint, rule.rule.replace("<table>", key)) for key in _stats_tables())
                continue
            if not set(rule.arguments) <= FILLABLE:
                continue
            path = rule.rule
            for name in rule.arguments:
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), path)
            found.append((rule.endpoint, path))
        found.append(("events.index", "/events/?kind=mixer"))
        return sorted(set(found))

    def snapshot(self, roles: tuple[str, ...] = ROLES) -> dict[tuple[str, str], tuple[int, str]]:
        pages: dict[tuple[str, str], tuple[int, str]] = {}
        for role in roles:
            client = self.clients[role]
            for endpoint, path in self.urls(role):
                headers = {}
                if path.startswith("/api/") and role in self.tokens:
                    headers["Authorization"] = f"Bearer {self.tokens[role]}"
                try:
                    response = client.get(path, headers=headers)  # type: ignore[attr-defined]
                except Exception:
                    if endpoint.startswith("mixers"):
                        raise
                    db.session.rollback()
                    continue  # another feature's page that is still being built: not this test's subject
                pages[(role, path)] = (response.status_code, _body(response))
        return pages


@pytest.fixture
def world(app: Flask) -> World:
    return World(app)


def test_one_sided_pick_leaves_no_trace_anywhere(world: World, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    event = world.event
    mf.open_window(event)
    world.login_all()
    mf.pick(world.users["A"], event, world.badges["B"])
    mf.pick(world.users["B"], event, world.badges["A"])
    others = tuple(role for role in ROLES if role != "C")
    before = world.snapshot(others)
    assert any(
        path.startswith("/organizer/mixers/") and status == 200
        for (role, path), (status, _b) in before.items()
        if role == "organizer"
    )
    assert any(
        path.startswith("/api/v1/mixers/") and status == 200
        for (role, path), (status, _b) in before.items()
        if role == "A"
    )

    # C ticks A: nobody but C may see any difference, in any page or API answer (organizer and export included).
    mf.pick(world.users["C"], event, world.badges["A"])
    after_pick = world.snapshot(others)
    changed = sorted(
        key for key in before if after_pick.get(key) != before[key] and not key[1].startswith(SELF_RECORDING)
    )
    assert changed == [], changed
    own = world.snapshot(("C",))
    assert A_NICK in own[("C", f"/mixers/{world.event_id}")][1]  # C does see their own card (sanity of the walk)

    # The reveal: A and B matched; C and D get the same "no match this time".
    mf.after_window(event)
    reveal.reveal(world.event_id, clock.now())
    db.session.commit()
    world.pair_id = db.session.scalars(select(MixerPair.id)).one()
    world.login_all()
    revealed = world.snapshot()
    for (role, path), (status, body) in revealed.items():
        assert status < 500, (role, path)
        if role != "C":
            assert C_NICK not in body, (role, path)
        else:
            assert A_NICK not in body and B_NICK not in body, (role, path)
    card = f"/mixers/{world.event_id}"
    assert "本次没有匹配" in revealed[("C", card)][1]
    assert "你和 阿杰 互相心动" in revealed[("A", card)][1]
    assert _strip_identity(revealed[("C", card)][1], C_NICK, world.badges["C"]) == _strip_identity(
        revealed[("D", card)][1], D_NICK, world.badges["D"]
    )
    organizer_page = revealed[("organizer", f"/organizer/mixers/{world.event_id}")][1]
    assert "参加人数少于 10 人，不显示" in organizer_page and "1 对" in organizer_page

    # Raw picks are gone; the only pair is A–B.
    assert db.session.scalar(select(func.count()).select_from(MixerPick)) == 0
    pair = db.session.get(MixerPair, world.pair_id)
    assert {pair.user_a_id, pair.user_b_id} == {world.users["A"].id, world.users["B"].id}

    # The outbox: nothing names anyone; C's reveal message is the same as D's.
    rows = db.session.scalars(select(OutboxMessage)).all()
    for row in rows:
        text = json.dumps(row.data, ensure_ascii=False) + row.idempotency_key + row.template
        for nick in (A_NICK, B_NICK, C_NICK, D_NICK):
            assert nick not in text
        assert str(world.users["C"].id) not in text.split(":")[0] or row.user_id == world.users["C"].id
    reveal_data = {r.user_id: r.data for r in rows if r.kind == "mixer_reveal"}
    assert reveal_data[world.users["C"].id] == reveal_data[world.users["D"].id]
    assert {r.user_id for r in rows if r.kind == "mixer_followup"} == {world.users["A"].id, world.users["B"].id}

    # The logs.
    for record in caplog.records:
        message = record.getMessage()
        assert C_NICK not in message and A_NICK not in message


def _strip_identity(page: str, nickname: str, badge: int) -> str:
    """C's and D's pages differ only in their own nickname and badge number."""
    page = page.replace(nickname, "NICK")
    page = re.sub(rf">\s*{badge}\s*<", ">BADGE<", page)
    return re.sub(rf"胸牌号 {badge}", "胸牌号 BADGE", page)
