"""Trip lottery: 20,000 applicants for 500 seats (issue 6).

1. The algorithm alone (``app.trips.lottery``): hash the frozen list, rank it tier by tier with the seeded
   SHA-256 shuffle, and verify the export — the median of several runs.
2. The whole draw through the services, on a scratch PostgreSQL database and on a scratch SQLite file: freeze
   the list (anonymised ids and tiers), enter the public value, then draw and commit — 500 confirmed with
   their reminders, 19,500 waitlisted in rank order, a history row per change — then the scheduler's
   announcement (every applicant's result message in the outbox, written after the draw has committed), then
   verify from the database. Setup rows are bulk-inserted; only the timed steps
   use the services. Each backend is drawn BENCH_LOTTERY_ROUNDS times on a fresh database (median).

Environment: BENCH_LOTTERY_APPLICANTS (20000), BENCH_LOTTERY_SEATS (500), BENCH_LOTTERY_ROUNDS (3),
BENCH_LOTTERY_DB=0 skips part 2, BENCH_DATABASE_URL / TEST_DATABASE_URL (PostgreSQL server; without one,
SQLite only).
Run alone: ``.venv/bin/python bench/lottery.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APPLICANTS = int(os.environ.get("BENCH_LOTTERY_APPLICANTS", "20000"))
SEATS = int(os.environ.get("BENCH_LOTTERY_SEATS", "500"))
ROUNDS = int(os.environ.get("BENCH_LOTTERY_ROUNDS", "3"))


def _timed(func: Any, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def algorithm() -> dict[str, float]:
    from app.trips import lottery

    applicants = [lottery.Applicant(f"{i * 7919 % 16**12:012x}", 1 + i % 3) for i in range(APPLICANTS)]
    hash_hex = lottery.applicants_hash(applicants)
    ranking = lottery.rank(applicants, "2026330 527", hash_hex)
    export = {
        "algorithm_version": lottery.ALGORITHM_VERSION,
        "applicants": [{"id": a.anon_id, "tier": a.tier} for a in applicants],
        "applicants_hash": hash_hex,
        "public_value": "2026330 527",
        "ranking": [a.anon_id for a in ranking],
    }
    assert lottery.verify(export).ok
    return {
        "hash": _timed(lambda: lottery.applicants_hash(applicants)),
        "rank": _timed(lambda: lottery.rank(applicants, "2026330 527", hash_hex)),
        "verify": _timed(lambda: lottery.verify(export)),
    }


def full_draw(url: str) -> dict[str, float]:
    from sqlalchemy import insert, select, text

    from app import clock, create_app
    from app.accounts.models import Gender, Profile, Role, User
    from app.booking.models import Registration, Status
    from app.events.models import Allocation
    from app.extensions import db
    from app.orgs.models import City, EnterpriseType, Industry, Organization
    from app.orgs.services import seed_reference_data
    from app.process import settle_after_startup
    from app.trips import catalogue, lottery_draw, lottery_record
    from app.trips.models import Theme

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
    settle_after_startup()  # as the scheduler process and the web workers do once their app is built
    with app.app_context():
        db.create_all()
        seed_reference_data()
        db.session.commit()
        province = db.session.scalar(select(Organization).where(Organization.code == "jx"))
        city = db.session.scalar(select(City).where(City.code == "jian"))
        industry = db.session.scalar(select(Industry).order_by(Industry.id))
        assert province and city and industry
        admin = User(phone="13900000000", name="管理员", role=Role.ADMIN, organization_id=province.id)
        db.session.add(admin)
        db.session.flush()
        base = clock.now().replace(microsecond=0)
        clock.set_now(base)
        route = catalogue.create_route(
            admin,
            catalogue.RouteData(
                theme=Theme.RED,
                title="井冈山红色教育之旅",
                organization=province,
                city=city,
                itinerary=[{"places": ["茨坪"], "text": "参观"}, {"places": ["黄洋界"], "text": "返程"}],
            ),
        )
        departure = catalogue.create_departure(
            admin,
            route,
            catalogue.DepartureData(
                starts_on=(base + timedelta(days=60)).date(),
                seats=SEATS,
                signup_opens_at=base - timedelta(days=10),
                signup_closes_at=base + timedelta(days=1),
                allocation=Allocation.LOTTERY,
            ),
        )
        event_id, slot_id = departure.event_id, departure.event.slots[0].id
        db.session.commit()
        users = [
            {"phone": f"137{n:08d}", "name": f"职工{n}", "role": Role.EMPLOYEE, "organization_id": province.id}
            for n in range(APPLICANTS)
        ]
        db.session.execute(insert(User), users)
        ids = list(db.session.scalars(select(User.id).where(User.role == Role.EMPLOYEE).order_by(User.id)))
        db.session.execute(
            insert(Profile),
            [
                {
                    "user_id": uid,
                    "gender": Gender.FEMALE if uid % 2 else Gender.MALE,
                    "birth_date": date(1990, 1, 1),
                    "city_id": city.id,
                    "employer": "测试企业",
                    "enterprise_type": EnterpriseType.NON_PUBLIC,
                    "industry_id": industry.id if uid % 3 else None,
                    "frontline": True,
                    "model_worker": uid % 97 == 0,
                }
                for uid in ids
            ],
        )
        db.session.execute(
            insert(Registration),
            [
                {
                    "slot_id": slot_id,
                    "event_id": event_id,
                    "user_id": uid,
                    "status": Status.PENDING,
                    "is_active": True,
                    "single_per_event": True,
                    "ticket_code": f"bench-{uid}",
                    "created_at": base,
                }
                for uid in ids
            ],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The applications of a real departure arrive over weeks and autovacuum has analysed them by the
            # draw; rows bulk-inserted a second ago have no statistics yet.
            with db.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        clock.set_now(base + timedelta(days=1, minutes=1))
        figures: dict[str, float] = {}
        start = time.perf_counter()
        lottery_draw.freeze(catalogue.get_departure(event_id))
        db.session.commit()
        figures["freeze"] = time.perf_counter() - start
        lottery_draw.set_public_value(admin, event_id, "2026330 527")
        db.session.commit()
        start = time.perf_counter()
        result = lottery_draw.draw_lottery(event_id, clock.now(), admin)
        db.session.commit()
        figures["draw"] = time.perf_counter() - start
        assert len(result.confirmed) == SEATS and len(result.waitlisted) == APPLICANTS - SEATS
        start = time.perf_counter()
        assert lottery_record.announce_results(clock.now()) == 1
        db.session.commit()
        figures["announce"] = time.perf_counter() - start
        start = time.perf_counter()
        assert lottery_record.verify_departure(event_id).ok
        figures["verify"] = time.perf_counter() - start
        clock.set_now(None)
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> list[dict[str, str]]:
    rows = []
    figures = algorithm()
    print(f"trip lottery: {APPLICANTS:,} applicants, {SEATS} seats, 3 tiers")
    print(f"{'step':<34}{'seconds':>10}")
    for step, seconds in figures.items():
        print(f"{'algorithm: ' + step:<34}{seconds:>10.4f}")
    rows.append(
        {
            "benchmark": "trip lottery (algorithm)",
            "figure": f"{figures['hash'] + figures['rank']:.3f} s",
            "detail": f"{APPLICANTS:,} applicants, {SEATS} seats: hash + rank (median of 5); verify "
            f"{figures['verify']:.3f} s",
        }
    )
    if os.environ.get("BENCH_LOTTERY_DB", "1") != "0":
        from scratch import admin_url, fresh_database

        backends = (["postgresql"] if admin_url(default=None) else []) + ["sqlite"]
        for backend in backends:
            runs = []
            for _ in range(ROUNDS):
                with fresh_database(backend) as url:
                    runs.append(full_draw(url))
            median = {step: statistics.median(run[step] for run in runs) for step in runs[0]}
            print(f"services on {backend}: {APPLICANTS:,} applicants, {SEATS} seats (median of {ROUNDS})")
            for step, seconds in median.items():
                print(f"{backend + ': ' + step:<34}{seconds:>10.4f}")
            rows.append(
                {
                    "benchmark": f"trip lottery (whole draw, {backend})",
                    "figure": f"{median['draw']:.2f} s",
                    "detail": f"{APPLICANTS:,} applicants, {SEATS} seats, median of {ROUNDS}: draw + commit = "
                    f"{SEATS} confirmed with reminders, {APPLICANTS - SEATS:,} waitlisted in rank order, history "
                    f"rows; then {APPLICANTS:,} result messages {median['announce']:.2f} s; freeze "
                    f"{median['freeze']:.2f} s; verify {median['verify']:.2f} s",
                }
            )
    return rows


if __name__ == "__main__":
    main()
