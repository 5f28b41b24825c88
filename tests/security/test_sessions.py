"""Cookies, session timeouts (frozen clock), sessions renewed at login and dead after logout or a password change."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from app import clock
from app.config import load_config
from app.extensions import db

from .. import factories


def _session_cookie_header(response) -> str:
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("zhijia_session=")]
    assert cookies, "login sets the session cookie"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite(app, employee):
    response = app.test_client().post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
    header = _session_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_session_cookie_is_secure_in_production(app, employee, tmp_path: Path):
    config = load_config(
        tmp_path, {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "RATELIMIT_ALLOW_PER_PROCESS_MEMORY": True}
    )
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = app.test_client().post(
            "/account/login",
            data={"phone": employee.phone, "password": factories.PASSWORD},
            base_url="https://localhost",
        )
        assert "Secure" in _session_cookie_header(response)
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_idle_timeout(app, employee):
    clock.set_now(clock.now())
    client = app.test_client()
    factories.login(client, employee)
    clock.advance(timedelta(minutes=119))
    assert client.get("/me/bookings").status_code == 200  # activity renews the idle timer
    clock.advance(timedelta(minutes=119))
    assert client.get("/me/bookings").status_code == 200
    clock.advance(timedelta(minutes=121))
    response = client.get("/me/bookings")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_absolute_timeout_even_when_active(app, employee):
    clock.set_now(clock.now())
    client = app.test_client()
    factories.login(client, employee)
    for _ in range(71):
        clock.advance(timedelta(hours=1))
        assert client.get("/me/bookings").status_code == 200
    clock.advance(timedelta(hours=1, minutes=1))
    assert client.get("/me/bookings").status_code == 302


def test_login_issues_a_fresh_session_id(app, employee):
    client = app.test_client()
    client.get("/account/login")
    before = client.get_cookie("zhijia_session")
    factories.login(client, employee)
    first = client.get_cookie("zhijia_session").value
    client.post("/account/logout")
    factories.login(client, employee)
    second = client.get_cookie("zhijia_session").value
    assert first != second and (before is None or before.value not in (first, second))


def test_password_change_ends_other_sessions_and_keeps_this_one(app, employee):
    phone_client, laptop_client = app.test_client(), app.test_client()
    factories.login(phone_client, employee)
    factories.login(laptop_client, employee)
    stolen = laptop_client.get_cookie("zhijia_session").value
    response = phone_client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "ganjiang-river-7",
            "new_password_confirm": "ganjiang-river-7",
        },
    )
    assert response.status_code == 302
    assert phone_client.get("/me/bookings").status_code == 200
    assert laptop_client.get("/me/bookings").status_code == 302
    replay = app.test_client()
    replay.set_cookie("zhijia_session", stolen)
    assert replay.get("/me/bookings").status_code == 302


def test_logout_kills_the_session_server_side(app, employee):
    client = app.test_client()
    factories.login(client, employee)
    stolen = client.get_cookie("zhijia_session").value
    client.post("/account/logout")
    replay = app.test_client()
    replay.set_cookie("zhijia_session", stolen)
    assert replay.get("/me/bookings").status_code == 302


def test_logout_needs_post(employee_client):
    assert employee_client.get("/account/logout").status_code == 405
    assert employee_client.get("/me/bookings").status_code == 200


def test_deleted_account_session_is_dead(app, employee):
    client = app.test_client()
    factories.login(client, employee)
    employee.is_active_account = False
    db.session.commit()
    assert client.get("/me/bookings").status_code == 302


def test_password_reset_ends_every_session(app, employee):
    from app.accounts import services as accounts

    client = app.test_client()
    factories.login(client, employee)
    token = accounts.create_password_reset(employee)
    db.session.commit()
    response = app.test_client().post(
        f"/account/reset/{token}", data={"password": "lushan-cloud-88", "password_confirm": "lushan-cloud-88"}
    )
    assert response.status_code == 302
    assert client.get("/me/bookings").status_code == 302
    again = app.test_client().post(
        f"/account/reset/{token}", data={"password": "lushan-cloud-99", "password_confirm": "lushan-cloud-99"}
    )
    assert again.status_code == 302 and "/account/reset" in again.headers["Location"]


def test_no_open_redirect_after_login_or_language_switch(app, employee):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        client = app.test_client()
        response = client.post(
            f"/account/login?next={target}", data={"phone": employee.phone, "password": factories.PASSWORD}
        )
        assert response.status_code == 302
        switched = client.post("/lang", data={"lang": "en", "next": target})
        for location in (response.headers["Location"], switched.headers["Location"]):
            parts = urlsplit(location)
            assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
            assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
