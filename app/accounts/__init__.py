"""Accounts (core): who logs in, their profile, sessions, tokens, consents."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import users_cli
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
