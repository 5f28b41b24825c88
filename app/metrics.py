"""Prometheus metrics (prometheus-client): request latency, bookings by outcome, the outbox's backlog and age,
and whatever features add (the scheduler: task runs and failures) — on ``GET /metrics``, which is not public.

Who may read it: a request with ``Authorization: Bearer <METRICS_TOKEN>`` (the Prometheus server), or a logged-in
federation admin. Anyone else gets 404, as for a page that does not exist.

Under gunicorn every worker is its own process: with ``PROMETHEUS_MULTIPROC_DIR`` set (deploy/zhijia.env.example;
an empty folder per service start) the counters of all workers are added up through prometheus-client's
multiprocess mode (deploy/gunicorn.conf.py marks dead workers). Figures that live in the database (outbox,
task runs) are read at each scrape, so every host gives the same answer.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from . import clock

bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "zhijia_http_request_duration_seconds",
    "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOOKINGS = Counter(
    "zhijia_bookings",
    "Booking attempts through the API by outcome: a status (confirmed, waitlisted, pending) or an error code.",
    ["outcome"],
)
REPLICA_READS = Counter(
    "zhijia_lagging_reads",
    "Views that may read a replica (statistics, public figures), by the database that answered them.",
    ["source"],
)

# Features add collectors of their own figures (read from the database at each scrape).
DatabaseCollector = Callable[[datetime], Iterable[Metric]]
_database_collectors: list[DatabaseCollector] = []


def register_database_collector(collector: DatabaseCollector) -> None:
    if collector not in _database_collectors:
        _database_collectors.append(collector)


def count_booking(outcome: str) -> None:
    BOOKINGS.labels(outcome=outcome).inc()


def count_read(source: str) -> None:
    REPLICA_READS.labels(source=source).inc()


class _FromDatabase(Collector):
    def collect(self) -> Iterable[Metric]:
        now = clock.now()
        for collector in _database_collectors:
            yield from collector(now)


def _process_registry() -> CollectorRegistry:
    """This process's metrics, or all workers' when prometheus-client's multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def allowed() -> bool:
    """The Prometheus server (bearer METRICS_TOKEN) or a logged-in admin."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    from flask_login import current_user

    return bool(current_user.is_authenticated and current_user.is_admin)


@bp.get("/metrics")
def metrics() -> Response:
    if not allowed():
        abort(404)
    database = CollectorRegistry(auto_describe=False)
    database.register(_FromDatabase())
    body = generate_latest(_process_registry()) + generate_latest(database)
    return Response(body, mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("request_started")
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
