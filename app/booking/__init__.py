"""Booking (core): the engine every service books through, and the employee's booking pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..tasks import register_task
    from . import (
        offers,
        services,  # noqa: F401 - connects the consent-withdrawal receiver
    )
    from .labels import history_line, status_label
    from .views import bp

    register_task("booking.expire_offers", offers.expire_offers, every_seconds=60)

    app.register_blueprint(bp)
    app.jinja_env.globals.update(status_label=status_label, history_line=history_line)
