"""Zhijia (职工之家): the app factory.

``create_app`` is a list of ``register_*`` steps. Core packages (accounts, orgs, events, booking) know nothing of
the feature packages; each feature package exposes ``init_app(app)`` and is listed in ``FEATURES``.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask

from .config import load_config

FEATURES = [
    "app.accounts",
    "app.orgs",
    "app.events",
    "app.booking",
    "app.outbox",
    "app.audit",
    "app.notifications",
    "app.mixers",
    "app.screenings",
    "app.trips",
    "app.organizer",
    "app.stats",
    "app.privacy",
    "app.scheduler",
    "app.api",
    "app.demo",
]


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    register_config(app, overrides)
    register_logging(app)
    register_extensions(app)
    register_features(app)
    register_shell(app)
    register_commands(app)
    return app


def register_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_mapping(load_config(Path(app.instance_path), overrides))
    from .database import engine_options

    options = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["SQLALCHEMY_POOL_SIZE"],
        app.config["DB_POOL_PRE_PING"],
        app.config["DB_LOCK_TIMEOUT_SECONDS"],
    )
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_logging(app: Flask) -> None:
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app: Flask) -> None:
    from . import database, i18n, metrics, replica, security
    from .extensions import csrf, db, limiter, login_manager, migrate

    metrics.init_app(app)  # first, so its timer starts before any other hook runs
    db.init_app(app)
    database.init_database(app)
    replica.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    from . import errorpages, web

    errorpages.init_app(app)
    web.init_app(app)


def register_features(app: Flask) -> None:
    for name in FEATURES:
        module = importlib.import_module(name)
        module.init_app(app)


def register_shell(app: Flask) -> None:
    from .extensions import db

    @app.shell_context_processor
    def _shell() -> dict[str, Any]:
        return {"db": db}


def register_commands(app: Flask) -> None:
    """Operator commands that belong to no feature: ``flask backup create`` / ``flask backup restore``."""
    from . import backup

    backup.init_app(app)
