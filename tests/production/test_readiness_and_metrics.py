"""/readyz (database, migrations, scheduler heartbeat) and the Prometheus endpoint, which is not public."""

from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app import clock
from app.extensions import db
from app.outbox.models import OutboxMessage, OutboxStatus
from app.scheduler.models import SchedulerHeartbeat
from app.web import _migration_heads

from .. import factories

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def stamped(app):
    """The test database (built by create_all) marked as being at the code's migration head."""
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    for head in _migration_heads():
        db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    db.session.commit()
    yield
    db.session.rollback()
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()


def beat(at: datetime, stopped: bool = False) -> None:
    db.session.add(
        SchedulerHeartbeat(
            process_id=f"host:{at.second}:x",
            host="host",
            pid=1,
            started_at=at,
            last_beat_at=at,
            stopped_at=at if stopped else None,
        )
    )
    db.session.commit()


def test_ready_when_database_migrations_and_scheduler_are(client, stamped):
    clock.set_now(NOW)
    beat(NOW - timedelta(seconds=20))
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"status": "ready"}


def test_not_ready_without_a_fresh_scheduler_heartbeat(client, stamped):
    clock.set_now(NOW)
    assert client.get("/readyz").json["failures"].keys() == {"scheduler"}
    beat(NOW - timedelta(minutes=10))
    beat(NOW - timedelta(seconds=5), stopped=True)
    response = client.get("/readyz")
    assert response.status_code == 503 and "heartbeat" in response.json["failures"]["scheduler"]
    assert client.get("/healthz").status_code == 200  # alive, only not ready


def test_not_ready_when_the_database_is_not_at_the_migration_head(client, stamped):
    clock.set_now(NOW)
    beat(NOW)
    db.session.execute(text("UPDATE alembic_version SET version_num = '24f6252128c7'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "24f6252128c7" in response.json["failures"]["migrations"]


def test_not_ready_when_never_migrated(client):
    clock.set_now(NOW)
    beat(NOW)
    response = client.get("/readyz")
    assert response.status_code == 503 and "no revision" in response.json["failures"]["migrations"]


def test_not_ready_when_the_database_is_unreachable(tmp_path):
    from app import create_app
    from tests.conftest import TEST_CONFIG

    unreachable = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/db.sqlite3"})
    response = unreachable.test_client().get("/readyz")
    assert response.status_code == 503 and "database" in response.json["failures"]


def scrape(response) -> dict[tuple[str, tuple], float]:
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
def metrics_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "prometheus-scrape-token-2026")
    return {"Authorization": "Bearer prometheus-scrape-token-2026"}


def test_metrics_are_refused_to_the_public_employees_and_wrong_tokens(client, employee_client, metrics_token):
    assert client.get("/metrics").status_code == 404
    assert employee_client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_without_a_configured_token_only_for_admins(client, admin_client):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert admin_client.get("/metrics").status_code == 200


def test_metrics_show_latency_bookings_outbox_and_task_runs(client, metrics_token, app):
    clock.set_now(NOW)
    slot_id = factories.make_event(capacity=1).slots[0].id
    before = scrape(client.get("/metrics", headers=metrics_token))
    tokens = [factories.api_token(factories.make_employee()) for _ in range(2)]
    for token in tokens:
        client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers={"Authorization": f"Bearer {token}"})
    client.post(f"/api/v1/slots/{slot_id}/registrations", json={}, headers={"Authorization": f"Bearer {tokens[0]}"})
    db.session.execute(
        OutboxMessage.__table__.update().values(due_at=NOW - timedelta(minutes=7), status=OutboxStatus.PENDING)
    )
    db.session.commit()
    from app.scheduler.runner import SchedulerRunner
    from app.tasks import registered_tasks

    expire_offers = next(task for task in registered_tasks() if task.name == "booking.expire_offers")
    SchedulerRunner(app, process_id="metrics-test").run_task(expire_offers)
    after = scrape(client.get("/metrics", headers=metrics_token))

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("zhijia_bookings_total", outcome="confirmed") == 1
    assert grew("zhijia_bookings_total", outcome="waitlisted") == 1
    assert grew("zhijia_bookings_total", outcome="already_registered") == 1
    assert (
        grew(
            "zhijia_http_request_duration_seconds_count",
            endpoint="api.create_registration",
            method="POST",
            status="201",
        )
        == 2
    )
    pending = db.session.scalar(text("SELECT count(*) FROM outbox_messages WHERE status = 'PENDING'"))
    assert pending and after[("zhijia_outbox_backlog", ())] == pending
    assert after[("zhijia_outbox_oldest_due_seconds", ())] == 7 * 60
    assert after[("zhijia_scheduler_task_runs_total", (("task", "booking.expire_offers"),))] == 1
    assert after[("zhijia_scheduler_task_failures_total", (("task", "booking.expire_offers"),))] == 0
