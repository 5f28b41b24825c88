"""JSON API v1 for phone clients and integrations."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
