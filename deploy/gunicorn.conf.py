"""Gunicorn settings for production (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``; deploy/systemd/).

The measured defaults of bench/gunicorn.conf.py (sync workers, cores + 1, one thread each, behind nginx: see
bench/README.md), plus what production needs: the bind address from the environment file, and prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, emptied at each start by the unit) told when a worker dies.
"""

from __future__ import annotations

import os
from typing import Any

_cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", str(_cores + 1)))
threads = 1
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
preload_app = False  # each worker opens its own database connections after the fork
accesslog = None  # nginx keeps the access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")
# Restart each worker now and then (with jitter, not all at once): bounds the memory of a long-lived process.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10


def child_exit(_server: Any, worker: Any) -> None:
    """A dead worker's live gauges leave the metrics (prometheus-client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(_worker: Any) -> None:
    """Once the worker has built the app: its startup objects leave the collector's way (app/process.py)."""
    from app.process import settle_after_startup

    settle_after_startup()
