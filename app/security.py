"""Security headers, session cookies and the login loader (DESIGN.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from werkzeug.routing import IntegerConverter, Map

from .extensions import login_manager

if TYPE_CHECKING:
    from .accounts.models import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


# Sent with every response unless the view set its own.
_STANDARD_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _set_headers(response: Response) -> Response:
    headers = response.headers
    present = {key.lower() for key, _value in headers}  # one pass, not one search per header
    headers.extend([(key, value) for key, value in _STANDARD_HEADERS if key.lower() not in present])
    if request.is_secure and "strict-transport-security" not in present:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and "cache-control" not in present:
        headers["Cache-Control"] = "no-store" if _is_personal(response) else "no-cache"
    return response


def _is_personal(response: Response) -> bool:
    return request.cookies.get("zhijia_session") is not None or request.headers.get("Authorization") is not None


def _note_touch(session_id: str) -> None:
    """Remember (in ``g``) that ``load_login_session`` just moved this session's ``last_seen_at``."""
    from flask import g
    from sqlalchemy import inspect

    from .accounts.models import LoginSession
    from .extensions import db

    key = inspect(LoginSession).identity_key_from_primary_key((session_id,))
    login_session = db.session.identity_map.get(key)
    added = inspect(login_session).attrs.last_seen_at.history.added if login_session is not None else ()
    if added:
        g.login_session_touched = (session_id, added[0])


def _persist_last_seen(_error: BaseException | None) -> None:
    """Keep the idle timer true on read-only requests: ``load_login_session`` moves ``last_seen_at`` on the
    request's session, which a GET never commits. At teardown (the session is about to be discarded anyway)
    write just that column in its own short transaction."""
    from flask import g
    from sqlalchemy import update
    from sqlalchemy.exc import SQLAlchemyError

    from .accounts.models import LoginSession
    from .extensions import db

    touched = g.pop("login_session_touched", None)
    if touched is None:
        return
    session_id, seen = touched
    try:
        db.session.rollback()
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.id == session_id, LoginSession.last_seen_at < seen)
            .values(last_seen_at=seen)
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def _refuse_nul_bytes() -> None:
    """A NUL byte is never part of legitimate text input (PostgreSQL refuses it in text columns): 400 at once."""
    from flask import abort

    if b"\x00" in request.query_string or b"%00" in request.query_string.upper():
        abort(400)
    form_post = request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    )
    if form_post and any("\x00" in value for value in request.form.values()):
        abort(400)


class _BoundedInt(IntegerConverter):
    """Ids fit a database integer: a bigger number matches no route (404) instead of overflowing the driver."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = 2_147_483_647,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def trust_proxies(app: Flask, count: int) -> None:
    """Behind ``count`` reverse proxies (nginx terminating TLS), read the client's address and scheme from their
    X-Forwarded-* headers: rate limits then key on the real client, and HSTS is sent for HTTPS requests."""
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a request without a session cookie (every API call, a first
    visit) gets its new empty session without a signing serializer being built for it first."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = _CookieSessions()
    trust_proxies(app, int(app.config.get("TRUSTED_PROXY_COUNT") or 0))
    app.url_map.converters["int"] = _BoundedInt  # before any blueprint adds its rules
    app.before_request(_refuse_nul_bytes)
    app.after_request(_set_headers)
    app.teardown_request(_persist_last_seen)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # sessions are server-side records, revoked explicitly

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("请先登录。")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(session_id: str) -> User | None:
        from .accounts.services import load_login_session

        user = load_login_session(session_id)
        if user is not None:
            _note_touch(session_id)
        return user
