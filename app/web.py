"""The shell: home page, language switch, health check, and template helpers shared by every feature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request, session
from sqlalchemy import text

from . import clock
from .extensions import db

bp = Blueprint("web", __name__)


@dataclass
class NavItem:
    label: Any
    url: str
    badge: int = 0


# Features add entries to the main navigation and to the profile page's menu without the shell importing them:
# each provider gets the logged-in user and returns a NavItem or None.
NavProvider = Callable[[Any], "NavItem | None"]
_nav_providers: list[NavProvider] = []
_profile_link_providers: list[NavProvider] = []


def register_nav(provider: NavProvider) -> None:
    if provider not in _nav_providers:
        _nav_providers.append(provider)


def register_profile_link(provider: NavProvider) -> None:
    if provider not in _profile_link_providers:
        _profile_link_providers.append(provider)


def _collect(providers: list[NavProvider], user: Any) -> list[NavItem]:
    return [item for provider in providers if (item := provider(user)) is not None]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after login or a language switch (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/")
def home() -> str:
    from flask_login import current_user

    from .events.home import employee_home
    from .events.services import upcoming_highlights

    mine = employee_home(current_user) if current_user.is_authenticated else None  # type: ignore[arg-type]
    return render_template("home.html", events=upcoming_highlights(limit=6), mine=mine)


@bp.post("/lang")
def switch_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))  # type: ignore[return-value]


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: the app installs to the home screen and opens full screen at the home page."""
    from flask_babel import gettext as _

    body = {
        "name": _("职工之家"),
        "short_name": _("职工之家"),
        "description": _("单身青年联谊、健康大篷车体检、职工疗休养，在手机上就能报名。"),
        "lang": "zh-CN",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [
            {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
            {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so that it may look after every page (see static/sw.js)."""
    response = current_app.send_static_file("sw.js")
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


def _short_dt(value: datetime | None) -> str:
    # Stored times are already China wall-clock times: format them as they are, never convert.
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["feature_nav"] = lambda user: _collect(_nav_providers, user)
    app.jinja_env.globals["profile_links"] = lambda user: _collect(_profile_link_providers, user)
    app.jinja_env.globals["now"] = clock.now
    app.jinja_env.filters["dt"] = _short_dt
    app.jinja_env.filters["d"] = lambda value: value.strftime("%Y-%m-%d") if value else ""
    app.jinja_env.filters["hm"] = lambda value: value.strftime("%H:%M") if value else ""
