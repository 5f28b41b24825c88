"""The shell: home page, language switch, health and readiness checks, and template helpers shared by every
feature."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from . import clock
from .extensions import db
from .navigation import collect, nav_providers, profile_link_providers
from .webviews import safe_next

bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> str:
    from flask_login import current_user

    from .events.home import employee_home
    from .events.services import upcoming_highlights

    mine = employee_home(current_user) if current_user.is_authenticated else None
    return render_template("home.html", events=upcoming_highlights(limit=6), mine=mine)


@bp.post("/lang")
def switch_language() -> ResponseReturnValue:
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))


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


# Readiness: the shell checks the database and its migrations; features add checks of their own (the scheduler:
# a fresh heartbeat). A check returns None when ready, or a short reason (no personal data: the answer is public).
ReadinessCheck = Callable[[], "str | None"]
_readiness_checks: dict[str, ReadinessCheck] = {}


def register_readiness_check(name: str, check: ReadinessCheck) -> None:
    _readiness_checks[name] = check


def _migration_heads() -> set[str]:
    """The heads of migrations/ (read once per app: the scripts do not change while it runs)."""
    heads = current_app.extensions.get("zhijia_migration_heads")
    if heads is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", current_app.extensions["migrate"].directory)
        heads = set(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["zhijia_migration_heads"] = heads
    return set(heads)


def _migrations_current() -> str | None:
    from alembic.migration import MigrationContext

    applied = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    expected = _migration_heads()
    if applied == expected:
        return None
    return f"database at {','.join(sorted(applied)) or 'no revision'}, code expects {','.join(sorted(expected))}"


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to take traffic: the database answers, its schema is at the code's migration head, and every check a
    feature registered passes. 503 with the reasons otherwise (a load balancer stops sending requests)."""
    from sqlalchemy.exc import SQLAlchemyError

    failures: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return jsonify({"status": "unavailable", "failures": {"database": type(error).__name__}}), 503
    reason = _migrations_current()
    if reason:
        failures["migrations"] = reason
    for name, check in sorted(_readiness_checks.items()):
        try:
            reason = check()
        except SQLAlchemyError as error:
            db.session.rollback()
            reason = type(error).__name__
        if reason:
            failures[name] = reason
    if failures:
        return jsonify({"status": "unavailable", "failures": failures}), 503
    return jsonify({"status": "ready"}), 200


# Static files get fingerprinted names (app.css -> app.3f2a1b9c0d4e.css): a changed file gets a new URL, so nginx
# can serve them with a cache lifetime of a year (deploy/nginx/zhijia.conf). Flask serves the same names itself.
_FINGERPRINT = re.compile(r"^(?P<base>.+)\.(?P<hash>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")
_fingerprints: dict[tuple[str, float], str] = {}


def fingerprinted(filename: str) -> str:
    """``filename`` with the first 12 hex digits of its content's SHA-256 before its extension (unchanged if the
    file does not exist or has no extension)."""
    folder = current_app.static_folder
    if folder is None:
        return filename
    path = Path(folder) / filename
    try:
        key = (filename, path.stat().st_mtime)
    except OSError:
        return filename
    name = _fingerprints.get(key)
    if name is None:
        stem, dot, ext = filename.rpartition(".")
        if not dot or "/" in ext:
            return filename
        name = f"{stem}.{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}.{ext}"
        _fingerprints[key] = name
    return name


def _fingerprint_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and isinstance(values.get("filename"), str):
        values["filename"] = fingerprinted(values["filename"])


def _serve_static(filename: str) -> Response:
    """Flask's static view, accepting the fingerprinted names (nginx serves them in production)."""
    match = _FINGERPRINT.match(filename)
    if match is not None and fingerprinted(match["base"] + match["ext"]) == filename:
        filename = match["base"] + match["ext"]
    return current_app.send_static_file(filename)


def _short_dt(value: datetime | None) -> str:
    # Stored times are already China wall-clock times: format them as they are, never convert.
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.url_defaults(_fingerprint_static_urls)
    if "static" in app.view_functions:
        app.view_functions["static"] = _serve_static
    app.jinja_env.globals["feature_nav"] = lambda user: collect(nav_providers, user)
    app.jinja_env.globals["profile_links"] = lambda user: collect(profile_link_providers, user)
    app.jinja_env.globals["now"] = clock.now
    app.jinja_env.filters["dt"] = _short_dt
    app.jinja_env.filters["d"] = lambda value: value.strftime("%Y-%m-%d") if value else ""
    app.jinja_env.filters["hm"] = lambda value: value.strftime("%H:%M") if value else ""
