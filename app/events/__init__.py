"""Events (core): events, slots, the kind registry, and the employee event pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .services import kind_label
    from .views import bp

    app.register_blueprint(bp)
    app.jinja_env.globals["kind_label"] = kind_label
