"""Statistics dashboard at ten times the province's volume, on PostgreSQL (issue 9).

1. Creates its own database (from BENCH_DATABASE_URL or TEST_DATABASE_URL, e.g.
   postgresql://postgres@127.0.0.1:5432/postgres), generates one year with ``seed_province(scale=10)`` —
   about 500,000 people and a million registrations — and rebuilds the roll-up; prints the generator's totals.
2. Times the dashboard's figures (``stats.services.compute``, all its queries) as server time: the province, a
   city federation's subtree, one kind, and a date range that is not a whole year (people reached then counted
   live); and a whole ``GET /stats/`` page render for an admin. Median and worst of several runs.
3. Prints each query the dashboard runs with its time and its EXPLAIN (ANALYZE) plan, so the index use shows.
4. Times the scheduler task that keeps the roll-up (``stats.refresh``) after 200 bookings change.
Then drops the database (BENCH_STATS_KEEP=1 keeps it; BENCH_STATS_DB=<name> times a kept one again without
generating). BENCH_STATS_SCALE changes the volume (default 10).
Run alone: ``.venv/bin/python bench/stats_dashboard.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import DEFAULT_ADMIN_URL, admin_url, create_postgres, drop_postgres  # noqa: E402 - bench/ is on the path when a benchmark runs

SCALE = float(os.environ.get("BENCH_STATS_SCALE", "10"))
RUNS = 15


class QueryLog:
    """Records every statement (with parameters and time) run on the engine while active."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.active = False
        self.rows: list[tuple[str, Any, float]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            conn.info["bench_t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if self.active:
                self.rows.append((statement, parameters, time.perf_counter() - conn.info["bench_t0"]))


def _timed(func: Any, runs: int = RUNS) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, max(times) * 1000


def main() -> list[dict[str, str]]:
    from sqlalchemy import select, text

    from app import create_app
    from app.extensions import db
    from app.orgs.services import get_by_code, seed_reference_data

    reuse = os.environ.get("BENCH_STATS_DB")
    if reuse:
        from sqlalchemy import make_url

        name = reuse
        url = make_url(admin_url() or DEFAULT_ADMIN_URL).set(drivername="postgresql+psycopg", database=reuse)
        url = url.render_as_string(hide_password=False)
    else:
        name, url = create_postgres("zhijia_bench_stats")
    rows: list[dict[str, str]] = []
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                          "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})  # fmt: skip
        with app.app_context():
            from app.accounts import services as accounts
            from app.accounts.models import Role
            from app.booking.models import Registration
            from app.demo import province
            from app.stats import rollup, services
            from app.stats.models import StatsDirty

            db.create_all()
            seed_reference_data()
            db.session.commit()
            if reuse:
                from app.stats.models import StatsRollup

                year = int(db.session.scalar(text("SELECT max(year) FROM stats_reach")))
                for index in StatsRollup.__table__.indexes:  # a database kept by an older run
                    index.create(db.engine, checkfirst=True)
                if not db.session.scalar(text("SELECT count(*) FROM stats_rollup_month")):
                    rollup.rebuild_months(None)
                    db.session.commit()
            else:
                print(f"generating the province at scale {SCALE:g} ...", flush=True)
                start = time.perf_counter()
                totals = province.seed_province(SCALE)
                db.session.commit()
                print(f"generated and rolled up in {time.perf_counter() - start:.0f} s", flush=True)
                assert totals is not None
                year = totals.year
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            count = db.session.scalar(text("SELECT count(*) FROM registrations"))
            rollup_rows = db.session.scalar(text("SELECT count(*) FROM stats_rollup"))
            month_rows = db.session.scalar(text("SELECT count(*) FROM stats_rollup_month"))
            print(f"registrations: {count:,}; roll-up rows: {rollup_rows:,} per event, {month_rows:,} per month")

            province = services.province_org()
            city = get_by_code("jx-ganzhou")
            assert city is not None
            cases = {
                "province, year": services.make_filters(province, year=year),
                "city subtree (赣州), year": services.make_filters(city, year=year),
                "province, trips only": services.make_filters(province, year=year, kind="trip"),
                "province, Mar–Jun (live reach)": services.make_filters(
                    province, start=date(year, 3, 1), end=date(year, 6, 30)
                ),
            }
            log = QueryLog(db.engine)
            figures = services.compute(cases["province, year"])
            print("\nprovince figures:")
            for section, values in figures.raw.items():
                print(f"  {section}: {values}")
            for label, filters in cases.items():
                median, worst = _timed(lambda filters=filters: (services.compute(filters), db.session.rollback()))
                print(f"compute [{label}]: median {median:.1f} ms, worst {worst:.1f} ms")
                detail = f"figures, {label}, {count:,} registrations (worst {worst:.0f} ms)"
                rows.append({"benchmark": "stats_dashboard", "figure": f"{median:.0f} ms", "detail": detail})

            admin = accounts.find_by_phone("13900009999") or accounts.create_staff(
                phone="13900009999", password="bench-password-2026", name="管理员", role=Role.ADMIN,
                organization=province,
            )  # fmt: skip
            db.session.commit()
            client = app.test_client()
            response = client.post("/account/login", data={"phone": "13900009999", "password": "bench-password-2026"})
            assert response.status_code == 302, response.status_code
            assert client.get(f"/stats/?year={year}").status_code == 200
            median, worst = _timed(lambda: client.get(f"/stats/?year={year}"))
            print(f"GET /stats/ (whole page, admin, province): median {median:.1f} ms, worst {worst:.1f} ms")
            rows.append({"benchmark": "stats_dashboard", "figure": f"{median:.0f} ms",
                         "detail": f"GET /stats/ page for the province (worst {worst:.0f} ms)"})  # fmt: skip

            print("\nqueries of one province dashboard, with plans:")
            log.active = True
            services.compute(cases["province, year"])
            log.active = False
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                for statement, parameters, seconds in log.rows:
                    print(f"\n-- {seconds * 1000:.1f} ms\n{statement.strip()}")
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    for (line,) in cursor.fetchall():
                        print(f"   {line}")
            finally:
                raw.close()
            total = sum(seconds for _s, _p, seconds in log.rows) * 1000
            print(f"\n{len(log.rows)} queries, {total:.1f} ms in the database")

            # The roll-up task after 200 registrations in 50 events changed (the notices the booking engine writes).
            event_ids = list(db.session.scalars(select(Registration.event_id).distinct().limit(50)))
            for index in range(200):
                db.session.add(StatsDirty(event_id=event_ids[index % len(event_ids)]))
            db.session.commit()
            app.config["STATS_REACH_SECONDS"] = 10**9  # the count of people is not due: time the recount alone
            start = time.perf_counter()
            recounted = rollup.refresh()
            db.session.commit()
            refresh_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            rollup.refresh_reach(year)
            db.session.commit()
            reach_ms = (time.perf_counter() - start) * 1000
            print(f"stats.refresh: {recounted} events recounted in {refresh_ms:.0f} ms; "
                  f"people reached for the year recounted in {reach_ms:.0f} ms")  # fmt: skip
            detail = f"stats.refresh task, {recounted} changed events (reach recount {reach_ms:.0f} ms)"
            rows.append({"benchmark": "stats_dashboard", "figure": f"{refresh_ms:.0f} ms", "detail": detail})
            assert admin.id
            db.session.remove()
            db.engine.dispose()
    finally:
        if os.environ.get("BENCH_STATS_KEEP") != "1" and not reuse:
            drop_postgres(name)
        else:
            print(f"kept database {name}")
    return rows


if __name__ == "__main__":
    main()
