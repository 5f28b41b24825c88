"""Organizations (core): the union tree and the province's reference data."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import orgs_cli

    app.cli.add_command(orgs_cli)
