"""Booking (core): the engine every service books through, and the employee's booking pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import services  # noqa: F401 - connects the consent-withdrawal receiver
    from .views import bp, status_label

    app.register_blueprint(bp)
    app.jinja_env.globals["status_label"] = status_label
