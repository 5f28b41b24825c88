"""Gunicorn settings for the benchmarks and for production (``gunicorn -c bench/gunicorn.conf.py wsgi:app``).

Every value can be overridden from the environment so ``bench/flash_sale.py`` can compare settings. Why these
defaults on a 2-core machine (measurements in bench/README.md and bench/results.md):

- ``sync`` workers, ``workers = cores + 1``, one thread each: a booking request is mostly Python work (about
  3.5–4 ms of CPU against 1 ms in PostgreSQL on a 2-core machine), so threads inside one process only queue on the
  GIL; one process per core plus one to cover the time a worker waits on PostgreSQL (the slot's row lock, the
  commit) gave the most bookings per second and the lowest p99 in bench/flash_sale.py (sync 3x1 against
  gthread 2x4, 4x2, 3x2 and sync 4x1: see bench/README.md). Sync workers expect a buffering reverse proxy
  (nginx) in front, as gunicorn's documentation advises, so a slow phone connection never holds a worker.
- each worker needs one database connection (``DB_POOL_SIZE`` >= threads; the flash-sale script sets
  max(5, threads)), so a hot slot row is contended by at most ``workers`` transactions, not by 128.
- the listen ``backlog`` holds the connections that wait for a free worker (128 concurrent clients).
- ``keepalive`` applies to threaded workers (sync workers close each connection, the proxy keeps the phones').
- no access log (one line per request is measurable at thousands of requests per second).
"""

from __future__ import annotations

import os
from typing import Any

_cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS", str(_cores + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
# Each worker imports the app itself after the fork, so no database connection is shared across processes.
preload_app = False
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")


def post_worker_init(_worker: Any) -> None:
    """Once the worker has built the app: its startup objects leave the collector's way (app/process.py)."""
    from app.process import settle_after_startup

    settle_after_startup()
