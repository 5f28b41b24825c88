"""Web sessions and API tokens: tokens expire (idle and absolute), a person sees their sessions and tokens on the
account's devices page and revokes any of them or all at once, and an API client can revoke its own token."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.accounts import sessions
from app.accounts.models import ApiToken, LoginSession
from app.extensions import db

from .. import factories

NOW = datetime(2026, 3, 10, 9, 0)
PHONE_BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
WECHAT_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003133) NetType/WIFI Language/zh_CN"
)
LAPTOP_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_now(NOW)


def _login(app, user, user_agent: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    factories.login(client, user)
    return client


def _token(client, user, user_agent: str = "zhijia-android/2.3 okhttp/4.12") -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/tokens", json={"phone": user.phone, "password": factories.PASSWORD}, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 201
    return response.get_json()["token"]


def _api(client, token: str) -> int:  # type: ignore[no-untyped-def]
    return client.get("/api/v1/me/registrations", headers={"Authorization": f"Bearer {token}"}).status_code


def _session_ids(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(LoginSession.id).where(LoginSession.user_id == user.id).order_by(LoginSession.created_at)
        )
    )


# --- token lifetimes ------------------------------------------------------------------------------------------


def test_an_idle_token_is_refused(app, client, employee):
    idle = timedelta(days=app.config["API_TOKEN_IDLE_DAYS"])
    token = _token(client, employee)
    clock.advance(idle - timedelta(hours=1))
    assert _api(client, token) == 200  # use renews the idle timer (a GET, nothing else commits)
    clock.advance(idle - timedelta(hours=1))
    assert _api(client, token) == 200
    clock.advance(idle + timedelta(minutes=1))
    response = client.get("/api/v1/me/registrations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_a_token_dies_at_its_absolute_lifetime_even_when_used(app, client, employee):
    absolute = timedelta(days=app.config["API_TOKEN_ABSOLUTE_DAYS"])
    step = timedelta(days=app.config["API_TOKEN_IDLE_DAYS"]) - timedelta(hours=1)
    token = _token(client, employee)
    used = timedelta(0)
    while used + step < absolute:
        clock.advance(step)
        used += step
        assert _api(client, token) == 200
    clock.advance(absolute - used + timedelta(minutes=1))
    assert _api(client, token) == 401


def test_logout_ends_the_web_session_but_not_the_apps_token(app, employee):
    browser = _login(app, employee, PHONE_BROWSER)
    token = _token(browser, employee)
    browser.post("/account/logout")
    assert browser.get("/me/bookings").status_code == 302
    assert _api(app.test_client(), token) == 200


# --- DELETE /api/v1/tokens/current -------------------------------------------------------------------------


def test_an_api_client_revokes_its_own_token(app, client, employee):
    token, other = _token(client, employee), _token(client, employee)
    response = client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    assert _api(client, token) == 401
    assert client.delete("/api/v1/tokens/current", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _api(client, other) == 200, "only the token that asked is revoked"


def test_deleting_the_current_token_needs_a_token(client):
    response = client.delete("/api/v1/tokens/current")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_the_openapi_document_describes_token_revocation(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/tokens/current"]["delete"]
    assert set(operation["responses"]) == {"204", "401"} and operation["security"]


# --- the devices page ----------------------------------------------------------------------------------------


def test_the_page_lists_sessions_and_tokens_with_device_and_times_never_the_token(app, employee):
    laptop = _login(app, employee, LAPTOP_BROWSER)
    clock.advance(timedelta(hours=1))
    phone = _login(app, employee, WECHAT_IPHONE)
    token = _token(phone, employee)
    clock.advance(timedelta(minutes=30))
    assert laptop.get("/me/bookings").status_code == 200  # the laptop was last used now
    page = phone.get("/account/devices").get_data(as_text=True)
    assert "Edge · Windows" in page and "WeChat · iPhone" in page and "zhijia-android" in page
    assert "2026-03-10 09:00" in page and "2026-03-10 10:00" in page and "2026-03-10 10:30" in page
    assert "当前设备" in page
    stored = db.session.scalars(select(ApiToken.token_hash)).one()
    assert token not in page and stored not in page
    for session_id in _session_ids(employee):
        assert session_id not in page, "session ids are secrets: the page names sessions by a handle"
    assert "/account/devices" in phone.get("/account/profile").get_data(as_text=True)


def test_a_revoked_session_is_logged_out_on_its_next_request(app, employee):
    laptop = _login(app, employee, LAPTOP_BROWSER)
    phone = _login(app, employee, PHONE_BROWSER)
    laptop_session = _session_ids(employee)[0]
    handle = sessions.public_handle(laptop_session)
    assert f"/account/devices/sessions/{handle}/revoke" in phone.get("/account/devices").get_data(as_text=True)
    response = phone.post(f"/account/devices/sessions/{handle}/revoke")
    assert response.status_code == 302
    assert laptop.get("/me/bookings").status_code == 302
    assert phone.get("/me/bookings").status_code == 200
    assert db.session.get(LoginSession, laptop_session).revoked_at == NOW


def test_a_token_is_revoked_from_the_page(app, employee):
    phone = _login(app, employee, PHONE_BROWSER)
    token = _token(phone, employee)
    token_id = db.session.scalars(select(ApiToken.id)).one()
    assert phone.post(f"/account/devices/tokens/{token_id}/revoke").status_code == 302
    assert _api(phone, token) == 401
    assert "zhijia-android" not in phone.get("/account/devices").get_data(as_text=True)


def test_log_out_everywhere_ends_every_session_and_token(app, employee):
    laptop = _login(app, employee, LAPTOP_BROWSER)
    phone = _login(app, employee, PHONE_BROWSER)
    token = _token(phone, employee)
    response = phone.post("/account/devices/revoke-all")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert phone.get("/me/bookings").status_code == 302
    assert laptop.get("/me/bookings").status_code == 302
    assert _api(app.test_client(), token) == 401
    factories.login(phone, employee)  # a new login works again, with a fresh session
    assert phone.get("/me/bookings").status_code == 200


def test_another_persons_session_and_token_answer_404(app, employee):
    stranger = factories.make_employee()
    stranger_client = _login(app, stranger, LAPTOP_BROWSER)
    stranger_token = _token(stranger_client, stranger)
    stranger_session = _session_ids(stranger)[0]
    stranger_token_id = db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == stranger.id)).one()
    mine = _login(app, employee, PHONE_BROWSER)
    handle = sessions.public_handle(stranger_session)
    assert mine.post(f"/account/devices/sessions/{handle}/revoke").status_code == 404
    assert mine.post(f"/account/devices/sessions/{stranger_session}/revoke").status_code == 404
    assert mine.post(f"/account/devices/tokens/{stranger_token_id}/revoke").status_code == 404
    assert stranger_client.get("/me/bookings").status_code == 200
    assert _api(app.test_client(), stranger_token) == 200


def test_the_revoke_forms_need_the_csrf_token(app, employee):
    laptop = _login(app, employee, LAPTOP_BROWSER)
    phone = _login(app, employee, PHONE_BROWSER)
    token = _token(phone, employee)
    handle = sessions.public_handle(_session_ids(employee)[0])
    token_id = db.session.scalars(select(ApiToken.id)).one()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for path in (
            f"/account/devices/sessions/{handle}/revoke",
            f"/account/devices/tokens/{token_id}/revoke",
            "/account/devices/revoke-all",
        ):
            assert phone.post(path).status_code == 400, path
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert laptop.get("/me/bookings").status_code == 200
    assert phone.get("/me/bookings").status_code == 200
    assert _api(phone, token) == 200


def test_revoking_needs_a_login(client):
    response = client.post("/account/devices/revoke-all")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("user_agent", "summary"),
    [
        (PHONE_BROWSER, "Chrome · Android"),
        (WECHAT_IPHONE, "WeChat · iPhone"),
        (LAPTOP_BROWSER, "Edge · Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
            "Safari · macOS",
        ),
        ("zhijia-android/2.3 okhttp/4.12", "zhijia-android"),
        ("", ""),
        ("\x00\x01" + "x" * 500, "x" * 40),
    ],
)
def test_device_summary(user_agent, summary):
    assert sessions.device_summary(user_agent) == summary
