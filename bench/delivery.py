"""Delivery rate of the outbox (issue 8): 10,000 due reminders to a local SMTP server (aiosmtpd), delivered by one
and then by two scheduler processes on PostgreSQL. Prints messages per second and the number of duplicates (must
be 0) and of messages lost (must be 0).

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/delivery.py
    (BENCH_DATABASE_URL is preferred when set; the benchmark creates and drops its own database)

Options: --messages N (default 10000), --processes 1,2 (default), --batch N (claim size, default 100).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import admin_url, create_postgres, drop_postgres  # noqa: E402 - bench/ is on the path when a benchmark runs


def _config(url: str, port: int, batch: int) -> dict[str, object]:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "SERVER_BASE_URL": "http://bench.local",
        "NOTIFY_BATCH": batch,
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_EMBEDDED": False,
    }


def _seed(url: str, port: int, messages: int) -> None:
    """``messages`` due reminders, one per person, about events of 1,000 attendees each (the shape of a day's
    reminders: everyone booked on an event is told the same thing), inserted in bulk."""
    from sqlalchemy import insert

    from app import clock, create_app
    from app.accounts.models import Role, User
    from app.extensions import db
    from app.outbox.models import OutboxMessage, OutboxStatus

    app = create_app(_config(url, port, 100))
    with app.app_context():
        db.create_all()
        people = messages
        now = clock.now()
        db.session.execute(
            insert(User),
            [
                {
                    "phone": f"139{n:08d}",
                    "name": f"职工{n}",
                    "email": f"worker{n}@bench.local",
                    "role": Role.EMPLOYEE,
                    "locale": "zh_CN",
                    "is_active_account": True,
                    "created_at": now,
                }
                for n in range(people)
            ],
        )
        ids = list(db.session.scalars(db.select(User.id).order_by(User.id)))
        rows = []
        for n in range(messages):
            user_id = ids[n % people]
            rows.append(
                {
                    "user_id": user_id,
                    "channel": "email",
                    "kind": "reminder",
                    "template": "notice",
                    "data": {
                        "title": f"活动提醒：职工健康讲座 第{n // 1000 + 1}场",
                        "body": "请准时参加。",
                        "link": "/me/bookings",
                    },
                    "essential": False,
                    "idempotency_key": f"{user_id}:bench:{n}:reminder:email",
                    "due_at": now - timedelta(minutes=1),
                    "expires_at": now + timedelta(days=1),
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                }
            )
        db.session.execute(insert(OutboxMessage), rows)
        db.session.commit()
        db.engine.dispose()


def _reset(url: str, port: int) -> None:
    from sqlalchemy import update

    from app import create_app
    from app.extensions import db
    from app.outbox.models import OutboxMessage, OutboxStatus

    app = create_app(_config(url, port, 100))
    with app.app_context():
        db.session.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.PENDING, attempts=0, lease_owner=None, lease_until=None, sent_at=None
            )
        )
        db.session.commit()
        db.engine.dispose()


def _count_sent(url: str, port: int) -> int:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.outbox.models import OutboxMessage, OutboxStatus

    app = create_app(_config(url, port, 100))
    with app.app_context():
        sent = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        db.engine.dispose()
        return int(sent or 0)


def worker(url: str, port: int, owner: str, batch: int) -> None:
    """One scheduler process: delivery ticks until nothing is left to claim."""
    from app import create_app
    from app.notifications import delivery
    from app.process import settle_after_startup

    app = create_app(_config(url, port, batch))
    settle_after_startup()  # as the scheduler process does (app/process.py)
    with app.app_context():
        total = 0
        cpu = time.process_time()
        while True:
            report = delivery.tick(owner=owner)
            total += report.sent
            if report.claimed == 0:
                break
        print(f"{owner} sent {total} cpu {time.process_time() - cpu:.3f}", flush=True)


def _run(url: str, port: int, processes: int, batch: int) -> tuple[float, float, float]:
    """Wall seconds of the run, the scheduler processes' CPU seconds while delivering, and this process's CPU
    seconds meanwhile (the mail server's thread: the only thing this process does during the run)."""
    started, server_cpu = time.perf_counter(), time.process_time()
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, str(port), f"bench-{n}:{os.getpid()}", str(batch)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    sender_cpu = 0.0
    for child in children:
        output, _ = child.communicate()
        sender_cpu += float(output.split(" cpu ")[-1])
    return time.perf_counter() - started, sender_cpu, time.process_time() - server_cpu


def main(argv: list[str] | None = None) -> list[dict[str, str]] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--worker", nargs=4, metavar=("URL", "PORT", "OWNER", "BATCH"))
    args = parser.parse_args(argv)
    if args.worker:
        url, port, owner, batch = args.worker
        worker(url, int(port), owner, int(batch))
        return None

    sys.path.insert(0, str(ROOT / "tests" / "notifications"))
    from tests.notifications.smtp import SmtpServer, free_port

    server = SmtpServer(free_port())
    server.start()
    if not admin_url(default=None):
        sys.exit("bench/delivery.py needs PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL")
    name, url = create_postgres()
    results = []
    try:
        _seed(url, server.port, args.messages)
        for count in [int(p) for p in args.processes.split(",")]:
            _reset(url, server.port)
            server.handler.clear()
            elapsed, sender_cpu, server_cpu = _run(url, server.port, count, args.batch)
            ids = server.handler.message_ids()
            duplicates = len(ids) - len(set(ids))
            lost = args.messages - len(set(ids))
            sent = _count_sent(url, server.port)
            results.append((count, len(ids), elapsed, duplicates, lost, sent, sender_cpu, server_cpu))
    finally:
        server.stop()
        drop_postgres(name)

    print()
    print(f"Outbox delivery: {args.messages} due reminders → local SMTP (aiosmtpd), PostgreSQL, batch {args.batch}")
    print(
        f"{'processes':>9} {'received':>9} {'seconds':>8} {'msg/s':>8} {'duplicates':>10} {'lost':>5} {'rows sent':>9}"
        f" {'sender CPU ms/msg':>17} {'server CPU ms/msg':>17}"
    )
    from app.notifications.delivery import DEFAULT_SEND_GROUP

    rows = []
    for count, received, elapsed, duplicates, lost, sent, sender_cpu, server_cpu in results:
        rate = received / elapsed if elapsed else 0.0
        per_sender = sender_cpu / received * 1000 if received else 0.0
        per_server = server_cpu / received * 1000 if received else 0.0
        print(
            f"{count:>9} {received:>9} {elapsed:>8.1f} {rate:>8.0f} {duplicates:>10} {lost:>5} {sent:>9}"
            f" {per_sender:>17.2f} {per_server:>17.2f}"
        )
        rows.append(
            {
                "benchmark": f"reminder delivery, {count} scheduler process{'es' if count > 1 else ''}",
                "figure": f"{rate:.0f} msg/s",
                "detail": f"{args.messages:,} due reminders to a local SMTP server, batch {args.batch}, send group "
                f"{DEFAULT_SEND_GROUP}: received {received:,}, duplicates "
                f"{duplicates}, lost {lost}; scheduler CPU {per_sender:.2f} ms/msg, mail server CPU "
                f"{per_server:.2f} ms/msg",
            }
        )
    return rows


if __name__ == "__main__":
    main()
