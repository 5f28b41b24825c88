"""Production rehearsed on one machine (issue 24): ``make rehearsal`` (deploy/rehearse.sh) runs this.

Starts, all on 127.0.0.1 and from Debian packages, in a temporary folder and on spare ports:
- PostgreSQL 15 as a primary and a streaming replica (``initdb``; the replica made with ``pg_basebackup -R``),
- Redis (rate limits shared by every worker),
- a local SMTP server (aiosmtpd, in this process) that records every message's Message-ID,
- two gunicorn instances ("two hosts", deploy/gunicorn.conf.py) on two ports, each in its own process group,
- nginx in front (the site rendered from deploy/nginx/zhijia.conf.in with a certificate made for the run),
- two ``flask scheduler run`` processes;
runs deploy/release.sh (migrate, seed), then the flash sale and the faults, prints the fault table, and stops
everything it started by PID (and removes the clusters) whatever happens.

Faults (each measured, each with its own verdict):
1. flash sale through nginx, no fault: figures next to the direct ones of bench/flash_sale.py;
2. the same flash sale while ``kill -9`` hits one gunicorn instance (master and workers): no confirmed booking
   lost or doubled, every client answered (or told to retry, and then answered), counts exact in the database;
3. PostgreSQL primary restarted during bookings: the app answers again without being restarted;
4. the replica stopped: statistics still answer, from the primary (and replay paused: lag falls back too);
5. ``kill -9`` of one scheduler mid-delivery: the other delivers every message, each once.

Clients behave like the phone app: each booking carries an Idempotency-Key and is resent with the same key on a
connection error or a 502/503/504 (a retryable error), up to a limit.

Options (environment): REHEARSAL_USERS (2000), REHEARSAL_CONCURRENCY (128), REHEARSAL_MESSAGES (3000),
REHEARSAL_RESULTS (bench/results.md: its "Rehearsal" section is replaced; empty: print only).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "deploy"))

from render_nginx import render as render_nginx  # noqa: E402

PG_BIN = Path(os.environ.get("REHEARSAL_PG_BIN", "/usr/lib/postgresql/15/bin"))
USERS = int(os.environ.get("REHEARSAL_USERS", "2000"))
CONCURRENCY = int(os.environ.get("REHEARSAL_CONCURRENCY", "128"))
MESSAGES = int(os.environ.get("REHEARSAL_MESSAGES", "3000"))
RESULTS = os.environ.get("REHEARSAL_RESULTS", str(ROOT / "bench" / "results.md"))
CAPACITY = int(os.environ.get("REHEARSAL_CAPACITY", "500"))
MAX_WAITLIST = 2 * CAPACITY
RETRYABLE = {502, 503, 504}
MAX_TRIES = 40
VENV_BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------------------ processes


class Processes:
    """Everything the rehearsal starts, stopped by PID (process groups for gunicorn) at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: dict[str, subprocess.Popen[bytes]] = {}
        self.clusters: list[Path] = []

    def start(
        self, name: str, command: list[str], env: dict[str, str] | None = None, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        logfile = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        process = subprocess.Popen(
            command, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT, **kwargs
        )
        self.started[name] = process
        return process

    def kill9(self, name: str) -> int:
        """SIGKILL the process group of ``name`` (a gunicorn master and its workers die together, as a host)."""
        process = self.started[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return process.pid

    def stop(self, name: str, timeout: float = 15) -> None:
        process = self.started.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.started):
            self.stop(name)
        for data in self.clusters:
            if (data / "postmaster.pid").exists():
                pg(["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)


def as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def pg(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    full = [str(PG_BIN / command[0]), *command[1:]]
    done = subprocess.run(as_postgres(full), capture_output=True, text=True, check=False, cwd="/")
    if check and done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")
    return done


def wait_for(what: str, probe: Callable[[], bool], seconds: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if probe():
                return time.monotonic() - started
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


def http_ok(url: str, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None) -> bool:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return False


def http_json(
    url: str, context: ssl.SSLContext | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            body = response.read()
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ------------------------------------------------------------------------------------------------ the stack


@dataclass
class Stack:
    folder: Path
    procs: Processes
    primary: Path
    replica: Path
    primary_port: int
    replica_port: int
    redis_port: int
    smtp_port: int
    web_ports: list[int]
    https_port: int
    env: dict[str, str]
    tls: ssl.SSLContext
    metrics_token: str

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def web_env(self, name: str) -> dict[str, str]:
        env = dict(self.env)
        metrics_dir = self.folder / f"metrics-{name}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        return env

    def start_web(self, index: int) -> None:
        name = f"web{index}"
        env = self.web_env(name)
        env["GUNICORN_BIND"] = f"127.0.0.1:{self.web_ports[index]}"
        env["GUNICORN_WORKERS"] = os.environ.get("REHEARSAL_WORKERS", "2")
        self.procs.start(name, [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"], env=env)
        wait_for(name, lambda: http_ok(f"http://127.0.0.1:{self.web_ports[index]}/healthz"))

    def start_scheduler(self, index: int) -> None:
        self.procs.start(f"scheduler{index}", [str(VENV_BIN / "flask"), "scheduler", "run"], env=self.env)

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A metric's value summed over both web instances (each has its own multiprocess folder)."""
        from prometheus_client.parser import text_string_to_metric_families

        total = 0.0
        for port in self.web_ports:
            try:
                status, body = http_json(
                    f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {self.metrics_token}"}
                )
            except OSError:
                continue
            if status != 200:
                continue
            for family in text_string_to_metric_families(body.decode()):
                for sample in family.samples:
                    if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items()):
                        total += sample.value
        return total


def start_postgres(folder: Path, procs: Processes) -> tuple[Path, Path, int, int]:
    pg_folder = folder / "pg"  # the clusters, their sockets and logs: the postgres user's
    pg_folder.mkdir()
    if os.geteuid() == 0:
        shutil.chown(pg_folder, "postgres")
    primary, replica, sockets = pg_folder / "primary", pg_folder / "replica", pg_folder / "sockets"
    (sockets).mkdir()
    if os.geteuid() == 0:
        shutil.chown(sockets, "postgres")
    primary_port, replica_port = free_port(), free_port()
    pg(["initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"])
    procs.clusters.append(primary)
    settings = (
        f"\nlisten_addresses = '127.0.0.1'\nport = {primary_port}\nunix_socket_directories = '{sockets}'\n"
        "max_connections = 200\nwal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
        "shared_buffers = 128MB\nfsync = on\nsynchronous_commit = on\n"
    )
    with open(primary / "postgresql.conf", "a") as conf:
        conf.write(settings)
    pg(["pg_ctl", "-D", str(primary), "-l", str(folder / "pg" / "primary.log"), "-w", "start"])
    log(f"PostgreSQL primary on {primary_port}")
    pg(
        [
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-D",
            str(replica),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ]
    )
    procs.clusters.append(replica)
    with open(replica / "postgresql.conf", "a") as conf:
        conf.write(f"\nport = {replica_port}\n")
    pg(["pg_ctl", "-D", str(replica), "-l", str(folder / "pg" / "replica.log"), "-w", "start"])
    log(f"PostgreSQL streaming replica on {replica_port} (pg_basebackup -R)")
    return primary, replica, primary_port, replica_port


class MailSink:
    """aiosmtpd in a thread: every message's Message-ID, in order of arrival."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.ids: list[str] = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes

                message = message_from_bytes(envelope.content)
                with sink.lock:
                    sink.ids.append(str(message.get("Message-ID", "")))
                return "250 OK"

        import logging

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "tls-cert.pem", folder / "tls-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def start_nginx(
    stack_folder: Path, procs: Processes, web_ports: list[int], https_port: int, http_port: int, cert: Path, key: Path
) -> None:
    root = stack_folder / "nginx"
    (root / "temp").mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "nginx" / "zhijia_proxy_params", root / "zhijia_proxy_params")
    site = render_nginx(
        server_name="127.0.0.1",
        upstreams=[f"127.0.0.1:{port}" for port in web_ports],
        cert=str(cert),
        key=str(key),
        static_root=str(ROOT / "app" / "static"),
        https_listen=f"127.0.0.1:{https_port}",
        http_listen=f"127.0.0.1:{http_port}",
        internal_networks=("127.0.0.1",),
        proxy_params=str(root / "zhijia_proxy_params"),
    )
    (root / "zhijia.conf").write_text(site)
    user = "user www-data;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {root}/access.log;\n"
        f"  client_body_temp_path {root}/temp/body;\n  proxy_temp_path {root}/temp/proxy;\n"
        f"  fastcgi_temp_path {root}/temp/fastcgi;\n  uwsgi_temp_path {root}/temp/uwsgi;\n"
        f"  scgi_temp_path {root}/temp/scgi;\n"
        f"  include {root}/zhijia.conf;\n"
        "}\n"
    )
    if os.geteuid() == 0:
        shutil.chown(root / "temp", "www-data")
    check = subprocess.run(["nginx", "-t", "-c", str(root / "nginx.conf")], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t: {check.stderr}")
    procs.start("nginx", ["nginx", "-c", str(root / "nginx.conf"), "-g", "daemon off;"])


# ------------------------------------------------------------------------------------------------ data


def prepare_data(env: dict[str, str]) -> list[str]:
    """Release (migrate, seed) through deploy/release.sh, then the bookers with their API tokens."""
    done = subprocess.run(
        ["sh", "deploy/release.sh", "/nonexistent"],
        cwd=ROOT,
        env={**env, "SKIP_INSTALL": "1"},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"release.sh failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    log("deploy/release.sh: migrated and seeded")
    from flash_sale import create_employees

    with app_context(env):
        from app.extensions import db

        fixture = create_employees(USERS)
        # Everyone gets an address so the delivery fault has mail to send.
        db.session.execute(db.text("UPDATE users SET email = 'p' || id || '@rehearsal.local'"))
        db.session.commit()
    return fixture.tokens


class app_context:
    """An app (this process) on the rehearsal's primary, for setting up and checking data."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __enter__(self) -> Any:
        from app import create_app

        overrides = {
            "SQLALCHEMY_DATABASE_URI": self.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"),
            "SECRET_KEY": self.env["SECRET_KEY"],
            "TESTING": False,
            "DATABASE_REPLICA_URL": None,
        }
        self.app = create_app(overrides)
        self.ctx = self.app.app_context()
        self.ctx.push()
        return self.app

    def __exit__(self, *exc: Any) -> None:
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
        self.ctx.pop()


def new_slot(env: dict[str, str], title: str) -> int:
    from flash_sale import create_event

    with app_context(env):
        return create_event(title, [CAPACITY], MAX_WAITLIST)[0]


@dataclass
class Tally:
    confirmed_in_db: int
    taken_counter: int
    doubled: int
    active_registrations: int


def tally(env: dict[str, str], slot_id: int) -> Tally:
    with app_context(env):
        from app.extensions import db

        row = db.session.execute(
            db.text(
                "SELECT (SELECT count(*) FROM registrations WHERE slot_id = :s AND status = 'CONFIRMED'),"
                " (SELECT taken FROM slots WHERE id = :s),"
                " (SELECT count(*) FROM (SELECT user_id FROM registrations WHERE slot_id = :s"
                "   AND status IN ('CONFIRMED','WAITLISTED','OFFERED','PENDING')"
                "   GROUP BY user_id HAVING count(*) > 1) d),"
                " (SELECT count(*) FROM registrations WHERE slot_id = :s"
                "   AND status IN ('CONFIRMED','WAITLISTED','OFFERED','PENDING'))"
            ),
            {"s": slot_id},
        ).one()
        return Tally(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def confirmed_users(env: dict[str, str], slot_id: int) -> set[int]:
    with app_context(env):
        from app.extensions import db

        return set(
            db.session.scalars(
                db.text("SELECT id FROM registrations WHERE slot_id = :s AND status = 'CONFIRMED'"), {"s": slot_id}
            )
        )


# ------------------------------------------------------------------------------------------------ load


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    tries: int
    retryable_seen: int
    latency: float
    replayed: bool = False


@dataclass
class Wave:
    name: str
    elapsed: float
    answers: list[Answer]
    events: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, status) per try

    @property
    def outcomes(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for a in self.answers:
            if a.status == 201:
                found[str(a.body.get("status"))] += 1
            elif a.status == 409:
                found[str(a.body.get("error"))] += 1
            else:
                found[f"unanswered:{a.status}"] += 1
        return found

    def percentile(self, q: float) -> float:
        latencies = sorted(a.latency for a in self.answers)
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0


async def _book_all(
    base: str,
    slot_id: int,
    tokens: list[str],
    concurrency: int,
    tls: ssl.SSLContext,
    on_progress: Callable[[int], None] | None = None,
    retry_pause: float = 0.25,
) -> Wave:
    import aiohttp

    path = f"{base}/api/v1/slots/{slot_id}/registrations"
    answers: list[Answer] = []
    events: list[tuple[float, int]] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=tls, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)

    async def one(session: aiohttp.ClientSession, token: str) -> Answer:
        key = uuid.uuid4().hex
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        first = time.perf_counter()
        retryable = 0
        replayed = False
        for attempt in range(1, MAX_TRIES + 1):
            try:
                async with session.post(path, json={}, headers=headers) as response:
                    status = response.status
                    body = await response.json(content_type=None) if status < 500 else {}
                    replayed = response.headers.get("Idempotent-Replayed") == "true"
            except (TimeoutError, aiohttp.ClientError):
                status, body, replayed = 599, {}, False
            events.append((time.perf_counter() - started, status))
            if status in RETRYABLE or status == 599 or status == 500:
                retryable += 1
                await asyncio.sleep(retry_pause)
                continue
            return Answer(status, body, attempt, retryable, time.perf_counter() - first, replayed)
        return Answer(status, body, MAX_TRIES, retryable, time.perf_counter() - first)

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            try:
                token = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            answers.append(await one(session, token))
            if on_progress is not None:
                on_progress(len(answers))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return Wave("", time.perf_counter() - started, answers, events)


def book_all(
    stack: Stack,
    name: str,
    slot_id: int,
    tokens: list[str],
    concurrency: int,
    on_progress: Callable[[int], None] | None = None,
) -> Wave:
    wave = asyncio.run(_book_all(stack.base, slot_id, tokens, concurrency, stack.tls, on_progress))
    wave.name = name
    return wave


# ------------------------------------------------------------------------------------------------ faults


@dataclass
class Row:
    fault: str
    figure: str
    verdict: bool
    detail: str


def check_sale(stack: Stack, wave: Wave, slot_id: int) -> tuple[bool, str, Tally]:
    counts = tally(stack.env, slot_id)
    told_confirmed = {a.body.get("id") for a in wave.answers if a.status == 201 and a.body.get("status") == "confirmed"}
    in_db = confirmed_users(stack.env, slot_id)
    lost = len(told_confirmed - in_db)  # told "confirmed" but not confirmed in the database
    unannounced = len(in_db - told_confirmed)  # confirmed in the database but the client never learnt it
    outcomes = wave.outcomes
    unanswered = sum(v for k, v in outcomes.items() if k.startswith("unanswered"))
    ok = (
        lost == 0
        and unannounced == 0
        and counts.doubled == 0
        and unanswered == 0
        and counts.confirmed_in_db == CAPACITY == counts.taken_counter == len(told_confirmed)
    )
    detail = (
        f"db confirmed {counts.confirmed_in_db} (slot counter {counts.taken_counter}), clients told confirmed "
        f"{len(told_confirmed)}, lost {lost}, confirmed-but-untold {unannounced}, doubled {counts.doubled}, "
        f"unanswered {unanswered}; outcomes {dict(sorted(outcomes.items()))}"
    )
    return ok, detail, counts


def sale_figure(wave: Wave) -> str:
    tries = sum(a.tries for a in wave.answers)
    return (
        f"{len(wave.answers) / wave.elapsed:.0f} bookers/s, p50/p95/p99 {wave.percentile(0.5):.0f}/"
        f"{wave.percentile(0.95):.0f}/{wave.percentile(0.99):.0f} ms, {tries} requests"
    )


def fault_direct(stack: Stack, tokens: list[str]) -> tuple[Row, Wave]:
    """The same sale straight to one gunicorn instance (no nginx, no TLS), in this run, on this machine's load."""
    slot = new_slot(stack.env, "彩排：抢票（直连）")
    log(f"flash sale direct to web1: {len(tokens)} bookers, c={CONCURRENCY}")
    wave = asyncio.run(_book_all(f"http://127.0.0.1:{stack.web_ports[1]}", slot, tokens, CONCURRENCY, stack.tls))
    wave.name = "direct"
    ok, detail, _counts = check_sale(stack, wave, slot)
    return Row("flash sale direct to one gunicorn instance (reference)", sale_figure(wave), ok, detail), wave


def fault_baseline(stack: Stack, tokens: list[str]) -> tuple[Row, Wave]:
    slot = new_slot(stack.env, "彩排：抢票（无故障）")
    log(f"flash sale through nginx: {len(tokens)} bookers, c={CONCURRENCY}, capacity {CAPACITY}")
    wave = book_all(stack, "baseline", slot, tokens, CONCURRENCY)
    ok, detail, _counts = check_sale(stack, wave, slot)
    return Row("flash sale through nginx (no fault)", sale_figure(wave), ok, detail), wave


def fault_kill_web(stack: Stack, tokens: list[str]) -> Row:
    slot = new_slot(stack.env, "彩排：抢票（杀掉一台）")
    killed: dict[str, Any] = {}

    def on_progress(done: int) -> None:
        if not killed and done >= len(tokens) // 4:
            killed["pid"] = stack.procs.kill9("web0")
            killed["at"] = done
            log(f"kill -9 web0 (gunicorn master {killed['pid']} and its workers) after {done} answers")

    wave = book_all(stack, "kill-web", slot, tokens, CONCURRENCY, on_progress)
    ok, detail, _counts = check_sale(stack, wave, slot)
    retried = sum(1 for a in wave.answers if a.retryable_seen)
    retryable_answers = sum(a.retryable_seen for a in wave.answers)
    replayed = sum(1 for a in wave.answers if a.replayed)
    figure = (
        f"{retried} clients got a retryable error ({retryable_answers} in all) and then an answer, {replayed} of "
        f"them the stored first answer of a booking the killed host had committed (Idempotent-Replayed); "
        f"{sale_figure(wave)}"
    )
    stack.start_web(0)
    log("web0 started again")
    return Row("kill -9 one gunicorn instance during the sale", figure, ok and "pid" in killed, detail)


def fault_restart_primary(stack: Stack, tokens: list[str]) -> Row:
    slot = new_slot(stack.env, "彩排：数据库重启")
    web_pids = {name: p.pid for name, p in stack.procs.started.items() if name.startswith("web")}
    restart: dict[str, float] = {}

    def restarter() -> None:
        time.sleep(1.0)
        restart["at"] = time.perf_counter()
        pg(
            [
                "pg_ctl",
                "-D",
                str(stack.primary),
                "-m",
                "fast",
                "-w",
                "restart",
                "-l",
                str(stack.folder / "pg" / "primary.log"),
            ]
        )
        restart["done"] = time.perf_counter()
        log("PostgreSQL primary restarted")

    thread = threading.Thread(target=restarter)
    thread.start()
    wave_started = time.perf_counter()
    wave = asyncio.run(_book_all(stack.base, slot, tokens, 32, stack.tls, None, retry_pause=0.5))
    thread.join()
    ok, detail, _counts = check_sale(stack, wave, slot)
    errors = sorted(t for t, status in wave.events if status >= 500)
    done_at = restart["done"] - wave_started
    after = [t for t, status in wave.events if t > done_at and status < 500]
    back_after = (min(after) - done_at) if after else float("nan")
    window = (errors[-1] - errors[0]) if errors else 0.0
    same_processes = all(
        stack.procs.started[name].pid == pid and stack.procs.started[name].poll() is None
        for name, pid in web_pids.items()
    )
    ready = http_ok(f"{stack.base}/readyz", stack.tls)
    figure = (
        f"restart took {restart['done'] - restart['at']:.1f} s; {len(errors)} requests answered 5xx "
        f"(retried) over {window:.1f} s; bookings answered again {back_after:.1f} s after PostgreSQL was back; "
        f"app processes unchanged: {'yes' if same_processes else 'NO'}; /readyz after: {'200' if ready else 'not 200'}"
    )
    return Row("restart the PostgreSQL primary during bookings", figure, ok and same_processes and ready, detail)


def fault_replica(stack: Stack) -> list[Row]:
    rows = []
    url = f"{stack.base}/stats/public"
    before_replica = stack.metric("zhijia_lagging_reads_total", {"source": "replica"})
    statuses = [http_json(url, stack.tls)[0] for _ in range(20)]
    used_replica = stack.metric("zhijia_lagging_reads_total", {"source": "replica"}) - before_replica
    rows.append(
        Row(
            "replica up: statistics read from it",
            f"{statuses.count(200)}/20 answered 200; {used_replica:.0f} of 20 read from the replica",
            statuses.count(200) == 20 and used_replica >= 18,
            "zhijia_lagging_reads_total{source=replica} on /metrics",
        )
    )

    # Replay paused: the replica falls behind as the primary writes; reads move to the primary past the limit.
    replica_url = f"postgresql://postgres@127.0.0.1:{stack.replica_port}/zhijia"
    import psycopg

    with psycopg.connect(replica_url, autocommit=True) as connection:
        connection.execute("SELECT pg_wal_replay_pause()")
    slot = new_slot(stack.env, "彩排：让备库落后")  # a write the replica will not replay
    time.sleep(
        float(stack.env["DATABASE_REPLICA_MAX_LAG_SECONDS"]) + float(stack.env["DATABASE_REPLICA_CHECK_SECONDS"]) + 1
    )
    before_primary = stack.metric("zhijia_lagging_reads_total", {"source": "primary"})
    statuses = [http_json(url, stack.tls)[0] for _ in range(20)]
    from_primary = stack.metric("zhijia_lagging_reads_total", {"source": "primary"}) - before_primary
    with psycopg.connect(replica_url, autocommit=True) as connection:
        connection.execute("SELECT pg_wal_replay_resume()")
    rows.append(
        Row(
            "replica lagging past DATABASE_REPLICA_MAX_LAG_SECONDS",
            f"{statuses.count(200)}/20 answered 200; {from_primary:.0f} of 20 read from the primary",
            statuses.count(200) == 20 and from_primary >= 18,
            f"replay paused on the replica, slot {slot} written on the primary, waited past "
            f"{stack.env['DATABASE_REPLICA_MAX_LAG_SECONDS']} s",
        )
    )

    time.sleep(float(stack.env["DATABASE_REPLICA_CHECK_SECONDS"]) + 1)
    pg(["pg_ctl", "-D", str(stack.replica), "-m", "fast", "-w", "stop"])
    log("replica stopped")
    before_primary = stack.metric("zhijia_lagging_reads_total", {"source": "primary"})
    started = time.perf_counter()
    statuses = [http_json(url, stack.tls)[0] for _ in range(20)]
    elapsed = time.perf_counter() - started
    from_primary = stack.metric("zhijia_lagging_reads_total", {"source": "primary"}) - before_primary
    rows.append(
        Row(
            "stop the replica",
            f"{statuses.count(200)}/20 statistics pages answered 200 in {elapsed:.1f} s; "
            f"{from_primary:.0f} of 20 from the primary",
            statuses.count(200) == 20 and from_primary == 20,
            "pg_ctl stop -m fast on the replica",
        )
    )
    pg(["pg_ctl", "-D", str(stack.replica), "-l", str(stack.folder / "pg" / "replica.log"), "-w", "start"])
    return rows


def seed_messages(env: dict[str, str], count: int) -> set[int]:
    """``count`` due e-mail reminders for the bookers (as bench/delivery.py), marked for this rehearsal."""
    from sqlalchemy import insert

    with app_context(env):
        from app import clock
        from app.extensions import db
        from app.outbox.models import OutboxMessage, OutboxStatus

        now = clock.now()
        user_ids = list(db.session.scalars(db.text("SELECT id FROM users WHERE email LIKE '%@rehearsal.local'")))
        rows = [
            {
                "user_id": user_ids[n % len(user_ids)],
                "channel": "email",
                "kind": "reminder",
                "template": "notice",
                "data": {"title": f"彩排提醒 第{n}条", "body": "请准时参加。", "link": "/me/bookings"},
                "essential": True,
                "idempotency_key": f"rehearsal:{n}",
                # Due before the sales' confirmations still queued: claimed first (oldest due first).
                "due_at": now - timedelta(days=1),
                "expires_at": now + timedelta(days=1),
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "created_at": now,
            }
            for n in range(count)
        ]
        ids = set(db.session.scalars(insert(OutboxMessage).returning(OutboxMessage.id), rows))
        db.session.commit()
        return ids


def outbox_state(env: dict[str, str], ids: set[int]) -> Counter[str]:
    with app_context(env):
        from app.extensions import db

        rows = db.session.execute(
            db.text(
                "SELECT status, count(*) FROM outbox_messages WHERE idempotency_key LIKE 'rehearsal:%' GROUP BY status"
            )
        )
        return Counter({str(status): int(n) for status, n in rows})


def fault_kill_scheduler(stack: Stack, sink: MailSink) -> Row:
    with sink.lock:
        sink.ids.clear()
    ids = seed_messages(stack.env, MESSAGES)
    expected = {f"outbox-{i}@" for i in ids}
    log(f"{len(ids)} reminders due; waiting to kill -9 scheduler0 mid-delivery")

    def ours() -> list[str]:
        with sink.lock:
            return [m for m in sink.ids if m.strip("<>").split("@")[0] + "@" in expected]

    wait_for("first deliveries", lambda: len(ours()) >= len(ids) // 5, 600)
    pid = stack.procs.kill9("scheduler0")
    at = len(ours())
    log(f"kill -9 scheduler0 (pid {pid}) after {at} messages received")
    started = time.perf_counter()
    lease = float(stack.env["NOTIFY_LEASE_SECONDS"])
    wait_for("every reminder sent", lambda: outbox_state(stack.env, ids).get("SENT", 0) == len(ids), 900 + lease)
    drained = time.perf_counter() - started
    time.sleep(1)
    received = Counter(m.strip("<>").split("@")[0] for m in ours())
    distinct = len(received)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    lost = len(ids) - distinct
    state = outbox_state(stack.env, ids)
    group = int(stack.env.get("NOTIFY_SEND_GROUP", "20"))
    # The documented window: the killed sender's one unfinished send group may arrive again, same Message-IDs.
    ok = lost == 0 and duplicates <= group and state.get("SENT", 0) == len(ids)
    figure = (
        f"{distinct}/{len(ids)} delivered, {duplicates} twice (at most one send group of {group}), {lost} lost; "
        f"the survivor finished "
        f"{drained:.1f} s after the kill (lease {lease:.0f} s)"
    )
    detail = (
        f"killed after {at} received; outbox {dict(state)}; duplicates are counted by Message-ID "
        "(a resend carries the same one)"
    )
    stack.start_scheduler(0)
    return Row("kill -9 one scheduler mid-delivery", figure, ok, detail)


# ------------------------------------------------------------------------------------------------ report


def direct_figure() -> str:
    """The direct (no nginx) c=128 hot flash-sale figure last recorded by ``make bench``."""
    results = ROOT / "bench" / "results.md"
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            if line.startswith("| flash sale, 1 slot x 500") and "c=128" in line:
                return line.split("|")[2].strip()
    return "(no make bench result)"


def render_report(rows: list[Row], baseline: Wave | None, direct: Wave | None, started: datetime, setup: str) -> str:
    lines = [
        "## Rehearsal",
        "",
        f"`make rehearsal` (deploy/rehearsal.py) on {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}: {setup}.",
        "",
        "| fault | figure | result | detail |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row.fault} | {row.figure} | {'ok' if row.verdict else 'FAILED'} | {row.detail} |")
    if baseline is not None:
        lines += [
            "",
            "Flash sale, 1 slot x 500, 2,000 bookers, c=128:",
            "",
            "| path | figure |",
            "|---|---|",
            f"| direct to gunicorn, last `make bench` (bench/flash_sale.py: one instance x 3 workers, no retry "
            f"logic) | {direct_figure()} |",
            f"| direct to one gunicorn instance x 2 workers, this run | {sale_figure(direct) if direct else '-'} |",
            f"| through nginx (TLS) to two instances x 2 workers, this run | {sale_figure(baseline)} |",
        ]
    return "\n".join(lines) + "\n"


def write_results(report: str) -> None:
    if not RESULTS:
        return
    path = Path(RESULTS)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    head = text.split("\n## Rehearsal", 1)[0].rstrip("\n")
    path.write_text((head + "\n\n" if head else "") + report, encoding="utf-8")
    log(f"report written to {path}")


def main() -> int:
    for tool in ("nginx", "redis-server", "openssl", str(PG_BIN / "initdb"), str(PG_BIN / "pg_basebackup")):
        if shutil.which(tool) is None:
            print(f"missing {tool}: apt-get install -y nginx redis-server postgresql-15 openssl", file=sys.stderr)
            return 2
    started = datetime.now(UTC)
    folder = Path(tempfile.mkdtemp(prefix="zhijia-rehearsal-"))
    os.chmod(folder, 0o755)
    procs = Processes(folder)
    sink: MailSink | None = None
    rows: list[Row] = []
    baseline: Wave | None = None
    direct: Wave | None = None
    stopping = {"signal": False}

    def on_signal(signum: int, _frame: Any) -> None:
        stopping["signal"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        primary, replica, primary_port, replica_port = start_postgres(folder, procs)
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{primary_port}/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE zhijia")
        redis_port, smtp_port = free_port(), free_port()
        procs.start(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        )
        sink = MailSink(smtp_port)
        metrics_token = secrets.token_urlsafe(24)
        env = dict(os.environ)
        env.pop("SCHEDULER_EMBEDDED", None)
        env.update(
            {
                "APP_ENV": "production",
                "SECRET_KEY": secrets.token_hex(32),
                "FLASK_APP": "wsgi.py",
                "PYTHONPATH": str(ROOT),
                "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
                "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{primary_port}/zhijia",
                "DATABASE_REPLICA_URL": f"postgresql://postgres@127.0.0.1:{replica_port}/zhijia",
                "DATABASE_REPLICA_MAX_LAG_SECONDS": "2",
                "DATABASE_REPLICA_CHECK_SECONDS": "1",
                "DB_POOL_PRE_PING": "1",
                "DB_POOL_SIZE": "5",
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "TRUSTED_PROXY_COUNT": "1",
                "METRICS_TOKEN": metrics_token,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(smtp_port),
                "SERVER_BASE_URL": "https://127.0.0.1",
                "SCHEDULER_DELIVERY_SECONDS": "1",
                "NOTIFY_LEASE_SECONDS": "15",
                "NOTIFY_BATCH": "50",
                "LOG_LEVEL": "WARNING",
            }
        )
        wait_for("redis", lambda: socket.create_connection(("127.0.0.1", redis_port), 1).close() is None)
        tokens = prepare_data(env)
        log(f"{len(tokens)} bookers with API tokens")
        cert, key = make_certificate(folder)
        tls = ssl.create_default_context(cafile=str(cert))
        web_ports, https_port, http_port = [free_port(), free_port()], free_port(), free_port()
        stack = Stack(
            folder,
            procs,
            primary,
            replica,
            primary_port,
            replica_port,
            redis_port,
            smtp_port,
            web_ports,
            https_port,
            env,
            tls,
            metrics_token,
        )
        stack.start_web(0)
        stack.start_web(1)
        start_nginx(folder, procs, web_ports, https_port, http_port, cert, key)
        wait_for("nginx", lambda: http_ok(f"{stack.base}/healthz", tls))
        stack.start_scheduler(0)
        stack.start_scheduler(1)
        wait_for("/readyz through nginx", lambda: http_ok(f"{stack.base}/readyz", tls), 60)
        log(
            f"up: nginx https://127.0.0.1:{https_port} -> gunicorn {web_ports}, 2 schedulers, redis {redis_port}, "
            f"PostgreSQL {primary_port} + replica {replica_port}"
        )
        setup = (
            "nginx (TLS) -> 2 gunicorn instances x 2 sync workers, 2 schedulers, Redis, PostgreSQL 15 primary "
            "+ streaming replica, all on 127.0.0.1"
        )

        row, baseline = fault_baseline(stack, tokens)
        rows.append(row)
        log(f"{row.fault}: {row.figure}")
        row, direct = fault_direct(stack, tokens)
        rows.append(row)
        log(f"{row.fault}: {row.figure}")
        for fault in (
            lambda: [fault_kill_web(stack, tokens)],
            lambda: [fault_restart_primary(stack, tokens[:1000])],
            lambda: fault_replica(stack),
            lambda: [fault_kill_scheduler(stack, sink)],
        ):
            try:
                new_rows = fault()
            except Exception as error:  # a fault that cannot even be measured is a failed row, not a crash
                new_rows = [Row(f"fault raised {type(error).__name__}", str(error)[:300], False, "")]
            for row in new_rows:
                log(f"{row.fault}: {'ok' if row.verdict else 'FAILED'}: {row.figure}")
            rows += new_rows
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
    finally:
        procs.stop_all()
        if sink is not None:
            sink.stop()
        shutil.rmtree(folder, ignore_errors=True) if not os.environ.get("REHEARSAL_KEEP") else log(f"kept {folder}")
    if stopping["signal"] or not rows:
        return 1
    report = render_report(rows, baseline, direct, started, setup)
    print("\n" + report)
    write_results(report)
    return 0 if all(row.verdict for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
