"""Passwords: at least 8 characters, not common, stored with a slow KDF."""

from __future__ import annotations

import pytest

from app.accounts import services as accounts
from app.accounts.models import User
from app.extensions import db

from .. import factories
from ..sms_codes import with_code

FORM = {
    "phone": "13912340000",
    "name": "王芳",
    "gender": "female",
    "birth_date": "1990-05-06",
    "city": "nanchang",
    "employer": "南昌测试厂",
    "enterprise_type": "non_public",
    "industry": "",
}


@pytest.mark.parametrize("password", ["short7!", "password", "12345678", "qwertyuiop", "aaaaaaaaaa", "ababababab"])
def test_short_or_common_passwords_refused_at_registration(client, password):
    response = client.post(
        "/account/register", data={**with_code(client, FORM), "password": password, "password_confirm": password}
    )
    assert response.status_code == 200
    assert db.session.scalar(db.select(User).where(User.phone == FORM["phone"])) is None


@pytest.mark.parametrize("password", ["short7!", "password1", "iloveyou"])
def test_short_or_common_passwords_refused_on_change(employee_client, employee, password):
    old_hash = employee.password_hash
    employee_client.post(
        "/account/password",
        data={"current_password": factories.PASSWORD, "new_password": password, "new_password_confirm": password},
    )
    db.session.refresh(employee)
    assert employee.password_hash == old_hash


def test_reset_refuses_weak_password(client, employee):
    token = accounts.create_password_reset(employee)
    db.session.commit()
    old_hash = employee.password_hash
    client.post(f"/account/reset/{token}", data={"password": "123456789", "password_confirm": "123456789"})
    db.session.refresh(employee)
    assert employee.password_hash == old_hash


def test_good_password_accepted_and_hashed_with_scrypt_by_default(app, client):
    method = app.config.pop("PASSWORD_HASH_METHOD")
    try:
        response = client.post(
            "/account/register",
            data={**with_code(client, FORM), "password": "ganjiang-river-7", "password_confirm": "ganjiang-river-7"},
        )
        assert response.status_code == 302
    finally:
        app.config["PASSWORD_HASH_METHOD"] = method
    user = db.session.scalar(db.select(User).where(User.phone == FORM["phone"]))
    assert user.password_hash.startswith("scrypt:") and "ganjiang" not in user.password_hash
