"""JSON API v1 for phone clients and integrations."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .auth import persist_token_use
    from .views import bp

    app.register_blueprint(bp)
    app.teardown_request(persist_token_use)  # every blueprint's token_required views (mixers' too)
