"""Benchmark: the reveal of a 500-attendee mixer where everyone ticked 10 people (issue 4).

Prints a short table: attendees, picks, mutual pairs, outbox rows written, and the time of ``reveal()`` plus
its commit. Runs on PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (in a database it creates and drops),
else on a throw-away SQLite file.

    .venv/bin/python bench/mixer_reveal.py
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/mixer_reveal.py
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import admin_url, create_postgres, drop_postgres

ATTENDEES = 500
PICKS_EACH = 10
RUNS = 3


def _database() -> tuple[str, Callable[[], None]]:
    """A fresh database URL (PostgreSQL when a server is configured, else an SQLite file) and its cleanup."""
    if not admin_url(default=None):
        folder = tempfile.mkdtemp(prefix="zhijia-bench-")
        return f"sqlite:///{folder}/bench.sqlite3", lambda: None
    name, url = create_postgres()
    return url, lambda: drop_postgres(name)


def _build_mixer(run: int, rng: random.Random) -> tuple[int, int]:
    """One mixer with ATTENDEES checked-in people (half women) who each ticked PICKS_EACH of the other gender.
    Rows are inserted directly: the benchmark measures the reveal, not the sign-up."""
    from app.accounts.models import Gender, Profile, User
    from app.events.models import Event, Slot
    from app.extensions import db
    from app.mixers.models import MixerAttendee, MixerPick, MixerSettings
    from app.orgs.models import City, EnterpriseType, Organization

    city = db.session.scalars(db.select(City).order_by(City.id)).first()
    org = db.session.scalars(db.select(Organization).order_by(Organization.id)).first()
    assert city is not None and org is not None
    start = datetime(2026, 11, 1, 14, 0)
    event = Event(
        kind="mixer",
        title=f"基准测试联谊会 {run}",
        organization=org,
        city=city,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        signup_opens_at=start - timedelta(days=20),
        signup_closes_at=start - timedelta(days=1),
        published=True,
    )
    event.slots.append(
        Slot(starts_at=start, ends_at=start + timedelta(hours=3), capacity=ATTENDEES, quota_female=250, quota_male=250)
    )
    db.session.add(event)
    db.session.flush()
    db.session.add(MixerSettings(event_id=event.id, pick_closes_at=start + timedelta(days=1), max_picks=PICKS_EACH))
    users = []
    for index in range(ATTENDEES):
        user = User(phone=f"1{run}{index:09d}"[:11], name=f"职工{index}")
        user.profile = Profile(
            gender=Gender.FEMALE if index % 2 == 0 else Gender.MALE,
            birth_date=date(1995, 1, 1),
            city_id=city.id,
            employer="基准测试公司",
            enterprise_type=EnterpriseType.NON_PUBLIC,
        )
        users.append(user)
    db.session.add_all(users)
    db.session.flush()
    attendees = [
        MixerAttendee(
            event_id=event.id,
            user_id=user.id,
            badge_no=index + 1,
            gender=user.profile.gender,  # type: ignore[union-attr]
            nickname=f"嘉宾{index + 1}",
        )
        for index, user in enumerate(users)
    ]
    db.session.add_all(attendees)
    db.session.flush()
    women = [a for a in attendees if a.gender == Gender.FEMALE]
    men = [a for a in attendees if a.gender == Gender.MALE]
    picks = []
    for side, other in ((women, men), (men, women)):
        for attendee in side:
            for target in rng.sample(other, PICKS_EACH):
                picks.append({"event_id": event.id, "picker_id": attendee.id, "picked_id": target.id})
    db.session.execute(db.insert(MixerPick), picks)
    db.session.commit()
    return event.id, len(picks)


def main() -> list[dict[str, str]]:
    from sqlalchemy import func, select

    from app import create_app, outbox
    from app.extensions import db
    from app.mixers import reveal
    from app.orgs.services import seed_reference_data
    from app.outbox.models import OutboxMessage

    fan_out = [0.0]
    enqueue_many = outbox.enqueue_many

    def timed_enqueue_many(messages):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return enqueue_many(messages)
        finally:
            fan_out[0] += time.perf_counter() - started

    outbox.enqueue_many = timed_enqueue_many  # type: ignore[assignment]
    url, cleanup = _database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
    rng = random.Random(500)
    rows = []
    try:
        with app.app_context():
            db.create_all()
            seed_reference_data()
            from app.orgs.models import OrgLevel
            from app.orgs.services import create_organization, get_by_code

            if get_by_code("jx") is None:
                create_organization(code="jx", name="江西省总工会", level=OrgLevel.PROVINCE, parent=None)
            db.session.commit()
            for run in range(1, RUNS + 1):
                event_id, picks = _build_mixer(run, rng)
                before = db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
                db.session.commit()
                fan_out[0] = 0.0
                started = time.perf_counter()
                pairs = reveal.reveal(event_id, datetime(2026, 11, 3, 12, 0))
                db.session.commit()
                elapsed = time.perf_counter() - started
                after = db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
                db.session.commit()
                rows.append((run, ATTENDEES, picks, pairs, after - before, elapsed, fan_out[0]))
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"mixer reveal benchmark ({backend}): {ATTENDEES} attendees, {PICKS_EACH} picks each")
    header = ("run", "attendees", "picks", "pairs", "outbox", "reveal+commit", "of which messages")
    print(f"{header[0]:>3} {header[1]:>9} {header[2]:>6} {header[3]:>5} {header[4]:>6} {header[5]:>14} {header[6]:>18}")
    for run, attendees, picks, pairs, outbox_rows, elapsed, messages in rows:
        print(
            f"{run:>3} {attendees:>9} {picks:>6} {pairs:>5} {outbox_rows:>6} {elapsed * 1000:>11.0f} ms"
            f" {messages * 1000:>15.0f} ms"
        )
    print(f"median reveal+commit: {statistics.median(r[5] for r in rows) * 1000:.0f} ms")
    matching = statistics.median(r[5] - r[6] for r in rows)
    print(f"median matching only (without writing the messages): {matching * 1000:.0f} ms")
    total = statistics.median(r[5] for r in rows)
    return [
        {
            "benchmark": f"mixer reveal, {ATTENDEES} attendees x {PICKS_EACH} picks ({backend})",
            "figure": f"{total * 1000:.0f} ms median (reveal + commit)",
            "detail": f"matching {matching * 1000:.0f} ms; the rest writes ~1,100 outbox messages",
        }
    ]


if __name__ == "__main__":
    main()
