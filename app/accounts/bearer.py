"""Bearer-token authentication for the JSON API. It is core, not the API package's: a feature's own JSON endpoints
(the mixer's match card, ``/api/v1/mixers/<id>/card``) authenticate the same way as ``/api/v1``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request
from sqlalchemy.exc import SQLAlchemyError

from .. import clock
from ..errors import DomainError
from ..extensions import db
from .models import User
from .services import api_login, touch_api_token

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401

    def default_message(self) -> str:
        from flask_babel import gettext as _

        return _("缺少或无效的访问令牌。")


def api_user() -> User:
    return cast(User, g.api_user)


def api_token_id() -> int:
    """The id of the token the request came with."""
    return cast(int, g.api_token_id)


def token_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        login = api_login(token.strip()) if scheme.lower() == "bearer" and token else None
        if login is None:
            raise Unauthorized()
        g.api_user = login.user
        g.api_token_id = login.token_id
        if login.last_use_stale:
            g.api_token_used = (login.token_id, clock.now())
        return view(*args, **kwargs)

    return cast(F, wrapper)


def persist_token_use(_error: BaseException | None) -> None:
    """Keep the idle lifetime true on read-only requests: a token's last use (moved at most once a minute) is
    written at teardown in its own short transaction, as nothing commits a GET."""
    used = g.pop("api_token_used", None)
    if used is None:
        return
    try:
        db.session.rollback()
        touch_api_token(*used)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
