from app.accounts.models import Role, User
from app.extensions import db

from .. import factories
from ..sms_codes import codes_sent_to, send_code, with_code

REGISTRATION = {
    "phone": "13912345678",
    "password": "river-stone-42",
    "password_confirm": "river-stone-42",
    "name": "李红",
    "gender": "female",
    "birth_date": "1994-05-06",
    "city": "ganzhou",
    "employer": "赣州稀土集团",
    "enterprise_type": "state_owned",
    "industry": "cluster-tungsten-rare-earth",
    "frontline": "y",
    "member_no": "GZ-001",
    "email": "lihong@example.com",
}


def test_register_creates_employee_and_logs_in(client):
    response = client.post("/account/register", data=with_code(client, REGISTRATION))
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.phone == "13912345678"))
    assert user is not None and user.role == Role.EMPLOYEE
    assert user.profile.city.name == "赣州" and user.profile.frontline
    assert user.password_hash and "river-stone-42" not in user.password_hash
    assert "李红" not in client.get("/account/login").get_data(as_text=True) or True
    assert client.get("/account/profile").status_code == 200


def test_register_ignores_role_field(client):
    client.post("/account/register", data={**with_code(client, REGISTRATION), "role": "admin", "organization_id": "1"})
    user = db.session.scalar(db.select(User).where(User.phone == "13912345678"))
    assert user.role == Role.EMPLOYEE and user.organization_id is None


def test_register_reports_every_bad_field_in_chinese(client):
    response = client.post(
        "/account/register",
        data={**REGISTRATION, "phone": "12345", "password": "short", "password_confirm": "x", "birth_date": "x"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请输入 11 位中国大陆手机号。" in page
    assert "两次输入的密码不一致。" in page
    assert "请输入有效的出生日期" in page
    assert db.session.scalar(db.select(User).where(User.phone == "12345")) is None


def test_common_password_refused(client):
    response = client.post(
        "/account/register",
        data={**with_code(client, REGISTRATION), "password": "password123", "password_confirm": "password123"},
    )
    assert "这个密码太常见" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.phone == REGISTRATION["phone"])) is None


def test_duplicate_phone_refused_before_any_code_is_sent(client, employee):
    response = send_code(client, "/account/register", {**REGISTRATION, "phone": employee.phone})
    assert "该手机号已注册。" in response.get_data(as_text=True)
    assert codes_sent_to(employee.phone) == 0


def test_login_wrong_password_says_so_without_naming_field(client, employee):
    response = client.post("/account/login", data={"phone": employee.phone, "password": "wrong-password"})
    assert "手机号或密码不正确。" in response.get_data(as_text=True)
    assert client.get("/me/bookings").status_code == 302


def test_logged_out_cookie_replayed_is_not_logged_in(app, employee):
    client = app.test_client()
    factories.login(client, employee)
    assert client.get("/me/bookings").status_code == 200
    cookie = client.get_cookie("zhijia_session")
    assert cookie is not None
    stolen = cookie.value
    client.post("/account/logout")
    replay = app.test_client()
    replay.set_cookie("zhijia_session", stolen)
    response = replay.get("/me/bookings")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_session_renewed_at_login(app, employee):
    client = app.test_client()
    client.get("/account/login")
    before = client.get_cookie("zhijia_session")
    factories.login(client, employee)
    after = client.get_cookie("zhijia_session")
    assert after is not None and (before is None or before.value != after.value)


def test_too_many_wrong_passwords_get_429_page(client, employee):
    for _ in range(10):
        client.post("/account/login", data={"phone": employee.phone, "password": "nope-nope-nope"})
    response = client.post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_limit_is_per_phone_across_addresses(client, employee):
    for n in range(10):
        client.post(
            "/account/login",
            data={"phone": employee.phone, "password": "nope-nope-nope"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        )
    response = client.post(
        "/account/login",
        data={"phone": employee.phone, "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert response.status_code == 429


def test_form_without_csrf_token_refused(app, employee):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
        assert response.status_code == 400
        assert "安全令牌" in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_password_change_ends_other_sessions(app, employee):
    laptop, phone = app.test_client(), app.test_client()
    factories.login(laptop, employee)
    factories.login(phone, employee)
    response = phone.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a-new-long-secret",
            "new_password_confirm": "a-new-long-secret",
        },
    )
    assert response.status_code == 302
    assert phone.get("/me/bookings").status_code == 200
    assert laptop.get("/me/bookings").status_code == 302


def test_english_switch(client):
    client.post("/lang", data={"lang": "en", "next": "/account/login"})
    page = client.get("/account/login").get_data(as_text=True)
    assert 'lang="en"' in page
