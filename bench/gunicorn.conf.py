"""Gunicorn settings for the benchmarks and for production (``gunicorn -c bench/gunicorn.conf.py wsgi:app``).

Every value can be overridden from the environment so ``bench/flash_sale.py`` can compare settings. Why these
defaults on a 2-core machine (measurements in bench/README.md and bench/results.md):

- ``gthread`` workers, ``workers = cores`` and ``threads = 4``: a booking request spends most of its time
  waiting on PostgreSQL (the slot's row lock, the commit's WAL flush), so a few threads per process overlap
  those waits while one process per core spreads the Python work over both cores despite the GIL. More
  processes only add more connections queueing on the same row lock and more context switches.
- each thread needs one database connection: the app's pool (``DB_POOL_SIZE``) must be >= ``threads``; the
  flash-sale script sets ``DB_POOL_SIZE`` to max(5, threads). Total connections = workers x threads, far below
  PostgreSQL's max_connections, so a hot row is contended by at most 8 transactions instead of 128.
- the listen ``backlog`` holds the connections that wait for a free thread (128 concurrent clients).
- ``keepalive`` keeps the load generator's connections open between requests (as a phone's browser does).
- no access log (one line per request is measurable at thousands of requests per second).
"""

from __future__ import annotations

import os

_cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", str(_cores)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
# Each worker imports the app itself after the fork, so no database connection is shared across processes.
preload_app = False
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")
