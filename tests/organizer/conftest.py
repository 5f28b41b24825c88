"""Fixtures for the organizer console: organization A is the Nanchang city federation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import User

from .. import factories


@pytest.fixture
def login_client(app: Flask) -> Callable[[User], FlaskClient]:
    def make(user: User) -> FlaskClient:
        client = app.test_client()
        factories.login(client, user)
        return client

    return make
