"""JSON API v1 for phone clients and integrations."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..accounts.bearer import persist_token_use
    from ..tasks import register_task
    from . import (
        door,  # noqa: F401  (the organizer's door routes, on the same blueprint)
        models,  # noqa: F401  (tables known to create_all and Alembic)
    )
    from .idempotency import purge_expired
    from .views import bp

    app.register_blueprint(bp)
    app.teardown_request(persist_token_use)  # every blueprint's token_required views (mixers' too)
    register_task("api.purge_idempotency_keys", purge_expired, every_seconds=3600)
