"""Flash sale: 2,000 employees press "book" at once, held against PostgreSQL's own limit (issue 11).

What it does, in a fresh PostgreSQL database that it creates and drops:
1. builds the schema (``flask db upgrade`` once migrations exist, else ``db.create_all()``), the reference data,
   2,000 employees with API tokens (bulk insert, one password hash reused);
2. starts the app under gunicorn on 127.0.0.1 (settings: bench/gunicorn.conf.py);
3. workload "hot": one slot of capacity 500 (offer waitlist of at most 1,000, so the last 500 are refused);
   all 2,000 book through ``POST /api/v1/slots/<id>/registrations`` with 32, then 128 concurrent connections
   (asyncio + httpx, one connection per simulated phone, released together);
   workload "spread": the same 2,000 bookings over 200 slots of 10;
   after every run the database must hold exactly the capacity confirmed (never more);
4. right after each app run, runs pgbench with the minimum SQL of a booking attempt (lock the slot row, read its
   count, insert the registration confirmed or waitlisted, update the count) at the same concurrency (capped by
   max_connections) and prints the app's attempts/s as a fraction of that pgbench run's transactions/s; of the
   BENCH_REPEAT rounds, the one with the median fraction is reported (this machine's speed drifts by a quarter
   within minutes, so an app run is only compared with a pgbench run taken beside it).

Environment: BENCH_DATABASE_URL or TEST_DATABASE_URL (admin URL, default postgresql://postgres@127.0.0.1:5432/
postgres); BENCH_USERS (2000), BENCH_REPEAT (3 rounds of app run + pgbench run), BENCH_CONCURRENCY
("32,128"), BENCH_WORKLOADS ("hot,spread"), BENCH_CLIENT ("aiohttp", falls back to "httpx" when aiohttp is missing);
GUNICORN_WORKERS / GUNICORN_THREADS /
GUNICORN_WORKER_CLASS override bench/gunicorn.conf.py.

``python bench/flash_sale.py --profile`` profiles the booking request in-process with pyinstrument instead.

Run alone: ``.venv/bin/python bench/flash_sale.py``; ``make bench`` runs it through bench/run_all.py.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import fresh_postgres  # noqa: E402 - bench/ is on the path when a benchmark runs
from scratch import libpq_url as to_libpq  # noqa: E402 - (ditto)

USERS = int(os.environ.get("BENCH_USERS", "2000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "32,128").split(",") if c.strip()]
WORKLOADS = [w.strip() for w in os.environ.get("BENCH_WORKLOADS", "hot,spread").split(",") if w.strip()]
HOT_CAPACITY = 500
HOT_MAX_WAITLIST = 1000
SPREAD_SLOTS = 200
SPREAD_CAPACITY = 10
PASSWORD = "bench-password-2026"


# --------------------------------------------------------------------------------------------- database


def app_environment(database_url: str, pool_size: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "DB_POOL_SIZE": str(pool_size),
            "LOG_LEVEL": "WARNING",
            "FLASK_APP": "wsgi.py",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("SCHEDULER_EMBEDDED", None)
    # Without REDIS_URL the benchmark keeps per-process rate-limit counters, as it always measured (production
    # refuses them unless told so).
    if not env.get("REDIS_URL") and not env.get("RATELIMIT_STORAGE_URI"):
        env["RATELIMIT_ALLOW_PER_PROCESS_MEMORY"] = "1"
    return env


def _has_migrations() -> bool:
    versions = ROOT / "migrations" / "versions"
    return versions.is_dir() and any(versions.glob("*.py"))


def build_schema(env: dict[str, str]) -> str:
    """``flask db upgrade`` when the project has migrations, else ``db.create_all()``; returns which was used."""
    if _has_migrations():
        flask = Path(sys.executable).with_name("flask")
        done = subprocess.run([str(flask), "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask db upgrade failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return "flask db upgrade"
    from app.extensions import db

    db.create_all()
    return "db.create_all()"


@dataclass
class Fixture:
    tokens: list[str]
    users: int


def create_employees(count: int) -> Fixture:
    """``count`` employees with profiles and one API token each, in three bulk INSERTs and one password hash."""
    from sqlalchemy import insert, select

    from app.accounts.models import ApiToken, Gender, Profile, Role, User
    from app.accounts.services import hash_password
    from app.extensions import db
    from app.orgs.models import City, EnterpriseType

    password_hash = hash_password(PASSWORD)
    city_ids = list(db.session.scalars(select(City.id).order_by(City.id)))
    user_rows = [
        {
            "phone": f"1{5 + i % 4}{i:09d}",
            "password_hash": password_hash,
            "name": f"压测职工{i:04d}",
            "role": Role.EMPLOYEE,
            "locale": "zh_CN",
        }
        for i in range(count)
    ]
    ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), user_rows))
    profile_rows = [
        {
            "user_id": user_id,
            "gender": Gender.FEMALE if i % 2 else Gender.MALE,
            "birth_date": date(1985, 1, 1) + timedelta(days=(i * 37) % 5000),
            "city_id": city_ids[i % len(city_ids)],
            "employer": "江西压测制造有限公司",
            "enterprise_type": EnterpriseType.NON_PUBLIC,
            "frontline": True,
        }
        for i, user_id in enumerate(ids)
    ]
    db.session.execute(insert(Profile), profile_rows)
    tokens = [secrets.token_urlsafe(32) for _ in ids]
    db.session.execute(
        insert(ApiToken),
        [
            {"user_id": user_id, "token_hash": hashlib.sha256(token.encode()).hexdigest()}
            for user_id, token in zip(ids, tokens, strict=True)
        ],
    )
    db.session.commit()
    return Fixture(tokens=tokens, users=len(ids))


def create_event(title: str, capacities: list[int], max_waitlist: int | None) -> list[int]:
    """A published first-come event open for sign-up now, with one slot per capacity; returns the slot ids."""
    from app import clock
    from app.events.models import Allocation, Event, Slot, WaitlistPolicy
    from app.extensions import db
    from app.orgs.models import City
    from app.orgs.services import get_by_code

    now = clock.now().replace(microsecond=0)
    starts = now + timedelta(days=14)
    organization = get_by_code("jx")
    city = db.session.scalar(db.select(City).where(City.code == "nanchang"))
    assert organization is not None and city is not None
    event = Event(
        kind="general",
        title=title,
        description="压测活动",
        organization=organization,
        city=city,
        venue="南昌",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        signup_opens_at=now - timedelta(days=1),
        signup_closes_at=starts - timedelta(days=1),
        published=True,
    )
    for index, capacity in enumerate(capacities):
        event.slots.append(
            Slot(
                label=f"第{index + 1}团" if len(capacities) > 1 else "",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                capacity=capacity,
                waitlist_policy=WaitlistPolicy.OFFER,
                allocation=Allocation.FIRST_COME,
                max_waitlist=max_waitlist,
            )
        )
    db.session.add(event)
    db.session.commit()
    return [slot.id for slot in event.slots]


def confirmed_counts(slot_ids: list[int]) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per slot: registrations confirmed, the slot's ``taken`` counter and its capacity (fresh from the database)."""
    from sqlalchemy import func, select

    from app.booking.models import Registration, Status
    from app.events.models import Slot
    from app.extensions import db

    db.session.rollback()
    confirmed = dict(
        db.session.execute(
            select(Registration.slot_id, func.count())
            .where(Registration.slot_id.in_(slot_ids), Registration.status == Status.CONFIRMED)
            .group_by(Registration.slot_id)
        ).all()
    )
    rows = db.session.execute(select(Slot.id, Slot.taken, Slot.capacity).where(Slot.id.in_(slot_ids))).all()
    db.session.rollback()
    return (
        {slot_id: confirmed.get(slot_id, 0) for slot_id in slot_ids},
        {row[0]: row[1] for row in rows},
        {row[0]: row[2] for row in rows},
    )


# --------------------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    settings: str


def gunicorn_settings() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec((ROOT / "bench" / "gunicorn.conf.py").read_text(), namespace)
    return {k: namespace[k] for k in ("worker_class", "workers", "threads")}


@contextmanager
def gunicorn(env: dict[str, str], app_spec: str = "wsgi:app", extra_args: list[str] | None = None) -> Iterator[Server]:
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    settings = gunicorn_settings()
    binary = Path(sys.executable).with_name("gunicorn")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below, after the server stops
    process = subprocess.Popen(
        [str(binary), "-c", str(ROOT / "bench" / "gunicorn.conf.py"), *(extra_args or []), app_spec],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    _SERVER_SESSIONS.add(process.pid)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("gunicorn did not start:\n" + log.read().decode(errors="replace")[-3000:])
            time.sleep(0.2)
        label = f"{settings['worker_class']} {settings['workers']}x{settings['threads']}"
        yield Server(process, base_url, label)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.seek(0)
        errors = [line for line in log.read().decode(errors="replace").splitlines() if "Traceback" in line]
        if errors:
            print(f"  gunicorn logged {len(errors)} traceback(s)")
        log.close()


# --------------------------------------------------------------------------------------------- load


@dataclass
class Run:
    name: str
    concurrency: int
    elapsed: float
    latencies: list[float]
    outcomes: Counter[str]
    client_cpu: float
    slot_ids: list[int] = field(default_factory=list)
    confirmed_in_db: int = 0
    over_capacity: int = 0
    app_cpu: float = 0.0  # CPU seconds the app server used during the run
    db_cpu: float = 0.0  # ...and PostgreSQL

    @property
    def answered(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "error")

    @property
    def attempts_per_s(self) -> float:
        return self.answered / self.elapsed

    @property
    def requests_per_s(self) -> float:
        return sum(self.outcomes.values()) / self.elapsed

    @property
    def bookings_per_s(self) -> float:
        return self.outcomes["confirmed"] / self.elapsed

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def _outcome(status_code: int, body: dict[str, Any]) -> str:
    if status_code == 201:
        return str(body.get("status", "created"))
    if status_code == 409 and body.get("error") == "full":
        return "refused"
    if 400 <= status_code < 500:
        return f"refused:{body.get('error', status_code)}"
    return "error"


async def _fire_aiohttp(
    base_url: str, path: str, requests: list[tuple[int, str]], concurrency: int
) -> tuple[float, list[float], Counter[str]]:
    """The load generator: ``concurrency`` phones on their own keep-alive connections, released together, each
    booking the next (slot, token) until none is left. aiohttp costs the client about a third of httpx's CPU
    per request, which matters on a 2-core machine where the client shares the cores with the server."""
    import aiohttp

    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    pending = iter(requests)
    gate = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:
        # Open every connection first (as phones that already show the page), then release them together.
        async def touch() -> None:
            async with client.get("/healthz") as response:
                await response.read()

        await asyncio.gather(*(touch() for _ in range(concurrency)))

        async def phone() -> None:
            await gate.wait()
            for slot_id, token in pending:
                started = time.perf_counter()
                try:
                    async with client.post(
                        path.format(slot_id=slot_id),
                        json={"consents": []},
                        headers={"Authorization": f"Bearer {token}"} if token else None,
                    ) as response:
                        try:
                            body = await response.json(content_type=None)
                        except ValueError:
                            body = {}
                        outcome = _outcome(response.status, body if isinstance(body, dict) else {})
                except (TimeoutError, aiohttp.ClientError):
                    outcome = "error"
                latencies.append(time.perf_counter() - started)
                outcomes[outcome] += 1

        tasks = [asyncio.create_task(phone()) for _ in range(concurrency)]
        await asyncio.sleep(0)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return elapsed, latencies, outcomes


async def _fire_httpx(
    base_url: str, path: str, requests: list[tuple[int, str]], concurrency: int
) -> tuple[float, list[float], Counter[str]]:
    """The same load generator on httpx (used when aiohttp is not installed)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    pending = iter(requests)
    gate = asyncio.Event()
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))

        async def phone() -> None:
            await gate.wait()
            for slot_id, token in pending:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        path.format(slot_id=slot_id),
                        json={"consents": []},
                        headers={"Authorization": f"Bearer {token}"} if token else None,
                    )
                    try:
                        body = response.json()
                    except ValueError:
                        body = {}
                    outcome = _outcome(response.status_code, body if isinstance(body, dict) else {})
                except httpx.HTTPError:
                    outcome = "error"
                latencies.append(time.perf_counter() - started)
                outcomes[outcome] += 1

        tasks = [asyncio.create_task(phone()) for _ in range(concurrency)]
        await asyncio.sleep(0)
        started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return elapsed, latencies, outcomes


def _client_library() -> str:
    wanted = os.environ.get("BENCH_CLIENT", "aiohttp")
    if wanted == "aiohttp":
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            return "httpx"
    return wanted


BOOKING_PATH = "/api/v1/slots/{slot_id}/registrations"
BARE_PATH = "/bare/slots/{slot_id}/registrations"


def _cpu_seconds() -> dict[str, float]:
    """CPU time used so far by the app server's processes (this benchmark starts them in their own session)
    and by PostgreSQL's, read from /proc (Linux); empty elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used = {"app": 0.0, "db": 0.0}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else []:
        try:
            raw = (entry / "stat").read_text()
        except (OSError, NotADirectoryError):
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if name == "postgres":
            used["db"] += cpu
        elif "gunicorn" in name or (int(fields[3]) in _SERVER_SESSIONS):
            used["app"] += cpu
    return used


_SERVER_SESSIONS: set[int] = set()


def load(name: str, base_url: str, requests: list[tuple[int, str]], concurrency: int, path: str = BOOKING_PATH) -> Run:
    cpu_before, server_before = time.process_time(), _cpu_seconds()
    fire = _fire_aiohttp if _client_library() == "aiohttp" else _fire_httpx
    elapsed, latencies, outcomes = asyncio.run(fire(base_url, path, requests, concurrency))
    run = Run(name, concurrency, elapsed, latencies, outcomes, time.process_time() - cpu_before)
    server_after = _cpu_seconds()
    run.app_cpu = server_after["app"] - server_before["app"]
    run.db_cpu = server_after["db"] - server_before["db"]
    return run


def check_capacity(run: Run, expected_confirmed: int) -> None:
    confirmed, taken, capacity = confirmed_counts(run.slot_ids)
    run.confirmed_in_db = sum(confirmed.values())
    run.over_capacity = sum(
        1 for slot_id in run.slot_ids if confirmed[slot_id] > capacity[slot_id] or taken[slot_id] > capacity[slot_id]
    )
    mismatched = [s for s in run.slot_ids if confirmed[s] != taken[s]]
    problems = []
    if run.over_capacity:
        problems.append(f"{run.over_capacity} slot(s) OVER CAPACITY")
    if run.confirmed_in_db != expected_confirmed:
        problems.append(f"{run.confirmed_in_db} confirmed in the database, expected exactly {expected_confirmed}")
    if mismatched:
        problems.append(f"{len(mismatched)} slot(s) whose taken counter differs from the confirmed rows")
    if run.outcomes["confirmed"] != run.confirmed_in_db:
        problems.append(f"{run.outcomes['confirmed']} answered confirmed but {run.confirmed_in_db} in the database")
    if problems:
        raise AssertionError(f"{run.name} c={run.concurrency}: " + "; ".join(problems))


# --------------------------------------------------------------------------------------------- pgbench

PGBENCH_SCHEMA = """
DROP TABLE IF EXISTS pgb_registration;
DROP TABLE IF EXISTS pgb_slot;
CREATE TABLE pgb_slot (id integer PRIMARY KEY, capacity integer NOT NULL, taken integer NOT NULL DEFAULT 0,
                       CHECK (taken <= capacity));
CREATE TABLE pgb_registration (id bigserial PRIMARY KEY, slot_id integer NOT NULL REFERENCES pgb_slot(id),
                               user_id integer NOT NULL, status varchar(20) NOT NULL,
                               created_at timestamp NOT NULL DEFAULT now());
CREATE INDEX ix_pgb_registration_slot_user ON pgb_registration (slot_id, user_id);
"""

# The minimum SQL of one booking attempt: lock the slot row, read its count, insert the registration as
# confirmed or waitlisted, update the count; one transaction.
PGBENCH_SCRIPT = r"""
\set uid random(1, 2000000000)
\set slot random(1, :slots)
BEGIN;
SELECT taken, capacity FROM pgb_slot WHERE id = :slot FOR UPDATE \gset
\if :taken < :capacity
INSERT INTO pgb_registration (slot_id, user_id, status) VALUES (:slot, :uid, 'confirmed');
UPDATE pgb_slot SET taken = taken + 1 WHERE id = :slot;
\else
INSERT INTO pgb_registration (slot_id, user_id, status) VALUES (:slot, :uid, 'waitlisted');
\endif
END;
"""


def reset_minimal_tables(libpq_url: str, slots: int, capacity: int) -> None:
    """The two tables of the minimal booking (pgbench and the bare endpoint), with ``slots`` empty slots."""
    import psycopg

    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute(PGBENCH_SCHEMA)
        conn.execute(
            "INSERT INTO pgb_slot (id, capacity) SELECT g, %s FROM generate_series(1, %s) g", (capacity, slots)
        )
        conn.execute("VACUUM ANALYZE pgb_slot")


def pgbench_clients_cap(libpq_url: str) -> int:
    import psycopg

    with psycopg.connect(libpq_url, autocommit=True) as conn:
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        in_use = int(conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0])  # type: ignore[index]
    return max(1, max_connections - in_use - 15)


def pgbench(libpq_url: str, clients: int, slots: int, capacity: int, attempts: int) -> float:
    """Transactions/s (without connection set-up) of PGBENCH_SCRIPT: ``attempts`` attempts over ``slots`` slots."""
    from sqlalchemy import make_url

    reset_minimal_tables(libpq_url, slots, capacity)
    url = make_url(libpq_url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    try:
        command = [
            shutil.which("pgbench") or "pgbench",
            "-n",
            "-h", url.host or "127.0.0.1",
            "-p", str(url.port or 5432),
            "-U", url.username or "postgres",
            "-c", str(clients),
            "-j", str(min(clients, os.cpu_count() or 1)),
            "-t", str(max(1, math.ceil(attempts / clients))),
            "-D", f"slots={slots}",
            "-f", script.name,
            url.database or "postgres",
        ]  # fmt: skip
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = url.password
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    finally:
        os.unlink(script.name)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"pgbench failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return float(match.group(1))


# --------------------------------------------------------------------------------------------- the ceiling


def bare_app() -> Any:
    """The ceiling to approach: a bare Flask + SQLAlchemy endpoint doing only the minimal booking SQL (no auth,
    no eligibility, no history, no outbox), served by the same gunicorn settings.
    ``gunicorn --pythonpath bench 'flash_sale:bare_app()'`` with BARE_DATABASE_URL set."""
    from flask import Flask, jsonify
    from sqlalchemy import create_engine, text

    pool_size = int(os.environ.get("DB_POOL_SIZE", "5"))
    engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=pool_size, max_overflow=pool_size)
    app = Flask("bare")

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    @app.post("/bare/slots/<int:slot_id>/registrations")
    def book(slot_id: int) -> Any:
        with engine.begin() as conn:
            taken, capacity = conn.execute(
                text("SELECT taken, capacity FROM pgb_slot WHERE id = :id FOR UPDATE"), {"id": slot_id}
            ).one()
            status = "confirmed" if taken < capacity else "waitlisted"
            registration_id = conn.execute(
                text("INSERT INTO pgb_registration (slot_id, user_id, status) VALUES (:s, :u, :st) RETURNING id"),
                {"s": slot_id, "u": secrets.randbelow(2**31), "st": status},
            ).scalar_one()
            if status == "confirmed":
                conn.execute(text("UPDATE pgb_slot SET taken = taken + 1 WHERE id = :id"), {"id": slot_id})
        return jsonify({"id": registration_id, "status": status}), 201

    return app


def bare_confirmed(libpq_url: str) -> tuple[int, int]:
    """(confirmed rows, slots whose confirmed rows exceed their capacity) in the minimal tables."""
    import psycopg

    with psycopg.connect(libpq_url, autocommit=True) as conn:
        confirmed = conn.execute("SELECT count(*) FROM pgb_registration WHERE status = 'confirmed'").fetchone()
        over = conn.execute(
            "SELECT count(*) FROM pgb_slot s WHERE s.capacity < (SELECT count(*) FROM pgb_registration r "
            "WHERE r.slot_id = s.id AND r.status = 'confirmed')"
        ).fetchone()
    return int(confirmed[0]), int(over[0])  # type: ignore[index]


# --------------------------------------------------------------------------------------------- main

WORKLOAD_SHAPE = {"hot": (1, HOT_CAPACITY), "spread": (SPREAD_SLOTS, SPREAD_CAPACITY)}


@dataclass
class Result:
    workload: str
    concurrency: int
    run: Run
    bare: Run | None = None
    pgbench_tps: float = float("nan")
    pgbench_clients: int = 0

    @property
    def fraction(self) -> float:
        return self.run.attempts_per_s / self.pgbench_tps if self.pgbench_tps else float("nan")

    @property
    def bare_fraction(self) -> float:
        return self.bare.attempts_per_s / self.pgbench_tps if self.bare and self.pgbench_tps else float("nan")


def _median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.attempts_per_s)[len(runs) // 2]


def _print_run(run: Run) -> None:
    total = max(sum(run.outcomes.values()), 1)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
    print(
        f"  {run.name:6} c={run.concurrency:<3} {run.requests_per_s:7.1f} req/s  {run.bookings_per_s:7.1f} bookings/s  "
        f"p50 {run.percentile(50) * 1000:6.0f} ms  p95 {run.percentile(95) * 1000:6.0f} ms  "
        f"p99 {run.percentile(99) * 1000:6.0f} ms  [{outcomes}]  db confirmed {run.confirmed_in_db}  "
        f"client cpu {run.client_cpu / run.elapsed:.0%}; per request: app {run.app_cpu / total * 1000:.1f} ms, "
        f"db {run.db_cpu / total * 1000:.1f} ms of CPU",
        flush=True,
    )


def _requests(workload: str, concurrency: int, repeat: int, tokens: list[str]) -> tuple[list[int], list[Any], int]:
    """A fresh event for one run: its slot ids, the (slot, token) requests and how many must end confirmed."""
    if workload == "hot":
        slot_ids = create_event(f"限时抢票 {concurrency}-{repeat}", [HOT_CAPACITY], HOT_MAX_WAITLIST)
        return slot_ids, [(slot_ids[0], t) for t in tokens], min(HOT_CAPACITY, len(tokens))
    slot_ids = create_event(f"分散抢票 {concurrency}-{repeat}", [SPREAD_CAPACITY] * SPREAD_SLOTS, HOT_MAX_WAITLIST)
    requests = [(slot_ids[i % SPREAD_SLOTS], t) for i, t in enumerate(tokens)]
    return slot_ids, requests, min(len(tokens), SPREAD_SLOTS * SPREAD_CAPACITY)


def measure_app(
    workload: str, concurrency: int, server: Server, tokens: list[str], libpq_url: str, clients: int
) -> Result:
    """REPEAT rounds, each an app run on a fresh event (checked in the database) followed at once by a pgbench run
    of the same shape: this machine's speed drifts within minutes, so each app run is held against the pgbench
    run beside it. The result is the round with the median fraction."""
    slots, capacity = WORKLOAD_SHAPE[workload]
    rounds = []
    for repeat in range(REPEAT):
        slot_ids, requests, expected = _requests(workload, concurrency, repeat, tokens)
        run = load(workload, server.base_url, requests, concurrency)
        run.slot_ids = slot_ids
        check_capacity(run, expected)
        _print_run(run)
        result = Result(workload, concurrency, run, pgbench_clients=clients)
        result.pgbench_tps = pgbench(libpq_url, clients, slots, capacity, len(tokens))
        print(
            f"  {'':6} c={concurrency:<3} pgbench -c {clients} just after: {result.pgbench_tps:.0f} tps; "
            f"app {run.attempts_per_s:.0f}/s = {result.fraction:.2f} of it",
            flush=True,
        )
        rounds.append(result)
    return sorted(rounds, key=lambda r: r.fraction)[len(rounds) // 2]


def measure_bare(workload: str, concurrency: int, server: Server, libpq_url: str, attempts: int) -> Run:
    slots, capacity = WORKLOAD_SHAPE[workload]
    reset_minimal_tables(libpq_url, slots, capacity)
    requests = [(1 + i % slots, "") for i in range(attempts)]
    run = load(f"bare {workload}", server.base_url, requests, concurrency, path=BARE_PATH)
    run.confirmed_in_db, run.over_capacity = bare_confirmed(libpq_url)
    if run.over_capacity:
        raise AssertionError(f"bare endpoint over capacity on {run.over_capacity} slot(s)")
    _print_run(run)
    return run


def run_benchmark() -> tuple[list[Result], str]:
    from app import create_app
    from app.extensions import db
    from app.orgs.services import seed_reference_data

    settings = gunicorn_settings()
    results: dict[tuple[str, int], Result] = {}
    with fresh_postgres() as database_url:
        env = app_environment(database_url, pool_size=max(5, int(settings["threads"])))
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": env["SECRET_KEY"], "LOG_LEVEL": "WARNING"}
        )
        libpq_url = to_libpq(database_url)
        with app.app_context():
            schema = build_schema(env)
            seed_reference_data()
            db.session.commit()
            started = time.perf_counter()
            fixture = create_employees(USERS)
            print(f"{fixture.users} employees with API tokens in {time.perf_counter() - started:.1f} s; {schema}")
            with gunicorn(env) as server:
                label = server.settings
                print(
                    f"app: gunicorn {label}, DB_POOL_SIZE {env['DB_POOL_SIZE']}, {os.cpu_count()} cores, "
                    f"client {_client_library()}",
                    flush=True,
                )
                warm_slot = create_event("预热", [USERS], None)[0]
                load("warmup", server.base_url, [(warm_slot, t) for t in fixture.tokens[:256]], 32)
                cap = pgbench_clients_cap(libpq_url)
                for workload in WORKLOADS:
                    for concurrency in CONCURRENCY:
                        clients = min(concurrency, cap)
                        result = measure_app(workload, concurrency, server, fixture.tokens, libpq_url, clients)
                        results[workload, concurrency] = result
            db.session.remove()
            db.engine.dispose()
        print("bare Flask + SQLAlchemy endpoint (lock, count, insert, update; nothing else):", flush=True)
        reset_minimal_tables(libpq_url, 1, HOT_CAPACITY)
        bare_env = {**env, "BARE_DATABASE_URL": database_url}
        with gunicorn(bare_env, "flash_sale:bare_app()", ["--pythonpath", str(ROOT / "bench")]) as bare:
            load("warmup", bare.base_url, [(1, "")] * 256, 32, path=BARE_PATH)
            for (workload, concurrency), result in results.items():
                result.bare = measure_bare(workload, concurrency, bare, libpq_url, fixture.users)
        for (workload, concurrency), result in results.items():
            bare_rate = result.bare.attempts_per_s if result.bare else float("nan")
            print(
                f"  {workload:6} c={concurrency:<3} pgbench -c {result.pgbench_clients}: {result.pgbench_tps:.0f} tps; "
                f"app {result.run.attempts_per_s:.0f}/s = {result.fraction:.2f}; "
                f"bare {bare_rate:.0f}/s = {result.bare_fraction:.2f} (of that pgbench run)",
                flush=True,
            )
    return list(results.values()), label


def rows(results: list[Result], label: str) -> list[dict[str, str]]:
    table = []
    for r in results:
        run = r.run
        name = "flash sale, 1 slot x 500" if r.workload == "hot" else "flash sale, 200 slots x 10"
        refused = sum(v for k, v in run.outcomes.items() if k.startswith("refused"))
        bare = f"{r.bare.attempts_per_s:.0f}/s ({r.bare_fraction:.2f} of pgbench)" if r.bare else "n/a"
        target = ""
        if r.workload == "hot" and r.concurrency == 128:
            met = r.fraction >= 0.25 and run.percentile(99) < 1.0 and run.outcomes["error"] == 0
            target = f"; issue 11 target (>= 0.25 of pgbench, p99 < 1 s, no error): {'met' if met else 'NOT met'}"
        table.append(
            {
                "benchmark": f"{name}, {USERS} bookers, c={r.concurrency}",
                "figure": (
                    f"{run.attempts_per_s:.0f} attempts/s = {r.fraction:.2f} of pgbench; "
                    f"{run.bookings_per_s:.0f} confirmed/s; p50/p95/p99 {run.percentile(50) * 1000:.0f}/"
                    f"{run.percentile(95) * 1000:.0f}/{run.percentile(99) * 1000:.0f} ms"
                ),
                "detail": (
                    f"confirmed {run.outcomes['confirmed']} (db {run.confirmed_in_db}), waitlisted "
                    f"{run.outcomes['waitlisted']}, refused {refused}, errors {run.outcomes['error']}; "
                    f"pgbench -c {r.pgbench_clients} {r.pgbench_tps:.0f} tps; bare Flask+SQLAlchemy {bare}; "
                    f"gunicorn {label}{target}"
                ),
            }
        )
    return table


def _exit_on_sigterm() -> None:
    """A terminated benchmark still stops its gunicorn and drops its database (the ``finally`` blocks run)."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main() -> list[dict[str, str]]:
    """Run the flash sale and return its rows for bench/run_all.py (benchmark, figure, detail)."""
    _exit_on_sigterm()
    results, label = run_benchmark()
    table = rows(results, label)
    print()
    for row in table:
        print(f"{row['benchmark']}: {row['figure']} — {row['detail']}")
    return table


@contextmanager
def in_process_bookings(
    requests: int, titles: tuple[str, ...]
) -> Iterator[tuple[Callable[[int], Counter[int]], list[int], str]]:
    """The app in this process on a fresh PostgreSQL database with ``requests`` employees and one slot per title,
    each shaped like the hot workload (a quarter of the bookers confirmed, half waitlisted, a quarter refused).
    Yields ``book_all(slot_id)`` (every employee books the slot through the JSON API; the statuses by count),
    the slot ids and the database's URL."""
    from app import create_app
    from app.extensions import db
    from app.orgs.services import seed_reference_data

    with fresh_postgres() as database_url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
        with app.app_context():
            build_schema(app_environment(database_url, 5))
            seed_reference_data()
            db.session.commit()
            fixture = create_employees(requests)
            slots = [create_event(title, [requests // 4], requests // 2)[0] for title in titles]
            db.session.remove()
        client = app.test_client()

        def book_all(slot_id: int) -> Counter[int]:
            statuses: Counter[int] = Counter()
            for token in fixture.tokens:
                response = client.post(
                    f"/api/v1/slots/{slot_id}/registrations", json={}, headers={"Authorization": f"Bearer {token}"}
                )
                statuses[response.status_code] += 1
            return statuses

        yield book_all, slots, database_url
        with app.app_context():
            db.engine.dispose()


def profile_booking(requests: int = 400) -> None:
    """Profile the booking request in-process: ``requests`` bookings through the WSGI app in one thread on a
    slot shaped like the hot workload (a quarter confirmed, half waitlisted, a quarter refused), first timed
    without a profiler, then again on a second such slot under pyinstrument, which prints where the time
    goes."""
    from pyinstrument import Profiler

    with in_process_bookings(requests, ("预热", "计时", "剖析")) as (book_all, (warm, timed, profiled), database_url):
        book_all(warm)
        started = time.perf_counter(), time.process_time()
        statuses = book_all(timed)
        elapsed = time.perf_counter() - started[0], time.process_time() - started[1]
        # The bare endpoint in the same process, as the yardstick: this machine's speed varies from run to run.
        libpq = to_libpq(database_url)
        reset_minimal_tables(libpq, 1, requests // 4)
        os.environ["BARE_DATABASE_URL"] = database_url
        bare = bare_app().test_client()
        for _ in range(50):
            bare.post("/bare/slots/1/registrations")
        bare_started = time.process_time()
        for _ in range(requests):
            bare.post("/bare/slots/1/registrations")
        bare_cpu = time.process_time() - bare_started
        print(
            f"{requests} booking attempts in one thread, unprofiled: {elapsed[0] / requests * 1000:.1f} ms each "
            f"({elapsed[1] / requests * 1000:.1f} ms of this process's CPU; the bare endpoint "
            f"{bare_cpu / requests * 1000:.1f} ms, so {elapsed[1] / bare_cpu:.1f}x); statuses {dict(statuses)}"
        )
        profiler = Profiler(interval=0.0005)
        profiler.start()
        book_all(profiled)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def count_instructions(requests: int = 200) -> None:
    """Count the machine instructions one booking attempt costs the app, in-process: ``requests`` bookings of a
    slot shaped like the hot workload under valgrind's callgrind, which counts only while they run (imports,
    set-up and a warm-up round are not counted). Unlike seconds, the count does not move with what else the
    machine is doing: the same code gives the same figure to a few parts in ten thousand, so a change worth
    1 % shows. Needs valgrind (Debian's package). PostgreSQL's own work is not counted."""
    if not os.environ.get("BENCH_UNDER_CALLGRIND"):
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
        with tempfile.TemporaryDirectory() as scratch:
            command = [valgrind, "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={scratch}/out"]
            env = {**os.environ, "BENCH_UNDER_CALLGRIND": "1", "PYTHONHASHSEED": "0"}
            done = subprocess.run(
                [*command, sys.executable, __file__, "--instructions"], env=env, capture_output=True, text=True
            )
        collected = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or collected is None:
            raise SystemExit(f"callgrind run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        print(done.stdout.strip())
        print(f"{int(collected.group(1)) / requests / 1e6:.3f} M instructions per booking attempt (app process)")
        return

    def instrumentation(state: str) -> None:
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)

    with in_process_bookings(requests, ("预热", "计数")) as (book_all, (warm, counted), _database_url):
        book_all(warm)
        # Whether a full garbage collection falls inside the counted round would otherwise move the figure by
        # several percent between two harmless changes.
        gc.collect()
        gc.freeze()
        instrumentation("on")
        statuses = book_all(counted)
        instrumentation("off")
        print(f"{requests} booking attempts counted; statuses {dict(statuses)}")


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile_booking()
    elif "--instructions" in sys.argv:
        count_instructions()
    else:
        main()
