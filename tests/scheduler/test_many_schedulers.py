"""Several schedulers against one PostgreSQL database: each message reaches the SMTP server exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from app import clock
from app.extensions import db
from app.notifications import delivery
from app.outbox.models import OutboxMessage, OutboxStatus

from ..notifications.factories import freeze, generic, person, postgres_only

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [postgres_only]


def _messages(count_users: int, per_user: int) -> list[int]:
    ids: list[int] = []
    for _ in range(count_users):
        user = person()
        for n in range(per_user):
            ids += generic(user, f"bulk-{n}")
    return ids


def _status_counts() -> dict[str, int]:
    db.session.expire_all()
    counts: dict[str, int] = {}
    for status in db.session.scalars(db.select(OutboxMessage.status)):
        counts[status.value] = counts.get(status.value, 0) + 1
    return counts


def test_two_scheduler_threads_deliver_each_message_exactly_once(app, smtp):
    freeze()
    ids = _messages(40, 5)
    db.session.commit()
    barrier = threading.Barrier(2)
    reports: dict[str, delivery.TickReport] = {}
    errors: list[BaseException] = []

    def scheduler(name: str) -> None:
        try:
            with app.app_context():
                barrier.wait()
                reports[name] = delivery.tick(owner=name, batch=7)
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler, args=(f"host-{n}:1:t",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    message_ids = smtp.message_ids()
    assert len(message_ids) == len(ids) == 200
    assert len(set(message_ids)) == 200  # no duplicates
    assert sum(report.sent for report in reports.values()) == 200
    assert _status_counts() == {"sent": 200}


def _env(app, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLASK_APP": "wsgi.py",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_PORT": str(smtp_port),
            "MAIL_SERVER": "127.0.0.1",
            "SERVER_BASE_URL": "http://localhost",
            "SCHEDULER_EMBEDDED": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def test_two_scheduler_processes_deliver_each_message_exactly_once(app, smtp, wall_clock):
    # Written on the real clock, as the processes run on it: messages dated at the suite's frozen moment would be
    # months old to them, and the outbox retention task of one would purge what the other had just sent.
    ids = _messages(30, 5)
    db.session.commit()
    port = app.config["MAIL_PORT"]
    flask = str(Path(sys.executable).with_name("flask"))
    processes = [
        subprocess.Popen(
            [flask, "scheduler", "run", "--once"],
            cwd=ROOT,
            env=_env(app, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=180)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    message_ids = smtp.message_ids()
    assert len(message_ids) == len(ids) == 150 and len(set(message_ids)) == 150
    assert _status_counts() == {"sent": 150}


CLAIM_AND_HANG = """
import sys, time
from app import create_app
from app.notifications import delivery
app = create_app()
with app.app_context():
    ids = delivery.claim("doomed-host:1:x", limit=100)
    print("claimed", len(ids), flush=True)
    time.sleep(600)
"""


def test_a_killed_scheduler_process_leaves_a_lease_that_expires_and_the_message_goes_once(app, smtp):
    user = person()
    [message_id] = generic(user, "killed")
    db.session.commit()
    process = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_HANG],
        cwd=ROOT,
        env=_env(app, app.config["MAIL_PORT"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == "claimed 1", line + process.stdout.read()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    row = db.session.get(OutboxMessage, message_id)
    db.session.refresh(row)
    assert row.lease_owner == "doomed-host:1:x" and row.status == OutboxStatus.PENDING

    assert delivery.tick(owner="survivor").claimed == 0  # the lease still holds
    clock.set_now(row.lease_until + timedelta(seconds=1))
    assert delivery.tick(owner="survivor").sent == 1
    assert len(smtp.to(user.email)) == 1
    clock.advance(timedelta(hours=1))
    assert delivery.tick(owner="survivor").claimed == 0 and len(smtp.messages) == 1
