"""Security headers, session cookies and the login loader (DESIGN.md §7)."""

from __future__ import annotations

from flask import Flask, Response, request

from .extensions import login_manager

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store" if _is_personal(response) else "no-cache"
    return response


def _is_personal(response: Response) -> bool:
    return request.cookies.get("zhijia_session") is not None or request.headers.get("Authorization") is not None


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # sessions are server-side records, revoked explicitly

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("请先登录。")  # type: ignore[assignment]
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(session_id: str):  # type: ignore[no-untyped-def]
        from .accounts.services import load_login_session

        return load_login_session(session_id)
