"""Security headers on every page, for every role, and HSTS only over HTTPS."""

from __future__ import annotations

import pytest

from app.extensions import db

from .. import factories
from .world import build_world, fill, object_args, rules


def check_headers(response, url: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp, url
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, url
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if " " in part.strip())
    assert directives.get("script-src") == "'self'", url
    assert directives.get("frame-ancestors") == "'none'", url
    assert directives.get("object-src") == "'none'", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin", "no-referrer"), url
    assert headers.get("X-Frame-Options") == "DENY", url


@pytest.mark.parametrize("role", ["anonymous", "employee", "organizer", "admin"])
def test_every_get_page_has_strict_headers_and_no_server_error(app, role):
    world = build_world()
    client = app.test_client()
    if role != "anonymous":
        factories.login(client, {"employee": world.attacker, "organizer": world.organizer, "admin": world.admin}[role])
    visited = with_ids = 0
    for rule in rules(app, "GET"):
        url = fill(rule, world, foreign=False)
        # /readyz answers 503 by design while the test database has no migration stamp or scheduler heartbeat
        # (tests/production/test_readiness_and_metrics.py covers it).
        if url is None or rule.endpoint in ("web.healthz", "web.readyz"):
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        check_headers(response, url)
        assert "Strict-Transport-Security" not in response.headers, url
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            assert "<script>" not in page and " style=" not in page and "javascript:" not in page, url
        visited += 1
        with_ids += bool(object_args(rule))
    assert visited >= 8 and with_ids >= 3
    db.session.rollback()


def test_static_files_and_error_pages_have_headers_too(client):
    check_headers(client.get("/static/app.css"), "/static/app.css")
    check_headers(client.get("/no-such-page"), "404")
    check_headers(client.post("/"), "405")


def test_hsts_when_served_over_https(app, employee):
    client = app.test_client()
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_personal_pages_are_not_cached(employee_client):
    assert employee_client.get("/me/bookings").headers["Cache-Control"] == "no-store"
    assert employee_client.get("/privacy/export").headers["Cache-Control"] == "no-store"


def test_behind_a_tls_proxy_hsts_is_sent_and_limits_key_on_the_client(app, employee):
    from app.security import trust_proxies

    original = app.wsgi_app
    trust_proxies(app, 1)
    try:
        client = app.test_client()
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        assert "Strict-Transport-Security" in client.get("/", headers=forwarded).headers
        for _ in range(10):
            client.post(
                "/account/login", data={"phone": "13900000000", "password": "wrong-password"}, headers=forwarded
            )
        other = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.8"}
        assert (
            client.post(
                "/account/login", data={"phone": "13900000009", "password": "x-wrong-1"}, headers=forwarded
            ).status_code
            == 429
        )
        assert (
            client.post(
                "/account/login", data={"phone": "13900000009", "password": "x-wrong-1"}, headers=other
            ).status_code
            == 200
        )
    finally:
        app.wsgi_app = original
