"""Demo data: ``flask demo seed`` (run by ``make run``)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import demo_cli

    app.cli.add_command(demo_cli)
