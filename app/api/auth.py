"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from ..accounts.models import User
from ..accounts.services import user_for_api_token
from ..errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401

    def default_message(self) -> str:
        from flask_babel import gettext as _

        return _("缺少或无效的访问令牌。")


def api_user() -> User:
    return cast(User, g.api_user)


def token_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        user = user_for_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
        if user is None:
            raise Unauthorized()
        g.api_user = user
        return view(*args, **kwargs)

    return cast(F, wrapper)
